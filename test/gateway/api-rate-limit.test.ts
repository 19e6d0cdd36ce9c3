// The API-wide rate limit of a Tyk OAS document (`x-tyk-api-gateway.upstream.rateLimit`): counted
// across every client, before authentication, with Tyk's 429 "API Rate Limit Exceeded"; exact
// across two gateways that share one Redis; a malformed limit refuses the API naming the field.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startTestGateway, type TestGateway } from '../../src/control/testing.js';
import { MemoryStore } from '../../src/store/memory.js';
import { MemoryState } from '../../src/state/memory.js';
import { MemoryBus } from '../../src/state/bus.js';
import { silentLogger } from '../../src/engine/logger.js';
import { TEST_PG_URL, dropSchema, uniqueSchema } from '../../src/store/testing.js';
import { apiRateLimitOf } from '../../src/config/api-rate-limit.js';

const REDIS = process.env.SLUICE_TEST_REDIS ?? 'redis://127.0.0.1:6379';

function limitedApi(id: string, rateLimit: Record<string, unknown>, auth = false): Record<string, unknown> {
  return {
    openapi: '3.0.3',
    info: { title: id, version: '1' },
    paths: {},
    ...(auth ? { components: { securitySchemes: { authToken: { type: 'apiKey', in: 'header', name: 'Authorization' } } }, security: [{ authToken: [] }] } : {}),
    'x-tyk-api-gateway': {
      info: { id, name: id, state: { active: true } },
      server: {
        listenPath: { value: `/${id}/` },
        authentication: auth ? { enabled: true, securitySchemes: { authToken: { enabled: true } } } : { enabled: false },
      },
      upstream: { url: '', rateLimit },
    },
    'x-tyk-streaming': { streams: { echo: { input: { http_server: { path: '/echo' } }, output: { sync_response: {} } } } },
  };
}

const post = (base: string, path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { method: 'POST', body: 'x', headers });

describe('upstream.rateLimit parsing', () => {
  test('off unless enabled; rate and per as Tyk writes them', () => {
    assert.equal(apiRateLimitOf(limitedApi('a', { enabled: false, rate: 1, per: '1s' })), undefined);
    assert.equal(apiRateLimitOf({ 'x-tyk-api-gateway': {} }), undefined);
    assert.deepEqual(apiRateLimitOf(limitedApi('a', { enabled: true, rate: 100, per: '1m' })), { rate: 100, perMs: 60_000 });
    assert.deepEqual(apiRateLimitOf(limitedApi('a', { enabled: true, rate: 5, per: '1h30m' })), { rate: 5, perMs: 5_400_000 });
  });

  test('a malformed limit names the field', () => {
    assert.throws(() => apiRateLimitOf(limitedApi('a', { enabled: true, rate: 0, per: '1s' })), /x-tyk-api-gateway\.upstream\.rateLimit\.rate: .*must be a positive integer, got 0/);
    assert.throws(() => apiRateLimitOf(limitedApi('a', { enabled: true, rate: 5, per: 'soon' })), /upstream\.rateLimit\.per must be a duration .* got "soon"/);
    assert.throws(() => apiRateLimitOf(limitedApi('a', { enabled: true, rate: 5 })), /upstream\.rateLimit\.per/);
  });
});

describe('API-wide rate limit on one gateway', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ use: { store: new MemoryStore(), state: new MemoryState(), bus: new MemoryBus(silentLogger) } });
  });
  after(async () => {
    await gw.close();
  });

  test('the (rate+1)th request in the window gets 429 "API Rate Limit Exceeded", whoever sends it', async () => {
    assert.equal((await gw.req('POST', '/tyk/apis/oas', limitedApi('capped', { enabled: true, rate: 3, per: '1m' }))).status, 200);
    for (let i = 0; i < 3; i++) assert.equal((await post(gw.base, '/capped/echo', { 'X-Client': `c${i}` })).status, 200, `request ${i + 1}`);
    const r = await post(gw.base, '/capped/echo');
    assert.equal(r.status, 429);
    assert.deepEqual(await r.json(), { error: 'API Rate Limit Exceeded' });
    assert.ok(Number(r.headers.get('retry-after')) >= 1, 'tells when to retry');
    // Streaming endpoints count too: the limit protects the API, not one path.
    assert.equal((await fetch(`${gw.base}/capped/echo`)).status, 429);
  });

  test('the API-wide limit comes before authentication, as in Tyk', async () => {
    assert.equal((await gw.req('POST', '/tyk/apis/oas', limitedApi('capauth', { enabled: true, rate: 1, per: '1m' }, true))).status, 200);
    assert.equal((await post(gw.base, '/capauth/echo')).status, 401, 'first request: counted, then refused for its missing key');
    const r = await post(gw.base, '/capauth/echo');
    assert.equal(r.status, 429, 'second request: the API limit answers first');
  });

  test('an API whose limit is malformed is refused with the field named', async () => {
    const r = await gw.req('POST', '/tyk/apis/oas', limitedApi('badcap', { enabled: true, rate: 10, per: 'often' }));
    assert.ok(r.status >= 400, `status ${r.status}`);
    assert.match(JSON.stringify(r.body), /upstream\.rateLimit\.per/);
    assert.equal((await post(gw.base, '/badcap/echo')).status, 404, 'not served');
  });
});

describe('API-wide rate limit across two gateways sharing Redis', () => {
  let a: TestGateway;
  let b: TestGateway;
  let schema: string;
  before(async () => {
    schema = uniqueSchema();
    const store = `${TEST_PG_URL}?schema=${schema}`;
    const prefix = `sluice-test:${randomBytes(4).toString('hex')}:`;
    a = await startTestGateway({ store, redis: REDIS, redisPrefix: prefix, secret: 's' });
    b = await startTestGateway({ store, redis: REDIS, redisPrefix: prefix, secret: 's' });
  });
  after(async () => {
    await a.close();
    await b.close();
    await dropSchema(schema);
  });

  test('requests spread over both count against one limit, exactly', async () => {
    assert.equal((await a.req('POST', '/tyk/apis/oas', limitedApi('shared', { enabled: true, rate: 7, per: '1m' }))).status, 200);
    const deadline = Date.now() + 5000;
    while ((await post(b.base, '/shared/echo')).status === 404 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    // The probe above was one accepted request on B (the first non-404 answer).
    const statuses = await Promise.all(Array.from({ length: 20 }, (_, i) => post(i % 2 ? a.base : b.base, '/shared/echo').then((r) => r.status)));
    assert.equal(statuses.filter((s) => s === 200).length, 6, `7 in all with the probe: ${statuses.join(',')}`);
    assert.equal(statuses.filter((s) => s === 429).length, 14);
  });
});
