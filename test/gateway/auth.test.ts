// Authentication in front of stream paths, through real clients: the Tyk OAS auth token with a
// query source (what browsers' EventSource needs), on POST, SSE and WebSocket.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { Gateway } from '../../src/gateway/server.js';
import { ApiManager } from '../../src/gateway/apis.js';
import { createGuard } from '../../src/gateway/guard.js';
import { validateApiDocument } from '../../src/config/load.js';
import { createMemoryLookup } from '../../src/access/auth/index.js';
import { createBloblang } from '../../src/cli/wiring.js';
import { testRegistry } from '../support/test-components.js';
import { testLogger, waitUntil } from '../support/streams.js';

let gateway: Gateway;
let apis: ApiManager;
let base: string;
const lookup = createMemoryLookup();
lookup.setKey('good-key', { access_rights: { secure: { api_id: 'secure' } } });
lookup.setKey('other-api-key', { access_rights: { elsewhere: { api_id: 'elsewhere' } } });
lookup.setKey('old-key', { expires: 1000 });

before(async () => {
  const logger = testLogger();
  const registry = testRegistry();
  gateway = new Gateway({ host: '127.0.0.1', port: 0, logger, version: 'test' });
  apis = new ApiManager({ gateway, registry, bloblang: await createBloblang(), logger, guardFor: (def) => createGuard(def, { lookup, logger }) });
  base = `http://127.0.0.1:${(await gateway.listen()).port}`;
  const { api, issues } = validateApiDocument(
    {
      openapi: '3.0.3',
      components: { securitySchemes: { authToken: { type: 'apiKey', in: 'header', name: 'Authorization' } } },
      security: [{ authToken: [] }],
      'x-tyk-api-gateway': {
        info: { id: 'secure', name: 'secure', state: { active: true } },
        server: {
          listenPath: { value: '/secure/' },
          authentication: { enabled: true, securitySchemes: { authToken: { enabled: true, query: { enabled: true, name: 'token' } } } },
        },
      },
      'x-tyk-streaming': { streams: { s: { input: { http_server: { path: '/pub' } }, output: { http_server: { stream_path: '/sse', stream_format: 'event_source', ws_path: '/ws' } } } } },
    },
    { registry },
  );
  assert.deepEqual(issues, []);
  await apis.load(api!);
  await waitUntil(() => apis.streams('secure')!.get('s')!.state === 'running', 3000, 'running');
});

after(async () => {
  await apis.stopAll(1000);
  await gateway.close();
});

test('no credential: 401 Authorization field missing', async () => {
  const r = await fetch(`${base}/secure/pub`, { method: 'POST', body: 'x' });
  assert.equal(r.status, 401);
  assert.deepEqual(await r.json(), { error: 'Authorization field missing' });
});

test('unknown key and a key for another API get the same 403', async () => {
  for (const key of ['nope', 'other-api-key']) {
    const r = await fetch(`${base}/secure/pub`, { method: 'POST', body: 'x', headers: { Authorization: key } });
    assert.equal(r.status, 403);
    assert.deepEqual(await r.json(), { error: 'Access to this API has been disallowed' });
  }
});

test('an expired key gets 401 Key has expired', async () => {
  const r = await fetch(`${base}/secure/pub`, { method: 'POST', body: 'x', headers: { Authorization: 'old-key' } });
  assert.equal(r.status, 401);
  assert.deepEqual(await r.json(), { error: 'Key has expired, please renew' });
});

test('a valid key publishes by header and subscribes by query (SSE and WebSocket)', async () => {
  const ctrl = new AbortController();
  const sse = await fetch(`${base}/secure/sse?token=good-key`, { signal: ctrl.signal });
  assert.equal(sse.status, 200);
  const ws = new WebSocket(`${base.replace('http', 'ws')}/secure/ws?token=good-key`);
  const got: string[] = [];
  ws.on('message', (d) => got.push(d.toString()));
  await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
  const pub = await fetch(`${base}/secure/pub`, { method: 'POST', body: 'secret hello', headers: { Authorization: 'good-key' } });
  assert.equal(pub.status, 200);
  await waitUntil(() => got.length === 1, 3000, 'ws delivery');
  assert.deepEqual(got, ['secret hello']);
  const reader = sse.body!.getReader();
  let text = '';
  while (!text.includes('secret hello')) text += new TextDecoder().decode((await reader.read()).value);
  ctrl.abort();
  ws.close();
});

test('a WebSocket upgrade without a key is refused with 401', async () => {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/secure/ws`);
  const status = await new Promise<number>((resolve) => ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
  assert.equal(status, 401);
});
