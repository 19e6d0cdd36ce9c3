/**
 * The change channel: when a key, policy or API changes, every process hears about it within a
 * second and drops what it cached. Three carriers, one interface:
 *  - in-process (no Redis, embedded store: there is only one process);
 *  - Redis pub/sub (`--redis`);
 *  - PostgreSQL LISTEN/NOTIFY (`--store postgres://...` without Redis).
 * A process hears its own messages at once, in-process, and ignores their echo.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import pg from 'pg';
import type { AccessEvent } from '../access/types.js';
import type { Logger } from '../engine/logger.js';
import { parsePostgresUrl } from '../store/sql.js';
import { checkSchemaName } from '../store/schema.js';

export type ChangeMessage = AccessEvent | { readonly kind: 'reload' };

export type ChangeListener = (msg: ChangeMessage, from: 'local' | 'remote') => void;

export interface ChangeBus {
  readonly kind: 'memory' | 'redis' | 'postgres';
  publish(msg: ChangeMessage): Promise<void>;
  subscribe(fn: ChangeListener): () => void;
  close(): Promise<void>;
}

interface Envelope {
  readonly o: string;
  readonly m: ChangeMessage;
}

abstract class BaseBus {
  readonly #listeners = new Set<ChangeListener>();
  protected readonly origin = randomBytes(8).toString('hex');
  protected readonly logger: Logger | undefined;

  constructor(logger?: Logger) {
    this.logger = logger;
  }

  subscribe(fn: ChangeListener): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  protected deliver(msg: ChangeMessage, from: 'local' | 'remote'): void {
    for (const fn of [...this.#listeners]) {
      try {
        fn(msg, from);
      } catch (err) {
        this.logger?.error('change listener failed', { error: (err as Error).message });
      }
    }
  }

  protected encode(msg: ChangeMessage): string {
    return JSON.stringify({ o: this.origin, m: msg } satisfies Envelope);
  }

  /** Delivers a message received from the carrier, unless it is our own echo. */
  protected receive(raw: string): void {
    let env: Envelope;
    try {
      env = JSON.parse(raw) as Envelope;
    } catch {
      return;
    }
    if (!env || typeof env !== 'object' || env.o === this.origin || !env.m || typeof env.m.kind !== 'string') return;
    this.deliver(env.m, 'remote');
  }
}

export class MemoryBus extends BaseBus implements ChangeBus {
  readonly kind = 'memory' as const;

  async publish(msg: ChangeMessage): Promise<void> {
    this.deliver(msg, 'local');
  }

  async close(): Promise<void> {}
}

export class RedisBus extends BaseBus implements ChangeBus {
  readonly kind = 'redis' as const;
  readonly #pub: Redis;
  readonly #sub: Redis;
  readonly #channel: string;

  private constructor(pub: Redis, sub: Redis, channel: string, logger?: Logger) {
    super(logger);
    this.#pub = pub;
    this.#sub = sub;
    this.#channel = channel;
  }

  /** `redis` publishes; a duplicate connection subscribes. */
  static async create(redis: Redis, prefix: string, logger?: Logger): Promise<RedisBus> {
    const sub = redis.duplicate();
    sub.on('error', () => undefined);
    const bus = new RedisBus(redis, sub, `${prefix}changes`, logger);
    sub.on('message', (channel: string, raw: string) => {
      if (channel === bus.#channel) bus.receive(raw);
    });
    await sub.subscribe(bus.#channel);
    return bus;
  }

  async publish(msg: ChangeMessage): Promise<void> {
    this.deliver(msg, 'local');
    try {
      await this.#pub.publish(this.#channel, this.encode(msg));
    } catch (err) {
      this.logger?.error('could not publish a change to Redis; other processes see it at their next reload', { error: (err as Error).message });
    }
  }

  async close(): Promise<void> {
    try {
      await this.#sub.quit();
    } catch {
      this.#sub.disconnect();
    }
  }
}

export interface PostgresBusOptions {
  readonly url: string;
  readonly schema?: string;
  readonly logger?: Logger;
}

/** LISTEN/NOTIFY on one dedicated connection, reconnecting after a drop. */
export class PostgresBus extends BaseBus implements ChangeBus {
  readonly kind = 'postgres' as const;
  readonly #connectionString: string;
  readonly #channel: string;
  #client: pg.Client | undefined;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;

  private constructor(connectionString: string, channel: string, logger?: Logger) {
    super(logger);
    this.#connectionString = connectionString;
    this.#channel = channel;
  }

  static async create(opts: PostgresBusOptions): Promise<PostgresBus> {
    const parsed = parsePostgresUrl(opts.url);
    const schema = checkSchemaName(opts.schema ?? parsed.schema ?? 'sluice');
    const bus = new PostgresBus(parsed.connectionString, `${schema}_changes`, opts.logger);
    await bus.#connect();
    return bus;
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#connectionString });
    client.on('error', () => this.#reconnect(client));
    client.on('end', () => this.#reconnect(client));
    client.on('notification', (n) => {
      if (n.channel === this.#channel && n.payload) this.receive(n.payload);
    });
    await client.connect();
    await client.query(`LISTEN "${this.#channel}"`);
    this.#client = client;
  }

  #reconnect(client: pg.Client): void {
    if (this.#closed || this.#client !== client) return;
    this.#client = undefined;
    client.end().catch(() => undefined);
    const attempt = () => {
      if (this.#closed) return;
      this.#connect().then(
        () => this.logger?.info('change channel reconnected to PostgreSQL'),
        () => {
          this.#retry = setTimeout(attempt, 1000);
        },
      );
    };
    this.#retry = setTimeout(attempt, 200);
  }

  async publish(msg: ChangeMessage): Promise<void> {
    this.deliver(msg, 'local');
    const client = this.#client;
    if (!client) {
      this.logger?.error('change channel is down; other processes see this change at their next reload');
      return;
    }
    try {
      await client.query('SELECT pg_notify($1, $2)', [this.#channel, this.encode(msg)]);
    } catch (err) {
      this.logger?.error('could not publish a change to PostgreSQL', { error: (err as Error).message });
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    const c = this.#client;
    this.#client = undefined;
    await c?.end().catch(() => undefined);
  }
}
