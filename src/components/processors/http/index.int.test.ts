// http processor (enrichment call-out) against a real node:http server started by the test.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { spec } from './index.js';
import type { ComponentContext, Processor } from '../../../engine/component.js';
import { Validator } from '../../../config/validate.js';
import { Registry } from '../../../engine/registry.js';
import { noBloblang, type BloblangEnvironment } from '../../../engine/bloblang-api.js';
import { silentLogger } from '../../../engine/logger.js';
import { Message, type Batch } from '../../../engine/message.js';
import { createBloblang } from '../../../cli/wiring.js';
import { decodeMultipart, encodeMultipart, multipartBoundary } from '../../http-client-common.js';

function ctx(bloblang: BloblangEnvironment = noBloblang): ComponentContext {
  return {
    logger: silentLogger,
    bloblang,
    resources: { get: (() => { throw new Error('none'); }) as ComponentContext['resources']['get'], has: () => false },
    build: {} as ComponentContext['build'],
    http: undefined,
    path: 'pipeline.processors.0.http',
    stream: 'test',
    signal: new AbortController().signal,
  };
}

async function processor(conf: Record<string, unknown>, c = ctx()): Promise<Processor> {
  const v = new Validator({ registry: new Registry() });
  const validated = v.field(spec.config, conf, 'http');
  assert.deepEqual(v.issues, []);
  return spec.build(validated as never, c);
}

async function run(p: Processor, batch: Batch): Promise<Batch> {
  const out = await p.process(batch);
  assert.equal(out.length, 1);
  return out[0]!;
}

describe('http processor', { concurrency: false }, () => {
  const active: number[] = [];
  let inFlight = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const path = req.url!.split('?')[0];
      if (path === '/upper') {
        res.setHeader('X-Served-By', 'test');
        return res.end(body.toUpperCase());
      }
      if (path === '/gzip') {
        res.setHeader('content-encoding', 'gzip');
        return res.end(gzipSync(`zipped:${body}:${req.headers['accept-encoding']}`));
      }
      if (path === '/fail') {
        res.statusCode = 502;
        return res.end('bad gateway');
      }
      if (path === '/slow') {
        inFlight++;
        active.push(inFlight);
        setTimeout(() => {
          inFlight--;
          res.end(`done:${body}`);
        }, 60);
        return;
      }
      if (path === '/parts') {
        const ct = String(req.headers['content-type']);
        const parts = decodeMultipart(Buffer.concat(chunks), multipartBoundary(ct)!);
        const boundary = 'resp';
        res.setHeader('content-type', `multipart/mixed; boundary=${boundary}`);
        return res.end(encodeMultipart(parts.map((p) => ({ headers: { 'Content-Type': 'text/plain' }, body: Buffer.from(`got:${Buffer.from(p.body).toString()}`) })), boundary));
      }
      if (path!.startsWith('/user/')) return res.end(JSON.stringify({ name: 'Ann', id: req.url!.split('/').pop() }));
      res.statusCode = 404;
      res.end();
    });
  });
  let base = '';
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  test('replaces the content with the response; keeps metadata, adds http_status_code and extracted headers', async () => {
    const p = await processor({ url: `${base}/upper`, extract_headers: { include_patterns: ['^x-'] } });
    const out = await run(p, [new Message('hello', { keep: 'me' })]);
    assert.equal(out[0]!.text(), 'HELLO');
    assert.equal(out[0]!.metaGet('keep'), 'me');
    assert.equal(out[0]!.metaGet('http_status_code'), 200);
    assert.equal(out[0]!.metaGet('x-served-by'), 'test');
    assert.equal(out[0]!.error, undefined);
    await p.close?.();
  });

  test('gzip responses are decompressed (Accept-Encoding: gzip is sent, as Go does)', async () => {
    const p = await processor({ url: `${base}/gzip` });
    const out = await run(p, [new Message('z')]);
    assert.equal(out[0]!.text(), 'zipped:z:gzip');
    await p.close?.();
  });

  test('a failed request leaves the message unchanged, flagged, with http_status_code', async () => {
    const p = await processor({ url: `${base}/fail`, retries: 1, retry_period: '10ms' });
    const out = await run(p, [new Message('original')]);
    assert.equal(out[0]!.text(), 'original');
    assert.match(out[0]!.error!.message, /unexpected response code \(502\)/);
    assert.equal(out[0]!.errorSource, 'pipeline.processors.0.http');
    assert.equal(out[0]!.metaGet('http_status_code'), 502);
    await p.close?.();
  });

  test('connection failure: flagged, no http_status_code, the error names the URL', async () => {
    const p = await processor({ url: 'http://127.0.0.1:9/x', retries: 0 });
    const out = await run(p, [new Message('original')]);
    assert.match(out[0]!.error!.message, /http:\/\/127\.0\.0\.1:9\/x failed/);
    assert.equal(out[0]!.metaGet('http_status_code'), undefined);
    await p.close?.();
  });

  test('a batch is sent serially by default, in parallel with `parallel`', async () => {
    const serial = await processor({ url: `${base}/slow` });
    active.length = 0;
    let out = await run(serial, [new Message('a'), new Message('b'), new Message('c')]);
    assert.deepEqual(out.map((m) => m.text()), ['done:a', 'done:b', 'done:c']);
    assert.equal(Math.max(...active), 1);
    await serial.close?.();

    const par = await processor({ url: `${base}/slow`, parallel: true });
    active.length = 0;
    out = await run(par, [new Message('a'), new Message('b'), new Message('c')]);
    assert.deepEqual(out.map((m) => m.text()), ['done:a', 'done:b', 'done:c'], 'order kept');
    assert.equal(Math.max(...active), 3);
    await par.close?.();
  });

  test('batch_as_multipart: one request; response parts map back onto the messages', async () => {
    const p = await processor({ url: `${base}/parts`, batch_as_multipart: true });
    const out = await run(p, [new Message('x', { i: '0' }), new Message('y', { i: '1' })]);
    assert.deepEqual(out.map((m) => m.text()), ['got:x', 'got:y']);
    assert.deepEqual(out.map((m) => m.metaGet('i')), ['0', '1']);
    await p.close?.();
  });

  test('url interpolated per message (GET lookup)', async (t) => {
    const blob = await createBloblang();
    try {
      blob.interpolate('${! 1 }');
    } catch {
      t.skip('needs Bloblang');
      return;
    }
    const p = await processor({ url: `${base}/user/\${! this.user_id }`, verb: 'GET' }, ctx(blob));
    const out = await run(p, [new Message('{"user_id":"u1"}'), new Message('{"user_id":"u2"}')]);
    assert.deepEqual(out.map((m) => JSON.parse(m.text()).id), ['u1', 'u2']);
    await p.close?.();
  });
});
