/**
 * `redis` cache: a Redis server as a cache resource. Keys get `prefix`; items expire after their
 * TTL, or `default_ttl`, or never. Caches have no connect step, so the client connects on first
 * use; a failed operation (server down) is retried with backoff per `retries`, then fails with an
 * error naming the address — the processor using the cache flags the message.
 */
import type { Cache, ComponentContext } from '../../../engine/component.js';
import { defineCache } from '../../../engine/component.js';
import { field } from '../../../engine/spec.js';
import { Backoff, parseDuration, sleep } from '../../../engine/backoff.js';
import { sluiceError } from '../../../engine/errors.js';
import { Redis } from 'ioredis';
import { closeRedis, isRedisConnectionError, onRedisClose, openRedis, redisAddress, redisFields, redisReady, type RedisClient, type RedisConfig } from '../../redis-common.js';

export interface RedisCacheConfig extends RedisConfig {
  prefix?: string;
  default_ttl?: string;
  retries: { initial_interval: string; max_interval: string; max_elapsed_time: string };
}

class RedisCache implements Cache {
  readonly #conf: RedisCacheConfig;
  readonly #ctx: ComponentContext;
  readonly #prefix: string;
  readonly #defaultTtlMs: number | undefined;
  readonly #retry: { initialMs: number; maxMs: number; maxElapsedMs: number };
  #client: RedisClient | undefined;
  #opening: Promise<RedisClient> | undefined;
  #closed = false;
  /** Own signal: the context's may already be aborted while the stream is built (engine issue). */
  readonly #abort = new AbortController();

  constructor(conf: RedisCacheConfig, ctx: ComponentContext) {
    this.#conf = conf;
    this.#ctx = ctx;
    this.#prefix = conf.prefix ?? '';
    const ttl = conf.default_ttl ? parseDuration(conf.default_ttl) : undefined;
    this.#defaultTtlMs = ttl && ttl > 0 ? ttl : undefined;
    this.#retry = {
      initialMs: parseDuration(conf.retries.initial_interval) ?? 500,
      maxMs: parseDuration(conf.retries.max_interval) ?? 1000,
      maxElapsedMs: parseDuration(conf.retries.max_elapsed_time) ?? 5000,
    };
  }

  async #connection(): Promise<Redis> {
    if (this.#closed) throw new Error('the redis cache is closed');
    if (this.#client && redisReady(this.#client)) return this.#client as Redis;
    this.#opening ??= (async () => {
      this.#client?.disconnect();
      const c = await openRedis(this.#conf, this.#ctx, this.#abort.signal, { name: `sluice:${this.#ctx.stream}:cache` });
      onRedisClose(c, () => {
        if (this.#client === c) this.#client = undefined;
      });
      // Resources are not closed by the engine when a stream stops (yet): an idle cache
      // connection must not keep the process alive.
      if (c instanceof Redis) c.stream?.unref?.();
      this.#client = c;
      return c;
    })().finally(() => (this.#opening = undefined));
    return (await this.#opening) as Redis;
  }

  /** Runs `op`, retrying connection failures with backoff until `retries.max_elapsed_time`. */
  async #run<T>(what: string, op: (c: Redis) => Promise<T>): Promise<T> {
    const started = Date.now();
    const backoff = new Backoff({ initialMs: this.#retry.initialMs, maxMs: this.#retry.maxMs });
    for (;;) {
      try {
        return await op(await this.#connection());
      } catch (err) {
        const retryable = isRedisConnectionError(err) || String((err as Error).message).startsWith('cannot connect to Redis');
        const wait = backoff.next();
        if (!retryable || this.#closed || Date.now() - started + wait > this.#retry.maxElapsedMs) {
          const msg = (err as Error).message;
          throw new Error(msg.includes('Redis at') ? msg : `redis cache ${what} at ${redisAddress(this.#conf)}: ${msg}`, { cause: err });
        }
        await sleep(wait, this.#abort.signal);
      }
    }
  }

  #ttl(ttlMs: number | undefined): number | undefined {
    const t = ttlMs ?? this.#defaultTtlMs;
    return t && t > 0 ? Math.max(1, Math.round(t)) : undefined;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const v = await this.#run('get', (c) => c.getBuffer(this.#prefix + key));
    return v ?? undefined;
  }

  async set(key: string, value: Uint8Array, ttlMs?: number): Promise<void> {
    const ttl = this.#ttl(ttlMs);
    const v = Buffer.from(value);
    await this.#run('set', (c) => (ttl ? c.set(this.#prefix + key, v, 'PX', ttl) : c.set(this.#prefix + key, v)));
  }

  async add(key: string, value: Uint8Array, ttlMs?: number): Promise<void> {
    const ttl = this.#ttl(ttlMs);
    const v = Buffer.from(value);
    const r = await this.#run('add', (c) => (ttl ? c.set(this.#prefix + key, v, 'PX', ttl, 'NX') : c.set(this.#prefix + key, v, 'NX')));
    if (r === null) throw sluiceError('SLU_ERR_CACHE_KEY_EXISTS');
  }

  async delete(key: string): Promise<void> {
    await this.#run('delete', (c) => c.del(this.#prefix + key));
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#abort.abort();
    const c = this.#client;
    this.#client = undefined;
    await closeRedis(c);
  }
}

export const spec = defineCache<RedisCacheConfig>({
  name: 'redis',
  summary: 'Uses a Redis server as a cache. A TTL of zero or an empty string means no expiry.',
  description: 'Keys are prefixed with `prefix`. `add` uses SET NX, so it fails when the key exists. Operations that fail because the server cannot be reached are retried as set by `retries`, then fail with an error naming the server.',
  config: field.object('', '', [
    ...redisFields(),
    field.string('prefix', 'A prefix for every key, to avoid collisions with other users of the server.', { optional: true }),
    field.duration('default_ttl', 'The TTL of items written without one (empty: none).', { optional: true, advanced: true }),
    field.object('retries', 'Retries of operations that fail to reach the server.', [
      field.duration('initial_interval', 'The first wait between attempts.', { default: '500ms', examples: ['50ms', '1s'] }),
      field.duration('max_interval', 'The longest wait between attempts.', { default: '1s', examples: ['5s', '1m'] }),
      field.duration('max_elapsed_time', 'The longest time spent retrying before the operation fails.', { default: '5s', examples: ['1m', '1h'] }),
    ], { advanced: true }),
  ]),
  examples: [
    {
      title: 'A shared cache',
      config: 'cache_resources:\n  - label: shared\n    redis:\n      url: redis://localhost:6379\n      prefix: "sluice:"\n      default_ttl: 1h\n',
    },
  ],
  build: (conf, ctx) => new RedisCache(conf, ctx),
});
