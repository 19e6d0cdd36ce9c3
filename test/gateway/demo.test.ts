// The demo API through real clients: curl (SSE), the `ws` package, the `eventsource` package,
// and plain HTTP. Every subscriber must receive every published message (broadcast).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import WebSocket from 'ws';
import { EventSource } from 'eventsource';
import { Gateway } from '../../src/gateway/server.js';
import { ApiManager } from '../../src/gateway/apis.js';
import { createBloblang, createRegistry } from '../../src/cli/wiring.js';
import { repoRoot } from '../support/paths.js';
import { testLogger, waitUntil, sleep } from '../support/streams.js';

let gateway: Gateway;
let apis: ApiManager;
let base: string;

before(async () => {
  const logger = testLogger();
  gateway = new Gateway({ host: '127.0.0.1', port: 0, logger, version: 'test' });
  apis = new ApiManager({ gateway, registry: createRegistry(), bloblang: await createBloblang(), logger });
  const addr = await gateway.listen();
  base = `http://127.0.0.1:${addr.port}`;
  const { loaded, failed } = await apis.loadDir(join(repoRoot, 'apis'));
  assert.deepEqual(failed, []);
  assert.ok(loaded.includes('demo'));
  await waitUntil(() => [...apis.streams('demo')!.values()].every((s) => s.state === 'running'), 5000, 'demo streams');
});

after(async () => {
  await apis.stopAll(2000);
  await gateway.close();
});

function curlSse(url: string): { proc: ChildProcess; out: () => string } {
  let buf = '';
  const proc = spawn('curl', ['-sN', url], { stdio: ['ignore', 'pipe', 'inherit'] });
  proc.stdout!.on('data', (d: Buffer) => (buf += d.toString()));
  return { proc, out: () => buf };
}

function wsClient(url: string): Promise<{ ws: WebSocket; got: string[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const got: string[] = [];
    ws.on('message', (d, isBinary) => {
      assert.equal(isBinary, false, 'demo sends text frames');
      got.push(d.toString());
    });
    ws.once('open', () => resolve({ ws, got }));
    ws.once('error', reject);
  });
}

const publish = (body: string) => fetch(`${base}/demo/publish`, { method: 'POST', body });

describe('demo API', () => {
  test('three kinds of subscribers each receive every published message', async () => {
    const curl = curlSse(`${base}/demo/events`);
    const es = new EventSource(`${base}/demo/events`);
    const esGot: string[] = [];
    es.onmessage = (e) => esGot.push(e.data);
    const a = await wsClient(`${base.replace('http', 'ws')}/demo/ws`);
    const b = await wsClient(`${base.replace('http', 'ws')}/demo/ws`);
    await waitUntil(() => curl.out().includes(': connected') && es.readyState === EventSource.OPEN, 5000, 'SSE subscribers');
    try {
      const sent = ['{"hello":"world"}', '{"n":2}', 'plain text'];
      for (const body of sent) {
        const res = await publish(body);
        assert.equal(res.status, 200);
      }
      await waitUntil(() => a.got.length === 3 && b.got.length === 3 && esGot.length === 3 && curl.out().split('data: ').length === 4, 5000, 'deliveries');
      assert.deepEqual(a.got, sent);
      assert.deepEqual(b.got, sent);
      assert.deepEqual(esGot, sent);
      const events = curl.out().split('\n\n').filter((e) => e.startsWith('id: '));
      assert.deepEqual(events.map((e) => e.replace(/^id: \S+\n/, '')), sent.map((s) => `data: ${s}`));
    } finally {
      curl.proc.kill();
      es.close();
      a.ws.close();
      b.ws.close();
    }
  });

  test('SSE responses carry the streaming headers', async () => {
    const ctrl = new AbortController();
    const res = await fetch(`${base}/demo/events`, { signal: ctrl.signal });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    assert.equal(res.headers.get('cache-control'), 'no-cache, no-transform');
    assert.equal(res.headers.get('x-accel-buffering'), 'no');
    ctrl.abort();
  });

  test('multi-line messages are framed as multi-line SSE data', async () => {
    const curl = curlSse(`${base}/demo/events`);
    try {
      await waitUntil(() => curl.out().includes(': connected'), 5000, 'subscriber');
      await publish('line one\nline two');
      await waitUntil(() => curl.out().includes('line two'), 5000, 'delivery');
      assert.match(curl.out(), /id: \S+\ndata: line one\ndata: line two\n\n$/);
    } finally {
      curl.proc.kill();
    }
  });

  test('a GET on the output path returns the next message, or 408 after the timeout', async () => {
    const pending = fetch(`${base}/demo/next`);
    await sleep(100);
    await publish('for the poller');
    const res = await pending;
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'for the poller');
  });

  test('publishing over the input WebSocket reaches subscribers', async () => {
    const sub = await wsClient(`${base.replace('http', 'ws')}/demo/ws`);
    const pub = new WebSocket(`${base.replace('http', 'ws')}/demo/publish/ws`);
    await new Promise((r) => pub.once('open', r));
    try {
      pub.send('via websocket');
      await waitUntil(() => sub.got.includes('via websocket'), 5000, 'delivery');
    } finally {
      pub.close();
      sub.ws.close();
    }
  });

  test('unknown paths are a JSON 404, wrong verbs a 405', async () => {
    const r404 = await fetch(`${base}/demo/nope`);
    assert.equal(r404.status, 404);
    assert.deepEqual(await r404.json(), { error: 'not found' });
    const r405 = await fetch(`${base}/demo/publish`);
    assert.equal(r405.status, 405);
    const other = await fetch(`${base}/elsewhere`);
    assert.equal(other.status, 404);
  });

  test('the ticker stream shows live generated data without anyone publishing', async () => {
    const curl = curlSse(`${base}/demo/ticks`);
    try {
      await waitUntil(() => curl.out().split('\ndata: ').length >= 2, 5000, 'a tick');
      const first = /\ndata: (.*)\n/.exec(curl.out())![1]!;
      const tick = JSON.parse(first) as { n: number; sensor: string; even: boolean; at: string };
      assert.equal(typeof tick.n, 'number');
      assert.equal(tick.even, tick.n % 2 === 0);
      assert.match(tick.sensor, /^(NORTH|SOUTH|EAST)$/);
    } finally {
      curl.proc.kill();
    }
  });

  test('/hello reports health like Tyk', async () => {
    const res = await fetch(`${base}/hello`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { status: string; details: Record<string, { status: string }> };
    assert.equal(body.status, 'pass');
    assert.equal(body.details['demo/pubsub']?.status, 'pass');
    assert.equal(body.details['demo/ticker']?.status, 'pass');
  });

  test('oversized bodies are refused with 413', async () => {
    const res = await fetch(`${base}/demo/publish`, { method: 'POST', body: 'x'.repeat(2 * 1024 * 1024) });
    assert.equal(res.status, 413);
  });
});
