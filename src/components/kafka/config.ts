/**
 * Configuration pieces shared by the `kafka` and `kafka_franz` inputs and outputs: broker
 * address lists, the `topic:partition[:offset]` syntax, byte sizes such as `50MiB`, SASL blocks
 * (the single `sasl` object of `kafka`, the `sasl` list of `kafka_franz`), and the client
 * options they become.
 */
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { SASLOptions } from '@platformatic/kafka';
import type { ComponentContext } from '../../engine/component.js';
import { field, type FieldSpec } from '../../engine/spec.js';
import { notConnected } from '../../engine/errors.js';
import { clientTls, type TlsConfig } from '../tls-common.js';

// ---------------------------------------------------------------------------------------------
// Addresses

/** Expands comma separated entries (`a:9092,b:9092`) and trims them; adds the default port. */
export function splitAddresses(list: readonly string[]): string[] {
  const out: string[] = [];
  for (const entry of list) {
    for (const part of entry.split(',')) {
      const a = part.trim();
      if (!a) continue;
      out.push(/:\d+$/.test(a) ? a : `${a}:9092`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Topics

/** Topics to consume: whole (balanced) topics and explicit partitions, with optional start offsets. */
export interface TopicSelection {
  /** Topics consumed in full (partitions balanced in a group, or all of them without one). */
  readonly topics: string[];
  /** Explicit partitions per topic; the offset is where to start (undefined: committed / start_from_oldest). */
  readonly partitions: Map<string, Map<number, bigint | undefined>>;
}

/**
 * Parses the `topics` field: comma separated entries, each `topic`, `topic:partition`,
 * `topic:from-to` (inclusive range) or, when `allowOffsets`, `topic:partition:offset`.
 * Throws on malformed entries.
 */
export function parseTopics(list: readonly string[], allowOffsets: boolean): TopicSelection {
  const topics: string[] = [];
  const partitions = new Map<string, Map<number, bigint | undefined>>();
  for (const entry of list) {
    for (const raw of entry.split(',')) {
      const item = raw.trim();
      if (!item) continue;
      const parts = item.split(':');
      const topic = parts[0]!.trim();
      if (!topic) throw new Error(`topic "${item}": the topic name is empty`);
      if (parts.length === 1) {
        if (!topics.includes(topic)) topics.push(topic);
        continue;
      }
      if (parts.length > (allowOffsets ? 3 : 2)) {
        throw new Error(`topic "${item}": expected ${allowOffsets ? 'topic, topic:partition or topic:partition:offset' : 'topic or topic:partition'}`);
      }
      let offset: bigint | undefined;
      if (parts.length === 3) {
        const o = parts[2]!.trim();
        if (!/^-?\d+$/.test(o)) throw new Error(`topic "${item}": offset "${o}" is not an integer`);
        offset = BigInt(o);
      }
      const range = /^(\d+)(?:-(\d+))?$/.exec(parts[1]!.trim());
      if (!range) throw new Error(`topic "${item}": partition "${parts[1]}" is not a number or a range like 0-5`);
      const from = Number(range[1]);
      const to = range[2] === undefined ? from : Number(range[2]);
      if (to < from) throw new Error(`topic "${item}": the partition range ends before it starts`);
      if (offset !== undefined && to !== from) throw new Error(`topic "${item}": an offset needs a single partition`);
      let m = partitions.get(topic);
      if (!m) partitions.set(topic, (m = new Map()));
      for (let p = from; p <= to; p++) m.set(p, offset);
    }
  }
  return { topics, partitions };
}

// ---------------------------------------------------------------------------------------------
// Sizes

const UNITS: Record<string, number> = {
  '': 1, b: 1,
  k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9,
  ki: 1024, kib: 1024, mi: 1024 ** 2, mib: 1024 ** 2, gi: 1024 ** 3, gib: 1024 ** 3,
};

/** Parses byte sizes as Benthos does: `1MB` (10^6), `1MiB` (2^20), `50mib`, `1000`. */
export function parseBytes(text: string | number): number {
  if (typeof text === 'number') return text;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new Error(`invalid byte size "${text}": expected e.g. 1MB, 50MiB or 1000`);
  return Math.floor(Number(m[1]) * unit);
}

// ---------------------------------------------------------------------------------------------
// SASL

export const SASL_MECHANISMS = ['none', 'PLAIN', 'OAUTHBEARER', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'AWS_MSK_IAM'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

/** The `kafka` (sarama) `sasl` object. */
export interface KafkaSaslConfig {
  mechanism: string;
  user: string;
  password: string;
  access_token: string;
  token_cache: string;
  token_key: string;
}

/** One entry of the `kafka_franz` `sasl` list. */
export interface FranzSaslConfig {
  mechanism: string;
  username: string;
  password: string;
  token: string;
  extensions?: Record<string, string>;
}

const awsFields = (): FieldSpec =>
  field.object('aws', 'AWS settings for AWS_MSK_IAM (accepted for compatibility; that mechanism is not supported).', [
    field.string('region', 'The AWS region.', { default: '' }),
    field.string('endpoint', 'A custom AWS endpoint.', { default: '' }),
    field.object('credentials', 'Manual AWS credentials.', [
      field.string('profile', 'A profile of ~/.aws/credentials.', { default: '' }),
      field.string('id', 'Credentials ID.', { default: '' }),
      field.string('secret', 'Credentials secret.', { default: '', secret: true }),
      field.string('token', 'Session token.', { default: '', secret: true }),
      field.bool('from_ec2_role', 'Use the EC2 instance role.', { default: false }),
      field.string('role', 'A role ARN to assume.', { default: '' }),
      field.string('role_external_id', 'External ID for the role.', { default: '' }),
      field.string('expiry_window', 'Refresh credentials this long before they expire.', { default: '' }),
    ], { advanced: true }),
  ], { advanced: true, optional: true });

/** `sasl` of the `kafka` input and output. */
export const kafkaSaslField = (): FieldSpec =>
  field.object('sasl', 'Enables SASL authentication.', [
    field.string('mechanism', 'The SASL mechanism; `none` disables SASL.', { default: 'none', options: [...SASL_MECHANISMS] }),
    field.string('user', 'A PLAIN or SCRAM username.', { default: '', examples: ['${USER}'] }),
    field.string('password', 'A PLAIN or SCRAM password.', { default: '', secret: true, examples: ['${PASSWORD}'] }),
    field.string('access_token', 'A static OAUTHBEARER access token.', { default: '', secret: true }),
    field.string('token_cache', 'A cache resource to read OAUTHBEARER tokens from, instead of a static access_token.', { default: '' }),
    field.string('token_key', 'The key to read from token_cache.', { default: '' }),
    field.object('oauth2', 'OAuth2 client credentials (accepted for compatibility; use access_token or token_cache).', [
      field.bool('enabled', 'Whether OAuth2 is used.', { default: false }),
      field.string('client_key', 'Client key.', { default: '' }),
      field.string('client_secret', 'Client secret.', { default: '', secret: true }),
      field.string('token_url', 'Token URL.', { default: '' }),
      field.stringList('scopes', 'Requested scopes.', { default: [] }),
      field.any('endpoint_params', 'Extra token endpoint parameters.', { optional: true }),
      field.any('extensions', 'SASL extensions.', { optional: true }),
    ], { advanced: true, optional: true }),
    awsFields(),
  ], { advanced: true });

/** `sasl` of the `kafka_franz` input and output: a list, the first supported entry is used. */
export const franzSaslField = (): FieldSpec =>
  field.objectList('sasl', 'One or more SASL methods; the first one is used.', [
    field.string('mechanism', 'The SASL mechanism.', { options: [...SASL_MECHANISMS] }),
    field.string('username', 'A username for PLAIN or SCRAM.', { default: '' }),
    field.string('password', 'A password for PLAIN or SCRAM.', { default: '', secret: true }),
    field.string('token', 'An OAUTHBEARER token.', { default: '', secret: true }),
    field.stringMap('extensions', 'Key/value pairs added to OAUTHBEARER requests.', { optional: true }),
    awsFields(),
  ], { advanced: true, optional: true, examples: [[{ mechanism: 'SCRAM-SHA-512', username: 'foo', password: 'bar' }]] });

function unsupported(mechanism: string): Error {
  return new Error(`SASL mechanism ${mechanism} is not supported by Sluice's Kafka client (use PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER)`);
}

/** Client SASL options from the `kafka` block; undefined for `none`. */
export function saslFromKafka(conf: KafkaSaslConfig | undefined, ctx: ComponentContext): SASLOptions | undefined {
  if (!conf || conf.mechanism === 'none' || conf.mechanism === '') return undefined;
  switch (conf.mechanism) {
    case 'PLAIN':
    case 'SCRAM-SHA-256':
    case 'SCRAM-SHA-512':
      return { mechanism: conf.mechanism, username: conf.user, password: conf.password };
    case 'OAUTHBEARER': {
      if (conf.token_cache) {
        const cacheName = conf.token_cache;
        const key = conf.token_key;
        return {
          mechanism: 'OAUTHBEARER',
          token: async () => {
            const v = await ctx.resources.get('cache', cacheName).get(key);
            if (v === undefined) throw new Error(`OAUTHBEARER token key ${key} not found in cache ${cacheName}`);
            return new TextDecoder().decode(v);
          },
        };
      }
      return { mechanism: 'OAUTHBEARER', token: conf.access_token };
    }
    default:
      throw unsupported(conf.mechanism);
  }
}

/** Client SASL options from the `kafka_franz` list; undefined when empty or `none`. */
export function saslFromFranz(list: readonly FranzSaslConfig[] | undefined): SASLOptions | undefined {
  const conf = list?.find((s) => s.mechanism !== 'none');
  if (!conf) return undefined;
  switch (conf.mechanism) {
    case 'PLAIN':
    case 'SCRAM-SHA-256':
    case 'SCRAM-SHA-512':
      return { mechanism: conf.mechanism, username: conf.username, password: conf.password };
    case 'OAUTHBEARER':
      return conf.extensions && Object.keys(conf.extensions).length
        ? { mechanism: 'OAUTHBEARER', token: conf.token, oauthBearerExtensions: conf.extensions }
        : { mechanism: 'OAUTHBEARER', token: conf.token };
    default:
      throw unsupported(conf.mechanism);
  }
}

// ---------------------------------------------------------------------------------------------
// Client options

/** What both the reader and the writer need to reach the brokers. */
export interface ClientOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly rackId: string;
  readonly tls: TlsConfig | undefined;
  readonly sasl: SASLOptions | undefined;
  /** How long one connection attempt may take. */
  readonly connectTimeoutMs: number;
  /** How long one request may take (fetches add their own wait). */
  readonly requestTimeoutMs: number;
}

/** The options `@platformatic/kafka` clients take in common. */
export async function baseClientOptions(o: ClientOptions): Promise<{
  clientId: string;
  bootstrapBrokers: string[];
  connectTimeout: number;
  requestTimeout: number;
  timeout: number;
  retries: number;
  retryDelay: number;
  tls?: TlsOptions;
  sasl?: SASLOptions;
}> {
  const tls = await clientTls(o.tls);
  return {
    clientId: o.clientId.trim() || 'sluice',
    bootstrapBrokers: [...o.brokers],
    connectTimeout: o.connectTimeoutMs,
    requestTimeout: o.requestTimeoutMs,
    timeout: o.requestTimeoutMs,
    retries: 1,
    retryDelay: 200,
    ...(tls ? { tls: tls as TlsOptions } : {}),
    ...(o.sasl ? { sasl: o.sasl } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Errors and timeouts

/** The innermost useful message of a client error (the client nests them). */
export function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const seen = new Set<string>();
  const parts: string[] = [];
  const visit = (e: Error, depth: number) => {
    if (depth > 4) return;
    const nested = (e as Error & { errors?: unknown }).errors;
    const cause = (e as Error & { cause?: unknown }).cause;
    const kids: Error[] = [];
    if (Array.isArray(nested)) for (const n of nested) if (n instanceof Error) kids.push(n);
    if (cause instanceof Error) kids.push(cause);
    if (kids.length === 0 || !/^(Cannot connect to any broker|Received response with error|Producing messages failed|Connection to)/.test(e.message)) {
      if (!seen.has(e.message)) {
        seen.add(e.message);
        parts.push(e.message);
      }
    }
    for (const k of kids) visit(k, depth + 1);
  };
  visit(err, 0);
  return parts.join('; ') || err.message;
}

/** `notConnected()` whose message says why: the engine logs the message of the error it gets. */
export function disconnected(cause: Error): Error {
  const e = notConnected(cause);
  e.message = `not connected: ${cause.message}`;
  return e;
}

/** An error that names the brokers, for connection failures. */
export function brokerError(what: string, brokers: readonly string[], err: unknown): Error {
  return new Error(`${what} Kafka at ${brokers.join(',')}: ${errorText(err)}`, { cause: err });
}

/** Rejects with `SLU_ERR_TIMEOUT`-like text after `ms`, so no client call can hang forever. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/**
 * Closes a client within 5 s. Consumers and producers are closed with `force` (pending requests
 * fail at once); an Admin client's `close` takes no such flag, so pass `force = false` for it.
 */
export function closeClient(client: { close(force?: boolean): Promise<void> }, what = 'closing the Kafka client', force = true): Promise<void> {
  return withTimeout(force ? client.close(true) : client.close(), 5_000, what);
}

/** True for errors that mean the connection to the cluster is unusable (vs. a rejected request). */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as Error & { code?: unknown }).code;
  if (code === 'PLT_KFK_NETWORK' || code === 'PLT_KFK_TIMEOUT') return true;
  if (/timed out|ECONNREFUSED|ECONNRESET|EPIPE|socket|Cannot connect|closed/i.test(err.message)) return true;
  const nested = (err as Error & { errors?: unknown }).errors;
  if (Array.isArray(nested)) return nested.some((e) => isConnectionError(e));
  const cause = (err as Error & { cause?: unknown }).cause;
  return cause !== undefined && cause !== err && isConnectionError(cause);
}
