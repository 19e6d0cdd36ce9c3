// The management API on a real gateway, with the in-memory store, state and change channel.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, type TestGateway } from './testing.js';
import { MemoryStore } from '../store/memory.js';
import { MemoryState } from '../state/memory.js';
import { MemoryBus } from '../state/bus.js';
import { keyHash } from '../access/hash.js';

let gw: TestGateway;
let store: MemoryStore;
before(async () => {
  store = new MemoryStore();
  gw = await startTestGateway({ use: { store, state: new MemoryState(), bus: new MemoryBus() } });
});
after(async () => {
  await gw.close();
});

export function streamApi(id: string, listen: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    openapi: '3.0.3',
    info: { title: id, version: '1.0.0' },
    paths: {},
    'x-tyk-api-gateway': { info: { id, name: id, state: { active: true } }, server: { listenPath: { value: `/${listen}/`, strip: true } }, upstream: { url: '' } },
    'x-tyk-streaming': { streams: { echo: { input: { http_server: { path: '/echo' } }, output: { sync_response: {} } } } },
    ...extra,
  };
}

const NO_SECRET = { 'x-tyk-authorization': '' };

describe('the secret guards everything', () => {
  test('every route answers 403 with Tyk\'s message without the secret, or with a wrong one', async () => {
    const routes = [...gw.plane.handler.tykRoutes, ...gw.plane.handler.restRoutes].filter((r) => !r.open);
    assert.ok(routes.length > 30);
    for (const r of routes) {
      const path = r.path.replace(/\{[^}]+\}/g, 'x');
      for (const headers of [NO_SECRET, { 'x-tyk-authorization': gw.secret + 'x' }, { 'x-tyk-authorization': '', authorization: 'Bearer nope' }]) {
        const res = await gw.req(r.method, path, r.method === 'GET' || r.method === 'DELETE' ? undefined : {}, headers);
        assert.equal(res.status, 403, `${r.method} ${r.path}`);
        const msg = (res.body as { message?: string; error?: string }).message ?? (res.body as { error?: string }).error;
        assert.equal(msg, 'Attempted administrative access with invalid or missing key!');
      }
    }
    // Unknown paths under /tyk/ too: nothing is revealed before the secret.
    assert.equal((await gw.req('GET', '/tyk/nothing/here', undefined, NO_SECRET)).status, 403);
  });

  test('with the secret: x-tyk-authorization everywhere, Bearer under /api/', async () => {
    assert.equal((await gw.req('GET', '/tyk/keys')).status, 200);
    assert.equal((await gw.req('GET', '/api/keys', undefined, { 'x-tyk-authorization': '', authorization: `Bearer ${gw.secret}` })).status, 200);
    assert.equal((await gw.req('GET', '/tyk/keys', undefined, { 'x-tyk-authorization': '', authorization: `Bearer ${gw.secret}` })).status, 403);
  });

  test('unknown /api/ paths are not ours (an API may serve them); unknown /tyk/ paths are 404; wrong methods 405', async () => {
    const r = await gw.req('GET', '/api/whatever');
    assert.deepEqual([r.status, r.body], [404, { error: 'not found' }]);
    const t = await gw.req('GET', '/tyk/whatever');
    assert.equal(t.status, 404);
    assert.equal((t.body as { status: string }).status, 'error');
    assert.deepEqual((await gw.req('PATCH', '/tyk/keys')).body, { status: 'error', message: 'Method not supported' });
    const a = await gw.req('PATCH', '/api/keys');
    assert.equal(a.status, 405);
    assert.equal((a.body as { code: string }).code, 'SLU_ERR_CONTROL_METHOD');
  });
});

