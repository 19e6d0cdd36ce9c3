// Two gateways sharing one PostgreSQL and one Redis (or only PostgreSQL, with LISTEN/NOTIFY):
// a change made through either is applied by the other within a second.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startTestGateway, type TestGateway } from '../../src/control/testing.js';
import { TEST_PG_URL, dropSchema, uniqueSchema } from '../../src/store/testing.js';
import type { AccessEvent } from '../../src/access/types.js';

const REDIS = process.env.SLUICE_TEST_REDIS ?? 'redis://127.0.0.1:6379';

function streamApi(id: string, listen: string): Record<string, unknown> {
  return {
    openapi: '3.0.3',
    info: { title: id, version: '1.0.0' },
    paths: {},
    'x-tyk-api-gateway': { info: { id, name: id, state: { active: true } }, server: { listenPath: { value: `/${listen}/` } } },
    'x-tyk-streaming': { streams: { echo: { input: { http_server: { path: '/echo' } }, output: { sync_response: {} } } } },
  };
}

async function within<T>(ms: number, probe: () => Promise<T | undefined> | T | undefined, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const echo = async (base: string, path: string): Promise<number> => (await fetch(`${base}${path}`, { method: 'POST', body: 'x' })).status;

for (const mode of ['redis', 'postgres'] as const) {
  describe(`two gateways on one PostgreSQL${mode === 'redis' ? ' + Redis' : ' (LISTEN/NOTIFY)'}`, () => {
    let a: TestGateway;
    let b: TestGateway;
    let schema: string;
    before(async () => {
      schema = uniqueSchema();
      const store = `${TEST_PG_URL}?schema=${schema}`;
      const prefix = `sluice-test:${randomBytes(4).toString('hex')}:`;
      const redis = mode === 'redis' ? REDIS : undefined;
      a = await startTestGateway({ store, redis, redisPrefix: prefix, secret: 's' });
      b = await startTestGateway({ store, redis, redisPrefix: prefix, secret: 's' });
    });
    after(async () => {
      await a.close();
      await b.close();
      await dropSchema(schema);
    });

    test('an API created, changed and deleted through one is served and stopped by the other', async () => {
      assert.equal((await a.req('POST', '/tyk/apis/oas', streamApi('orders', 'orders'))).status, 200);
      await within(1000, async () => (await echo(b.base, '/orders/echo')) === 200, 'B serves the new API');
      assert.equal((await a.req('PUT', '/tyk/apis/oas/orders', streamApi('orders', 'orders2'))).status, 200);
      await within(1000, async () => (await echo(b.base, '/orders2/echo')) === 200 && (await echo(b.base, '/orders/echo')) === 404, 'B moved it');
      assert.equal((await a.req('DELETE', '/tyk/apis/oas/orders')).status, 200);
      await within(1000, async () => (await echo(b.base, '/orders2/echo')) === 404, 'B stopped it');
      assert.equal((await b.req('GET', '/tyk/apis/oas/orders')).status, 404);
    });

    test('a key revoked through one is gone in the other within a second, with an event', async () => {
      const c = (await a.req('POST', '/tyk/keys', { access_rights: { orders: { api_id: 'orders' } } })).body as { key: string; key_hash: string };
      assert.ok(await b.plane.access.resolveKey(c.key), 'B knows the key');
      const events: AccessEvent[] = [];
      b.plane.access.onChange((e) => events.push(e));
      const t0 = Date.now();
      assert.equal((await a.req('DELETE', `/tyk/keys/${c.key}`)).status, 200);
      await within(1000, () => events.find((e) => e.kind === 'key' && e.keyHash === c.key_hash && e.action === 'deleted'), 'B heard the revocation');
      assert.ok(Date.now() - t0 < 1000);
      assert.equal(await b.plane.access.resolveKey(c.key), undefined);
    });

    test('a policy deactivated through one deactivates its keys in the other', async () => {
      await a.req('POST', '/tyk/policies', { id: 'gold', rate: 5, per: 1, access_rights: { orders: { api_id: 'orders' } } });
      const c = (await a.req('POST', '/tyk/keys', { apply_policies: ['gold'] })).body as { key: string; key_hash: string };
      const before = await within(1000, () => b.plane.access.resolveKey(c.key), 'B resolves the key');
      assert.equal(before.session.rate, 5);
      const events: AccessEvent[] = [];
      b.plane.access.onChange((e) => events.push(e));
      await a.req('PUT', '/tyk/policies/gold', { id: 'gold', rate: 5, per: 1, is_inactive: true, access_rights: { orders: { api_id: 'orders' } } });
      await within(1000, () => events.find((e) => e.kind === 'key' && e.keyHash === c.key_hash && e.action === 'deactivated'), 'B deactivated the key');
      const now = await b.plane.access.resolveKey(c.key);
      assert.deepEqual(b.plane.access.checkRequest(now!, 'orders', 'GET', '/orders/x'), { ok: false, status: 403, message: 'Key is inactive, please renew' });
    });

    if (mode === 'redis') {
      test('rate limits are shared: the limit holds across both gateways', async () => {
        const c = (await a.req('POST', '/tyk/keys', { rate: 10, per: 60, access_rights: { orders: { api_id: 'orders' } } })).body as { key: string };
        const ia = (await a.plane.access.resolveKey(c.key))!;
        const ib = (await b.plane.access.resolveKey(c.key))!;
        const results = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).plane.access.consumeRequest(i % 2 ? ia : ib, 'orders')));
        assert.equal(results.filter((r) => r.ok).length, 10);
      });
    }
  });
}
