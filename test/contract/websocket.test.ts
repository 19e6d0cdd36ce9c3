// The shared connector contract suite for the websocket output and input (both clients). There is
// no WebSocket broker, so the test serves a minimal relay: frames published on /pub/<id> are sent
// to every socket connected on /sub/<id>. The relay keeps nothing (no persistence), WebSocket
// carries no metadata, and nacks are replayed by the input itself (auto_replay_nacks).
// http_client has no contract test: its input and output need no broker to meet.
import { after } from 'node:test';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { contractSuite } from './suite.js';

const server = http.createServer();
const wss = new WebSocketServer({ server });
const subscribers = new Map<string, Set<WebSocket>>();

wss.on('connection', (ws, req) => {
  const [, role, id] = (req.url ?? '').split('/');
  if (!id) return ws.close(1008, 'expected /pub/<id> or /sub/<id>');
  if (role === 'sub') {
    let set = subscribers.get(id);
    if (!set) subscribers.set(id, (set = new Set()));
    set.add(ws);
    ws.on('close', () => set.delete(ws));
  } else if (role === 'pub') {
    ws.on('message', (data: Buffer, binary: boolean) => {
      for (const s of subscribers.get(id) ?? []) s.send(data, { binary });
    });
  }
});

await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;

after(async () => {
  for (const ws of wss.clients) ws.terminate();
  wss.close();
  await new Promise((r) => server.close(r));
});

contractSuite({
  name: 'websocket',
  address,
  configs: (id, addr) => ({
    input: { websocket: { url: `ws://${addr}/sub/${id}` } },
    output: { websocket: { url: `ws://${addr}/pub/${id}` } },
  }),
  supports: { metadata: false, nackRedelivery: true, batches: true, ordered: true, persistent: false },
  timeoutMs: 10_000,
});
