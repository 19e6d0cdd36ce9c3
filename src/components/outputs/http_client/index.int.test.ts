// http_client output against a real node:http receiver started by the test.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spec } from './index.js';
import type { ComponentContext, Output, RateLimit } from '../../../engine/component.js';
import { Validator } from '../../../config/validate.js';
import { Registry } from '../../../engine/registry.js';
import { noBloblang, type BloblangEnvironment } from '../../../engine/bloblang-api.js';
import { createLogger, type Logger } from '../../../engine/logger.js';
import { Message, type SyncResponseStore } from '../../../engine/message.js';
import { createBloblang } from '../../../cli/wiring.js';
import { decodeMultipart, multipartBoundary } from '../../http-client-common.js';
import { newSource } from '../../../../test/support/test-components.js';
import { runStream, waitUntil } from '../../../../test/support/streams.js';

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A receiver whose behaviour per path the tests set. */
class Receiver {
  server = http.createServer((req, res) => this.#handle(req, res));
  got: Received[] = [];
  handlers = new Map<string, (r: Received, res: http.ServerResponse, n: number) => void>();
  url = '';

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  on(path: string, h: (r: Received, res: http.ServerResponse, n: number) => void): void {
    this.handlers.set(path, h);
  }

  of(path: string): Received[] {
    return this.got.filter((g) => g.url.split('?')[0] === path);
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString(), at: Date.now() };
      this.got.push(r);
      const path = req.url!.split('?')[0]!;
      const h = this.handlers.get(path);
      if (h) h(r, res, this.of(path).length);
      else res.end('ok');
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

const lines: string[] = [];
const logger: Logger = createLogger({ level: 'trace', write: (l) => lines.push(l) });

function ctx(bloblang: BloblangEnvironment = noBloblang, rateLimits: Record<string, RateLimit> = {}): ComponentContext {
  return {
    logger,
    bloblang,
    resources: {
      get: ((kind: string, label: string) => {
        if (kind === 'rate_limit' && rateLimits[label]) return rateLimits[label];
        throw new Error(`no ${kind} ${label}`);
      }) as ComponentContext['resources']['get'],
      has: () => false,
    },
    build: {} as ComponentContext['build'],
    http: undefined,
    path: 'output.http_client',
    stream: 'test',
    signal: new AbortController().signal,
  };
}

async function output(conf: Record<string, unknown>, c = ctx()): Promise<Output> {
  const v = new Validator({ registry: new Registry() });
  const validated = v.field(spec.config, conf, 'output.http_client');
  assert.deepEqual(v.issues, []);
  const o = await spec.build(validated as never, c);
  await o.connect(new AbortController().signal);
  return o;
}

/** write() as a promise (it may return synchronously). */
const send = async (o: Output, batch: Message[]): Promise<void> => o.write(batch);

const msg = (body: string, meta: Record<string, string> = {}) => new Message(body, meta);

describe('http_client output', { concurrency: false }, () => {
  const rx = new Receiver();
  before(() => rx.start());
  after(() => rx.close());

  test('POSTs the message with configured headers and selected metadata', async () => {
    const o = await output({ url: `${rx.url}/basic`, headers: { 'Content-Type': 'application/json', 'X-Static': 'yes' }, metadata: { include_prefixes: ['kafka_'] } });
    await o.write([msg('{"a":1}', { kafka_key: 'k1', other: 'no' })]);
    const [r] = rx.of('/basic');
    assert.equal(r!.method, 'POST');
    assert.equal(r!.body, '{"a":1}');
    assert.equal(r!.headers['content-type'], 'application/json');
    assert.equal(r!.headers['x-static'], 'yes');
    assert.equal(r!.headers['kafka_key'], 'k1');
    assert.equal(r!.headers['other'], undefined);
    await o.close();
  });

  test('retries 5xx every retry_period, then succeeds', async () => {
    rx.on('/flaky', (_r, res, n) => {
      res.statusCode = n < 3 ? 503 : 200;
      res.end();
    });
    const o = await output({ url: `${rx.url}/flaky`, retry_period: '50ms', retries: 3 });
    const t0 = Date.now();
    await o.write([msg('x')]);
    const got = rx.of('/flaky');
    assert.equal(got.length, 3);
    assert.ok(Date.now() - t0 >= 90, 'waited between attempts');
    await o.close();
  });

  test('gives up after `retries` retries and the write fails naming the URL and status', async () => {
    rx.on('/down', (_r, res) => {
      res.statusCode = 500;
      res.end('boom');
    });
    const o = await output({ url: `${rx.url}/down`, retry_period: '10ms', retries: 2 });
    await assert.rejects(send(o, [msg('x')]), (err: unknown) => {
      assert.match((err as Error).message, new RegExp(`${rx.url}/down.*\\(500\\)`));
      assert.match((err as Error).message, /boom/);
      return true;
    });
    assert.equal(rx.of('/down').length, 3, 'one attempt plus two retries');
    await o.close();
  });

  test('429 backs off with growing waits', async () => {
    rx.on('/busy', (_r, res, n) => {
      res.statusCode = n < 4 ? 429 : 200;
      res.end();
    });
    const o = await output({ url: `${rx.url}/busy`, retry_period: '40ms', max_retry_backoff: '1s', retries: 5 });
    await o.write([msg('x')]);
    const at = rx.of('/busy').map((g) => g.at);
    assert.equal(at.length, 4);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    // Waits are retry_period × 1.5^attempt with ±50 % jitter, so each has a floor that grows;
    // only floors are asserted (a loaded machine makes waits longer, never shorter).
    gaps.forEach((g, i) => assert.ok(g >= 40 * 1.5 ** i * 0.5 - 2, `wait ${i + 1} is at least its floor: ${gaps.join(', ')}`));
    assert.ok(gaps[1]! + gaps[2]! >= 2 * 40 * 0.5 + 33, `later waits are longer than retry_period alone allows: ${gaps.join(', ')}`);
    await o.close();
  });

  test('drop_on fails at once, without retries', async () => {
    rx.on('/reject', (_r, res) => {
      res.statusCode = 400;
      res.end('bad');
    });
    const o = await output({ url: `${rx.url}/reject`, retry_period: '10ms', drop_on: [400] });
    await assert.rejects(send(o, [msg('x')]), /\(400\)/);
    assert.equal(rx.of('/reject').length, 1);
    await o.close();
  });

  test('successful_on makes a non-2xx status a success', async () => {
    rx.on('/conflict', (_r, res) => {
      res.statusCode = 409;
      res.end();
    });
    const o = await output({ url: `${rx.url}/conflict`, successful_on: [409], retry_period: '10ms' });
    await o.write([msg('x')]);
    assert.equal(rx.of('/conflict').length, 1);
    await o.close();
  });

  test('basic auth; the password never reaches a log line or error', async () => {
    rx.on('/auth', (r, res) => {
      res.statusCode = r.headers.authorization === 'Basic ' + Buffer.from('alice:s3cr3t-pw').toString('base64') ? 200 : 401;
      res.end();
    });
    lines.length = 0;
    const o = await output({ url: `${rx.url}/auth`, basic_auth: { enabled: true, username: 'alice', password: 's3cr3t-pw' }, dump_request_log_level: 'DEBUG' });
    await o.write([msg('x')]);
    assert.equal(rx.of('/auth').length, 1);
    const bad = await output({ url: `${rx.url}/auth`, basic_auth: { enabled: true, username: 'alice', password: 'wrong-pw' }, retries: 0 });
    await assert.rejects(send(bad, [msg('x')]), (err: unknown) => !(err as Error).message.includes('wrong-pw'));
    assert.ok(lines.length > 0, 'the request was dumped');
    assert.ok(!lines.join('\n').includes('s3cr3t-pw'), 'no password in logs');
    await o.close();
    await bad.close();
  });

  test('oauth2: the token is fetched once with client credentials and reused', async () => {
    let tokenCalls = 0;
    rx.on('/token', (r, res) => {
      tokenCalls++;
      const params = new URLSearchParams(r.body);
      const creds = Buffer.from(String(r.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString();
      if (params.get('grant_type') !== 'client_credentials' || creds !== 'client-1:very-secret' || params.get('scope') !== 'read write' || params.get('audience') !== 'api') {
        res.statusCode = 401;
        res.end('{"error":"invalid_client"}');
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ access_token: `tok-${tokenCalls}`, token_type: 'bearer', expires_in: 3600 }));
    });
    rx.on('/protected', (r, res) => {
      res.statusCode = r.headers.authorization === 'Bearer tok-1' ? 200 : 401;
      res.end();
    });
    lines.length = 0;
    const o = await output({
      url: `${rx.url}/protected`,
      retries: 0,
      dump_request_log_level: 'INFO',
      oauth2: { enabled: true, client_key: 'client-1', client_secret: 'very-secret', token_url: `${rx.url}/token`, scopes: ['read', 'write'], endpoint_params: { audience: ['api'] } },
    });
    await o.write([msg('a')]);
    await o.write([msg('b')]);
    await Promise.all([o.write([msg('c')]), o.write([msg('d')])]);
    assert.equal(tokenCalls, 1, 'one token fetch');
    assert.equal(rx.of('/protected').length, 4);
    assert.ok(!lines.join('\n').includes('very-secret') && !lines.join('\n').includes('tok-1'), 'no secret or token in logs');
    const bad = await output({ url: `${rx.url}/protected`, retries: 0, oauth2: { enabled: true, client_key: 'client-1', client_secret: 'nope-secret', token_url: `${rx.url}/token` } });
    await assert.rejects(send(bad, [msg('x')]), (err: unknown) => {
      assert.match((err as Error).message, /oauth2: cannot fetch token from .*\/token: status 401 \(invalid_client\)/);
      assert.ok(!(err as Error).message.includes('nope-secret'));
      return true;
    });
    await o.close();
    await bad.close();
  });

  test('a batch: one request per message, or one multipart request with batch_as_multipart', async () => {
    const single = await output({ url: `${rx.url}/each` });
    await single.write([msg('1'), msg('2'), msg('3')]);
    assert.deepEqual(rx.of('/each').map((g) => g.body), ['1', '2', '3']);
    await single.close();

    const multi = await output({ url: `${rx.url}/multi`, batch_as_multipart: true, headers: { 'Content-Type': 'text/plain' }, metadata: { include_patterns: ['^id$'] } });
    await multi.write([msg('one', { id: 'a' }), msg('two', { id: 'b' })]);
    const [r] = rx.of('/multi');
    const boundary = multipartBoundary(r!.headers['content-type']);
    assert.match(String(r!.headers['content-type']), /^multipart\/mixed; boundary=/);
    const parts = decodeMultipart(Buffer.from(r!.body), boundary!);
    assert.deepEqual(parts.map((p) => Buffer.from(p.body).toString()), ['one', 'two']);
    assert.deepEqual(parts.map((p) => [p.headers['content-type'], p.headers.id]), [['text/plain', 'a'], ['text/plain', 'b']]);
    await multi.close();
  });

  test('explicit multipart parts (form-data)', async () => {
    const o = await output({ url: `${rx.url}/form`, multipart: [{ content_type: 'application/bin', content_disposition: 'form-data; name="bin"', body: 'payload-1' }, { content_type: '', content_disposition: 'form-data; name="x"', body: 'v' }] });
    await o.write([msg('ignored')]);
    const [r] = rx.of('/form');
    assert.match(String(r!.headers['content-type']), /^multipart\/form-data; boundary=/);
    const parts = decodeMultipart(Buffer.from(r!.body), multipartBoundary(r!.headers['content-type'])!);
    assert.equal(parts.length, 2);
    assert.equal(Buffer.from(parts[0]!.body).toString(), 'payload-1');
    assert.equal(parts[0]!.headers['content-disposition'], 'form-data; name="bin"');
    await o.close();
  });

  test('propagate_response hands the response to the sync response store, with extract_headers', async () => {
    rx.on('/echo', (r, res) => {
      res.setHeader('X-Reply', 'r1');
      res.end(`echo:${r.body}`);
    });
    const o = await output({ url: `${rx.url}/echo`, propagate_response: true, extract_headers: { include_prefixes: ['x-'] } });
    const got: Message[] = [];
    const store: SyncResponseStore = { add: (m) => void got.push(m) };
    const m = msg('hi');
    m.context = { syncResponse: store };
    await o.write([m]);
    assert.equal(got.length, 1);
    assert.equal(got[0]!.text(), 'echo:hi');
    assert.equal(got[0]!.metaGet('http_status_code'), 200);
    assert.equal(got[0]!.metaGet('x-reply'), 'r1');
    await o.close();
  });

  test('follows redirects (303 becomes GET) unless follow_redirects is false', async () => {
    rx.on('/moved', (_r, res) => {
      res.statusCode = 303;
      res.setHeader('location', '/landing');
      res.end();
    });
    const o = await output({ url: `${rx.url}/moved` });
    await o.write([msg('x')]);
    assert.equal(rx.of('/landing')[0]?.method, 'GET');
    await o.close();
    const n = await output({ url: `${rx.url}/moved`, follow_redirects: false, successful_on: [303] });
    await n.write([msg('y')]);
    assert.equal(rx.of('/landing').length, 1);
    await n.close();
  });

  test('timeout: a server that does not answer fails the attempt', async () => {
    rx.on('/slow', () => {
      // never answers
    });
    const o = await output({ url: `${rx.url}/slow`, timeout: '100ms', retries: 1, retry_period: '10ms' });
    const t0 = Date.now();
    await assert.rejects(send(o, [msg('x')]), /timed out after 100ms/);
    assert.ok(Date.now() - t0 < 2000);
    assert.equal(rx.of('/slow').length, 2);
    await o.close();
  });

  test('connection refused: the error names the URL, never the password', async () => {
    const o = await output({ url: 'http://bob:pa55word@127.0.0.1:9/x', retries: 0 });
    await assert.rejects(send(o, [msg('x')]), (err: unknown) => {
      assert.match((err as Error).message, /HTTP request to http:\/\/bob:xxxxx@127\.0\.0\.1:9\/x failed: .*ECONNREFUSED/);
      assert.ok(!(err as Error).message.includes('pa55word'));
      return true;
    });
    await o.close();
  });

  test('rate_limit: each attempt waits for the resource', async () => {
    let calls = 0;
    const rl: RateLimit = { access: () => (++calls % 2 === 1 ? 30 : 0) };
    const o = await output({ url: `${rx.url}/limited`, rate_limit: 'rl' }, ctx(noBloblang, { rl }));
    const t0 = Date.now();
    await o.write([msg('x')]);
    assert.ok(Date.now() - t0 >= 25);
    assert.equal(calls, 2);
    await o.close();
  });

  test('interpolated url and headers per message', async (t) => {
    const blob = await createBloblang();
    try {
      blob.interpolate('${! 1 }');
    } catch {
      t.skip('needs Bloblang');
      return;
    }
    const o = await output({ url: `${rx.url}/dyn/\${! @topic }`, headers: { 'X-Id': '${! this.id }' } }, ctx(blob));
    await o.write([msg('{"id":7}', { topic: 'orders' })]);
    const [r] = rx.of('/dyn/orders');
    assert.equal(r?.headers['x-id'], '7');
    await o.close();
  });

  test('batching: messages are grouped by the policy and sent as one multipart request', async () => {
    const o = await output({ url: `${rx.url}/batched`, batch_as_multipart: true, batching: { count: 3 } });
    await Promise.all([send(o, [msg('a')]), send(o, [msg('b')]), send(o, [msg('c')])]);
    const got = rx.of('/batched');
    assert.equal(got.length, 1);
    const parts = decodeMultipart(Buffer.from(got[0]!.body), multipartBoundary(got[0]!.headers['content-type'])!);
    assert.deepEqual(parts.map((p) => Buffer.from(p.body).toString()), ['a', 'b', 'c']);
    await o.close();
  });

  test('proxy_url: plain HTTP requests go through the proxy', async () => {
    const seen: string[] = [];
    const proxy = http.createServer((req, res) => {
      seen.push(String(req.url));
      const up = http.request(String(req.url), { method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const o = await output({ url: `${rx.url}/proxied`, proxy_url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` });
      await o.write([msg('via proxy')]);
      assert.deepEqual(seen, [`${rx.url}/proxied`]);
      assert.equal(rx.of('/proxied')[0]?.body, 'via proxy');
      await o.close();
    } finally {
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
    }
  });

  test('TLS: a self-signed server is refused by default, accepted with root_cas_file or skip_cert_verify', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-tls-'));
    try {
      try {
        execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
      } catch {
        t.skip('needs the openssl command to make a certificate');
        return;
      }
      const cert = readFileSync(join(dir, 'cert.pem'));
      const key = readFileSync(join(dir, 'key.pem'));
      const server = https.createServer({ cert, key, ca: cert, requestCert: true, rejectUnauthorized: false }, (req, res) => {
        const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
        res.end(peer && peer.subject ? `client:${peer.subject.CN}` : 'anonymous');
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/secure`;
      try {
        const plain = await output({ url, retries: 0 });
        await assert.rejects(send(plain, [msg('x')]), (err: unknown) => {
          assert.match((err as Error).message, new RegExp(`HTTP request to ${url} failed: .*(self-signed|SELF_SIGNED)`, 'i'));
          return true;
        });
        await plain.close();
        const trusted = await output({ url, retries: 0, tls: { enabled: true, root_cas_file: join(dir, 'cert.pem') }, propagate_response: true });
        const m1 = msg('x');
        const got: Message[] = [];
        m1.context = { syncResponse: { add: (r) => void got.push(r) } };
        await trusted.write([m1]);
        assert.equal(got[0]?.text(), 'anonymous');
        await trusted.close();
        const skip = await output({ url, retries: 0, tls: { enabled: true, skip_cert_verify: true, client_certs: [{ cert_file: join(dir, 'cert.pem'), key_file: join(dir, 'key.pem') }] }, propagate_response: true });
        const m2 = msg('y');
        m2.context = { syncResponse: { add: (r) => void got.push(r) } };
        await skip.write([m2]);
        assert.equal(got[1]?.text(), 'client:localhost', 'the client certificate was presented');
        await skip.close();
      } finally {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('in a stream: a failing webhook nacks, the input replays, nothing is lost', async () => {
    rx.on('/stream', (_r, res, n) => {
      res.statusCode = n % 3 === 1 ? 500 : 200;
      res.end();
    });
    const { id, source } = newSource();
    const s = await runStream({
      input: { test_source: { id } },
      output: { http_client: { url: `${rx.url}/stream`, retries: 0, retry_period: '10ms', max_in_flight: 1 } },
      shutdown_timeout: '2s',
    });
    for (let i = 0; i < 5; i++) source.push(`m${i}`);
    await source.waitAcks(5, 10_000);
    const nacked = source.acks.filter((a) => a.error).length;
    const delivered = new Set(rx.of('/stream').filter((_g, i) => (i + 1) % 3 !== 1).map((g) => g.body));
    source.end();
    await s.stop(2000);
    await waitUntil(() => s.state === 'stopped', 3000, 'stream stopped');
    assert.ok(nacked > 0, 'some deliveries were nacked');
    assert.ok(source.acks.length >= 5);
    assert.ok(delivered.size > 0);
  });
});
