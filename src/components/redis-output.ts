/**
 * The connection handling shared by the Redis outputs: one client, opened by `connect`,
 * dropped when the server goes away so that `write` reports `notConnected()`.
 */
import type { ComponentContext } from '../engine/component.js';
import { notConnected } from '../engine/errors.js';
import { closeRedis, onRedisClose, openRedis, redisError, redisReady, type RedisClient, type RedisConfig } from './redis-common.js';

export class RedisOutputConnection {
  readonly #conf: RedisConfig;
  readonly #ctx: ComponentContext;
  readonly #name: string;
  #client: RedisClient | undefined;

  constructor(conf: RedisConfig, ctx: ComponentContext, what: string) {
    this.#conf = conf;
    this.#ctx = ctx;
    this.#name = `sluice:${ctx.stream}:${what}`;
  }

  #connecting: Promise<void> | undefined;

  /** Opens the client (again); concurrent calls (several writes that lost it) share one attempt. */
  connect(signal: AbortSignal): Promise<void> {
    if (redisReady(this.#client)) return Promise.resolve();
    this.#connecting ??= this.#open(signal).finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  async #open(signal: AbortSignal): Promise<void> {
    this.#client?.disconnect();
    this.#client = undefined;
    const client = await openRedis(this.#conf, this.#ctx, signal, { name: this.#name });
    onRedisClose(client, () => {
      if (this.#client === client) this.#client = undefined;
    });
    this.#client = client;
  }

  /** The client, or `notConnected()` when there is none. */
  client(): RedisClient {
    const c = this.#client;
    if (!c || !redisReady(c)) throw notConnected();
    return c;
  }

  /** Runs a pipeline and throws the first failure (a lost connection as `notConnected()`). */
  async exec(build: (p: ReturnType<RedisClient['pipeline']>) => void): Promise<void> {
    const client = this.client();
    const p = client.pipeline();
    build(p);
    let results: [Error | null, unknown][] | null;
    try {
      results = await p.exec();
    } catch (err) {
      throw redisError(err);
    }
    if (!results) throw notConnected();
    for (const [err] of results) if (err) throw redisError(err);
  }

  async close(): Promise<void> {
    const c = this.#client;
    this.#client = undefined;
    await closeRedis(c);
  }
}
