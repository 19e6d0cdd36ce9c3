/**
 * What the `amqp_1` input and output share: the connection fields (as Benthos names them), SASL,
 * and a connect that tries each URL in turn with a hard timeout. Connections never reconnect on
 * their own: the engine's reconnect loop owns retries (with backoff and rate-limited logs).
 */
import rhea from 'rhea';
import type { Connection, ConnectionOptions, EventContext } from 'rhea';
import { field, tlsFields, type FieldSpec } from '../engine/spec.js';
import { clientTls, type TlsConfig } from './tls-common.js';
import { expandAmqpUrls, redactAmqpUrl } from './amqp-common.js';

export interface Amqp1SaslConfig {
  mechanism: string;
  user: string;
  password: string;
}

export interface Amqp1ClientConfig {
  urls?: string[];
  tls: TlsConfig;
  sasl: Amqp1SaslConfig;
}

export const amqp1UrlsField = (): FieldSpec =>
  field.stringList('urls', 'A list of URLs to connect to. The first URL to successfully establish a connection will be used until the connection is closed. If an item of the list contains commas it will be expanded into multiple URLs.', {
    optional: true,
    examples: [['amqp://guest:guest@127.0.0.1:5672/'], ['amqp://127.0.0.1:5672/,amqp://127.0.0.2:5672/']],
  });

export const amqp1TlsField = (): FieldSpec => tlsFields();

export const amqp1SaslField = (): FieldSpec =>
  field.object('sasl', 'Enables SASL authentication.', [
    field.string('mechanism', 'The SASL authentication mechanism to use. `none`: credentials from the URL if any (PLAIN), else ANONYMOUS; `plain`: PLAIN with `user` and `password`; `anonymous`: ANONYMOUS.', {
      default: 'none',
      options: ['none', 'plain', 'anonymous'],
    }),
    field.string('user', 'A SASL plain text username. It is recommended that you use environment variables to populate this field.', { default: '', examples: ['${USER}'] }),
    field.string('password', 'A SASL plain text password. It is recommended that you use environment variables to populate this field.', { default: '', secret: true, examples: ['${PASSWORD}'] }),
  ], { advanced: true });

export function lintAmqp1Client(conf: Amqp1ClientConfig): string[] {
  const out: string[] = [];
  if (expandAmqpUrls(conf.urls ?? []).length === 0) out.push('field urls must contain at least one URL');
  if (conf.sasl?.mechanism === 'plain' && conf.sasl.user === '') out.push('sasl.user is required with sasl.mechanism: plain');
  return out;
}

export const DIAL_TIMEOUT_MS = 30_000;

export interface Amqp1Connection {
  readonly connection: Connection;
  readonly url: string;
}

