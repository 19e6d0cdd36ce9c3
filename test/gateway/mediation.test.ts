// Delivery semantics of http_server outputs through real clients: SSE resume with Last-Event-ID,
// gaps, long-poll cursors, slow consumers beside fast ones, filters, round robin, limits, and
// what clients see when an API is removed.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import WebSocket from 'ws';
import { Gateway } from '../../src/gateway/server.js';
import { ApiManager } from '../../src/gateway/apis.js';
import { validateApiDocument } from '../../src/config/load.js';
import { formatIssue } from '../../src/config/source.js';
import { Message } from '../../src/engine/message.js';
import { createBloblang } from '../../src/cli/wiring.js';
import { newSource, testRegistry, type Source } from '../support/test-components.js';
import { testLogger, waitUntil, sleep } from '../support/streams.js';

let gateway: Gateway;
let apis: ApiManager;
let base: string;
const registry = testRegistry();

before(async () => {
  const logger = testLogger();
  gateway = new Gateway({ host: '127.0.0.1', port: 0, logger, version: 'test' });
  apis = new ApiManager({ gateway, registry, bloblang: await createBloblang(), logger });
  base = `http://127.0.0.1:${(await gateway.listen()).port}`;
});

after(async () => {
  await apis.stopAll(1000);
  await gateway.close();
});

let apiSeq = 0;
/** Loads an API whose single stream reads from a test source and serves `output` under /t<n>/. */
async function api(output: Record<string, unknown>): Promise<{ source: Source; prefix: string; id: string }> {
  const { id: srcId, source } = newSource();
  const id = `t${++apiSeq}`;
  const doc = {
    openapi: '3.0.3',
    info: { title: id, version: '1' },
    'x-tyk-api-gateway': { info: { id, name: id, state: { active: true } }, server: { listenPath: { value: `/${id}/` } } },
    'x-tyk-streaming': { streams: { s: { input: { test_source: { id: srcId } }, output: { http_server: output } } } },
  };
  const { api: def, issues } = validateApiDocument(doc, { registry });
  assert.ok(def, issues.map((i) => formatIssue(i)).join('\n'));
  await apis.load(def);
  await waitUntil(() => apis.streams(id)!.get('s')!.state === 'running', 5000, 'stream running');
  return { source, prefix: `${base}/${id}`, id };
}

/** Reads an SSE response with fetch, exposing raw text and parsed events. */
async function sse(url: string, headers: Record<string, string> = {}) {
  const ctrl = new AbortController();
  const res = await fetch(url, { headers, signal: ctrl.signal });
  assert.equal(res.status, 200);
  let text = '';
  const reader = res.body!.getReader();
  void (async () => {
    try {
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        text += new TextDecoder().decode(r.value);
      }
    } catch {
      /* aborted */
    }
  })();
  const events = () =>
    text
      .split('\n\n')
      .filter((b) => b.trim() && !b.startsWith(':'))
      .map((b) => {
        const ev: { id?: string; event?: string; data: string } = { data: '' };
        const data: string[] = [];
        for (const line of b.split('\n')) {
          if (line.startsWith('id: ')) ev.id = line.slice(4);
          else if (line.startsWith('event: ')) ev.event = line.slice(7);
          else if (line.startsWith('data: ')) data.push(line.slice(6));
        }
        ev.data = data.join('\n');
        return ev;
      });
  return { events, text: () => text, close: () => ctrl.abort() };
}

function wsConnect(url: string): Promise<{ ws: WebSocket; got: string[]; closed: Promise<{ code: number; reason: string }> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const got: string[] = [];
    const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString() })));
    ws.on('message', (d) => got.push(d.toString()));
    ws.once('open', () => resolve({ ws, got, closed }));
    ws.once('error', reject);
  });
}

