// Two OS processes share one Redis (and one PostgreSQL) and hammer the same keys at the same
// time: the combined rate limit, quota and per-message limit hold exactly.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { openStore, type Store } from '../../src/store/store.js';
import { RedisState } from '../../src/state/redis.js';
import { RedisBus } from '../../src/state/bus.js';
import { AccessService } from '../../src/access/service.js';
import { silentLogger } from '../../src/engine/logger.js';
import { TEST_PG_URL, dropSchema, uniqueSchema } from '../../src/store/testing.js';
import type { HammerConfig, HammerResult } from './hammer.js';

const REDIS = process.env.SLUICE_TEST_REDIS ?? 'redis://127.0.0.1:6379';
const hammer = fileURLToPath(new URL('./hammer.js', import.meta.url));

let schema: string;
let storeUrl: string;
let prefix: string;
let store: Store;
let state: RedisState;
let bus: RedisBus;
let access: AccessService;

before(async () => {
  schema = uniqueSchema();
  storeUrl = `${TEST_PG_URL}?schema=${schema}`;
  prefix = `sluice-test:${randomBytes(4).toString('hex')}:`;
  store = await openStore({ url: storeUrl });
  state = await RedisState.connect({ url: REDIS, prefix });
  bus = await RedisBus.create(state.redis, prefix);
  access = new AccessService({ store, state, bus, logger: silentLogger });
  await access.start();
});

after(async () => {
  await access.close();
  await bus.close();
  await state.close();
  await store.close();
  await dropSchema(schema);
});

function run(cfg: HammerConfig): { ready: Promise<void>; go: (at: number) => void; result: Promise<HammerResult> } {
  const child = fork(hammer, [JSON.stringify(cfg)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let readyResolve!: () => void;
  const ready = new Promise<void>((r) => (readyResolve = r));
  const result = new Promise<HammerResult>((resolve, reject) => {
    child.on('message', (m: { ready?: boolean } & Partial<HammerResult>) => {
      if (m.ready) readyResolve();
      else resolve(m as HammerResult);
    });
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`hammer exited with ${code}`));
    });
  });
  return { ready, go: (at: number) => child.send({ at }), result };
}

test('two processes, one Redis: rate limit, quota and message limit hold exactly', { timeout: 30_000 }, async () => {
  const rights = { access_rights: { orders: { api_id: 'orders' } } };
  const rate = await access.createKey({ ...rights, rate: 100, per: 60 });
  const quota = await access.createKey({ ...rights, quota_max: 150, quota_renewal_rate: 3600 });
  const messages = await access.createKey({ ...rights, message_limits: { delivered: { rate: 500, per: 60 } } });
  const cfg: HammerConfig = {
    store: storeUrl,
    redis: REDIS,
    prefix,
    jobs: [
      { key: rate.key, apiId: 'orders', kind: 'requests', n: 300 },
      { key: quota.key, apiId: 'orders', kind: 'requests', n: 200 },
      { key: messages.key, apiId: 'orders', kind: 'messages', n: 1000 },
    ],
  };
  const a = run(cfg);
  const b = run(cfg);
  await Promise.all([a.ready, b.ready]);
  const at = Date.now() + 300;
  a.go(at);
  b.go(at);
  const [ra, rb] = await Promise.all([a.result, b.result]);
  // They really ran at the same time.
  assert.ok(ra.startedAt < rb.endedAt && rb.startedAt < ra.endedAt, 'the two processes overlapped');
  assert.equal(ra.ok[0]! + rb.ok[0]!, 100, `rate: ${ra.ok[0]} + ${rb.ok[0]}`);
  assert.ok(ra.ok[0]! > 0 && rb.ok[0]! > 0, 'both processes got some');
  assert.equal(ra.ok[1]! + rb.ok[1]!, 150, `quota: ${ra.ok[1]} + ${rb.ok[1]}`);
  assert.equal(ra.ok[2]! + rb.ok[2]!, 500, `messages: ${ra.ok[2]} + ${rb.ok[2]}`);
  // Messages are counted through local leases: most never waited for Redis.
  assert.ok(ra.sync[2]! + rb.sync[2]! > 1500, `synchronous message checks: ${ra.sync[2]! + rb.sync[2]!} of 2000`);
  // Back in this process, the shared counters agree.
  const id = (await access.resolveKey(rate.key))!;
  assert.equal((await access.consumeRequest(id, 'orders')).ok, false);
  const q = await access.quotaStatus(quota.keyHash, (await access.resolveKey(quota.key))!.session);
  assert.equal(q?.quota_remaining, 0);
});
