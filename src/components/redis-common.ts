/**
 * Pieces shared by the Redis components: the connection fields as Benthos declares them
 * (`url`, `kind`, `master`, `tls`) and opening an ioredis client that fails fast.
 *
 * ioredis would reconnect forever and queue commands while offline. Here the engine owns
 * reconnects: clients are opened with no retry strategy and no offline queue, so a lost
 * server fails pending and new commands at once; components turn that into `notConnected()`
 * and the engine calls `connect()` again, with backoff, which opens a new client. Errors name
 * the address, never the password.
 */
import { Redis, Cluster, type RedisOptions, type ClusterOptions } from 'ioredis';
import type { ComponentContext } from '../engine/component.js';
import { field, tlsFields, type FieldSpec } from '../engine/spec.js';
import { notConnected } from '../engine/errors.js';
import { clientTls, type TlsConfig } from './tls-common.js';

export type RedisKind = 'simple' | 'cluster' | 'failover';

export interface RedisConfig {
  url: string;
  kind: RedisKind;
  master: string;
  tls: TlsConfig;
}

export type RedisClient = Redis | Cluster;

export const redisFields = (): FieldSpec[] => [
  field.string('url', 'The URL of the Redis server; the database is the URL path. Several comma-separated URLs for `cluster` and `failover`.', {
    examples: ['redis://:6379', 'redis://localhost:6379', 'redis://foousername:foopassword@redisplace:6379', 'redis://:foopassword@redisplace:6379', 'redis://localhost:6379/1', 'redis://localhost:6379/1,redis://localhost:6380/1'],
  }),
  field.string('kind', 'A simple, cluster-aware or failover-aware (Sentinel) client.', { default: 'simple', options: ['simple', 'cluster', 'failover'], advanced: true }),
  field.string('master', 'Name of the Redis master when `kind` is `failover`.', { default: '', advanced: true, examples: ['mymaster'] }),
  tlsFields(),
];

export interface RedisEndpoint {
  readonly host: string;
  readonly port: number;
  readonly username?: string;
  readonly password?: string;
  readonly db?: number;
  readonly tls: boolean;
}

