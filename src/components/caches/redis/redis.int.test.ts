// The redis cache against 127.0.0.1:6379, and the cache processor inside real streams
// (cache_resources, Bloblang interpolation, dedupe by `add` + mapping).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { newSink, newSource } from '../../../../test/support/test-components.js';
import { runStream } from '../../../../test/support/streams.js';
import { freePort } from '../../../../test/support/spawn-server.js';
import { spec } from './index.js';
import { createLogger } from '../../../engine/logger.js';
import { noBloblang } from '../../../engine/bloblang-api.js';
import type { Cache, ComponentContext } from '../../../engine/component.js';
import { hasCode } from '../../../engine/errors.js';

const URL = 'redis://127.0.0.1:6379';
const prefix = `sluice:cache:${randomUUID().slice(0, 8)}:`;
let redis: Redis;
before(() => {
  redis = new Redis(URL);
});
after(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

function ctx(): ComponentContext {
  return {
    logger: createLogger({ level: 'off' }),
    resources: { get: () => { throw new Error('none'); }, has: () => false },
    build: undefined as never,
    http: undefined,
    bloblang: noBloblang,
    path: 'cache_resources.0',
    stream: 't',
    signal: new AbortController().signal,
  };
}

async function cache(conf: Record<string, unknown>): Promise<Cache> {
  const full = { kind: 'simple', master: '', tls: { enabled: false }, retries: { initial_interval: '50ms', max_interval: '100ms', max_elapsed_time: '300ms' }, ...conf };
  return spec.build(full as never, ctx()) as Cache;
}

describe('redis cache', { concurrency: false }, () => {
  test('set/get/add/delete with prefix and TTLs', async () => {
    const c = await cache({ url: URL, prefix, default_ttl: '10s' });
    try {
      await c.set('a', enc('1'));
      assert.equal(dec(await c.get('a')), '1');
      assert.equal(await redis.get(`${prefix}a`), '1', 'stored under the prefix');
      const ttl = await redis.pttl(`${prefix}a`);
      assert.ok(ttl > 9000 && ttl <= 10_000, `default_ttl applied (${ttl})`);
      await assert.rejects(c.add('a', enc('2')), (e) => hasCode(e, 'SLU_ERR_CACHE_KEY_EXISTS'));
      await c.add('b', enc('2'), 60_000);
      assert.ok((await redis.pttl(`${prefix}b`)) > 50_000);
      await c.delete('a');
      assert.equal(await c.get('a'), undefined);
    } finally {
      await c.close?.();
    }
  });

  test('an unreachable server fails the operation after the retries, naming the address', async () => {
    const port = await freePort();
    const c = await cache({ url: `redis://127.0.0.1:${port}` });
    const t = Date.now();
    await assert.rejects(c.get('x'), new RegExp(`127\\.0\\.0\\.1:${port}`));
    assert.ok(Date.now() - t < 3000, 'bounded by retries.max_elapsed_time');
    await c.close?.();
  });
});

describe('cache processor in a stream', { concurrency: false }, () => {
  test('dedupe with add + mapping, interpolated key, redis resource', async () => {
    const { id: srcId, source } = newSource();
    const { id: sinkId, sink } = newSink();
    const s = await runStream({
      input: { test_source: { id: srcId } },
      pipeline: {
        processors: [
          { cache: { resource: 'seen', operator: 'add', key: '${! json("id") }', value: 'x' } },
          { mapping: 'root = if errored() { deleted() }' },
        ],
      },
      output: { test_sink: { id: sinkId } },
      cache_resources: [{ label: 'seen', redis: { url: URL, prefix } }],
    });
    try {
      source.push('{"id":1}', '{"id":2}', '{"id":1}', '{"id":3}', '{"id":2}');
      await source.waitAcks(5, 5000);
      assert.deepEqual(sink.texts(), ['{"id":1}', '{"id":2}', '{"id":3}']);
    } finally {
      source.end();
      await s.stop(1000);
    }
  });

  test('get hydrates from a memory cache seeded with init_values', async () => {
    const { id: srcId, source } = newSource();
    const { id: sinkId, sink } = newSink();
    const s = await runStream({
      input: { test_source: { id: srcId } },
      pipeline: { processors: [{ cache: { resource: 'names', operator: 'get', key: '${! content() }' } }, { catch: [{ mapping: 'root = "unknown"' }] }] },
      output: { test_sink: { id: sinkId } },
      cache_resources: [{ label: 'names', memory: { init_values: { u1: 'Ada', u2: 'Grace' } } }],
    });
    try {
      source.push('u1', 'u9', 'u2');
      await source.waitAcks(3, 5000);
      assert.deepEqual(sink.texts(), ['Ada', 'unknown', 'Grace']);
    } finally {
      source.end();
      await s.stop(1000);
    }
  });
});
