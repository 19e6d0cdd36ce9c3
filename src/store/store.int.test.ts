// The durable store on both backends: embedded PGlite in a temp folder, and the local PostgreSQL
// (one schema per run, dropped afterwards).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from './store.js';
import { latestVersion } from './schema.js';
import { hasCode } from '../engine/errors.js';
import { dropSchema, testBackends, TEST_PG_URL, uniqueSchema, type TestStore } from './testing.js';
import type { Policy, Session } from '../access/types.js';

for (const backend of testBackends) {
  describe(`store on ${backend.name}`, () => {
    let t: TestStore;
    before(async () => {
      t = await backend.open();
    });
    after(async () => {
      await t.dispose();
    });

    test('is migrated to the latest schema version', async () => {
      assert.equal(await t.store.schemaVersion(), latestVersion);
      assert.equal(t.store.kind, backend.name);
    });

    test('APIs: create, conflict, update, list, delete', async () => {
      const doc = { openapi: '3.0.3', info: { title: 'ü orders ✓', version: '1' }, 'x-tyk-api-gateway': { info: { id: 'orders', name: 'orders' } } };
      assert.equal(await t.store.createApi('orders', doc), true);
      assert.equal(await t.store.createApi('orders', doc), false);
      assert.deepEqual((await t.store.getApi('orders'))?.document, doc);
      const doc2 = { ...doc, paths: { '/x': {} } };
      assert.equal(await t.store.putApi('orders', doc2), 'updated');
      assert.equal(await t.store.putApi('billing', doc), 'created');
      assert.deepEqual((await t.store.listApis()).map((a) => a.id), ['billing', 'orders']);
      assert.deepEqual((await t.store.getApi('orders'))?.document, doc2);
      assert.ok((await t.store.getApi('orders'))!.updatedAt instanceof Date);
      assert.equal(await t.store.deleteApi('orders'), true);
      assert.equal(await t.store.deleteApi('orders'), false);
      assert.equal(await t.store.getApi('orders'), undefined);
    });

    test('policies: put, get, list, delete', async () => {
      const p: Policy = { id: 'gold', name: 'Gold', rate: 100, per: 1, access_rights: { a: { api_id: 'a', versions: ['Default'] } }, tags: ['x'], partitions: { quota: true } };
      assert.equal(await t.store.putPolicy(p), 'created');
      assert.equal(await t.store.putPolicy({ ...p, rate: 200 }), 'updated');
      assert.equal((await t.store.getPolicy('gold'))?.rate, 200);
      assert.deepEqual((await t.store.listPolicies()).map((x) => x.id), ['gold']);
      assert.equal(await t.store.deletePolicy('gold'), true);
      assert.equal(await t.store.getPolicy('gold'), undefined);
    });

    test('keys: stored by hash with the session JSON', async () => {
      const s: Session = { rate: 10, per: 1, expires: 0, meta_data: { nested: { a: [1, 2, null] } }, tags: ['t'] };
      const h = 'a'.repeat(64);
      assert.equal(await t.store.putKey(h, s), 'created');
      assert.equal(await t.store.putKey(h, { ...s, rate: 11 }), 'updated');
      assert.deepEqual(await t.store.getKey(h), { ...s, rate: 11 });
      assert.deepEqual(await t.store.listKeyHashes(), [h]);
      assert.deepEqual(await t.store.listKeys(), [{ keyHash: h, session: { ...s, rate: 11 } }]);
      assert.equal(await t.store.deleteKey(h), true);
      assert.equal(await t.store.getKey(h), undefined);
      assert.deepEqual(await t.store.listKeyHashes(), []);
    });
  });
}

describe('store on postgres: migrations', () => {
  test('several processes starting at once migrate once', async () => {
    const schema = uniqueSchema();
    const url = `${TEST_PG_URL}?schema=${schema}`;
    try {
      const stores = await Promise.all([openStore({ url }), openStore({ url }), openStore({ url })]);
      for (const s of stores) assert.equal(await s.schemaVersion(), latestVersion);
      await Promise.all(stores.map((s) => s.close()));
      const again = await openStore({ url });
      assert.equal(await again.schemaVersion(), latestVersion);
      await again.close();
    } finally {
      await dropSchema(schema);
    }
  });

  test('refuses a schema migrated by a newer Sluice', async () => {
    const schema = uniqueSchema();
    const url = `${TEST_PG_URL}?schema=${schema}`;
    try {
      const s = await openStore({ url });
      await s.close();
      const pg = (await import('pg')).default;
      const c = new pg.Client({ connectionString: TEST_PG_URL });
      await c.connect();
      await c.query(`INSERT INTO ${schema}.schema_migrations (version, name) VALUES (9999, 'future')`);
      await c.end();
      await assert.rejects(openStore({ url }), (e: unknown) => hasCode(e, 'SLU_ERR_STORE_SCHEMA_NEWER'));
    } finally {
      await dropSchema(schema);
    }
  });

  test('an unreachable server is SLU_ERR_STORE_UNAVAILABLE, without the password', async () => {
    await assert.rejects(openStore({ url: 'postgres://u:hunter2@127.0.0.1:1/x' }), (e: unknown) => {
      assert.ok(hasCode(e, 'SLU_ERR_STORE_UNAVAILABLE'));
      assert.ok(!(e as Error).message.includes('hunter2'));
      return true;
    });
  });
});

describe('store on pglite: one process per data folder', () => {
  test('a second open of the same folder by a live process is refused; a stale lock is taken over', async () => {
    const t = await testBackends[0]!.open();
    try {
      const { writeFileSync } = await import('node:fs');
      const { join } = await import('node:path');
      // Pretend another live process (our parent) holds it.
      writeFileSync(join(t.dataDir!, 'pglite', 'sluice.lock'), String(process.ppid));
      await assert.rejects(openStore({ dataDir: t.dataDir }), (e: unknown) => hasCode(e, 'SLU_ERR_STORE_LOCKED'));
      await t.store.close();
      // A lock whose process is gone (pid 2^22 + 1 is above Linux's pid_max default) is stale.
      writeFileSync(join(t.dataDir!, 'pglite', 'sluice.lock'), String(4194305));
      const s = await openStore({ dataDir: t.dataDir });
      assert.equal(await s.schemaVersion(), latestVersion);
      await s.close();
    } finally {
      await t.dispose();
    }
  });
});
