/**
 * Two Redis connections for inputs that block on the server (BLPOP, XREADGROUP BLOCK): one
 * runs the blocking command, the other sends everything else (acks, push-backs) so those never
 * wait behind a block, and CLIENT UNBLOCK when a read is abandoned.
 *
 * A blocking command abandoned by an aborted read is not lost: its promise is kept, and its
 * result is what the next read (or `stop`) gets, so an item the server already handed over is
 * never dropped.
 */
import type { Redis } from 'ioredis';
import type { ComponentContext } from '../engine/component.js';
import type { Logger } from '../engine/logger.js';
import { notConnected } from '../engine/errors.js';
import { closeRedis, onRedisClose, openRedis, redisError, redisReady, type RedisClient, type RedisConfig } from './redis-common.js';

export interface BlockingResult<T> {
  /** The read was abandoned; a value that still arrives goes to the next call. */
  readonly aborted: boolean;
  readonly value: T | undefined;
}

export class BlockingConnection<T> {
  readonly logger: Logger;
  readonly #conf: RedisConfig;
  readonly #ctx: ComponentContext;
  readonly #what: string;
  #main: RedisClient | undefined;
  #ctl: RedisClient | undefined;
  #mainId: number | undefined;
  #pending: Promise<T> | undefined;
  #lost = false;

  constructor(conf: RedisConfig, ctx: ComponentContext, what: string) {
    this.#conf = conf;
    this.#ctx = ctx;
    this.#what = what;
    this.logger = ctx.logger;
  }

  /** The non-blocking connection, when connected. */
  get control(): RedisClient | undefined {
    return this.#ctl;
  }

  get connected(): boolean {
    return !this.#lost && redisReady(this.#main) && redisReady(this.#ctl);
  }

  #connecting: Promise<void> | undefined;

  /** Opens both connections (again); concurrent calls share one attempt. */
  connect(signal: AbortSignal): Promise<void> {
    if (this.connected) return Promise.resolve();
    this.#connecting ??= this.#open(signal).finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  async #open(signal: AbortSignal): Promise<void> {
    await this.close();
    const name = `sluice:${this.#ctx.stream}:${this.#what}`;
    const main = await openRedis(this.#conf, this.#ctx, signal, { blocking: true, name });
    let ctl: RedisClient;
    try {
      ctl = await openRedis(this.#conf, this.#ctx, signal, { name: `${name}:ctl` });
    } catch (err) {
      main.disconnect();
      throw err;
    }
    this.#lost = false;
    // Only the current pair counts: closing an old one must not mark the new one lost.
    const lost = () => {
      if (this.#main === main) this.#lost = true;
    };
    onRedisClose(main, lost);
    onRedisClose(ctl, lost);
    this.#main = main;
    this.#ctl = ctl;
    this.#mainId = undefined;
    if (this.#conf.kind !== 'cluster') {
      try {
        this.#mainId = Number(await (main as Redis).client('ID'));
      } catch {
        // Without it an abandoned read waits for its own timeout.
      }
    }
  }

  /** Runs (or resumes) the blocking command; returns early, `aborted`, when `signal` aborts. */
  async blocking(signal: AbortSignal, run: (client: Redis) => Promise<T>): Promise<BlockingResult<T>> {
    const main = this.#main;
    if (!main || this.#lost) throw notConnected();
    if (!this.#pending) {
      const p = run(main as Redis);
      this.#pending = p;
      // Settle-proof: an abandoned command that later fails must not be an unhandled rejection.
      p.catch(() => undefined);
    }
    const pending = this.#pending;
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<'aborted'>((resolve) => {
      if (signal.aborted) return resolve('aborted');
      onAbort = () => resolve('aborted');
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      const r = await Promise.race([pending, aborted]);
      if (r === 'aborted') {
        void this.#unblock();
        return { aborted: true, value: undefined };
      }
      this.#pending = undefined;
      return { aborted: false, value: r };
    } catch (err) {
      this.#pending = undefined;
      throw redisError(err);
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }

  async #unblock(): Promise<void> {
    const ctl = this.#ctl;
    if (this.#mainId === undefined || !ctl || !redisReady(ctl)) return;
    try {
      await (ctl as Redis).client('UNBLOCK', this.#mainId);
    } catch {
      // the command ends at its own timeout
    }
  }

  /**
   * Ends a blocking command still running (CLIENT UNBLOCK) and returns what it produced, so the
   * caller can hand it back. Waits at most a few seconds.
   */
  async stop(): Promise<T | undefined> {
    const pending = this.#pending;
    this.#pending = undefined;
    if (!pending) return undefined;
    await this.#unblock();
    const timeout = new Promise<undefined>((r) => setTimeout(() => r(undefined), 3000).unref());
    try {
      return await Promise.race([pending, timeout]);
    } catch {
      return undefined;
    }
  }

  async close(): Promise<void> {
    const main = this.#main;
    const ctl = this.#ctl;
    this.#main = undefined;
    this.#ctl = undefined;
    this.#pending = undefined;
    main?.disconnect();
    await closeRedis(ctl);
  }
}
