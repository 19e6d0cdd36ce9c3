// Static mutual TLS (Tyk's `server.clientCertificates {enabled, allowlist}`): on a gateway that asks
// for client certificates (`--tls-ca`, `--tls-client-auth request`), an API accepts only requests
// whose verified certificate's SHA-256 is in its allowlist, before authentication, with Tyk's 403
// answers. Certificates are made here with the openssl command.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestGateway, type TestGateway } from '../../src/control/testing.js';
import { MemoryStore } from '../../src/store/memory.js';
import { MemoryState } from '../../src/state/memory.js';
import { MemoryBus } from '../../src/state/bus.js';
import { waitUntil } from '../support/streams.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-mtls-'));
const f = (name: string) => join(dir, name);
const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });

let haveOpenssl = true;
try {
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('server.key'), '-out', f('server.pem'), '-days', '1', '-subj', '/CN=sluice-test', '-addext', 'subjectAltName=IP:127.0.0.1']);
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '1', '-subj', '/CN=Test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  for (const who of ['alice', 'bob']) {
    openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f(`${who}.key`), '-out', f(`${who}.csr`), '-subj', `/CN=${who}`]);
    openssl(['x509', '-req', '-in', f(`${who}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '1', '-out', f(`${who}.pem`)]);
  }
} catch {
  haveOpenssl = false;
}
const skip = haveOpenssl ? false : 'needs the openssl command to make certificates';

after(() => rmSync(dir, { recursive: true, force: true }));

/** SHA-256 of a PEM certificate's DER, lower-case hex (what Tyk's certificate ids end with). */
const sha256Of = (pem: string) => createHash('sha256').update(new X509Certificate(readFileSync(pem)).raw).digest('hex');

function request(url: string, opts: { who?: string; headers?: Record<string, string>; method?: string; body?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: opts.method ?? 'GET',
        ca: readFileSync(f('server.pem')),
        headers: opts.headers ?? {},
        ...(opts.who ? { cert: readFileSync(f(`${opts.who}.pem`)), key: readFileSync(f(`${opts.who}.key`)) } : {}),
        agent: false,
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

const mtlsApi = (id: string, allowlist: string[]) => ({
  openapi: '3.0.3',
  info: { title: id, version: '1' },
  paths: {},
  components: { securitySchemes: { authToken: { type: 'apiKey', in: 'header', name: 'Authorization' } } },
  security: [{ authToken: [] }],
  'x-tyk-api-gateway': {
    info: { id, name: id, state: { active: true } },
    server: {
      listenPath: { value: `/${id}/` },
      clientCertificates: { enabled: true, allowlist },
      authentication: { enabled: true, securitySchemes: { authToken: { enabled: true } } },
    },
  },
  'x-tyk-streaming': { streams: { s: { input: { http_server: { path: '/pub' } }, output: { sync_response: {} } } } },
});

describe('static mutual TLS (clientCertificates allowlist)', { skip }, () => {
  let gw: TestGateway;
  let key = '';

  before(async () => {
    gw = await startTestGateway({
      use: { store: new MemoryStore(), state: new MemoryState(), bus: new MemoryBus() },
      tls: { cert: f('server.pem'), key: f('server.key'), ca: f('ca.pem'), clientAuth: 'request' },
    });
    // Alice's certificate as a Tyk certificate id (org id + sha256), and in OpenSSL's colon form, upper case.
    const alice = sha256Of(f('alice.pem'));
    const colon = alice.toUpperCase().match(/../g)!.join(':');
    for (const [id, list] of [['certs', [`5e9d9544a1dcd60001d0ed20${alice}`]], ['certs2', [colon]]] as const) {
      const r = await gw.req('POST', '/tyk/apis/oas', mtlsApi(id, [...list]));
      assert.equal(r.status, 200, JSON.stringify(r.body));
      await waitUntil(() => gw.apis.streams(id)?.get('s')?.state === 'running', 10_000, `${id} running`);
    }
    const k = await gw.req('POST', '/tyk/keys', { access_rights: { certs: { api_id: 'certs' }, certs2: { api_id: 'certs2' } } });
    assert.equal(k.status, 200, JSON.stringify(k.body));
    key = (k.body as { key: string }).key;
  });

  after(async () => {
    await gw?.close();
  });

  test('an allowed certificate and a key: 200 (certificate id with org prefix, or colon form)', async () => {
    for (const id of ['certs', 'certs2']) {
      const r = await request(`${gw.base}/${id}/pub`, { who: 'alice', method: 'POST', body: 'hi', headers: { Authorization: key } });
      assert.equal(r.status, 200, `${id}: ${r.body}`);
    }
  });

  test('the certificate is checked before the key: still 401 without a key', async () => {
    const r = await request(`${gw.base}/certs/pub`, { who: 'alice', method: 'POST', body: 'hi' });
    assert.equal(r.status, 401);
  });

  test('a certificate of the same CA that is not listed: 403 naming its SHA-256', async () => {
    const r = await request(`${gw.base}/certs/pub`, { who: 'bob', method: 'POST', body: 'hi', headers: { Authorization: key } });
    assert.equal(r.status, 403);
    assert.deepEqual(JSON.parse(r.body), { error: `Certificate with SHA256 ${sha256Of(f('bob.pem'))} not allowed` });
  });

  test('no client certificate: 403 "Client TLS certificate is required"', async () => {
    const r = await request(`${gw.base}/certs/pub`, { method: 'POST', body: 'hi', headers: { Authorization: key } });
    assert.equal(r.status, 403);
    assert.deepEqual(JSON.parse(r.body), { error: 'Client TLS certificate is required' });
  });

  test('a malformed allowlist entry, or an empty list, refuses the API with the field named', async () => {
    const bad = await gw.req('POST', '/tyk/apis/oas', mtlsApi('badcerts', ['not-a-fingerprint']));
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /clientCertificates\.allowlist\[0\]/);
    const empty = await gw.req('POST', '/tyk/apis/oas', mtlsApi('nocerts', []));
    assert.equal(empty.status, 400);
    assert.match(JSON.stringify(empty.body), /allowlist is empty/);
    assert.equal((await request(`${gw.base}/badcerts/pub`, { who: 'alice', method: 'POST', body: 'x', headers: { Authorization: key } })).status, 404, 'not served');
  });
});
