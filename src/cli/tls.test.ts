import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { loadTls, tlsFilesFrom } from './tls.js';
import { hasCode } from '../engine/errors.js';

test('no TLS flags or variables: plain HTTP', () => {
  assert.equal(tlsFilesFrom({}, {}), undefined);
  assert.equal(tlsFilesFrom({}, { SLUICE_TLS_CERT: '', SLUICE_TLS_KEY: '' }), undefined);
});

test('flags win over variables; a CA turns on client certificates, required by default', () => {
  assert.deepEqual(tlsFilesFrom({ 'tls-cert': 'c.pem', 'tls-key': 'k.pem' }, { SLUICE_TLS_CERT: 'env.pem', SLUICE_TLS_KEY: 'envk.pem' }), { cert: 'c.pem', key: 'k.pem' });
  assert.deepEqual(tlsFilesFrom({}, { SLUICE_TLS_CERT: 'c', SLUICE_TLS_KEY: 'k', SLUICE_TLS_CA: 'ca' }), { cert: 'c', key: 'k', ca: 'ca', clientAuth: 'require' });
  assert.deepEqual(tlsFilesFrom({ 'tls-cert': 'c', 'tls-key': 'k', 'tls-ca': 'ca', 'tls-client-auth': 'request' }, {}), { cert: 'c', key: 'k', ca: 'ca', clientAuth: 'request' });
});

test('incomplete or wrong TLS options are configuration errors', () => {
  const bad = (flags: Parameters<typeof tlsFilesFrom>[0], re: RegExp) =>
    assert.throws(() => tlsFilesFrom(flags, {}), (e: Error) => hasCode(e, 'SLU_ERR_CONFIG_INVALID') && re.test(e.message));
  bad({ 'tls-cert': 'c' }, /--tls-cert needs --tls-key/);
  bad({ 'tls-key': 'k' }, /--tls-key needs --tls-cert/);
  bad({ 'tls-ca': 'ca' }, /need --tls-cert and --tls-key/);
  bad({ 'tls-cert': 'c', 'tls-key': 'k', 'tls-client-auth': 'require' }, /needs --tls-ca/);
  bad({ 'tls-cert': 'c', 'tls-key': 'k', 'tls-ca': 'ca', 'tls-client-auth': 'optional' }, /must be request or require, not optional/);
});

test('unreadable and unusable files are named, with a code', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-tls-unit-'));
  try {
    const key = join(dir, 'key.pem');
    writeFileSync(key, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const junk = join(dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate\n');
    const missing = join(dir, 'nope.pem');
    assert.throws(() => loadTls({ cert: missing, key }), (e: Error) => hasCode(e, 'SLU_ERR_TLS_FILE') && e.message === `cannot read the TLS certificate file ${missing}: no such file (ENOENT)`);
    assert.throws(() => loadTls({ cert: dir, key }), (e: Error) => hasCode(e, 'SLU_ERR_TLS_FILE') && e.message.includes('it is a folder'));
    assert.throws(() => loadTls({ cert: junk, key }), (e: Error) => hasCode(e, 'SLU_ERR_TLS_INVALID') && e.message.startsWith(`the TLS certificate file ${junk} is not usable: no PEM certificate`));
    assert.throws(() => loadTls({ cert: key, key: missing }), (e: Error) => hasCode(e, 'SLU_ERR_TLS_FILE') && e.message.includes(`TLS key file ${missing}`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
