// The memory cache, the local rate limit and the cache processor, without any server.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryCache } from './index.js';
import { LocalRateLimit } from '../../rate_limits/local/index.js';
import { CacheProcessor, type CacheProcessorConfig } from '../../processors/cache/index.js';
import { Message } from '../../../engine/message.js';
import { hasCode } from '../../../engine/errors.js';
import { noBloblang } from '../../../engine/bloblang-api.js';
import { createLogger } from '../../../engine/logger.js';
import type { Cache, ComponentContext, KindMap, ComponentKind } from '../../../engine/component.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('memory cache', () => {
  test('set, get, add, delete', async () => {
    const c = new MemoryCache({ default_ttl: '5m', compaction_interval: '60s', init_values: {}, shards: 1 });
    assert.equal(await c.get('k'), undefined);
    await c.set('k', enc('v1'));
    assert.equal(dec(await c.get('k')), 'v1');
    await assert.rejects(c.add('k', enc('v2')), (e) => hasCode(e, 'SLU_ERR_CACHE_KEY_EXISTS'));
    await c.add('other', enc('x'));
    await c.delete('k');
    assert.equal(await c.get('k'), undefined);
    assert.equal(dec(await c.get('other')), 'x');
  });

  test('items expire after default_ttl or their own TTL; compaction removes them on writes', async () => {
    const t = clock();
    const c = new MemoryCache({ default_ttl: '10s', compaction_interval: '60s', init_values: {}, shards: 1 }, t.now);
    await c.set('default', enc('a'));
    await c.set('short', enc('b'), 1000);
    t.advance(1500);
    assert.equal(await c.get('short'), undefined, 'own TTL passed');
    assert.equal(dec(await c.get('default')), 'a');
    await c.add('short', enc('again'));
    assert.equal(dec(await c.get('short')), 'again', 'an expired key can be added again');
    t.advance(10_000);
    assert.equal(await c.get('default'), undefined);
    assert.equal(c.size, 2, 'still held until a compaction');
    t.advance(60_000);
    await c.set('trigger', enc('x'));
    assert.equal(c.size, 1, 'compaction on a write removed the expired items');
  });

  test('init_values never expire; an empty compaction_interval disables expiry', async () => {
    const t = clock();
    const c = new MemoryCache({ default_ttl: '1s', compaction_interval: '1s', init_values: { seeded: 'yes' }, shards: 1 }, t.now);
    t.advance(3_600_000);
    assert.equal(dec(await c.get('seeded')), 'yes');
    const forever = new MemoryCache({ default_ttl: '1s', compaction_interval: '', init_values: {}, shards: 4 }, t.now);
    await forever.set('k', enc('v'));
    t.advance(3_600_000);
    assert.equal(dec(await forever.get('k')), 'v');
  });
});

describe('local rate limit', () => {
  test('count per interval, then the time left in the window', () => {
    const t = clock();
    const rl = new LocalRateLimit({ count: 3, interval: '1s' }, t.now);
    assert.deepEqual([rl.access(), rl.access(), rl.access()], [0, 0, 0]);
    assert.equal(rl.access(), 1000);
    t.advance(400);
    assert.equal(rl.access(), 600);
    t.advance(600);
    assert.equal(rl.access(), 0, 'a new window');
    assert.equal(rl.access(), 0);
  });
});

/** A context with one cache resource and static interpolation. */
function ctxWith(cache: Cache): ComponentContext {
  const resources = {
    get<K extends ComponentKind>(kind: K, label: string): KindMap[K] {
      if (kind === 'cache' && label === 'c') return cache as KindMap[K];
      throw new Error(`no ${kind} ${label}`);
    },
    has: (kind: ComponentKind, label: string) => kind === 'cache' && label === 'c',
  };
  const interpolate = (s: string) => {
    // Enough for these tests: `${!content()}` is the only dynamic piece used.
    if (s.includes('${!')) return { isStatic: false, render: (b: Message[], i: number) => s.replace('${!content()}', b[i]!.text()) };
    return noBloblang.interpolate(s);
  };
  return {
    logger: createLogger({ level: 'off' }),
    resources,
    build: undefined as never,
    http: undefined,
    bloblang: { compileMapping: noBloblang.compileMapping, interpolate },
    path: 'pipeline.processors.0',
    stream: 't',
    signal: new AbortController().signal,
  };
}

async function run(conf: Omit<CacheProcessorConfig, 'resource'>, cache: Cache, ...payloads: string[]) {
  const p = new CacheProcessor({ resource: 'c', ...conf }, ctxWith(cache));
  const batch = payloads.map((x) => new Message(x));
  const out = await p.process(batch);
  return out[0]!;
}

describe('cache processor', () => {
  const mem = () => new MemoryCache({ default_ttl: '5m', compaction_interval: '60s', init_values: { known: 'cached value' }, shards: 1 });

  test('get replaces the content; a missing key flags the message', async () => {
    const [hit, miss] = await run({ operator: 'get', key: '${!content()}' }, mem(), 'known', 'unknown');
    assert.equal(hit!.text(), 'cached value');
    assert.equal(hit!.error, undefined);
    assert.equal(miss!.text(), 'unknown', 'unchanged');
    assert.equal(miss!.error?.message, "operator failed for key 'unknown': key does not exist");
    assert.equal(miss!.errorSource, 'pipeline.processors.0');
  });

  test('add flags duplicates (deduplication), set overwrites, content unchanged', async () => {
    const cache = mem();
    const out = await run({ operator: 'add', key: 'id-${!content()}', value: 'seen' }, cache, 'a', 'b', 'a');
    assert.deepEqual(out.map((m) => m.error?.message), [undefined, undefined, 'key already exists: id-a']);
    assert.deepEqual(out.map((m) => m.text()), ['a', 'b', 'a']);
    assert.equal(dec(await cache.get('id-a')), 'seen');
    await run({ operator: 'set', key: 'id-a', value: 'overwritten' }, cache, 'x');
    assert.equal(dec(await cache.get('id-a')), 'overwritten');
  });

  test('ttl is applied; a bad ttl flags the message', async () => {
    const cache = mem();
    await run({ operator: 'set', key: 'k', value: 'v', ttl: '1ms' }, cache, 'x');
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(await cache.get('k'), undefined);
    const [bad] = await run({ operator: 'set', key: 'k', value: 'v', ttl: 'soon' }, cache, 'x');
    assert.match(bad!.error!.message, /^ttl must be a duration/);
  });

  test('delete and exists', async () => {
    const cache = mem();
    const [yes] = await run({ operator: 'exists', key: 'known' }, cache, 'x');
    assert.equal(yes!.text(), 'true');
    await run({ operator: 'delete', key: 'known' }, cache, 'x');
    const [no] = await run({ operator: 'exists', key: 'known' }, cache, 'x');
    assert.equal(no!.text(), 'false');
  });

  test('an unknown cache resource fails at build', () => {
    assert.throws(() => new CacheProcessor({ resource: 'nope', operator: 'get', key: 'k' }, ctxWith(mem())), (e) => hasCode(e, 'SLU_ERR_RESOURCE_UNKNOWN'));
  });
});