describe('SSE resume', () => {
  test('a client reconnecting with Last-Event-ID gets exactly what it missed', async () => {
    const { source, prefix } = await api({ stream_path: '/sse', stream_format: 'event_source' });
    const first = await sse(`${prefix}/sse`);
    await waitUntil(() => first.text().includes(': connected'), 3000, 'connected');
    source.push('m1', 'm2', 'm3');
    await waitUntil(() => first.events().length === 3, 3000, 'three events');
    const lastId = first.events()[2]!.id!;
    first.close();
    source.push('m4', 'm5');
    await source.waitAcks(5);
    // curl is the real client here: it sends the header as a browser's EventSource would.
    let out = '';
    const curl = spawn('curl', ['-sN', '-H', `Last-Event-ID: ${lastId}`, `${prefix}/sse`]);
    curl.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitUntil(() => out.includes('m5'), 3000, 'replay');
      source.push('m6');
      await waitUntil(() => out.includes('m6'), 3000, 'live after replay');
      const datas = [...out.matchAll(/^data: (.*)$/gm)].map((m) => m[1]);
      assert.deepEqual(datas, ['m4', 'm5', 'm6']);
    } finally {
      curl.kill();
    }
  });

  test('an id older than the replay buffer gets an explicit gap event', async () => {
    const { source, prefix } = await api({ stream_path: '/sse', stream_format: 'event_source', replay_buffer: { size: 3 } });
    const first = await sse(`${prefix}/sse`);
    await waitUntil(() => first.text().includes(': connected'), 3000, 'connected');
    source.push('a0');
    await waitUntil(() => first.events().length === 1, 3000, 'first');
    const oldId = first.events()[0]!.id!;
    first.close();
    for (let i = 1; i <= 9; i++) source.push(`a${i}`);
    await source.waitAcks(10);
    const again = await sse(`${prefix}/sse`, { 'Last-Event-ID': oldId });
    try {
      await waitUntil(() => again.events().length === 4, 3000, 'gap + buffered');
      const evs = again.events();
      assert.equal(evs[0]!.event, 'gap');
      assert.equal(JSON.parse(evs[0]!.data).last_event_id, oldId);
      assert.deepEqual(evs.slice(1).map((e) => e.data), ['a7', 'a8', 'a9']);
    } finally {
      again.close();
    }
  });
});

describe('HTTP long-poll', () => {
  test('a client polling with a cursor never misses a message within the window', async () => {
    const { source, prefix } = await api({ path: '/poll', timeout: '2s' });
    const pending = fetch(`${prefix}/poll?cursor=`);
    await sleep(100);
    source.push('p1');
    const r1 = (await (await pending).json()) as { cursor: string; messages: { data: string }[] };
    assert.deepEqual(r1.messages.map((m) => m.data), ['p1']);
    // Messages published while the client is not polling are returned by the next poll.
    source.push('p2', 'p3');
    await source.waitAcks(3);
    const r2 = (await (await fetch(`${prefix}/poll?cursor=${encodeURIComponent(r1.cursor)}`)).json()) as { cursor: string; gap: boolean; messages: { data: string }[] };
    assert.deepEqual(r2.messages.map((m) => m.data), ['p2', 'p3']);
    assert.equal(r2.gap, false);
    // Nothing new: the poll waits for the timeout and returns no messages, same cursor.
    const r3 = (await (await fetch(`${prefix}/poll?cursor=${encodeURIComponent(r2.cursor)}`)).json()) as { cursor: string; messages: unknown[] };
    assert.deepEqual(r3.messages, []);
    assert.equal(r3.cursor, r2.cursor);
  });

  test('without a cursor a GET returns one message or 408', async () => {
    const { prefix } = await api({ path: '/one', timeout: '200ms' });
    const r = await fetch(`${prefix}/one`);
    assert.equal(r.status, 408);
    assert.deepEqual(await r.json(), { error: 'Timed out waiting for message' });
  });
});

