// The demo API from a real browser (headless Debian chromium through playwright-core): the
// browser's own EventSource and WebSocket, on a page served from another origin, so the
// gateway's CORS (apis/demo.yaml allows any origin) is exercised as a browser sees it.
// Messages are published with fetch from the test. Chromium is installed by
// scripts/deps.sh; without it these tests fail.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, connect, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { Gateway } from '../../src/gateway/server.js';
import { ApiManager } from '../../src/gateway/apis.js';
import { createBloblang, createRegistry } from '../../src/cli/wiring.js';
import { repoRoot } from '../support/paths.js';
import { testLogger, waitUntil, sleep } from '../support/streams.js';
import { launchChromium } from '../support/browser.js';

/** Runs in the page: opens browser clients by name and records what each receives. */
const PAGE_SCRIPT = `
const clients = {};
const handles = {};
function openSse(name, url) {
  const c = (clients[name] = { got: [], ids: [], control: [], opens: 0, errors: 0, readyState: 0 });
  const es = new EventSource(url);
  handles[name] = es;
  es.onopen = () => { c.opens++; c.readyState = es.readyState; };
  es.onmessage = (e) => { c.got.push(e.data); c.ids.push(e.lastEventId); };
  es.onerror = () => { c.errors++; c.readyState = es.readyState; };
  for (const ev of ['gap', 'dropped', 'close', 'limit']) es.addEventListener(ev, (e) => c.control.push(ev + ' ' + e.data));
}
function openWs(name, url) {
  const c = (clients[name] = { got: [], opens: 0, errors: 0, closed: false });
  const ws = new WebSocket(url);
  handles[name] = ws;
  ws.onopen = () => { c.opens++; };
  ws.onmessage = (e) => { c.got.push(typeof e.data === 'string' ? e.data : '(binary frame)'); };
  ws.onerror = () => { c.errors++; };
  ws.onclose = () => { c.closed = true; };
}
function closeClient(name) {
  handles[name].close();
  clients[name].readyState = 2;
}
`;

interface SseState {
  got: string[];
  ids: string[];
  control: string[];
  opens: number;
  errors: number;
  readyState: number;
}
interface WsState {
  got: string[];
  opens: number;
  errors: number;
  closed: boolean;
}

/**
 * A TCP relay between the browser and Sluice, so that a test can cut the browser's
 * connections (as a network failure would) and see the requests the browser sends.
 */
class Relay {
  readonly server: TcpServer;
  readonly sockets = new Set<Socket>();
  /** Request heads (request line and headers) as the browser sent them. */
  readonly requests: string[] = [];

