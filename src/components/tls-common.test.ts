// The shared `tls` block turned into Node TLS options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientTls, type TlsConfig } from './tls-common.js';

const off: TlsConfig = { enabled: false, skip_cert_verify: false, enable_renegotiation: false, root_cas: '', root_cas_file: '', client_certs: [] };

test('disabled TLS gives no options; enabled TLS verifies unless told not to', async () => {
  assert.equal(await clientTls(off), undefined);
  assert.equal(await clientTls(undefined), undefined);
  assert.deepEqual(await clientTls({ ...off, enabled: true }), { rejectUnauthorized: true });
  assert.deepEqual(await clientTls({ ...off, enabled: true, skip_cert_verify: true }), { rejectUnauthorized: false });
});

test('root CAs and client certificates from the config or from files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-tls-'));
  try {
    await writeFile(join(dir, 'ca.pem'), 'CA FROM FILE');
    await writeFile(join(dir, 'c.pem'), 'CERT');
    await writeFile(join(dir, 'k.pem'), 'KEY');
    const t = await clientTls({
      ...off,
      enabled: true,
      root_cas: 'INLINE CA',
      root_cas_file: join(dir, 'ca.pem'),
      client_certs: [{ cert: '', key: '', cert_file: join(dir, 'c.pem'), key_file: join(dir, 'k.pem'), password: 'pw' }],
    });
    assert.deepEqual(t, { rejectUnauthorized: true, ca: ['INLINE CA', 'CA FROM FILE'], cert: ['CERT'], key: [{ pem: 'KEY', passphrase: 'pw' }] });
    await assert.rejects(clientTls({ ...off, enabled: true, root_cas_file: join(dir, 'missing.pem') }), /cannot read tls.root_cas_file/);
    await assert.rejects(clientTls({ ...off, enabled: true, client_certs: [{ cert: 'C', key: '', cert_file: '', key_file: '', password: '' }] }), /needs both a certificate and a key/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