/** A WebSocket client that completes the handshake and then never reads. */
function stalledWs(url: string): Promise<net.Socket> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(u.port), u.hostname, () => {
      sock.write(
        `GET ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    sock.once('data', (d) => {
      if (!d.toString().startsWith('HTTP/1.1 101')) return reject(new Error(d.toString()));
      sock.pause();
      resolve(sock);
    });
    sock.once('error', reject);
  });
}

describe('slow consumers', () => {
  test('one stalled client beside 100 fast ones: the fast ones get everything, the stalled one is cut off', async () => {
    const { source, prefix, id } = await api({ ws_path: '/ws', slow_consumer: { policy: 'disconnect', max_queue: 8 } });
    const wsUrl = `${prefix.replace('http', 'ws')}/ws`;
    const fast = await Promise.all(Array.from({ length: 100 }, () => wsConnect(wsUrl)));
    const stalled = await stalledWs(wsUrl);
    const host = apis.host(id)!;
    await waitUntil(() => host.subscriberCount === 101, 3000, 'all connected');
    const big = 'x'.repeat(16 * 1024);
    // ~6.5 MB: more than loopback socket buffers hold for a client that never reads. Paced, as a
    // broker would deliver it, so that clients that do read keep up.
    const n = 400;
    try {
      for (let i = 0; i < n; i += 8) {
        for (let j = i; j < i + 8; j++) source.push(`${j}:${big}`);
        await sleep(10);
      }
      await waitUntil(() => fast.every((f) => f.got.length === n), 30_000, 'fast clients');
      for (const f of fast) assert.equal(f.got.length, n);
      assert.ok(fast.every((f) => f.got.map((g) => Number(g.split(':')[0])).every((v, i) => v === i)), 'in order');
      // The stalled one is dropped; the hundred fast ones are still connected.
      await waitUntil(() => host.subscriberCount === 100, 5000, 'stalled client disconnected');
    } finally {
      for (const f of fast) f.ws.close();
      stalled.destroy();
    }
  });

  test('drop_oldest tells the client how many messages it missed', async () => {
    const { source, prefix } = await api({ ws_path: '/ws', slow_consumer: { policy: 'drop_oldest', max_queue: 4 } });
    const sock = await stalledWs(`${prefix.replace('http', 'ws')}/ws`);
    const big = 'y'.repeat(64 * 1024);
    for (let i = 0; i < 150; i++) source.push(`${i}:${big}`);
    await source.waitAcks(150);
    let buf = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => (buf = Buffer.concat([buf, d])));
    sock.resume();
    try {
      await waitUntil(() => buf.includes('"sluice":"dropped"') && buf.includes('149:'), 10_000, 'drop notice and latest message');
      const notice = /\{"sluice":"dropped","dropped":(\d+)\}/.exec(buf.toString('latin1'));
      assert.ok(notice && Number(notice[1]) > 0, 'dropped count sent');
    } finally {
      sock.destroy();
    }
  });
});

describe('conflation', () => {
  test('conflate keeps only the latest message per key for a client that fell behind', async () => {
    const { source, prefix } = await api({
      ws_path: '/ws',
      slow_consumer: { policy: 'conflate', max_queue: 100, conflate_key: '${! meta("k") }' },
    });
    const sock = await stalledWs(`${prefix.replace('http', 'ws')}/ws`);
    const big = 'z'.repeat(64 * 1024);
    // Enough to back the socket up, then two keys updated many times while the client is stalled.
    for (let i = 0; i < 120; i++) {
      const m = new Message(`fill${i}:${big}`);
      m.metaSet('k', `fill${i}`);
      source.push(m);
    }
    for (let i = 0; i < 50; i++) {
      for (const k of ['a', 'b']) {
        const m = new Message(`${k}=${i}`);
        m.metaSet('k', k);
        source.push(m);
      }
    }
    await source.waitAcks(220);
    let buf = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => (buf = Buffer.concat([buf, d])));
    sock.resume();
    try {
      await waitUntil(() => buf.includes('a=49') && buf.includes('b=49'), 10_000, 'latest values');
      const text = buf.toString('latin1');
      const aValues = [...text.matchAll(/a=(\d+)/g)].map((m) => Number(m[1]));
      assert.ok(aValues.length < 50, `intermediate values were conflated (${aValues.length} of 50 arrived)`);
      assert.equal(aValues[aValues.length - 1], 49);
    } finally {
      sock.destroy();
    }
  });
});

describe('filters and delivery modes', () => {
  test('a Bloblang filter query, where the output allows it', async () => {
    const { source, prefix } = await api({ ws_path: '/ws', ws_message_type: 'text', filters: { bloblang: true } });
    const q = encodeURIComponent('this.temp > 20 && this.room.has_prefix("lab")');
    const hot = await wsConnect(`${prefix.replace('http', 'ws')}/ws?filter=${q}`);
    const bad = await new Promise<number>((resolve) => {
      const w = new WebSocket(`${prefix.replace('http', 'ws')}/ws?filter=${encodeURIComponent('this.(')}`);
      w.once('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
    });
    assert.equal(bad, 400, 'an invalid filter is refused');
    source.push('{"temp":25,"room":"lab1"}', '{"temp":15,"room":"lab1"}', '{"temp":30,"room":"office"}', '{"temp":21,"room":"lab2"}');
    try {
      await waitUntil(() => hot.got.length === 2, 5000, 'filtered');
      await sleep(100);
      assert.deepEqual(hot.got, ['{"temp":25,"room":"lab1"}', '{"temp":21,"room":"lab2"}']);
    } finally {
      hot.ws.close();
    }
  });

  test('field filters: each subscriber gets only matching messages', async () => {
    const { source, prefix } = await api({ ws_path: '/ws', ws_message_type: 'text', filters: { fields: ['type', 'user.id'] } });
    const wsUrl = `${prefix.replace('http', 'ws')}/ws`;
    const all = await wsConnect(wsUrl);
    const onlyA = await wsConnect(`${wsUrl}?type=a`);
    const onlyA2 = await wsConnect(`${wsUrl}?type=a`);
    const user7 = await wsConnect(`${wsUrl}?user.id=7`);
    const msgs = ['{"type":"a","user":{"id":7}}', '{"type":"b","user":{"id":7}}', '{"type":"a","user":{"id":8}}', 'not json'];
    source.push(...msgs);
    try {
      await waitUntil(() => all.got.length === 4 && onlyA.got.length === 2 && user7.got.length === 2, 5000, 'filtered deliveries');
      assert.deepEqual(onlyA.got, [msgs[0], msgs[2]]);
      assert.deepEqual(onlyA2.got, [msgs[0], msgs[2]]);
      assert.deepEqual(user7.got, [msgs[0], msgs[1]]);
    } finally {
      for (const c of [all, onlyA, onlyA2, user7]) c.ws.close();
    }
  });

  test('a filter query is refused unless the output allows it', async () => {
    const { prefix } = await api({ stream_path: '/sse', stream_format: 'event_source', filters: { fields: ['type'] } });
    const r = await fetch(`${prefix}/sse?filter=${encodeURIComponent('this.type == "a"')}`);
    assert.equal(r.status, 400);
  });

  test('round_robin: each message goes to exactly one client (Bento behaviour)', async () => {
    const { source, prefix } = await api({ ws_path: '/ws', delivery: 'round_robin' });
    const wsUrl = `${prefix.replace('http', 'ws')}/ws`;
    const clients = await Promise.all([wsConnect(wsUrl), wsConnect(wsUrl), wsConnect(wsUrl)]);
    for (let i = 0; i < 9; i++) source.push(`r${i}`);
    try {
      await waitUntil(() => clients.reduce((n, c) => n + c.got.length, 0) === 9, 5000, 'deliveries');
      await sleep(100);
      const got = clients.flatMap((c) => c.got).sort();
      assert.deepEqual(got, Array.from({ length: 9 }, (_, i) => `r${i}`).sort());
      assert.ok(clients.every((c) => c.got.length === 3), 'spread evenly');
    } finally {
      for (const c of clients) c.ws.close();
    }
  });

  test('max_connections_per_client refuses the extra connection with 429', async () => {
    const { prefix } = await api({ ws_path: '/ws', max_connections_per_client: 2 });
    const wsUrl = `${prefix.replace('http', 'ws')}/ws`;
    const a = await wsConnect(wsUrl);
    const b = await wsConnect(wsUrl);
    try {
      await assert.rejects(wsConnect(wsUrl), /429/);
    } finally {
      a.ws.close();
      b.ws.close();
    }
  });
});

describe('CORS', () => {
  test('allowed origins get CORS headers and preflights; other origins cannot open a WebSocket', async () => {
    const { prefix } = await api({ stream_path: '/sse', stream_format: 'event_source', ws_path: '/ws', cors: { enabled: true, allowed_origins: ['http://app.example'] } });
    const pre = await fetch(`${prefix}/sse`, { method: 'OPTIONS', headers: { Origin: 'http://app.example', 'Access-Control-Request-Headers': 'last-event-id' } });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), 'http://app.example');
    assert.match(pre.headers.get('access-control-allow-methods') ?? '', /GET/);
    const ctrl = new AbortController();
    const r = await fetch(`${prefix}/sse`, { headers: { Origin: 'http://app.example' }, signal: ctrl.signal });
    assert.equal(r.headers.get('access-control-allow-origin'), 'http://app.example');
    ctrl.abort();
    const other = await fetch(`${prefix}/sse`, { headers: { Origin: 'http://evil.example' }, signal: AbortSignal.timeout(2000) }).catch(() => undefined);
    assert.equal(other?.headers.get('access-control-allow-origin') ?? null, null);
    const ws = new WebSocket(`${prefix.replace('http', 'ws')}/ws`, { origin: 'http://evil.example' });
    const status = await new Promise<number>((resolve) => ws.once('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0)));
    assert.equal(status, 403);
    const okWs = await new Promise<boolean>((resolve) => {
      const w = new WebSocket(`${prefix.replace('http', 'ws')}/ws`, { origin: 'http://app.example' });
      w.once('open', () => (w.close(), resolve(true)));
      w.once('error', () => resolve(false));
    });
    assert.ok(okWs);
  });
});

describe('API connection limit', () => {
  test('x-sluice.max_connections caps subscribers across the API', async () => {
    const id = `lim${++apiSeq}`;
    const { id: srcId } = newSource();
    const { api: def } = validateApiDocument(
      {
        openapi: '3.0.3',
        'x-tyk-api-gateway': { info: { id, name: id, state: { active: true } }, server: { listenPath: { value: `/${id}/` } } },
        'x-sluice': { max_connections: 2 },
        'x-tyk-streaming': { streams: { s: { input: { test_source: { id: srcId } }, output: { http_server: { ws_path: '/ws', stream_path: '/sse' } } } } },
      },
      { registry },
    );
    await apis.load(def!);
    await waitUntil(() => apis.streams(id)!.get('s')!.state === 'running', 3000, 'running');
    const a = await wsConnect(`${base.replace('http', 'ws')}/${id}/ws`);
    const b = await sse(`${base}/${id}/sse`);
    try {
      const r = await fetch(`${base}/${id}/sse`);
      assert.equal(r.status, 503);
      assert.deepEqual(await r.json(), { error: 'too many connections to this API' });
    } finally {
      a.ws.close();
      b.close();
      await apis.unload(id);
    }
  });
});

describe('API lifecycle', () => {
  test('removing an API closes its open connections with a reason', async () => {
    const { source, prefix, id } = await api({ ws_path: '/ws', stream_path: '/sse', stream_format: 'event_source' });
    const ws = await wsConnect(`${prefix.replace('http', 'ws')}/ws`);
    const s = await sse(`${prefix}/sse`);
    await waitUntil(() => s.text().includes(': connected'), 3000, 'connected');
    source.push(new Message('last'));
    await waitUntil(() => ws.got.length === 1, 3000, 'delivery');
    await apis.unload(id, 1000);
    const closed = await ws.closed;
    assert.equal(closed.code, 1001);
    await waitUntil(() => s.events().some((e) => e.event === 'close'), 3000, 'SSE close event');
    const after = await fetch(`${prefix}/sse`);
    assert.equal(after.status, 404);
  });
});

describe('Tyk variables', () => {
  async function load(doc: Record<string, unknown>) {
    const { api: def, issues } = validateApiDocument(doc, { registry });
    assert.ok(def, issues.map((i) => formatIssue(i)).join('\n'));
    await apis.load(def);
    return def;
  }

  test('$tyk_context: one instance per distinct rendered config, stopped when idle', async () => {
    const id = `tv${++apiSeq}`;
    await load({
      openapi: '3.0.3',
      'x-tyk-api-gateway': { info: { id, name: id, state: { active: true } }, server: { listenPath: { value: `/${id}/` } } },
      'x-sluice': { stream_idle_timeout: '200ms' },
      'x-tyk-streaming': {
        streams: {
          room: {
            input: { http_server: { path: '/pub' } },
            pipeline: { processors: [{ log: { level: 'DEBUG', message: 'room $tyk_context.request_data_room' } }] },
            output: { http_server: { stream_path: '/sub', stream_format: 'event_source' } },
          },
        },
      },
    });
    const t = apis.templated(id)!.get('room')!;
    assert.equal(t.instanceCount, 0, 'nothing runs before the first request');
    const a = await sse(`${base}/${id}/sub?room=a`);
    const b = await sse(`${base}/${id}/sub?room=b`);
    await waitUntil(() => a.text().includes(': connected') && b.text().includes(': connected'), 3000, 'subscribers');
    assert.equal(t.instanceCount, 2);
    assert.equal((await fetch(`${base}/${id}/pub?room=a`, { method: 'POST', body: 'for a' })).status, 200);
    assert.equal((await fetch(`${base}/${id}/pub?room=b`, { method: 'POST', body: 'for b' })).status, 200);
    await waitUntil(() => a.events().length === 1 && b.events().length === 1, 3000, 'deliveries');
    assert.equal(a.events()[0]!.data, 'for a');
    assert.equal(b.events()[0]!.data, 'for b');
    a.close();
    b.close();
    await waitUntil(() => t.instanceCount === 0, 3000, 'idle instances stopped');
    await apis.unload(id);
  });

  test('$secret_env is resolved when the API loads', async () => {
    process.env.SLUICE_TEST_SECRET_PATH = '/hidden';
    const id = `tv${++apiSeq}`;
    const { id: srcId, source } = newSource();
    await load({
      openapi: '3.0.3',
      'x-tyk-api-gateway': { info: { id, name: id, state: { active: true } }, server: { listenPath: { value: `/${id}/` } } },
      'x-tyk-streaming': { streams: { s: { input: { test_source: { id: srcId } }, output: { http_server: { path: '$secret_env.SLUICE_TEST_SECRET_PATH', timeout: '2s' } } } } },
    });
    await waitUntil(() => apis.streams(id)!.get('s')!.state === 'running', 3000, 'running');
    const pending = fetch(`${base}/${id}/hidden`);
    await sleep(50);
    source.push('secret path works');
    assert.equal(await (await pending).text(), 'secret path works');
    await apis.unload(id);
  });
});