  constructor(targetPort: number) {
    this.server = createTcpServer((client) => {
      const upstream = connect(targetPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.on('data', (d: Buffer) => {
        const text = d.toString('latin1');
        if (/^[A-Z]+ \S+ HTTP\/1\.1\r\n/.test(text)) this.requests.push(text.split('\r\n\r\n')[0]!);
      });
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  /** Cuts every open connection, both ways. */
  dropAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

let gateway: Gateway | undefined;
let apis: ApiManager | undefined;
let pageServer: HttpServer | undefined;
let relay: Relay | undefined;
let browser: Browser | undefined;
let page: Page;
/** Sluice, directly. */
let base: string;
/** Sluice, through the relay. */
let relayed: string;
/** The page's origin: another port, so another origin than Sluice's. */
let pageOrigin: string;

before(async () => {
  const logger = testLogger();
  gateway = new Gateway({ host: '127.0.0.1', port: 0, logger, version: 'test' });
  apis = new ApiManager({ gateway, registry: createRegistry(), bloblang: await createBloblang(), logger });
  const addr = await gateway.listen();
  base = `http://127.0.0.1:${addr.port}`;
  const { loaded, failed } = await apis.loadDir(join(repoRoot, 'apis'));
  assert.deepEqual(failed, []);
  assert.ok(loaded.includes('demo'));
  const demo = apis;
  await waitUntil(() => [...demo.streams('demo')!.values()].every((s) => s.state === 'running'), 5000, 'demo streams');

  relay = new Relay(addr.port);
  relayed = `http://127.0.0.1:${await relay.listen()}`;

  pageServer = createHttpServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><meta charset="utf-8"><title>sluice browser test</title><script>${PAGE_SCRIPT}</script>`);
  });
  await new Promise<void>((resolve) => pageServer!.listen(0, '127.0.0.1', resolve));
  pageOrigin = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}`;

  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(`${pageOrigin}/`);
});

after(async () => {
  await browser?.close();
  await relay?.close();
  if (pageServer) {
    pageServer.closeAllConnections();
    await new Promise<void>((resolve) => pageServer!.close(() => resolve()));
  }
  await apis?.stopAll(2000);
  await gateway?.close();
});

const wsUrl = (http: string) => http.replace(/^http/, 'ws');
const js = (v: unknown) => JSON.stringify(v);
/** A regular expression matching one header line exactly. */
const headerLine = (name: string, value: string) => new RegExp(`^${name}: ${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'im');

async function inPage<T>(expression: string): Promise<T> {
  return (await page.evaluate(expression)) as T;
}

/** Waits for a condition evaluated in the page; on timeout, says what the clients had. */
async function untilInPage(expression: string, what: string, timeout = 5000): Promise<void> {
  try {
    await page.waitForFunction(expression, undefined, { timeout, polling: 25 });
  } catch {
    throw new Error(`timed out waiting for ${what}; clients: ${js(await inPage('clients'))}`);
  }
}

async function publish(body: string): Promise<void> {
  const res = await fetch(`${base}/demo/publish`, { method: 'POST', body });
  assert.equal(res.status, 200, `publish ${body}`);
}

/** Bodies unique to one test, so that a replay can never be mistaken for a live delivery. */
const bodies = (tag: string, n: number) => Array.from({ length: n }, (_, i) => js({ test: tag, n: i + 1 }));

describe('demo API from a browser', () => {
  test('a browser EventSource and WebSocket on another origin each receive every message, in order', async () => {
    await inPage(`openSse('sse', ${js(`${base}/demo/events`)}); openWs('ws', ${js(`${wsUrl(base)}/demo/ws`)})`);
    await untilInPage(`clients.sse.opens === 1 && clients.ws.opens === 1`, 'both browser clients to connect');
    try {
      const sent = bodies('order', 3);
      for (const b of sent) await publish(b);
      await untilInPage(`clients.sse.got.length >= 3 && clients.ws.got.length >= 3`, 'three messages on each client');
      await sleep(200); // anything extra would arrive now
      const sse = await inPage<SseState>('clients.sse');
      const ws = await inPage<WsState>('clients.ws');
      assert.deepEqual(sse.got, sent);
      assert.deepEqual(ws.got, sent);
      assert.equal(new Set(sse.ids).size, 3, `SSE ids are distinct: ${js(sse.ids)}`);
      assert.ok(sse.ids.every((id) => id !== ''), `every SSE event has an id: ${js(sse.ids)}`);
      assert.deepEqual(sse.control, []);
      assert.equal(sse.errors, 0);
      assert.equal(ws.errors, 0);
    } finally {
      await inPage(`closeClient('sse'); closeClient('ws')`);
    }
  });

  test('an EventSource reopened with ?last_event_id= gets exactly what it missed, then live messages', async () => {
    const [m1, m2, m3, m4, m5] = bodies('query-resume', 5);
    await inPage(`openSse('first', ${js(`${base}/demo/events`)})`);
    await untilInPage(`clients.first.opens === 1`, 'the first EventSource to connect');
    await publish(m1!);
    await publish(m2!);
    await untilInPage(`clients.first.got.length >= 2`, 'two messages on the first EventSource');
    await inPage(`closeClient('first')`);
    const first = await inPage<SseState>('clients.first');
    assert.deepEqual(first.got, [m1, m2]);
    const lastId = first.ids[1]!;

    await publish(m3!);
    await publish(m4!);
    await inPage(`openSse('second', ${js(`${base}/demo/events?last_event_id=${encodeURIComponent(lastId)}`)})`);
    try {
      await untilInPage(`clients.second.got.length >= 2`, 'the replay on the second EventSource');
      await publish(m5!);
      await untilInPage(`clients.second.got.length >= 3`, 'a live message after the replay');
      await sleep(200);
      const second = await inPage<SseState>('clients.second');
      assert.deepEqual(second.got, [m3, m4, m5], 'nothing lost, nothing repeated');
      assert.deepEqual(second.control, [], 'no gap within the replay buffer');
      assert.equal(new Set([...first.ids, ...second.ids]).size, 5, 'every message has its own id');
      assert.deepEqual((await inPage<SseState>('clients.first')).got, [m1, m2], 'a closed EventSource receives nothing more');
    } finally {
      await inPage(`closeClient('second')`);
    }
  });

  test("when the connection drops, the browser's own reconnect sends Last-Event-ID and misses nothing", async () => {
    const [m1, m2, m3, m4, m5] = bodies('reconnect', 5);
    relay!.requests.length = 0;
    await inPage(`openSse('auto', ${js(`${relayed}/demo/events`)})`);
    await untilInPage(`clients.auto.opens === 1`, 'the EventSource to connect through the relay');
    try {
      await publish(m1!);
      await publish(m2!);
      await untilInPage(`clients.auto.got.length >= 2`, 'two messages before the drop');
      const lastId = (await inPage<SseState>('clients.auto')).ids[1]!;

      relay!.dropAll();
      await untilInPage(`clients.auto.errors >= 1`, 'the browser to notice the drop');
      // Chromium waits about 3 s before it reconnects: these two are published while it is away.
      await publish(m3!);
      await publish(m4!);
      await untilInPage(`clients.auto.opens === 2 && clients.auto.got.length >= 4`, 'the reconnect and its replay', 10_000);
      await publish(m5!);
      await untilInPage(`clients.auto.got.length >= 5`, 'a live message after the reconnect');
      await sleep(200);

      const auto = await inPage<SseState>('clients.auto');
      assert.deepEqual(auto.got, [m1, m2, m3, m4, m5], 'nothing lost, nothing repeated');
      assert.deepEqual(auto.control, []);
      const streams = relay!.requests.filter((r) => r.startsWith('GET /demo/events '));
      assert.equal(streams.length, 2, `one request, then one reconnect: ${js(relay!.requests)}`);
      assert.doesNotMatch(streams[0]!, /^last-event-id:/im);
      assert.match(streams[1]!, headerLine('last-event-id', lastId), 'the reconnect resumes after the last event seen');
      assert.match(streams[1]!, headerLine('origin', pageOrigin), 'a cross-origin request');
    } finally {
      await inPage(`closeClient('auto')`);
    }
  });
});
