// Unit tests of the Redis components' config and metadata logic (no server needed).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Message } from '../engine/message.js';
import { Registry } from '../engine/registry.js';
import { Validator } from '../config/validate.js';
import { isRedisConnectionError, parseRedisUrls, redisAddress } from './redis-common.js';
import { entryMessage, spec as streamsInput } from './inputs/redis_streams/index.js';
import { entryFields, spec as streamsOutput } from './outputs/redis_streams/index.js';
import { spec as listInput } from './inputs/redis_list/index.js';
import { spec as listOutput } from './outputs/redis_list/index.js';
import { spec as pubsubInput } from './inputs/redis_pubsub/index.js';
import { spec as pubsubOutput } from './outputs/redis_pubsub/index.js';
import { spec as redisCache } from './caches/redis/index.js';
import { spec as memoryCache } from './caches/memory/index.js';
import { spec as cacheProcessor } from './processors/cache/index.js';
import { spec as localRateLimit } from './rate_limits/local/index.js';

const registry = new Registry()
  .add(streamsInput)
  .add(streamsOutput)
  .add(listInput)
  .add(listOutput)
  .add(pubsubInput)
  .add(pubsubOutput)
  .add(redisCache)
  .add(memoryCache)
  .add(cacheProcessor)
  .add(localRateLimit);

function validate(kind: 'input' | 'output' | 'cache' | 'processor' | 'rate_limit', value: unknown) {
  const v = new Validator({ registry });
  const node = v.component(kind, value, kind);
  return { config: node.config as Record<string, unknown>, issues: v.issues.map((i) => `${i.path}: ${i.message}`) };
}

describe('Redis URLs', () => {
  test('user, password, database, TLS scheme, tcp:// alias, lists', () => {
    assert.deepEqual(parseRedisUrls('redis://u:p%40ss@host:6380/2'), [{ host: 'host', port: 6380, username: 'u', password: 'p@ss', db: 2, tls: false }]);
    assert.deepEqual(parseRedisUrls('rediss://:secret@h'), [{ host: 'h', port: 6379, password: 'secret', tls: true }]);
    assert.deepEqual(parseRedisUrls('tcp://localhost:6379').map((e) => e.host), ['localhost']);
    assert.equal(parseRedisUrls('redis://a:1/1,redis://b:2/1').length, 2);
    assert.equal(parseRedisUrls('redis://:6379')[0]!.host, '127.0.0.1');
    assert.throws(() => parseRedisUrls('http://x'), /unsupported Redis URL scheme/);
    assert.throws(() => parseRedisUrls('redis://x/db'), /invalid Redis database/);
  });
  test('addresses for messages carry no credentials', () => {
    assert.equal(redisAddress({ url: 'redis://u:secret@h:1,redis://h2:2' }), 'h:1,h2:2');
  });
  test('connection errors are recognised', () => {
    assert.ok(isRedisConnectionError(new Error('Connection is closed.')));
    assert.ok(isRedisConnectionError(new Error("Stream isn't writeable and enableOfflineQueue options is false")));
    assert.ok(!isRedisConnectionError(new Error('WRONGTYPE Operation against a key holding the wrong kind of value')));
  });
});

describe('redis_streams entries', () => {
  const b = (s: string) => Buffer.from(s);
  test('body_key is the payload, other fields metadata, redis_stream the ID', () => {
    const m = entryMessage('1-0', [b('user'), b('ada'), b('body'), b('{"x":1}'), b('n'), b('2')], 'body')!;
    assert.equal(m.text(), '{"x":1}');
    assert.deepEqual(m.metaStrings(), { redis_stream: '1-0', user: 'ada', n: '2' });
    assert.equal(entryMessage('1-1', [b('other'), b('v')], 'body'), undefined, 'no body: skipped');
  });
  test('XADD fields: body first, metadata minus excluded prefixes, body wins clashes', () => {
    const m = new Message('payload', { body: 'meta body', kafka_key: 'k', keep: 'v' });
    assert.deepEqual(entryFields(m, 'body', ['kafka_']).map(String), ['body', 'payload', 'keep', 'v']);
  });
});

describe('Benthos defaults', () => {
  test('redis_streams input', () => {
    const { config, issues } = validate('input', { redis_streams: { url: 'redis://localhost:6379', streams: ['s'] } });
    assert.deepEqual(issues, []);
    assert.equal(config.body_key, 'body');
    assert.equal(config.limit, 10);
    assert.equal(config.client_id, '');
    assert.equal(config.consumer_group, '');
    assert.equal(config.create_streams, true);
    assert.equal(config.start_from_oldest, true);
    assert.equal(config.commit_period, '1s');
    assert.equal(config.timeout, '1s');
    assert.equal(config.kind, 'simple');
    assert.equal(config.auto_replay_nacks, true);
    assert.match(validate('input', { redis_streams: { url: 'x' } }).issues.join(), /streams.*required/);
  });
  test('outputs: max_in_flight 64, batching, body_key, max_length', () => {
    const s = validate('output', { redis_streams: { url: 'u', stream: 's', batching: { count: 10, period: '1s' } } });
    assert.deepEqual(s.issues, []);
    assert.equal(s.config.max_in_flight, 64);
    assert.equal(s.config.max_length, 0);
    assert.deepEqual(s.config.metadata, { exclude_prefixes: [] });
    const l = validate('output', { redis_list: { url: 'u', key: 'k' } });
    assert.deepEqual(l.issues, []);
    assert.equal(l.config.command, 'rpush');
    assert.deepEqual(validate('output', { redis_pubsub: { url: 'u', channel: 'c' } }).issues, []);
  });
  test('redis_list and redis_pubsub inputs', () => {
    const l = validate('input', { redis_list: { url: 'u', key: 'k' } });
    assert.deepEqual(l.issues, []);
    assert.equal(l.config.timeout, '5s');
    assert.equal(l.config.command, 'blpop');
    assert.equal(l.config.max_in_flight, 0);
    assert.match(validate('input', { redis_list: { url: 'u', key: 'k', command: 'lpop' } }).issues.join(), /not one of: blpop, brpop/);
    const p = validate('input', { redis_pubsub: { url: 'u', channels: ['a'] } });
    assert.deepEqual(p.issues, []);
    assert.equal(p.config.use_patterns, false);
  });
  test('caches, the cache processor and the local rate limit', () => {
    const m = validate('cache', { memory: {} });
    assert.deepEqual(m.config, { default_ttl: '5m', compaction_interval: '60s', init_values: {}, shards: 1 });
    const r = validate('cache', { redis: { url: 'redis://h' } });
    assert.deepEqual(r.issues, []);
    assert.deepEqual(r.config.retries, { initial_interval: '500ms', max_interval: '1s', max_elapsed_time: '5s' });
    assert.equal(r.config.prefix, undefined);
    assert.deepEqual(validate('processor', { cache: { resource: 'c', operator: 'get', key: 'k' } }).issues, []);
    assert.match(validate('processor', { cache: { resource: 'c', operator: 'fetch', key: 'k' } }).issues.join(), /not one of: set, add, get, delete, exists/);
    assert.deepEqual(validate('rate_limit', { local: {} }).config, { count: 1000, interval: '1s' });
    assert.deepEqual(validate('rate_limit', { local: { count: 0 } }).issues, ['rate_limit.local: count must be larger than zero']);
  });
});
