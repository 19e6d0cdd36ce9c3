// redis_streams input and output against the Redis server on 127.0.0.1:6379, and a private
// redis-server (append-only file) for the restart case.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Message } from '../../../engine/message.js';
import { createLogger } from '../../../engine/logger.js';
import { newSink, newSource, type SinkMode } from '../../../../test/support/test-components.js';
import { runStream, waitUntil, sleep } from '../../../../test/support/streams.js';
import { startPrivateRedis } from '../../../../test/support/redis-server.js';
import { freePort } from '../../../../test/support/spawn-server.js';

const URL = 'redis://127.0.0.1:6379';
const run = randomUUID().slice(0, 8);
let redis: Redis;
const keys: string[] = [];

before(async () => {
  redis = new Redis(URL);
});
after(async () => {
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

function streamKey(name: string): string {
  const k = `sluice:int:${run}:${name}`;
  keys.push(k);
  return k;
}

async function consumer(input: Record<string, unknown>, mode: SinkMode = 'ok', url = URL) {
  const { id, sink } = newSink(mode);
  const stream = await runStream({ input: { redis_streams: { url, commit_period: '100ms', timeout: '200ms', ...input } }, output: { test_sink: { id } }, shutdown_timeout: '1s' });
  await waitUntil(() => stream.state === 'running', 10_000, 'consumer running');
  return { sink, stream };
}

async function producer(output: Record<string, unknown>, url = URL) {
  const { id, source } = newSource();
  const stream = await runStream({ input: { test_source: { id } }, output: { redis_streams: { url, ...output } }, shutdown_timeout: '2s' });
  return { source, stream };
}

const pending = async (key: string, group: string) => Number(((await redis.xpending(key, group)) as [number])[0]);

describe('redis_streams', { concurrency: false }, () => {
  test('round trip: body, metadata fields, redis_stream ID, excluded prefixes', async () => {
    const key = streamKey('meta');
    const p = await producer({ stream: key, metadata: { exclude_prefixes: ['secret_'] } });
    const c = await consumer({ streams: [key], consumer_group: 'g', client_id: 'c1' });
    try {
      const m = new Message('{"event":"login"}');
      m.metaSet('user', 'ada');
      m.metaSet('secret_token', 'nope');
      m.metaSet('body', 'collides with body_key: the body wins');
      p.source.push(m);
      await c.sink.waitFor(1, 5000);
      const got = c.sink.messages[0]!;
      assert.equal(got.text(), '{"event":"login"}');
      assert.equal(got.metaGetString('user'), 'ada');
      assert.equal(got.metaGetString('secret_token'), undefined);
      assert.match(got.metaGetString('redis_stream')!, /^\d+-\d+$/);
      const [[, fields]] = (await redis.xrange(key, '-', '+')) as [string, string[]][];
      assert.deepEqual(fields.slice(0, 2), ['body', '{"event":"login"}']);
    } finally {
      p.source.end();
      await Promise.all([p.stream.stop(1000), c.stream.stop(1000)]);
    }
  });

  test('XACK only after delivery; unacked entries are read again by the same consumer', async () => {
    const key = streamKey('ack');
    for (let i = 0; i < 5; i++) await redis.xadd(key, '*', 'body', `e${i}`);
    const stuck = await consumer({ streams: [key], consumer_group: 'g', client_id: 'c1' }, 'hang');
    await waitUntil(() => stuck.stream.stats.received === 5, 5000, 'reads');
    await sleep(300);
    assert.equal(await pending(key, 'g'), 5, 'read but not acked: all pending');
    await stuck.stream.stop(200);
    const again = await consumer({ streams: [key], consumer_group: 'g', client_id: 'c1' });
    try {
      await again.sink.waitFor(5, 5000);
      assert.deepEqual(again.sink.texts(), ['e0', 'e1', 'e2', 'e3', 'e4']);
      await waitUntil(() => false, 400).catch(() => undefined);
      assert.equal(await pending(key, 'g'), 0, 'acked once delivered');
    } finally {
      await again.stream.stop(1000);
    }
  });

  test('entries pending for a dead consumer are claimed with claim_min_idle', async () => {
    const key = streamKey('claim');
    for (let i = 0; i < 3; i++) await redis.xadd(key, '*', 'body', `c${i}`);
    const dead = await consumer({ streams: [key], consumer_group: 'g', client_id: 'dead' }, 'hang');
    await waitUntil(() => dead.stream.stats.received === 3, 5000, 'reads');
    await dead.stream.stop(200);
    const other = await consumer({ streams: [key], consumer_group: 'g', client_id: 'alive', claim_min_idle: '300ms' });
    try {
      await other.sink.waitFor(3, 5000);
      assert.deepEqual(other.sink.texts().sort(), ['c0', 'c1', 'c2']);
      await sleep(300);
      assert.equal(await pending(key, 'g'), 0);
    } finally {
      await other.stream.stop(1000);
    }
  });

  test('a nacked entry is replayed, then acked; entries without body_key are skipped', async () => {
    const key = streamKey('nack');
    await redis.xadd(key, '*', 'other', 'no body here');
    await redis.xadd(key, '*', 'body', 'retry me', 'kind', 'x');
    const c = await consumer({ streams: [key], consumer_group: 'g', client_id: 'c1' }, 'nack_first');
    try {
      await c.sink.waitFor(1, 5000);
      assert.deepEqual(c.sink.texts(), ['retry me']);
      assert.equal(c.sink.messages[0]!.metaGetString('kind'), 'x');
      await sleep(400);
      assert.equal(await pending(key, 'g'), 0);
    } finally {
      await c.stream.stop(1000);
    }
  });

  test('start_from_oldest: false only reads entries added after the group was created', async () => {
    const key = streamKey('latest');
    await redis.xadd(key, '*', 'body', 'old');
    const c = await consumer({ streams: [key], consumer_group: 'g', client_id: 'c1', start_from_oldest: false });
    try {
      await redis.xadd(key, '*', 'body', 'new');
      await c.sink.waitFor(1, 5000);
      await sleep(300);
      assert.deepEqual(c.sink.texts(), ['new']);
    } finally {
      await c.stream.stop(1000);
    }
  });

  test('max_length caps the stream; batches are one pipeline', async () => {
    const key = streamKey('cap');
    const p = await producer({ stream: key, max_length: 10 });
    try {
      p.source.push(Array.from({ length: 500 }, (_, i) => new Message(`m${i}`)));
      await p.source.waitAcks(1, 5000);
      assert.equal(p.source.acks[0]!.error, undefined);
      const len = await redis.xlen(key);
      assert.ok(len < 500 && len >= 10, `trimmed to about 10 (MAXLEN ~), got ${len}`);
    } finally {
      p.source.end();
      await p.stream.stop(1000);
    }
  });

  test('output batching groups messages', async () => {
    const key = streamKey('batching');
    const p = await producer({ stream: key, batching: { count: 5, period: '50ms' } });
    try {
      for (let i = 0; i < 12; i++) p.source.push(`b${i}`);
      await p.source.waitAcks(12, 5000);
      assert.ok(p.source.acks.every((a) => a.error === undefined));
      assert.equal(await redis.xlen(key), 12);
    } finally {
      p.source.end();
      await p.stream.stop(1000);
    }
  });

  test('an unreachable server: error naming the address, no crash, prompt stop', async () => {
    const port = await freePort();
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', write: (l) => lines.push(l) });
    const { id } = newSink();
    const s = await runStream({ input: { redis_streams: { url: `redis://:pw@127.0.0.1:${port}`, streams: ['x'], consumer_group: 'g' } }, output: { test_sink: { id } } }, { logger });
    try {
      await waitUntil(() => lines.some((l) => l.includes('cannot connect')), 5000, 'connect error');
      assert.match(lines.find((l) => l.includes('cannot connect'))!, new RegExp(`cannot connect to Redis at 127\\.0\\.0\\.1:${port}`));
      assert.ok(!lines.some((l) => l.includes(':pw@')), 'no password in logs');
    } finally {
      const t = Date.now();
      await s.stop(500);
      assert.ok(Date.now() - t < 3000);
    }
  });

  test('no loss through a restart of a private redis-server', async () => {
    const broker = await startPrivateRedis({ persistent: true });
    const key = 'restart';
    const c = await consumer({ streams: [key], consumer_group: 'g', client_id: 'c1' }, 'ok', broker.url);
    const p = await producer({ stream: key }, broker.url);
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
      await waitUntil(() => new Set(c.sink.texts()).size >= 60, 20_000, 'all delivered').catch(() => undefined);
      const got = new Set(c.sink.texts());
      assert.deepEqual(sent.filter((s) => !got.has(s)), [], `all delivered (got ${c.sink.messages.length})`);
    } finally {
      p.source.end();
      await Promise.all([p.stream.stop(2000), c.stream.stop(1000)]);
      await broker.stop();
    }
  });
});