describe('request bodies', () => {
  test('over 1 MiB: 413', async () => {
    const big = JSON.stringify({ alias: 'x'.repeat(1024 * 1024) });
    const r = await gw.req('POST', '/tyk/keys', big);
    assert.equal(r.status, 413);
    const a = await gw.req('POST', '/api/keys', big);
    assert.equal(a.status, 413);
    assert.equal((a.body as { code: string }).code, 'SLU_ERR_MESSAGE_TOO_LARGE');
  });

  test('malformed JSON: 400 with line, column and position', async () => {
    const r = await gw.req('POST', '/tyk/policies', '{\n  "id": "p1",\n  "rate": 10,\n}');
    assert.equal(r.status, 400);
    assert.match((r.body as { message: string }).message, /^malformed JSON at line 4, column 1 \(position 30\)/);
    const a = await gw.req('POST', '/api/keys', '{"rate": }');
    assert.equal(a.status, 400);
    assert.equal((a.body as { code: string }).code, 'SLU_ERR_CONTROL_BODY_MALFORMED');
    assert.match((a.body as { error: string }).error, /position 9/);
    assert.equal((await gw.req('POST', '/api/keys', '')).status, 400);
  });

  test('unknown fields and wrong types: 400 naming the path, never a crash', async () => {
    const r = await gw.req('POST', '/tyk/keys', { rate: 'fast', access_rights: { a: { api_id: 'a', allowed_urls: [{ url: '/x', methods: 'GET' }] } }, colour: 'blue' });
    assert.equal(r.status, 400);
    const msg = (r.body as { message: string }).message;
    assert.match(msg, /^invalid key: /);
    assert.match(msg, /rate: expected a number, got string/);
    assert.match(msg, /access_rights\.a\.allowed_urls\[0\]\.methods: expected an array of strings/);
    assert.match(msg, /colour: unknown field/);
    const p = await gw.req('POST', '/api/policies', { id: 'p', partitions: { acl: 'yes' } });
    assert.equal(p.status, 400);
    assert.deepEqual((p.body as { issues: unknown[] }).issues, [{ path: 'partitions.acl', message: 'expected a boolean, got string' }]);
    for (const junk of ['[]', '"x"', '17', 'null', '{"access_rights": []}', '{"access_rights": {"a": 5}}']) {
      const j = await gw.req('POST', '/tyk/keys', junk);
      assert.equal(j.status, 400, junk);
    }
  });
});

describe('/tyk/keys and /tyk/policies', () => {
  test('create (generated and custom), list hashes, get, get by hash, update, policy, delete', async () => {
    const created = await gw.req('POST', '/tyk/keys', { alias: 'k1', access_rights: { demo: { api_id: 'demo', versions: ['Default'] } } });
    assert.equal(created.status, 200);
    const c = created.body as { key: string; status: string; action: string; key_hash: string };
    assert.deepEqual([c.status, c.action, c.key_hash], ['ok', 'added', keyHash(c.key)]);
    const custom = await gw.req('POST', '/tyk/keys/my-custom-key', { access_rights: { demo: { api_id: 'demo' } } });
    assert.deepEqual(custom.body, { key: 'my-custom-key', status: 'ok', action: 'added', key_hash: keyHash('my-custom-key') });
    const list = (await gw.req('GET', '/tyk/keys')).body as { keys: string[] };
    assert.deepEqual(new Set(list.keys), new Set([c.key_hash, keyHash('my-custom-key')]));
    const byKey = await gw.req('GET', `/tyk/keys/${c.key}`);
    assert.equal((byKey.body as { alias: string }).alias, 'k1');
    const byHash = await gw.req('GET', `/tyk/keys/${c.key_hash}?hashed=true`);
    assert.deepEqual(byHash.body, byKey.body);
    assert.deepEqual((await gw.req('GET', '/tyk/keys/nope')).body, { status: 'error', message: 'Key not found' });
    const upd = await gw.req('PUT', `/tyk/keys/${c.key}`, { alias: 'k1b', access_rights: { demo: { api_id: 'demo' } } });
    assert.deepEqual(upd.body, { key: c.key, status: 'ok', action: 'modified' });
    assert.deepEqual((await gw.req('PUT', '/tyk/keys/nope', { access_rights: { demo: { api_id: 'demo' } } })).body, { status: 'error', message: 'Key is not found' });
    assert.equal((await gw.req('POST', '/tyk/policies', { id: 'gold', rate: 50, per: 1, access_rights: { demo: { api_id: 'demo' } } })).status, 200);
    const pol = await gw.req('POST', `/tyk/keys/policy/${c.key_hash}`, { apply_policies: ['gold'] });
    assert.deepEqual(pol.body, { key: c.key_hash, status: 'ok', action: 'updated' });
    assert.equal((((await gw.req('GET', `/tyk/keys/${c.key}`)).body) as { rate: number }).rate, 50);
    assert.equal((await gw.req('POST', `/tyk/keys/policy/${c.key_hash}`, { apply_policies: ['missing'] })).status, 400);
    const del = await gw.req('DELETE', `/tyk/keys/${c.key_hash}?hashed=true`);
    assert.deepEqual(del.body, { key: c.key_hash, status: 'ok', action: 'deleted' });
    assert.deepEqual((await gw.req('DELETE', `/tyk/keys/${c.key}`)).body, { status: 'error', message: 'There is no such key found' });
    assert.ok(!JSON.stringify(await store.listKeys()).includes(c.key), 'the plaintext key is stored nowhere');
  });

  test('a key without access rights is refused (no master keys)', async () => {
    const r = await gw.req('POST', '/tyk/keys', { rate: 1, per: 1 });
    assert.equal(r.status, 400);
    assert.match((r.body as { message: string }).message, /access_rights/);
  });

  test('policies: create (id generated when missing), get, update, mismatched id, delete', async () => {
    const a = await gw.req('POST', '/tyk/policies', { name: 'no id', access_rights: { demo: { api_id: 'demo' } } });
    const id = (a.body as { key: string }).key;
    assert.match(id, /^[0-9a-f]{24}$/);
    assert.deepEqual(a.body, { key: id, status: 'ok', action: 'added' });
    assert.equal(((await gw.req('GET', `/tyk/policies/${id}`)).body as { name: string }).name, 'no id');
    assert.deepEqual((await gw.req('PUT', `/tyk/policies/${id}`, { id, name: 'renamed' })).body, { key: id, status: 'ok', action: 'modified' });
    assert.equal((await gw.req('PUT', `/tyk/policies/${id}`, { id: 'other' })).status, 400);
    assert.ok(((await gw.req('GET', '/tyk/policies')).body as { id: string }[]).some((p) => p.id === id));
    assert.deepEqual((await gw.req('DELETE', `/tyk/policies/${id}`)).body, { key: id, status: 'ok', action: 'deleted' });
    assert.deepEqual((await gw.req('GET', `/tyk/policies/${id}`)).body, { status: 'error', message: 'Policy not found' });
  });

  test('reload', async () => {
    assert.deepEqual((await gw.req('GET', '/tyk/reload')).body, { status: 'ok', message: '' });
    assert.deepEqual((await gw.req('GET', '/tyk/reload/group')).body, { status: 'ok', message: '' });
  });
});

