// The same counter semantics on both hot-state backends (memory and the local Redis), and the
// change channel over Redis pub/sub and PostgreSQL LISTEN/NOTIFY.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MemoryState } from './memory.js';
import { RedisState } from './redis.js';
import { Leases } from './leases.js';
import { PostgresBus, RedisBus, type ChangeMessage } from './bus.js';
import type { HotState } from './types.js';
import { hasCode } from '../engine/errors.js';
import { dropSchema, TEST_PG_URL, uniqueSchema } from '../store/testing.js';

export const TEST_REDIS_URL = process.env.SLUICE_TEST_REDIS ?? 'redis://127.0.0.1:6379';

const backends: { name: string; open: () => Promise<HotState> }[] = [
  { name: 'memory', open: async () => new MemoryState() },
  { name: 'redis', open: () => RedisState.connect({ url: TEST_REDIS_URL, prefix: `sluice-test:${randomBytes(4).toString('hex')}:` }) },
];

for (const b of backends) {
  describe(`hot state on ${b.name}`, () => {
    let s: HotState;
    before(async () => {
      s = await b.open();
    });
    after(async () => {
      await s.close();
    });

    test('sliding window is exact under concurrent hits', async () => {
      const results = await Promise.all(Array.from({ length: 300 }, () => s.slidingHit('sw', 100, 60_000)));
      assert.equal(results.filter((r) => r.allowed).length, 100);
      const last = await s.slidingHit('sw', 100, 60_000);
      assert.equal(last.allowed, false);
      assert.equal(last.remaining, 0);
      assert.ok(last.resetInMs > 59_000 && last.resetInMs <= 60_000, String(last.resetInMs));
    });

    test('sliding window frees capacity as hits age out', async () => {
      assert.equal((await s.slidingHit('age', 2, 300)).allowed, true);
      assert.equal((await s.slidingHit('age', 2, 300)).allowed, true);
      assert.equal((await s.slidingHit('age', 2, 300)).allowed, false);
      await new Promise((r) => setTimeout(r, 350));
      assert.equal((await s.slidingHit('age', 2, 300)).allowed, true);
    });

    test('take is exact under concurrency, all-or-nothing below min', async () => {
      const results = await Promise.all(Array.from({ length: 50 }, () => s.take('t', 100, 60_000, 3, 3, 'lazy')));
      assert.equal(results.reduce((n, r) => n + r.granted, 0), 99);
      assert.equal((await s.take('t', 100, 60_000, 3, 3, 'lazy')).granted, 0);
      assert.equal((await s.take('t', 100, 60_000, 1, 1, 'lazy')).granted, 1);
      const p = await s.peek('t');
      assert.equal(p?.used, 100);
      assert.ok(p!.resetInMs > 59_000);
    });

    test('a lazy quota renews on first use after its window', async () => {
      assert.equal((await s.take('lz', 1, 200, 1, 1, 'lazy')).granted, 1);
      assert.equal((await s.take('lz', 1, 200, 1, 1, 'lazy')).granted, 0);
      await new Promise((r) => setTimeout(r, 250));
      assert.equal((await s.take('lz', 1, 200, 1, 1, 'lazy')).granted, 1);
    });

    test('giveBack, peek and reset', async () => {
      const r = await s.take('gb', 10, 60_000, 10, 10, 'aligned');
      assert.equal(r.granted, 10);
      await s.giveBack('gb', 3, r.window);
      assert.equal((await s.peek('gb'))?.used, 7);
      await s.giveBack('gb', 3, r.window - 1);
      assert.equal((await s.peek('gb'))?.used, 7);
      await s.reset(['gb']);
      assert.equal(await s.peek('gb'), undefined);
      const never = await s.take('nv', 5, 0, 1, 1, 'lazy');
      assert.equal(never.resetInMs, -1);
      assert.equal((await s.peek('nv'))?.resetInMs, -1);
      await s.reset(['nv']); // never expires by itself
    });

    test('leases held by several holders never exceed the limit and go back when idle', async () => {
      const holders = [new Leases(s, { idleReturnMs: 200 }), new Leases(s, { idleReturnMs: 200 }), new Leases(s, { idleReturnMs: 200 })];
      let ok = 0;
      await Promise.all(
        holders.map(async (h) => {
          for (let i = 0; i < 400; i++) if ((await h.spend('ls', 500, 60_000, 'lazy', 1)).ok) ok++;
        }),
      );
      assert.equal(ok, 500);
      for (const h of holders) await h.close();
      const partial = new Leases(s, { idleReturnMs: 150 });
      assert.equal((await partial.spend('ls2', 1000, 60_000, 'lazy', 1)).ok, true);
      assert.equal((await s.peek('ls2'))?.used, 50);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal((await s.peek('ls2'))?.used, 1);
      await partial.close();
    });
  });
}

describe('RedisState failures', () => {
  test('an unreachable Redis is SLU_ERR_STATE_UNAVAILABLE, without the password', async () => {
    await assert.rejects(RedisState.connect({ url: 'redis://:hunter2@127.0.0.1:1' }), (e: unknown) => {
      assert.ok(hasCode(e, 'SLU_ERR_STATE_UNAVAILABLE'));
      assert.ok(!(e as Error).message.includes('hunter2'));
      return true;
    });
  });
});

async function waitFor<T>(get: () => T | undefined, ms = 1000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('change channel', () => {
  test('Redis pub/sub: the other process hears it within a second, the sender hears it once, locally', async () => {
    const prefix = `sluice-test:${randomBytes(4).toString('hex')}:`;
    const sa = await RedisState.connect({ url: TEST_REDIS_URL, prefix });
    const sb = await RedisState.connect({ url: TEST_REDIS_URL, prefix });
    const a = await RedisBus.create(sa.redis, prefix);
    const b = await RedisBus.create(sb.redis, prefix);
    const gotA: [ChangeMessage, string][] = [];
    const gotB: [ChangeMessage, string][] = [];
    a.subscribe((m, f) => gotA.push([m, f]));
    b.subscribe((m, f) => gotB.push([m, f]));
    const t0 = Date.now();
    await a.publish({ kind: 'policy', id: 'gold', action: 'updated' });
    const got = await waitFor(() => gotB[0]);
    assert.ok(Date.now() - t0 < 1000);
    assert.deepEqual(got, [{ kind: 'policy', id: 'gold', action: 'updated' }, 'remote']);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(gotA, [[{ kind: 'policy', id: 'gold', action: 'updated' }, 'local']]);
    await a.close();
    await b.close();
    await sa.close();
    await sb.close();
  });

  test('PostgreSQL LISTEN/NOTIFY: the other process hears it within a second', async () => {
    const schema = uniqueSchema();
    const url = `${TEST_PG_URL}?schema=${schema}`;
    const a = await PostgresBus.create({ url });
    const b = await PostgresBus.create({ url });
    try {
      const gotB: [ChangeMessage, string][] = [];
      b.subscribe((m, f) => gotB.push([m, f]));
      const t0 = Date.now();
      await a.publish({ kind: 'key', keyHash: 'abc', action: 'deleted' });
      const got = await waitFor(() => gotB[0]);
      assert.ok(Date.now() - t0 < 1000);
      assert.deepEqual(got, [{ kind: 'key', keyHash: 'abc', action: 'deleted' }, 'remote']);
    } finally {
      await a.close();
      await b.close();
      await dropSchema(schema);
    }
  });
});
