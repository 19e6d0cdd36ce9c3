/**
 * What the `amqp_0_9` input and output share: the `urls` field, dialing each URL in turn with a
 * timeout (TLS and EXTERNAL auth as Benthos does them), and the mapping between AMQP headers /
 * properties and message metadata.
 */
import { connect as amqpConnect, credentials, type ChannelModel, type ConsumeMessage, type SocketOptions } from 'amqplib';
import { field, type FieldSpec } from '../engine/spec.js';
import type { Message } from '../engine/message.js';
import { metaToString } from '../engine/message.js';
import { clientTls, type TlsConfig } from './tls-common.js';

export const amqpUrlsField = (): FieldSpec =>
  field.stringList('urls', 'A list of URLs to connect to. The first URL to successfully establish a connection will be used until the connection is closed. If an item of the list contains commas it will be expanded into multiple URLs.', {
    examples: [['amqp://guest:guest@127.0.0.1:5672/'], ['amqp://127.0.0.1:5672/,amqp://127.0.0.2:5672/'], ['amqp://127.0.0.1:5672/', 'amqp://127.0.0.2:5672/']],
  });

/** Splits comma-separated entries and drops empty ones, as Benthos does. */
export function expandAmqpUrls(urls: readonly string[]): string[] {
  const out: string[] = [];
  for (const u of urls) {
    for (const part of u.split(',')) {
      const t = part.trim();
      if (t) out.push(t);
    }
  }
  return out;
}

/** Hides credentials in a URL for logs and errors. */
export function redactAmqpUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

/** How long one dial (TCP, TLS and the AMQP handshake) may take. */
export const DIAL_TIMEOUT_MS = 30_000;

export interface AmqpDialed {
  readonly model: ChannelModel;
  readonly url: string;
}

/**
 * Dials the URLs in order and returns the first connection that opens. Throws one error naming
 * every address tried and its failure. An `error` listener is attached at once so a broken
 * connection can never crash the process.
 */
export async function dialAmqp(urls: readonly string[], tlsConf: TlsConfig, signal: AbortSignal, timeoutMs = DIAL_TIMEOUT_MS): Promise<AmqpDialed> {
  const list = expandAmqpUrls(urls);
  if (list.length === 0) throw new Error('amqp: no URL configured');
  const tls = await clientTls(tlsConf);
  const failures: string[] = [];
  for (const url of list) {
    if (signal.aborted) break;
    try {
      return { model: await dialOne(url, tls, signal, timeoutMs), url };
    } catch (err) {
      failures.push(`${redactAmqpUrl(url)}: ${describeError(err)}`);
    }
  }
  if (signal.aborted) throw new Error('amqp: connect aborted (shutting down)');
  throw new Error(`amqp: cannot connect to ${failures.join('; ')}`);
}

function describeError(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length) return err.errors.map((e: unknown) => describeError(e)).join(', ');
  if (err instanceof Error) return err.message || (err as { code?: string }).code || err.name;
  return String(err);
}

async function dialOne(url: string, tls: Awaited<ReturnType<typeof clientTls>>, signal: AbortSignal, timeoutMs: number): Promise<ChannelModel> {
  let target = url;
  const sock: SocketOptions = { timeout: timeoutMs, noDelay: true };
  if (tls) {
    // With TLS enabled a plain amqp:// URL is dialled with TLS too (keeping its port).
    const u = new URL(url);
    if (u.protocol === 'amqp:') {
      if (!u.port) u.port = '5672';
      u.protocol = 'amqps:';
      target = u.toString();
    }
    sock.rejectUnauthorized = tls.rejectUnauthorized;
    if (tls.ca) sock.ca = tls.ca;
    if (tls.cert) sock.cert = tls.cert;
    if (tls.key) sock.key = tls.key;
    // No credentials in the URL: authenticate with the client certificate (SASL EXTERNAL).
    if (!u.username && !u.password) sock.credentials = credentials.external();
  }
  const attempt = amqpConnect(target, sock).then((model) => {
    model.on('error', () => {}); // reported through 'close' by the users of the connection
    return model;
  });
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs}ms`)), timeoutMs + 1000);
    onAbort = () => reject(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([attempt, guard]);
  } catch (err) {
    // A connection that opens after we gave up is closed, never leaked.
    void attempt.then((m) => m.close()).catch(() => {});
    throw err;
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/** Rejects with `what` timed out after `ms` unless `p` settles first (a stalled broker). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms}ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

// ---- metadata ----------------------------------------------------------------------------

/** Go's strconv.FormatFloat(v, 'f', -1, 64): shortest round-trip digits, never an exponent. */
export function formatFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  let s = String(n);
  // Values decoded from a 32-bit float field print with float32 precision.
  if (!Number.isInteger(n) && Math.fround(n) === n) {
    for (let p = 1; p <= 9; p++) {
      const c = Number(n.toPrecision(p));
      if (Math.fround(c) === n) {
        s = String(c);
        break;
      }
    }
  }
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s;
  const sign = m[1]!;
  const frac = m[3] ?? '';
  const digits = m[2]! + frac;
  const exp = Number(m[4]);
  if (exp >= 0) {
    return exp >= frac.length ? sign + digits + '0'.repeat(exp - frac.length) : `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  }
  return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
}

