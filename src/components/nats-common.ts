/**
 * Pieces shared by the NATS components (`nats`, `nats_jetstream`): the connection fields as
 * Benthos declares them (`urls`, `tls`, `auth`), opening a connection, and the metadata
 * filter of the outputs.
 *
 * Reconnects belong to the engine: the client is opened with `reconnect: false`, so a lost
 * server closes the connection, the component reports `notConnected()` and the engine calls
 * `connect()` again with backoff. Errors name the servers, never the credentials.
 */
import { readFile } from 'node:fs/promises';
import {
  connect,
  credsAuthenticator,
  headers as natsHeaders,
  jwtAuthenticator,
  nkeyAuthenticator,
  type Authenticator,
  type MsgHdrs,
  type NatsConnection,
  type NodeConnectionOptions,
} from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { ComponentContext } from '../engine/component.js';
import type { InterpolatedString } from '../engine/bloblang-api.js';
import type { Batch, Message } from '../engine/message.js';
import { field, tlsFields, type FieldSpec } from '../engine/spec.js';
import { clientTls, type TlsConfig } from './tls-common.js';

export interface NatsAuthConfig {
  nkey_file?: string;
  nkey?: string;
  user_credentials_file?: string;
  user_jwt?: string;
  user_nkey_seed?: string;
  user?: string;
  password?: string;
  token?: string;
}

export interface NatsConnectionConfig {
  urls: string[];
  tls: TlsConfig;
  auth?: NatsAuthConfig;
}

export const natsUrlsField = (): FieldSpec =>
  field.stringList('urls', 'A list of URLs to connect to. An item containing commas is split into several URLs.', {
    examples: [['nats://127.0.0.1:4222'], ['nats://username:password@127.0.0.1:4222']],
  });

export const natsAuthField = (): FieldSpec =>
  field.object('auth', 'Optional NATS authentication: an NKey seed, user credentials (JWT + seed), or user/password or token.', [
    field.string('nkey_file', 'A file holding an NKey seed.', { optional: true, examples: ['./seed.nk'] }),
    field.string('nkey', 'An NKey seed given in the config.', { optional: true, secret: true }),
    field.string('user_credentials_file', 'A credentials file holding a user JWT and its NKey seed (as made by `nsc`).', { optional: true, examples: ['./user.creds'] }),
    field.string('user_jwt', 'A user JWT, given with `user_nkey_seed`.', { optional: true, secret: true }),
    field.string('user_nkey_seed', 'The NKey seed of `user_jwt`.', { optional: true, secret: true }),
    field.string('user', 'A user name (with `password`).', { optional: true }),
    field.string('password', 'The password of `user`.', { optional: true, secret: true }),
    field.string('token', 'An authentication token.', { optional: true, secret: true }),
  ], { optional: true, advanced: true });

/** `tls` then `auth`, after a component's own fields (the Benthos order). */
export const natsTailFields = (): FieldSpec[] => [tlsFields(), natsAuthField()];

export const natsMetadataField = (): FieldSpec =>
  field.object('metadata', 'Which metadata keys are sent as message headers (none by default).', [
    field.stringList('include_prefixes', 'Keys with any of these prefixes.', { default: [], examples: [['foo_', 'bar_'], ['kafka_']] }),
    field.stringList('include_patterns', 'Keys matching any of these regular expressions.', { default: [], examples: [['.*'], ['_timestamp_unix$']] }),
  ]);

export const connectionNameNote =
  'The connection is named `sluice:<stream>:<config path>`, so NATS monitoring shows which Sluice component it belongs to.';

export const natsAuthNote =
  'Authentication: `auth.nkey_file` (an NKey seed file), `auth.user_credentials_file` (a `.creds` file), `auth.user_jwt` with `auth.user_nkey_seed`, or a user and password in the URL (`nats://user:pass@host:4222`).';

interface ParsedServers {
  readonly servers: string[];
  readonly user?: string;
  readonly pass?: string;
  readonly token?: string;
}

/** Splits comma lists, takes credentials out of the URLs (so they never reach a log line). */
export function parseNatsUrls(urls: readonly string[]): ParsedServers {
  const servers: string[] = [];
  let user: string | undefined;
  let pass: string | undefined;
  let token: string | undefined;
  for (const item of urls) {
    for (const raw of item.split(',')) {
      const s = raw.trim();
      if (!s) continue;
      const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(s) ? s : `nats://${s}`;
      let u: URL;
      try {
        u = new URL(withScheme);
      } catch {
        throw new Error(`invalid NATS URL ${redactUrl(s)}`);
      }
      if (u.username) {
        const name = decodeURIComponent(u.username);
        if (u.password) {
          user = name;
          pass = decodeURIComponent(u.password);
        } else token = name;
      }
      const port = u.port || '4222';
      const scheme = u.protocol === 'tls:' ? 'tls://' : u.protocol === 'nats:' ? '' : `${u.protocol}//`;
      servers.push(`${scheme}${u.hostname}:${port}`);
    }
  }
  if (servers.length === 0) throw new Error('urls: at least one NATS server URL is needed');
  return { servers, ...(user !== undefined ? { user } : {}), ...(pass !== undefined ? { pass } : {}), ...(token !== undefined ? { token } : {}) };
}

