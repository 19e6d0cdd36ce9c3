// Issue 6 end to end: Tyk's key and policy JSON posted to the management API and used against a
// stream; a message quota ending a stream after exactly N; a revoked key's SSE stream closing;
// a JWT from a real OIDC server opening a WebSocket that closes when the token expires.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import WebSocket from 'ws';
import Provider from 'oidc-provider';
import { createServer, type Server } from 'node:http';
import { startTestGateway, type TestGateway } from '../../src/control/testing.js';
import { MemoryStore } from '../../src/store/memory.js';
import { MemoryState } from '../../src/state/memory.js';
import { MemoryBus } from '../../src/state/bus.js';
import { silentLogger } from '../../src/engine/logger.js';
import { waitUntil } from '../support/streams.js';

let gw: TestGateway;

const streamApi = (id: string, security: Record<string, unknown>) => ({
  openapi: '3.0.3',
  info: { title: id, version: '1' },
  paths: {},
  ...security,
  'x-tyk-api-gateway': {
    info: { id, name: id, state: { active: true } },
    server: { listenPath: { value: `/${id}/` }, authentication: (security as { auth?: unknown }).auth ?? { enabled: false } },
  },
  'x-tyk-streaming': {
    streams: {
      s: {
        input: { http_server: { path: '/pub' } },
        output: { http_server: { stream_path: '/sse', stream_format: 'event_source', ws_path: '/ws', ws_message_type: 'text' } },
      },
    },
  },
});

const tokenApi = (id: string) => {
  const d = streamApi(id, {
    components: { securitySchemes: { authToken: { type: 'apiKey', in: 'header', name: 'Authorization' } } },
    security: [{ authToken: [] }],
  }) as Record<string, unknown>;
  (d['x-tyk-api-gateway'] as { server: Record<string, unknown> }).server.authentication = {
    enabled: true,
    securitySchemes: { authToken: { enabled: true, query: { enabled: true, name: 'token' } } },
  };
  return d;
};

before(async () => {
  gw = await startTestGateway({ use: { store: new MemoryStore(), state: new MemoryState(), bus: new MemoryBus(silentLogger) } });
});

after(async () => {
  await gw.close();
});

/** An SSE reader over fetch. */
async function sse(url: string) {
  const ctrl = new AbortController();
  const res = await fetch(url, { signal: ctrl.signal });
  let text = '';
  let ended = false;
  if (res.body) {
    void (async () => {
      const reader = res.body!.getReader();
      try {
        for (;;) {
          const r = await reader.read();
          if (r.done) break;
          text += new TextDecoder().decode(r.value);
        }
      } catch {
        /* aborted */
      }
      ended = true;
    })();
  }
  return { status: res.status, text: () => text, ended: () => ended, datas: () => [...text.matchAll(/^data: (.*)$/gm)].map((m) => m[1]!), close: () => ctrl.abort() };
}

async function createApi(doc: Record<string, unknown>): Promise<void> {
  const r = await gw.req('POST', '/tyk/apis/oas', doc);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const id = ((doc['x-tyk-api-gateway'] as { info: { id: string } }).info.id);
  await waitUntil(() => gw.apis.streams(id)?.get('s')?.state === 'running', 10_000, 'API running');
}