function isTyped(v: object, type: string): v is { '!': string; value: unknown } {
  return (v as { '!'?: unknown })['!'] === type;
}

/** RFC 3339 in UTC, seconds precision (Go's time.RFC3339). */
function rfc3339(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Sets one header (or property) as metadata the way Benthos does: `-` in keys becomes `_`,
 * nested tables and arrays are flattened into `<key>_<child>` / `<key>_<index>`, booleans and
 * numbers are formatted, timestamps become RFC 3339, and empty values are not set.
 */
export function setAmqpMeta(meta: Record<string, string>, key: string, value: unknown): void {
  const k = key.replaceAll('-', '_');
  let v = '';
  if (typeof value === 'string') v = value;
  else if (typeof value === 'boolean') v = String(value);
  else if (typeof value === 'number') v = Number.isInteger(value) && Math.abs(value) < 1e21 ? String(value) : formatFloat(value);
  else if (typeof value === 'bigint') v = value.toString();
  else if (value instanceof Uint8Array) v = Buffer.from(value).toString('utf8');
  else if (Array.isArray(value)) {
    value.forEach((item, i) => setAmqpMeta(meta, `${k}_${i}`, item));
    return;
  } else if (value instanceof Date) v = rfc3339(value.getTime() / 1000);
  else if (value !== null && typeof value === 'object') {
    if (isTyped(value, 'timestamp')) v = rfc3339(Number(value.value));
    else if (isTyped(value, 'decimal')) {
      const d = value.value as { places?: number; digits?: number };
      let digits = String(d.digits ?? 0);
      const places = d.places ?? 0;
      if (digits.length < places) digits = digits.padStart(places, '0');
      const at = digits.length - places;
      v = `${digits.slice(0, at)}.${digits.slice(at)}`;
    } else {
      for (const [ck, cv] of Object.entries(value)) setAmqpMeta(meta, `${k}_${ck}`, cv);
      return;
    }
  }
  if (v !== '') meta[k] = v;
}

/** The metadata of a delivery: every header, then the properties and delivery fields. */
export function amqpMetadata(msg: Pick<ConsumeMessage, 'fields' | 'properties'>): Record<string, string> {
  const meta: Record<string, string> = {};
  const p = msg.properties;
  const f = msg.fields;
  for (const [k, v] of Object.entries((p.headers ?? {}) as Record<string, unknown>)) setAmqpMeta(meta, k, v);
  setAmqpMeta(meta, 'amqp_content_type', p.contentType);
  setAmqpMeta(meta, 'amqp_content_encoding', p.contentEncoding);
  if (p.deliveryMode) setAmqpMeta(meta, 'amqp_delivery_mode', Number(p.deliveryMode));
  setAmqpMeta(meta, 'amqp_priority', Number(p.priority ?? 0));
  setAmqpMeta(meta, 'amqp_correlation_id', p.correlationId);
  setAmqpMeta(meta, 'amqp_reply_to', p.replyTo);
  setAmqpMeta(meta, 'amqp_expiration', p.expiration);
  setAmqpMeta(meta, 'amqp_message_id', p.messageId);
  if (p.timestamp !== undefined && p.timestamp !== null) setAmqpMeta(meta, 'amqp_timestamp', Number(p.timestamp));
  setAmqpMeta(meta, 'amqp_type', p.type);
  setAmqpMeta(meta, 'amqp_user_id', p.userId);
  setAmqpMeta(meta, 'amqp_app_id', p.appId);
  setAmqpMeta(meta, 'amqp_consumer_tag', f.consumerTag);
  setAmqpMeta(meta, 'amqp_delivery_tag', f.deliveryTag);
  setAmqpMeta(meta, 'amqp_redelivered', f.redelivered);
  setAmqpMeta(meta, 'amqp_exchange', f.exchange);
  setAmqpMeta(meta, 'amqp_routing_key', f.routingKey);
  return meta;
}

/** A metadata value as an AMQP table value (strings stay strings; bytes stay bytes). */
function headerValue(v: unknown): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (v instanceof Uint8Array) return Buffer.from(v);
  if (typeof v === 'object') {
    try {
      return JSON.parse(JSON.stringify(v)) as unknown;
    } catch {
      return metaToString(v);
    }
  }
  return metaToString(v);
}

/** Every metadata key not excluded becomes a header, with `_` written as `-` (Benthos does so). */
export function amqpHeaders(msg: Message, excludePrefixes: readonly string[]): Record<string, unknown> | undefined {
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of msg.metaEntries()) {
    if (excludePrefixes.some((p) => k.startsWith(p))) continue;
    (out ??= {})[k.replaceAll('_', '-')] = headerValue(v);
  }
  return out;
}