describe('/tyk/apis and /tyk/apis/oas: stream APIs, live', () => {
  test('create serves it at once; get, list, public mode', async () => {
    const r = await gw.req('POST', '/tyk/apis/oas', streamApi('orders', 'orders'));
    assert.deepEqual(r.body, { key: 'orders', status: 'ok', action: 'added' });
    const echo = await fetch(`${gw.base}/orders/echo`, { method: 'POST', body: 'hi' });
    assert.equal(await echo.text(), 'hi');
    const doc = (await gw.req('GET', '/tyk/apis/oas/orders')).body as Record<string, unknown>;
    assert.deepEqual(doc, streamApi('orders', 'orders'));
    assert.deepEqual((await gw.req('GET', '/tyk/apis/orders')).body, doc);
    const pub = (await gw.req('GET', '/tyk/apis/oas/orders?mode=public')).body as Record<string, unknown>;
    assert.equal(pub['x-tyk-api-gateway'], undefined);
    assert.ok(((await gw.req('GET', '/tyk/apis/oas')).body as unknown[]).length >= 1);
    assert.equal((await store.getApi('orders'))?.id, 'orders', 'persisted');
    assert.equal((await gw.req('POST', '/tyk/apis/oas', streamApi('orders', 'other'))).status, 409);
  });

  test('a generated id when the document has none', async () => {
    const doc = streamApi('x', 'noid');
    delete ((doc['x-tyk-api-gateway'] as { info: Record<string, unknown> }).info).id;
    const r = await gw.req('POST', '/tyk/apis', doc);
    const id = (r.body as { key: string }).key;
    assert.match(id, /^[0-9a-f]{32}$/);
    assert.equal(((((await gw.req('GET', `/tyk/apis/${id}`)).body as Record<string, { info: { id: string } }>)['x-tyk-api-gateway']!).info.id), id);
    assert.deepEqual((await gw.req('DELETE', `/tyk/apis/${id}`)).body, { key: id, status: 'ok', action: 'deleted' });
  });

  test('update touches only that API: its path moves, the other API keeps its running stream', async () => {
    await gw.req('POST', '/tyk/apis/oas', streamApi('billing', 'billing'));
    const billingStream = gw.apis.streams('billing')!.get('echo');
    const r = await gw.req('PUT', '/tyk/apis/oas/orders', streamApi('orders', 'orders-v2'));
    assert.deepEqual(r.body, { key: 'orders', status: 'ok', action: 'modified' });
    assert.equal((await fetch(`${gw.base}/orders/echo`, { method: 'POST', body: 'x' })).status, 404);
    assert.equal(await (await fetch(`${gw.base}/orders-v2/echo`, { method: 'POST', body: 'v2' })).text(), 'v2');
    assert.equal(gw.apis.streams('billing')!.get('echo'), billingStream, 'billing was not restarted');
    assert.equal((await gw.req('PUT', '/tyk/apis/oas/orders', streamApi('other-id', 'o'))).status, 400);
    assert.equal((await gw.req('PUT', '/tyk/apis/oas/missing', streamApi('missing', 'm'))).status, 404);
  });

  test('PATCH replaces the OpenAPI part and keeps the Tyk extensions', async () => {
    const r = await gw.req('PATCH', '/tyk/apis/oas/billing', { openapi: '3.0.3', info: { title: 'billing v2', version: '2' }, paths: {} });
    assert.equal(r.status, 200);
    const doc = (await gw.req('GET', '/tyk/apis/oas/billing')).body as { info: { title: string }; 'x-tyk-streaming': unknown };
    assert.equal(doc.info.title, 'billing v2');
    assert.ok(doc['x-tyk-streaming']);
  });

  test('an invalid document or a taken listen path is refused, and nothing changes', async () => {
    const bad = streamApi('bad', 'bad');
    (bad['x-tyk-streaming'] as { streams: Record<string, unknown> }).streams = { s: { input: { no_such_input: {} }, output: { drop: {} } } };
    const r = await gw.req('POST', '/tyk/apis/oas', bad);
    assert.equal(r.status, 400);
    assert.match((r.body as { message: string }).message, /x-tyk-streaming\.streams\.s\.input/);
    assert.equal(await store.getApi('bad'), undefined);
    const noExt = await gw.req('POST', '/tyk/apis', { api_id: 'classic', proxy: { listen_path: '/c/' } });
    assert.equal(noExt.status, 400);
    assert.match((noExt.body as { message: string }).message, /x-tyk-api-gateway/);
    const clash = await gw.req('POST', '/tyk/apis/oas', streamApi('clash', 'billing'));
    assert.equal(clash.status, 409);
    assert.equal(await store.getApi('clash'), undefined);
    assert.equal((await gw.req('GET', '/tyk/apis/oas/clash')).status, 404);
    const badAuth = streamApi('badauth', 'badauth');
    (badAuth['x-tyk-api-gateway'] as Record<string, Record<string, unknown>>).server!.authentication = { enabled: true, hmac: { enabled: true, allowedAlgorithms: ['md5'] } };
    const ba = await gw.req('POST', '/tyk/apis/oas', badAuth);
    assert.equal(ba.status, 400, 'authentication settings are checked when the API is stored');
    assert.match((ba.body as { message: string }).message, /authentication\.hmac\.allowedAlgorithms/);
    assert.equal(await store.getApi('badauth'), undefined);
    const a = await gw.req('POST', '/api/apis', bad);
    assert.equal(a.status, 400);
    assert.ok(((a.body as { issues: { path: string }[] }).issues).some((i) => i.path.startsWith('x-tyk-streaming.streams.s.input')));
  });

  test('delete stops it; the REST API reports stream state', async () => {
    const s = (await gw.req('GET', '/api/streams/billing')).body as { streams: { name: string; state: string }[] };
    assert.deepEqual(s.streams, [{ name: 'echo', state: 'running' }]);
    assert.deepEqual((await gw.req('DELETE', '/tyk/apis/oas/billing')).body, { key: 'billing', status: 'ok', action: 'deleted' });
    assert.equal((await fetch(`${gw.base}/billing/echo`, { method: 'POST', body: 'x' })).status, 404);
    assert.equal((await gw.req('DELETE', '/tyk/apis/oas/billing')).status, 404);
    assert.equal(await store.getApi('billing'), undefined);
  });
});

