// The listener with TLS, through real clients: curl, node's https (SSE), the `ws` package over
// wss://, and `sluice start --tls-*` as a user runs it (banner, bad files, SIGHUP reload).
// Certificates are made here with the openssl command.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startTestGateway, type TestGateway } from '../../src/control/testing.js';
import { MemoryStore } from '../../src/store/memory.js';
import { MemoryState } from '../../src/state/memory.js';
import { MemoryBus } from '../../src/state/bus.js';
import { clientCertificateOf } from '../../src/gateway/server.js';
import { repoRoot } from '../support/paths.js';
import { waitUntil } from '../support/streams.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-tls-'));
const f = (name: string) => join(dir, name);
const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

/** A self-signed server certificate for 127.0.0.1. */
function selfSigned(name: string, cn: string): void {
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f(`${name}.key`), '-out', f(`${name}.pem`), '-days', '1', '-subj', `/CN=${cn}`, '-addext', 'subjectAltName=IP:127.0.0.1']);
}

let haveOpenssl = true;
try {
  selfSigned('server', 'sluice-test');
  selfSigned('other', 'sluice-other');
  // A CA and a client certificate it signs, for mutual TLS.
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '1', '-subj', '/CN=Test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('client.key'), '-out', f('client.csr'), '-subj', '/CN=alice/O=Example']);
  openssl(['x509', '-req', '-in', f('client.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '1', '-out', f('client.pem')]);
} catch {
  haveOpenssl = false;
}
const skip = haveOpenssl ? false : 'needs the openssl command to make certificates';

const memory = () => ({ store: new MemoryStore(), state: new MemoryState(), bus: new MemoryBus() });

/** curl in a child process, without blocking this one (the gateway under test runs here). */
function curl(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn('curl', ['-sS', '--max-time', '10', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** GET over https with node's client; resolves with the status and body. */
function httpsGet(url: string, opts: https.RequestOptions): Promise<{ status: number; body: string; headers: IncomingMessage['headers'] }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, opts, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

after(() => rmSync(dir, { recursive: true, force: true }));

describe('HTTPS listener', { skip }, () => {
  let gw: TestGateway;
  let port: string;

  before(async () => {
    gw = await startTestGateway({ use: memory(), apisDir: join(repoRoot, 'apis'), tls: { cert: f('server.pem'), key: f('server.key') } });
    assert.match(gw.base, /^https:\/\/127\.0\.0\.1:\d+$/);
    port = new URL(gw.base).port;
    await waitUntil(() => [...gw.apis.streams('demo')!.values()].every((s) => s.state === 'running'), 5000, 'demo streams');
  });

  after(async () => {
    await gw?.close();
  });

  test('curl --cacert reaches /hello; no HSTS is added, X-Forwarded-Proto changes nothing', async () => {
    const r = await curl(['-i', '--cacert', f('server.pem'), '-H', 'X-Forwarded-Proto: http', `https://127.0.0.1:${port}/hello`]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^HTTP\/1\.1 200/);
    assert.match(r.stdout, /"status":"pass"/);
    assert.doesNotMatch(r.stdout, /strict-transport-security/i);
    const untrusted = await curl([`https://127.0.0.1:${port}/hello`]);
    assert.notEqual(untrusted.status, 0, 'curl refuses the self-signed certificate without --cacert');
  });

  test('plain HTTP to the TLS port fails', async () => {
    await assert.rejects(fetch(`http://127.0.0.1:${port}/hello`));
    const r = await curl([`http://127.0.0.1:${port}/hello`]);
    assert.notEqual(r.status, 0);
  });

  test('TLS 1.1 and older are refused', async () => {
    await assert.rejects(httpsGet(`${gw.base}/hello`, { ca: readFileSync(f('server.pem')), minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }));
    const ok = await httpsGet(`${gw.base}/hello`, { ca: readFileSync(f('server.pem')), minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
    assert.equal(ok.status, 200);
  });

  test('the header size limit is the same as over plain HTTP', async () => {
    const ca = readFileSync(f('server.pem'));
    assert.equal((await httpsGet(`${gw.base}/hello`, { ca, headers: { 'x-big': 'a'.repeat(8 * 1024) } })).status, 200);
    assert.equal((await httpsGet(`${gw.base}/hello`, { ca, headers: { 'x-big': 'a'.repeat(20 * 1024) } })).status, 400);
  });

  test('an SSE subscriber over https and a ws client over wss:// receive a published message', async () => {
    const ca = readFileSync(f('server.pem'));
    let sse = '';
    const sseReq = https.get(`${gw.base}/demo/events`, { ca, headers: { accept: 'text/event-stream' } }, (res) => {
      assert.equal(res.statusCode, 200);
      res.on('data', (d: Buffer) => (sse += d.toString()));
    });
    sseReq.on('error', () => undefined);
    const got: string[] = [];
    const ws = new WebSocket(`${gw.base.replace(/^https/, 'wss')}/demo/ws`, { ca });
    ws.on('message', (d) => got.push(d.toString()));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    try {
      await waitUntil(() => sse.includes(': connected'), 5000, 'SSE subscriber');
      const pub = await gw.req('POST', '/demo/publish', '{"over":"tls"}');
      assert.equal(pub.status, 200);
      await waitUntil(() => got.length === 1 && sse.includes('data: {"over":"tls"}'), 5000, 'deliveries');
      assert.deepEqual(got, ['{"over":"tls"}']);
    } finally {
      ws.close();
      sseReq.destroy();
    }
  });

  test('the management API answers over https (TestGateway.req)', async () => {
    const r = await gw.req('GET', '/tyk/apis');
    assert.equal(r.status, 200);
    assert.ok(Array.isArray(r.body));
  });
});

describe('mutual TLS', { skip }, () => {
  const client = () => ({ ca: readFileSync(f('server.pem')), cert: readFileSync(f('client.pem')), key: readFileSync(f('client.key')) });
  const whoami = (gw: TestGateway) =>
    gw.gateway.addHandler((req, res, path) => {
      if (path !== '/whoami') return false;
      res.end(JSON.stringify(clientCertificateOf(req) ?? null));
      return true;
    });

  test('require: a client without a certificate is refused; one signed by the CA is seen by the request', async () => {
    const gw = await startTestGateway({ use: memory(), tls: { cert: f('server.pem'), key: f('server.key'), ca: f('ca.pem'), clientAuth: 'require' } });
    whoami(gw);
    try {
      await assert.rejects(httpsGet(`${gw.base}/whoami`, { ca: readFileSync(f('server.pem')) }));
      await assert.rejects(httpsGet(`${gw.base}/whoami`, { ca: readFileSync(f('server.pem')), cert: readFileSync(f('other.pem')), key: readFileSync(f('other.key')) }), 'a certificate from another CA');
      const r = await httpsGet(`${gw.base}/whoami`, client());
      assert.equal(r.status, 200);
      const seen = JSON.parse(r.body) as { subject: string; fingerprint256: string };
      assert.equal(seen.subject, 'CN=alice,O=Example');
      const expected = execFileSync('openssl', ['x509', '-in', f('client.pem'), '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' });
      assert.equal(seen.fingerprint256, expected.trim().split('=')[1]);
      const c = await curl(['--cacert', f('server.pem'), `https://127.0.0.1:${new URL(gw.base).port}/hello`]);
      assert.notEqual(c.status, 0, 'curl without a client certificate is refused');
    } finally {
      await gw.close();
    }
  });

  test('request: clients without a certificate are served, and have none', async () => {
    const gw = await startTestGateway({ use: memory(), tls: { cert: f('server.pem'), key: f('server.key'), ca: f('ca.pem'), clientAuth: 'request' } });
    whoami(gw);
    try {
      const anon = await httpsGet(`${gw.base}/whoami`, { ca: readFileSync(f('server.pem')) });
      assert.equal(anon.body, 'null');
      const foreign = await httpsGet(`${gw.base}/whoami`, { ca: readFileSync(f('server.pem')), cert: readFileSync(f('other.pem')), key: readFileSync(f('other.key')) });
      assert.equal(foreign.body, 'null', 'an unverified certificate is not reported');
      const alice = await httpsGet(`${gw.base}/whoami`, client());
      assert.equal((JSON.parse(alice.body) as { subject: string }).subject, 'CN=alice,O=Example');
    } finally {
      await gw.close();
    }
  });
});

describe('sluice start --tls-cert --tls-key', { skip }, () => {
  function start(args: string[], env: NodeJS.ProcessEnv = {}) {
    return spawnSync(process.execPath, [cli, 'start', '--port', '0', '--data', f('data-bad'), ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 30_000, env: { ...process.env, ...env } });
  }

  test('a missing key file stops the start, naming the file', () => {
    const r = start(['--tls-cert', f('server.pem'), '--tls-key', f('missing.key')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cannot read the TLS key file .*missing\.key: no such file \(ENOENT\) \(SLU_ERR_TLS_FILE\)/);
  });

  test('a key that is not the certificate’s, from the environment, stops the start', () => {
    const r = start([], { SLUICE_TLS_CERT: f('server.pem'), SLUICE_TLS_KEY: f('other.key') });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /the TLS certificate .*server\.pem does not match the key .*other\.key \(SLU_ERR_TLS_MISMATCH\)/);
  });

  test('a certificate file that holds no certificate stops the start', () => {
    const r = start(['--tls-cert', f('server.key'), '--tls-key', f('server.key')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /the TLS certificate file .*server\.key is not usable: no PEM certificate/);
    assert.match(r.stderr, /SLU_ERR_TLS_INVALID/);
  });

  test('serves https:// and wss:// URLs; SIGHUP re-reads the certificate; SIGINT exits 0', async () => {
    copyFileSync(f('server.pem'), f('live.pem'));
    copyFileSync(f('server.key'), f('live.key'));
    const proc = spawn(process.execPath, [cli, 'start', '--port', '0', '--log-level', 'info', '--data', f('data'), '--tls-cert', f('live.pem'), '--tls-key', f('live.key')], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitUntil(() => /\/demo\/events/.test(out), 60_000, 'startup output');
      const base = /listening on (https:\/\/[^\s]+)/.exec(out)?.[1];
      assert.ok(base, out);
      assert.match(out, /health: https:\/\//);
      assert.match(out, /wss:\/\/.*\/demo\/ws/);
      assert.match(out, /TLS CN=sluice-test, valid until/);
      assert.equal((await curl(['--cacert', f('server.pem'), `${base}/hello`])).status, 0);

      // Renewal: new files in place, then SIGHUP. New connections get the new certificate.
      copyFileSync(f('other.pem'), f('live.pem'));
      copyFileSync(f('other.key'), f('live.key'));
      proc.kill('SIGHUP');
      await waitUntil(() => /TLS certificate reloaded/.test(out), 10_000, 'reload log line');
      assert.equal((await curl(['--cacert', f('other.pem'), `${base}/hello`])).status, 0, 'the new certificate is served');
      assert.notEqual((await curl(['--cacert', f('server.pem'), `${base}/hello`])).status, 0, 'the old one is not');

      // A broken renewal keeps the current certificate.
      copyFileSync(f('server.key'), f('live.key'));
      proc.kill('SIGHUP');
      await waitUntil(() => /TLS certificate not reloaded/.test(out), 10_000, 'failed reload log line');
      assert.match(out, /SLU_ERR_TLS_MISMATCH/);
      assert.equal((await curl(['--cacert', f('other.pem'), `${base}/hello`])).status, 0, 'still served');

      const code = await new Promise<number | null>((resolve) => {
        proc.once('exit', (c) => resolve(c));
        proc.kill('SIGINT');
      });
      assert.equal(code, 0);
    } finally {
      proc.kill('SIGKILL');
    }
  });
});
