// Proves the Redis server on 127.0.0.1:6379 is real: plain commands, pub/sub
// between two connections, and Redis Streams with a consumer group (what
// Sluice's Redis Streams source reads). Fails, never skips, when the server is
// down: run `bash scripts/services.sh` first.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { assertReachable } from '../support/reachable.js';

const HOST = '127.0.0.1';
const PORT = 6379;
const RUN_ID = `${process.pid}-${Date.now().toString(36)}`;


function client(): Redis {
  // No retries and no offline queue: a down server fails the command at once.
  return new Redis({ host: HOST, port: PORT, maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => null });
}

test('redis: commands, pub/sub and streams with a consumer group (ioredis)', { timeout: 15_000 }, async (t) => {
  await assertReachable(PORT, 'Redis');
  const redis = client();
  const sub = client();
  const prefix = `sluice:svc:${RUN_ID}`;
  t.after(async () => {
    await redis.del(`${prefix}:kv`, `${prefix}:stream`).catch(() => {});
    redis.disconnect();
    sub.disconnect();
  });
  await Promise.all([redis.connect(), sub.connect()]);

  const info = await redis.info('server');
  assert.match(info, /redis_version:\d+\./);

  // Strings with expiry.
  assert.equal(await redis.set(`${prefix}:kv`, 'v1', 'EX', 60), 'OK');
  assert.equal(await redis.get(`${prefix}:kv`), 'v1');
  const ttl = await redis.ttl(`${prefix}:kv`);
  assert.ok(ttl > 0 && ttl <= 60, `ttl ${ttl}`);

  // Pub/sub across two connections.
  const channel = `${prefix}:events`;
  assert.equal(await sub.subscribe(channel), 1);
  const arrived = once(sub, 'message');
  assert.equal(await redis.publish(channel, `ping-${RUN_ID}`), 1); // one subscriber received it
  assert.deepEqual(await arrived, [channel, `ping-${RUN_ID}`]);

  // Streams: XADD, then read through a consumer group and acknowledge.
  const stream = `${prefix}:stream`;
  const id = await redis.xadd(stream, '*', 'event', 'audit', 'run', RUN_ID);
  assert.match(String(id), /^\d+-\d+$/);
  assert.equal(await redis.xgroup('CREATE', stream, 'sluice', '0'), 'OK');
  const read = (await redis.xreadgroup('GROUP', 'sluice', 'c1', 'COUNT', 10, 'STREAMS', stream, '>')) as Array<
    [string, Array<[string, string[]]>]
  >;
  assert.deepEqual(read, [[stream, [[id, ['event', 'audit', 'run', RUN_ID]]]]]);
  assert.equal(await redis.xack(stream, 'sluice', String(id)), 1);
});