test("Tyk's policy and key JSON, posted to the Gateway API, open a stream; revoking the key closes it", async () => {
  await createApi(tokenApi('orders'));
  const pol = await gw.req('POST', '/tyk/policies', {
    id: 'gold',
    name: 'Gold',
    rate: 1000,
    per: 60,
    quota_max: -1,
    access_rights: { orders: { api_id: 'orders', api_name: 'orders', versions: ['Default'] } },
    active: true,
    partitions: { quota: true, rate_limit: true, acl: true },
  });
  assert.equal(pol.status, 200, JSON.stringify(pol.body));
  const created = await gw.req('POST', '/tyk/keys', { apply_policies: ['gold'], expires: 0, meta_data: { user_type: 'partner' }, tags: ['partner'] });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  const { key, key_hash: keyHash } = created.body as { key: string; key_hash: string };
  assert.ok(key && keyHash && key !== keyHash);

  assert.equal((await fetch(`${gw.base}/orders/sse`)).status, 401);
  const sub = await sse(`${gw.base}/orders/sse?token=${encodeURIComponent(key)}`);
  assert.equal(sub.status, 200);
  const pub = await fetch(`${gw.base}/orders/pub`, { method: 'POST', body: '{"order":1}', headers: { Authorization: key } });
  assert.equal(pub.status, 200);
  assert.match(pub.headers.get('x-ratelimit-limit') ?? '', /^1000$/);
  await waitUntil(() => sub.datas().length === 1, 5000, 'delivery');

  const revoked = Date.now();
  const del = await gw.req('DELETE', `/tyk/keys/${encodeURIComponent(key)}`);
  assert.equal(del.status, 200, JSON.stringify(del.body));
  await waitUntil(() => sub.ended(), 3000, 'SSE stream closed after revocation');
  assert.ok(Date.now() - revoked < 1500, 'closed within about a second');
  assert.match(sub.text(), /event: close\ndata: \{"reason":"forbidden"/);
  assert.equal((await fetch(`${gw.base}/orders/pub`, { method: 'POST', body: 'x', headers: { Authorization: key } })).status, 403);
});

test('a quota of N delivered messages ends the stream after exactly N, and the client is told', async () => {
  await createApi(tokenApi('metered'));
  const created = await gw.req('POST', '/tyk/keys', {
    access_rights: { metered: { api_id: 'metered', message_limits: { delivered: { quota_max: 3, quota_renewal_rate: 3600 } } } },
  });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  const key = (created.body as { key: string }).key;
  const ws = new WebSocket(`${gw.base.replace('http', 'ws')}/metered/ws?token=${encodeURIComponent(key)}`);
  const got: string[] = [];
  ws.on('message', (d) => got.push(d.toString()));
  const closed = once(ws, 'close') as Promise<[number, Buffer]>;
  await once(ws, 'open');
  for (let i = 1; i <= 5; i++) {
    assert.equal((await fetch(`${gw.base}/metered/pub`, { method: 'POST', body: `m${i}`, headers: { Authorization: key } })).status, 200);
  }
  const [code, reason] = await closed;
  assert.deepEqual(got, ['m1', 'm2', 'm3']);
  assert.equal(code, 4403);
  assert.match(reason.toString(), /quota/i);
});

test('a JWT from a real OIDC server opens a WebSocket that closes when the token expires', async () => {
  // A real authorization server issuing JWT access tokens that live 2 seconds.
  const issuerServer: Server = createServer();
  issuerServer.listen(0, '127.0.0.1');
  await once(issuerServer, 'listening');
  const issuer = `http://127.0.0.1:${(issuerServer.address() as { port: number }).port}`;
  const provider = new Provider(issuer, {
    clients: [{ client_id: 'partner', client_secret: 'partner-secret', grant_types: ['client_credentials'], redirect_uris: [], response_types: [] }],
    features: { clientCredentials: { enabled: true }, resourceIndicators: { enabled: true, defaultResource: () => 'urn:sluice', getResourceServerInfo: () => ({ scope: '', audience: 'urn:sluice', accessTokenFormat: 'jwt', accessTokenTTL: 2 }) } },
  });
  issuerServer.on('request', provider.callback());
  try {
    await gw.req('POST', '/tyk/policies', { id: 'jwt-pol', access_rights: { jwtapi: { api_id: 'jwtapi' } }, active: true });
    const doc = streamApi('jwtapi', {
      components: { securitySchemes: { jwtAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ jwtAuth: [] }],
    }) as Record<string, unknown>;
    (doc['x-tyk-api-gateway'] as { server: Record<string, unknown> }).server.authentication = {
      enabled: true,
      securitySchemes: {
        jwtAuth: { enabled: true, header: { enabled: true, name: 'Authorization' }, query: { enabled: true, name: 'access_token' }, jwksURIs: [{ url: `${issuer}/jwks` }], signingMethod: 'rsa', identityBaseField: 'sub', defaultPolicies: ['jwt-pol'] },
      },
    };
    await createApi(doc);
    const tok = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Basic ' + Buffer.from('partner:partner-secret').toString('base64') },
      body: 'grant_type=client_credentials&resource=urn%3Asluice',
    });
    const { access_token: token } = (await tok.json()) as { access_token: string };
    assert.equal(token.split('.').length, 3, 'a JWT access token');
    const ws = new WebSocket(`${gw.base.replace('http', 'ws')}/jwtapi/ws?access_token=${token}`);
    const closed = once(ws, 'close') as Promise<[number, Buffer]>;
    await once(ws, 'open');
    const opened = Date.now();
    const [code, reason] = await closed;
    assert.equal(code, 4401);
    assert.match(reason.toString(), /expired/);
    assert.ok(Date.now() - opened < 4000, 'closed when the token expired');
  } finally {
    issuerServer.close();
  }
});

test('topic rights: a key subscribes and publishes only where its patterns allow, also when the request picks the topic', async () => {
  const doc = tokenApi('chat') as Record<string, unknown>;
  (doc['x-tyk-streaming'] as { streams: Record<string, unknown> }).streams = {
    // The subscriber picks the room: one instance per room, topic chosen by the request.
    rooms: {
      input: { nats: { urls: ['nats://127.0.0.1:4222'], subject: 'sluice.chat.$tyk_context.request_data_room' } },
      output: { http_server: { path: '', stream_path: '/room', stream_format: 'event_source', ws_path: '' } },
    },
    // Publishing goes to a fixed subject.
    announce: {
      input: { http_server: { path: '/announce', ws_path: '' } },
      output: { nats: { urls: ['nats://127.0.0.1:4222'], subject: 'sluice.chat.announcements' } },
    },
  };
  const r = await gw.req('POST', '/tyk/apis/oas', doc);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await waitUntil(() => gw.apis.streams('chat')?.get('announce')?.state === 'running', 10_000, 'chat API running');
  const created = await gw.req('POST', '/tyk/keys', {
    access_rights: { chat: { api_id: 'chat', topics: { subscribe: ['sluice.chat.lobby', 'sluice.chat.team.+'], publish: [] } } },
  });
  const key = (created.body as { key: string }).key;
  const allowed = await sse(`${gw.base}/chat/room?room=lobby&token=${encodeURIComponent(key)}`);
  assert.equal(allowed.status, 200);
  allowed.close();
  const denied = await fetch(`${gw.base}/chat/room?room=secret&token=${encodeURIComponent(key)}`);
  assert.equal(denied.status, 403);
  assert.deepEqual(await denied.json(), { error: 'Access to this topic has been disallowed' });
  const pub = await fetch(`${gw.base}/chat/announce`, { method: 'POST', body: 'hi', headers: { Authorization: key } });
  assert.equal(pub.status, 403, 'no publish right on sluice.chat.announcements');
});
