// redis_list and redis_pubsub inputs and outputs against the Redis server on 127.0.0.1:6379.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Message } from '../../../engine/message.js';
import { newSink, newSource, type SinkMode } from '../../../../test/support/test-components.js';
import { runStream, waitUntil, sleep } from '../../../../test/support/streams.js';
import { startPrivateRedis } from '../../../../test/support/redis-server.js';

const URL = 'redis://127.0.0.1:6379';
const run = randomUUID().slice(0, 8);
let redis: Redis;
const keys: string[] = [];

before(() => {
  redis = new Redis(URL);
});
after(async () => {
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

const key = (name: string) => {
  const k = `sluice:int:${run}:${name}`;
  keys.push(k);
  return k;
};

async function consume(input: Record<string, unknown>, mode: SinkMode = 'ok') {
  const { id, sink } = newSink(mode);
  const stream = await runStream({ input, output: { test_sink: { id } }, shutdown_timeout: '1s' });
  await waitUntil(() => stream.state === 'running', 10_000, 'consumer running');
  return { sink, stream };
}

async function produce(output: Record<string, unknown>) {
  const { id, source } = newSource();
  const stream = await runStream({ input: { test_source: { id } }, output, shutdown_timeout: '2s' });
  return { source, stream };
}

describe('redis_list', { concurrency: false }, () => {
  test('round trip in order; the key is interpolated per message', async () => {
    const k = key('list');
    const p = await produce({ redis_list: { url: URL, key: `${k}-\${! @shard }` } });
    const c = await consume({ redis_list: { url: URL, key: `${k}-a`, timeout: '200ms' } });
    try {
      for (let i = 0; i < 20; i++) p.source.push(new Message(`m${i}`, { shard: i < 10 ? 'a' : 'b' }));
      await c.sink.waitFor(10, 5000);
      assert.deepEqual(c.sink.texts(), Array.from({ length: 10 }, (_, i) => `m${i}`));
      await p.source.waitAcks(20, 5000);
      keys.push(`${k}-b`);
      assert.equal(await redis.llen(`${k}-b`), 10);
    } finally {
      p.source.end();
      await Promise.all([p.stream.stop(1000), c.stream.stop(1000)]);
    }
  });

  test('brpop and lpush', async () => {
    const k = key('brpop');
    await redis.rpush(k, 'first', 'second');
    const c = await consume({ redis_list: { url: URL, key: k, command: 'brpop', timeout: '200ms' } });
    try {
      await c.sink.waitFor(2, 5000);
      assert.deepEqual(c.sink.texts(), ['second', 'first']);
    } finally {
      await c.stream.stop(1000);
    }
    const p = await produce({ redis_list: { url: URL, key: k, command: 'lpush' } });
    try {
      p.source.push('x', 'y');
      await p.source.waitAcks(2, 5000);
      assert.deepEqual(await redis.lrange(k, 0, -1), ['y', 'x']);
    } finally {
      p.source.end();
      await p.stream.stop(1000);
    }
  });

  test('a nacked item is replayed', async () => {
    const k = key('nack');
    await redis.rpush(k, 'again');
    const c = await consume({ redis_list: { url: URL, key: k, timeout: '200ms' } }, 'nack_first');
    try {
      await c.sink.waitFor(1, 5000);
      assert.deepEqual(c.sink.texts(), ['again']);
    } finally {
      await c.stream.stop(1000);
    }
  });

  test('items popped but not delivered when the input stops go back to the list, in order', async () => {
    const k = key('pushback');
    await redis.rpush(k, 'a', 'b', 'c', 'd');
    const stuck = await consume({ redis_list: { url: URL, key: k, timeout: '200ms' } }, 'hang');
    await waitUntil(() => stuck.stream.stats.received === 4, 5000, 'popped');
    assert.equal(await redis.llen(k), 0);
    await stuck.stream.stop(200);
    assert.deepEqual(await redis.lrange(k, 0, -1), ['a', 'b', 'c', 'd']);
  });

  test('stopping while a pop blocks loses nothing and is prompt', async () => {
    const k = key('idle');
    const c = await consume({ redis_list: { url: URL, key: k, timeout: '30s' } });
    const t = Date.now();
    await c.stream.stop(1000);
    assert.ok(Date.now() - t < 1500, `stopped in ${Date.now() - t} ms despite a 30s blocking pop`);
    await redis.rpush(k, 'after');
    await sleep(100);
    assert.deepEqual(await redis.lrange(k, 0, -1), ['after'], 'the abandoned pop took nothing');
  });

  // BLPOP has no acknowledgement: an item Redis pops and persists just before it is killed, whose
  // reply never reaches Sluice, is gone (as with Benthos). Everything else must arrive.
  test('a restart of a private redis-server loses at most the item being popped', async () => {
    const broker = await startPrivateRedis({ persistent: true });
    const c = await consume({ redis_list: { url: broker.url, key: 'q', timeout: '200ms' } });
    const p = await produce({ redis_list: { url: broker.url, key: 'q' } });
    try {
      const sent: string[] = [];
      for (let i = 0; i < 60; i++) {
        sent.push(`r${i}`);
        p.source.push(`r${i}`);
        if (i === 20) {
          await p.source.waitAcks(21, 10_000);
          await broker.kill();
          await sleep(300);
          await broker.restart();
        }
      }
      await waitUntil(() => new Set(c.sink.texts()).size >= 59, 20_000, 'all delivered').catch(() => undefined);
      await sleep(300);
      const got = new Set(c.sink.texts());
      const missing = sent.filter((s) => !got.has(s));
      assert.ok(missing.length <= 1, `missing ${missing.join(', ')}`);
    } finally {
      p.source.end();
      await Promise.all([p.stream.stop(2000), c.stream.stop(1000)]);
      await broker.stop();
    }
  });
});

describe('redis_pubsub', { concurrency: false }, () => {
  test('channels, pattern subscriptions and interpolated channels', async () => {
    const base = `sluice:ps:${run}`;
    const exact = await consume({ redis_pubsub: { url: URL, channels: [`${base}.one`] } });
    const pattern = await consume({ redis_pubsub: { url: URL, channels: [`${base}.*`], use_patterns: true } });
    const p = await produce({ redis_pubsub: { url: URL, channel: `${base}.\${! @ch }` } });
    try {
      await sleep(100);
      p.source.push(new Message('to one', { ch: 'one' }), new Message('to two', { ch: 'two' }));
      await pattern.sink.waitFor(2, 5000);
      await exact.sink.waitFor(1, 5000);
      assert.deepEqual(exact.sink.texts(), ['to one']);
      assert.deepEqual(pattern.sink.texts().sort(), ['to one', 'to two']);
      assert.deepEqual(pattern.sink.messages[0]!.metaStrings(), {}, 'no metadata, as Benthos');
    } finally {
      p.source.end();
      await Promise.all([p.stream.stop(1000), exact.stream.stop(500), pattern.stream.stop(500)]);
    }
  });

  test('a nacked message is replayed from memory', async () => {
    const ch = `sluice:ps:${run}:nack`;
    const c = await consume({ redis_pubsub: { url: URL, channels: [ch] } }, 'nack_first');
    try {
      await redis.publish(ch, 'again');
      await c.sink.waitFor(1, 5000);
      assert.deepEqual(c.sink.texts(), ['again']);
    } finally {
      await c.stream.stop(500);
    }
  });
});