/** Parses `redis://`, `rediss://` (TLS) and `tcp://` URLs, comma separated. */
export function parseRedisUrls(url: string): RedisEndpoint[] {
  const out: RedisEndpoint[] = [];
  for (const raw of url.split(',')) {
    const s = raw.trim();
    if (!s) continue;
    let withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(s) ? s : `redis://${s}`;
    // `redis://:6379` (no host, as in Benthos' examples) means the local host.
    withScheme = withScheme.replace(/^([a-z][a-z0-9+.-]*:\/\/)(:\d+)(\/|$)/i, '$1127.0.0.1$2$3');
    let u: URL;
    try {
      u = new URL(withScheme);
    } catch {
      throw new Error(`invalid Redis URL ${redactRedisUrl(s)}`);
    }
    const scheme = u.protocol.slice(0, -1);
    if (!['redis', 'rediss', 'tcp', 'tls'].includes(scheme)) throw new Error(`unsupported Redis URL scheme ${scheme}: (use redis:// or rediss://)`);
    const db = u.pathname.replace(/^\//, '');
    if (db && !/^\d+$/.test(db)) throw new Error(`invalid Redis database "${db}" in URL ${redactRedisUrl(s)}`);
    out.push({
      host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
      port: u.port ? Number(u.port) : 6379,
      ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
      ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
      ...(db ? { db: Number(db) } : {}),
      tls: scheme === 'rediss' || scheme === 'tls',
    });
  }
  if (out.length === 0) throw new Error('url: a Redis URL is needed');
  return out;
}

export function redactRedisUrl(s: string): string {
  return s.replace(/\/\/[^@/]*@/, '//***@');
}

/** host:port of every server, for messages. */
export function redisAddress(conf: Pick<RedisConfig, 'url'>): string {
  try {
    return parseRedisUrls(conf.url)
      .map((e) => `${e.host}:${e.port}`)
      .join(',');
  } catch {
    return redactRedisUrl(conf.url);
  }
}

const CONNECT_TIMEOUT_MS = 10_000;
/** Non-blocking commands that get no reply in this time fail (a hung server). */
export const COMMAND_TIMEOUT_MS = 10_000;

export interface OpenOptions {
  /** For a connection that runs blocking commands: no command timeout (the BLOCK argument bounds them). */
  readonly blocking?: boolean;
  /** Shown in CLIENT LIST. */
  readonly name?: string;
}

/**
 * Opens a client and waits until it is ready. Rejects with an error naming the address when it
 * cannot connect, after the connect timeout, or when `signal` aborts. The client never
 * reconnects by itself; watch `onClose` to learn that it is gone.
 */
export async function openRedis(conf: RedisConfig, ctx: ComponentContext, signal?: AbortSignal, opts: OpenOptions = {}): Promise<RedisClient> {
  const endpoints = parseRedisUrls(conf.url);
  const where = endpoints.map((e) => `${e.host}:${e.port}`).join(',');
  const first = endpoints[0]!;
  const tls = await clientTls(conf.tls);
  const tlsOpts = tls || first.tls ? { ...(tls ?? { rejectUnauthorized: true }) } : undefined;
  const common: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    reconnectOnError: () => false,
    autoResubscribe: false,
    enableReadyCheck: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    keepAlive: 10_000,
    connectionName: opts.name ?? `sluice:${ctx.stream}`,
    ...(opts.blocking ? {} : { commandTimeout: COMMAND_TIMEOUT_MS }),
    ...(first.username ? { username: first.username } : {}),
    ...(first.password ? { password: first.password } : {}),
    ...(first.db !== undefined ? { db: first.db } : {}),
    ...(tlsOpts ? { tls: tlsOpts } : {}),
  };
  let client: RedisClient;
  switch (conf.kind) {
    case 'cluster': {
      const copts: ClusterOptions = {
        lazyConnect: true,
        enableOfflineQueue: false,
        clusterRetryStrategy: () => null,
        enableReadyCheck: true,
        redisOptions: { ...common, lazyConnect: undefined, db: undefined } as RedisOptions,
      };
      client = new Cluster(endpoints.map((e) => ({ host: e.host, port: e.port })), copts);
      break;
    }
    case 'failover':
      if (!conf.master) throw new Error('kind failover needs the name of the master in `master`');
      client = new Redis({
        ...common,
        sentinels: endpoints.map((e) => ({ host: e.host, port: e.port })),
        name: conf.master,
        sentinelRetryStrategy: () => null,
        ...(first.password ? { sentinelPassword: first.password } : {}),
      });
      break;
    default:
      if (endpoints.length > 1) throw new Error('kind simple takes a single URL (use kind cluster or failover for several)');
      client = new Redis({ ...common, host: first.host, port: first.port });
  }
  // ioredis reports socket errors as events; without a listener they would crash the process.
  let lastError: Error | undefined;
  client.on('error', (err: Error) => {
    lastError = err;
  });
  if (signal?.aborted) {
    client.disconnect();
    throw new Error(`connecting to Redis at ${where} was cancelled`);
  }
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      client.disconnect();
      reject(new Error(`connecting to Redis at ${where} was cancelled`));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([client.connect(), aborted]);
    return client;
  } catch (err) {
    client.disconnect();
    const cause = lastError ?? err;
    const msg = (cause instanceof Error ? cause.message : String(cause)) || 'connection closed';
    if (msg.startsWith('connecting to Redis')) throw cause;
    throw new Error(`cannot connect to Redis at ${where}: ${msg}`, { cause });
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

/** Calls `fn` once when the client's connection ends (server gone, or closed by us). */
export function onRedisClose(client: RedisClient, fn: () => void): void {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    fn();
  };
  client.once('end', once);
  client.once('close', once);
}

/** True for the errors ioredis raises when the connection is gone or the server hangs. */
export function isRedisConnectionError(err: unknown): boolean {
  const msg = err instanceof Error ? err.message : String(err);
  return /Connection is closed|Stream isn't writeable|enableOfflineQueue|Command timed out|ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|Socket timeout|connection (lost|closed)|LOADING|Reached the max retries/i.test(msg);
}

/** Rethrows a lost connection as `notConnected()` (the engine reconnects), anything else as is. */
export function redisError(err: unknown): Error {
  if (isRedisConnectionError(err)) return notConnected(err);
  return err instanceof Error ? err : new Error(String(err));
}

/** Closes a client without throwing; QUIT when it is up so the server sees a clean close. */
export async function closeRedis(client: RedisClient | undefined): Promise<void> {
  if (!client) return;
  if (client.status === 'ready') {
    try {
      await Promise.race([client.quit(), new Promise((r) => setTimeout(r, 1000))]);
    } catch {
      // ignore
    }
  }
  client.disconnect();
}

/** Whether a client is usable now. */
export function redisReady(client: RedisClient | undefined): boolean {
  return client?.status === 'ready';
}