describe('/api/ REST', () => {
  test('keys by hash, 201/204, Location, conflicts', async () => {
    const c = await gw.req('POST', '/api/keys', { access_rights: { orders: { api_id: 'orders' } }, alias: 'rest' });
    assert.equal(c.status, 201);
    const { key, key_hash } = c.body as { key: string; key_hash: string };
    assert.equal(c.headers.get('location'), `/api/keys/${key_hash}`);
    const g = (await gw.req('GET', `/api/keys/${key_hash}`)).body as { session: { alias: string }; effective: { alias: string } };
    assert.equal(g.session.alias, 'rest');
    assert.ok(((await gw.req('GET', '/api/keys')).body as { keys: { key_hash: string }[] }).keys.some((k) => k.key_hash === key_hash));
    assert.equal((await gw.req('PUT', `/api/keys/${key_hash}`, { access_rights: { orders: { api_id: 'orders' } }, alias: 'r2' })).status, 200);
    assert.equal((await gw.req('DELETE', `/api/keys/${key_hash}`)).status, 204);
    assert.equal((await gw.req('GET', `/api/keys/${key_hash}`)).status, 404);
    assert.equal((await gw.req('GET', `/api/keys/${key}`)).status, 404, 'keys are never accepted in the URL, only hashes');
    assert.equal((await gw.req('POST', '/api/policies', { id: 'silver', access_rights: {} })).status, 201);
    assert.equal((await gw.req('POST', '/api/policies', { id: 'silver' })).status, 409);
    assert.equal((await gw.req('PUT', '/api/policies/nope', { id: 'nope' })).status, 404);
    assert.equal((await gw.req('DELETE', '/api/policies/silver')).status, 204);
  });
});