function redactUrl(s: string): string {
  return s.replace(/\/\/[^@/]*@/, '//***@');
}

async function authenticators(auth: NatsAuthConfig | undefined): Promise<Authenticator[]> {
  const out: Authenticator[] = [];
  if (!auth) return out;
  const enc = new TextEncoder();
  if (auth.nkey_file) {
    const seed = (await readAuthFile(auth.nkey_file, 'auth.nkey_file')).trim();
    out.push(nkeyAuthenticator(enc.encode(seed)));
  } else if (auth.nkey) {
    out.push(nkeyAuthenticator(enc.encode(auth.nkey.trim())));
  }
  if (auth.user_credentials_file) {
    const creds = await readAuthFile(auth.user_credentials_file, 'auth.user_credentials_file');
    out.push(credsAuthenticator(enc.encode(creds)));
  }
  if (auth.user_jwt || auth.user_nkey_seed) {
    if (!auth.user_jwt) throw new Error('auth.user_nkey_seed is set but auth.user_jwt is missing');
    if (!auth.user_nkey_seed) throw new Error('auth.user_jwt is set but auth.user_nkey_seed is missing');
    out.push(jwtAuthenticator(auth.user_jwt, enc.encode(auth.user_nkey_seed)));
  }
  return out;
}

async function readAuthFile(path: string, what: string): Promise<string> {
  const p = path.startsWith('~/') && process.env.HOME ? process.env.HOME + path.slice(1) : path;
  try {
    return await readFile(p, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${what} ${path}: ${(err as Error).message}`);
  }
}

/** How long opening a connection may take before it fails (per server). */
const CONNECT_TIMEOUT_MS = 10_000;

/** The server list for messages: host:port pairs, no credentials. */
export function natsAddress(conf: NatsConnectionConfig): string {
  try {
    return parseNatsUrls(conf.urls).servers.join(',');
  } catch {
    return conf.urls.map(redactUrl).join(',');
  }
}

/**
 * Opens a connection. Rejects with an error naming the servers when none can be reached, when
 * `signal` aborts, or after the connect timeout. The caller watches `nc.closed()`.
 */
export async function openNats(conf: NatsConnectionConfig, ctx: ComponentContext, signal?: AbortSignal): Promise<NatsConnection> {
  const { servers, user, pass, token } = parseNatsUrls(conf.urls);
  const where = servers.join(',');
  const opts: NodeConnectionOptions = {
    servers,
    name: ctx.path ? `sluice:${ctx.stream}:${ctx.path}` : 'sluice',
    reconnect: false,
    timeout: CONNECT_TIMEOUT_MS,
  };
  const auth = conf.auth;
  if (auth?.user ?? user) opts.user = auth?.user ?? user;
  if (auth?.password ?? pass) opts.pass = auth?.password ?? pass;
  if (auth?.token ?? token) opts.token = auth?.token ?? token;
  const auths = await authenticators(auth);
  if (auths.length === 1) opts.authenticator = auths[0]!;
  else if (auths.length > 1) opts.authenticator = auths;
  const tls = await clientTls(conf.tls);
  if (tls) {
    opts.tls = {
      rejectUnauthorized: tls.rejectUnauthorized,
      ...(tls.ca ? { ca: tls.ca.join('\n') } : {}),
      ...(tls.cert ? { cert: tls.cert[0]! } : {}),
      ...(tls.key ? { key: tls.key[0]!.pem } : {}),
    };
  }
  if (signal?.aborted) throw new Error(`connecting to NATS at ${where} was cancelled`);
  const pending = connect(opts);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new Error(`connecting to NATS at ${where} was cancelled`));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([pending, aborted]);
  } catch (err) {
    // A connection that completes after an abort must not linger.
    void pending.then((nc) => nc.close(), () => undefined);
    const msg = err instanceof Error ? err.message : String(err);
    if (msg.startsWith('connecting to NATS')) throw err;
    throw new Error(`cannot connect to NATS at ${where}: ${msg}`, { cause: err });
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

/** Closes a connection without throwing (it may already be closed). */
export async function closeNats(nc: NatsConnection | undefined): Promise<void> {
  if (!nc || nc.isClosed()) return;
  try {
    await nc.close();
  } catch {
    // already gone
  }
}

/** Selects the metadata keys an output sends (Benthos `metadata.include_*`). */
export class MetadataFilter {
  readonly #prefixes: readonly string[];
  readonly #patterns: readonly RegExp[];

  constructor(conf: { include_prefixes: string[]; include_patterns: string[] } | undefined) {
    this.#prefixes = conf?.include_prefixes ?? [];
    this.#patterns = (conf?.include_patterns ?? []).map((p) => new RegExp(p));
  }

  get empty(): boolean {
    return this.#prefixes.length === 0 && this.#patterns.length === 0;
  }

  matches(key: string): boolean {
    return this.#prefixes.some((p) => key.startsWith(p)) || this.#patterns.some((r) => r.test(key));
  }

  /** The selected metadata of `msg` as strings. */
  pick(msg: Message): [string, string][] {
    if (this.empty) return [];
    const out: [string, string][] = [];
    for (const [k, v] of Object.entries(msg.metaStrings())) if (this.matches(k)) out.push([k, v]);
    return out;
  }
}

/** Builds the NATS headers of an outgoing message; undefined when there are none. */
export function buildHeaders(pairs: readonly (readonly [string, string])[]): MsgHdrs | undefined {
  if (pairs.length === 0) return undefined;
  const h = natsHeaders();
  for (const [k, v] of pairs) {
    try {
      h.append(k, v);
    } catch {
      // A key NATS cannot carry as a header (spaces, colons) is skipped, as Go's client would fail it.
    }
  }
  return h;
}

/** Copies message headers into metadata: the first value of each, skipping empty ones (Benthos). */
export function headersToMeta(msg: Message, h: MsgHdrs | undefined): void {
  if (!h) return;
  for (const k of h.keys()) {
    const v = h.get(k);
    if (v !== '') msg.metaSet(k, v);
  }
}

/** What the NATS outputs send besides the payload. */
export interface NatsPublishConfig {
  subject: string;
  headers: Record<string, string>;
  metadata: { include_prefixes: string[]; include_patterns: string[] };
}

/** Subject, headers and metadata of each message, as both NATS outputs send them. */
export class NatsMessageShaper {
  readonly #subject: InterpolatedString;
  readonly #headers: [string, InterpolatedString][];
  readonly #meta: MetadataFilter;

  constructor(conf: NatsPublishConfig, ctx: ComponentContext) {
    this.#subject = ctx.bloblang.interpolate(conf.subject);
    this.#headers = Object.entries(conf.headers ?? {}).map(([k, v]) => [k, ctx.bloblang.interpolate(v)]);
    this.#meta = new MetadataFilter(conf.metadata);
  }

  subject(batch: Batch, i: number): string {
    const s = this.#subject.render(batch, i);
    if (!s) throw new Error('the subject interpolated to an empty string');
    return s;
  }

  headers(batch: Batch, i: number): [string, string][] {
    const out: [string, string][] = this.#headers.map(([k, v]) => [k, v.render(batch, i)]);
    out.push(...this.#meta.pick(batch[i]!));
    return out;
  }
}

export function isClosedError(err: unknown): boolean {
  const name = (err as { name?: string } | null)?.name ?? '';
  const msg = err instanceof Error ? err.message : String(err);
  return name === 'ClosedConnectionError' || name === 'DrainingConnectionError' || /connection (is )?(closed|draining)/i.test(msg);
}

// ---------------------------------------------------------------------------------------------
// NATS KV (`nats_kv` input, output, processor and cache)

export const natsKvBucketField = (): FieldSpec =>
  field.string('bucket', 'The name of the KV bucket.', { examples: ['my_kv_bucket'] });

/** The operation of a KV entry as Benthos names it (Go's `KeyValueOp.String()`). */
export function kvOperationName(op: string): string {
  switch (op) {
    case 'PUT':
      return 'KeyValuePutOp';
    case 'DEL':
      return 'KeyValueDeleteOp';
    case 'PURGE':
      return 'KeyValuePurgeOp';
    default:
      return 'Unknown Operation';
  }
}

/** RFC 3339 in UTC with the fraction trimmed of trailing zeros (Go's `time.RFC3339Nano`). */
export function rfc3339Nano(d: Date): string {
  const iso = d.toISOString();
  return iso.replace(/\.(\d+)Z$/, (_, frac: string) => {
    const f = frac.replace(/0+$/, '');
    return f ? `.${f}Z` : 'Z';
  });
}

/** The parts of a KV entry that become `nats_kv_*` metadata. */
export interface KvEntryLike {
  readonly bucket: string;
  readonly key: string;
  readonly revision: number;
  readonly delta?: number;
  readonly operation: string;
  readonly created: Date;
}

/**
 * Sets the six `nats_kv_*` metadata keys of an entry, as Benthos does for the input and for the
 * processor's `get`/`get_revision`: revision and delta are numbers (Benthos keeps them typed),
 * created is RFC 3339 text.
 */
export function setKvEntryMeta(msg: Message, e: KvEntryLike): Message {
  msg.metaSet('nats_kv_key', e.key);
  msg.metaSet('nats_kv_bucket', e.bucket);
  msg.metaSet('nats_kv_revision', e.revision);
  msg.metaSet('nats_kv_delta', e.delta ?? 0);
  msg.metaSet('nats_kv_operation', kvOperationName(e.operation));
  msg.metaSet('nats_kv_created', rfc3339Nano(e.created));
  return msg;
}

/** True for the JetStream error of a stream (bucket) that does not exist. */
export function isStreamNotFound(err: unknown): boolean {
  const e = err as { code?: unknown; name?: string; message?: string } | null;
  return e?.name === 'StreamNotFoundError' || e?.code === 10059 || /stream not found/i.test(e?.message ?? '');
}

/** True for the JetStream error of a conditional write whose expected revision did not match. */
export function isWrongLastSequence(err: unknown): boolean {
  const e = err as { code?: unknown; message?: string } | null;
  return e?.code === 10071 || e?.code === 10164 || /wrong last sequence/i.test(e?.message ?? '');
}

/**
 * Opens bucket `bucket` on `nc`, checking that it exists (the KV client alone would only fail on
 * first use). `timeoutMs` bounds each JetStream API request.
 */
export async function openKvBucket(nc: NatsConnection, bucket: string, timeoutMs: number): Promise<KV> {
  const kv = await new Kvm(jetstream(nc, { timeout: timeoutMs })).open(bucket);
  try {
    await kv.status();
  } catch (err) {
    if (isStreamNotFound(err)) throw new Error(`bucket ${bucket} not found`, { cause: err });
    throw err;
  }
  return kv;
}

/** After a failed connection attempt, operations fail at once for this long before retrying. */
const KV_RETRY_AFTER_MS = 1_000;

/**
 * A bucket connection opened on first use, for the components without a connect step (the
 * `nats_kv` processor and cache). Concurrent callers share one attempt; a closed connection is
 * reopened by the next call; a failed attempt is reported to every caller for a second before
 * the next one is made. Errors name the servers, never the credentials.
 */
export class LazyKvBucket {
  readonly #conf: NatsConnectionConfig & { bucket: string };
  readonly #ctx: ComponentContext;
  readonly #timeoutMs: number;
  readonly #what: string;
  #nc: NatsConnection | undefined;
  #kv: KV | undefined;
  #opening: Promise<KV> | undefined;
  #failure: { at: number; err: Error } | undefined;
  #closed = false;
  readonly #abort = new AbortController();

  constructor(conf: NatsConnectionConfig & { bucket: string }, ctx: ComponentContext, timeoutMs: number, what: string) {
    this.#conf = conf;
    this.#ctx = ctx;
    this.#timeoutMs = timeoutMs;
    this.#what = what;
  }

  get address(): string {
    return natsAddress(this.#conf);
  }

  async get(): Promise<KV> {
    if (this.#closed) throw new Error(`${this.#what} is closed`);
    if (this.#kv && this.#nc && !this.#nc.isClosed()) return this.#kv;
    if (this.#failure && Date.now() - this.#failure.at < KV_RETRY_AFTER_MS) throw this.#failure.err;
    this.#opening ??= this.#open().finally(() => (this.#opening = undefined));
    return this.#opening;
  }

  async #open(): Promise<KV> {
    const old = this.#nc;
    this.#nc = undefined;
    this.#kv = undefined;
    await closeNats(old);
    let nc: NatsConnection | undefined;
    try {
      nc = await openNats(this.#conf, this.#ctx, this.#abort.signal);
      const kv = await openKvBucket(nc, this.#conf.bucket, this.#timeoutMs);
      if (this.#closed) throw new Error(`${this.#what} is closed`);
      this.#nc = nc;
      this.#kv = kv;
      this.#failure = undefined;
      return kv;
    } catch (err) {
      await closeNats(nc);
      const msg = (err as Error).message;
      const e = new Error(msg.includes('NATS at') ? msg : `${this.#what} at ${this.address}: ${msg}`, { cause: err });
      this.#failure = { at: Date.now(), err: e };
      throw e;
    }
  }

  /** Forgets the connection when `err` says it is gone, so the next call reopens it. */
  dropIfClosed(err: unknown): void {
    if (this.#nc && (this.#nc.isClosed() || isClosedError(err))) {
      const nc = this.#nc;
      this.#nc = undefined;
      this.#kv = undefined;
      void closeNats(nc);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#abort.abort();
    const nc = this.#nc;
    this.#nc = undefined;
    this.#kv = undefined;
    await closeNats(nc);
  }
}