/** Connection options for one URL: host, port, TLS and SASL as Benthos derives them. */
export async function amqp1Options(url: string, conf: Amqp1ClientConfig): Promise<ConnectionOptions> {
  const u = new URL(url);
  const secure = u.protocol === 'amqps:' || conf.tls.enabled;
  if (u.protocol !== 'amqp:' && u.protocol !== 'amqps:') throw new Error(`expected an amqp:// or amqps:// URL, got ${u.protocol}//`);
  const port = u.port ? Number(u.port) : secure && u.protocol === 'amqps:' ? 5671 : 5672;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const base = { host, port, reconnect: false, idle_time_out: 60_000, container_id: `sluice-${process.pid}` };
  let auth: { username?: string; password?: string } = {};
  const mech = conf.sasl.mechanism;
  if (mech === 'plain') auth = { username: conf.sasl.user, password: conf.sasl.password };
  else if (mech === 'none' && (u.username || u.password)) auth = { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
  if (!secure) return { ...base, ...auth, transport: 'tcp' } as ConnectionOptions;
  const tls = await clientTls({ ...conf.tls, enabled: true });
  return {
    ...base,
    ...auth,
    transport: 'tls',
    servername: host,
    rejectUnauthorized: tls?.rejectUnauthorized ?? true,
    ...(tls?.ca ? { ca: tls.ca } : {}),
    ...(tls?.cert ? { cert: tls.cert } : {}),
    ...(tls?.key ? { key: tls.key } : {}),
  } as ConnectionOptions;
}

function errorText(ctx: EventContext | undefined): string {
  const e = (ctx?.error ?? ctx?.connection?.error) as { message?: string; description?: string; condition?: string; code?: string } | undefined;
  if (!e) return 'connection closed';
  return [e.condition, e.description ?? e.message, e.code].filter(Boolean).join(': ') || String(e);
}

/** Connects to the first URL that accepts, each attempt bounded by `timeoutMs`. */
export async function connectAmqp1(conf: Amqp1ClientConfig, signal: AbortSignal, timeoutMs = DIAL_TIMEOUT_MS): Promise<Amqp1Connection> {
  const urls = expandAmqpUrls(conf.urls ?? []);
  if (urls.length === 0) throw new Error('amqp_1: no URL configured');
  const failures: string[] = [];
  for (const url of urls) {
    if (signal.aborted) break;
    try {
      return { connection: await connectOne(url, conf, signal, timeoutMs), url };
    } catch (err) {
      failures.push(`${redactAmqpUrl(url)}: ${(err as Error).message}`);
    }
  }
  if (signal.aborted) throw new Error('amqp_1: connect aborted (shutting down)');
  throw new Error(`amqp_1: cannot connect to ${failures.join('; ')}`);
}

async function connectOne(url: string, conf: Amqp1ClientConfig, signal: AbortSignal, timeoutMs: number): Promise<Connection> {
  const options = await amqp1Options(url, conf);
  return new Promise<Connection>((resolve, reject) => {
    const container = rhea.create_container();
    const connection = container.connect(options);
    // Handlers for the connection's whole life: unhandled rhea events would only be printed.
    connection.on('error', () => {});
    connection.on('disconnected', () => {});
    connection.on('connection_error', () => {});
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      connection.removeListener('connection_open', onOpen);
      connection.removeListener('connection_error', onFail);
      connection.removeListener('disconnected', onFail);
      if (err) {
        closeQuietly(connection);
        reject(err);
      } else resolve(connection);
    };
    const onOpen = () => finish();
    const onFail = (ctx: EventContext) => finish(new Error(errorText(ctx)));
    const onAbort = () => finish(new Error('aborted'));
    const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs}ms`)), timeoutMs);
    connection.once('connection_open', onOpen);
    connection.on('connection_error', onFail);
    connection.on('disconnected', onFail);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function closeQuietly(connection: Connection): void {
  try {
    if (connection.is_open()) connection.close();
    else connection.socket?.destroy?.();
  } catch {
    // already gone
  }
}

/** Closes a connection, waiting at most `ms` for the peer's close. */
export function closeConnection(connection: Connection, ms = 2000): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!connection.is_open()) {
      closeQuietly(connection);
      resolve();
      return;
    }
    const t = setTimeout(() => {
      closeQuietly(connection);
      resolve();
    }, ms);
    t.unref();
    connection.once('connection_close', () => {
      clearTimeout(t);
      resolve();
    });
    closeQuietly(connection);
  });
}

export { errorText as amqp1ErrorText };

/**
 * Waits until a sender or receiver link is attached; rejects with the broker's reason when the
 * attach is refused (a refusal often ends the whole session) or the connection drops.
 */
export function awaitLink(connection: Connection, link: { once(event: string, fn: (ctx: EventContext) => void): unknown }, kind: 'sender' | 'receiver'): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out attaching the ${kind}`)), DIAL_TIMEOUT_MS);
    const fail = (ctx: EventContext) => {
      clearTimeout(t);
      reject(new Error(errorText(ctx)));
    };
    link.once(`${kind}_open`, () => {
      clearTimeout(t);
      resolve();
    });
    link.once(`${kind}_error`, fail);
    connection.once('session_error', (ctx: EventContext) => fail({ error: ctx.session?.error } as EventContext));
    connection.once('disconnected', fail);
  });
}
