/**
 * Standard Webhooks signing (symmetric scheme, signature version `v1`).
 *
 * - A secret is `whsec_` followed by the base64 of the key bytes; the prefix is optional.
 * - The signed content is `{webhook-id}.{webhook-timestamp}.{body}`, the body as raw bytes.
 * - A signature is `v1,` + base64(HMAC-SHA256(key, content)); the `webhook-signature` header
 *   holds one per secret, separated by spaces, so a receiver that knows any one of the secrets
 *   (old or new, during a rotation) can verify the request.
 * - `webhook-timestamp` is integer Unix seconds, taken anew for every attempt; `webhook-id`
 *   stays the same across attempts (the receiver's idempotency key).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';
/** The specification asks for at least 24 random bytes (192 bits). */
export const MIN_SECRET_BYTES = 24;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;

/** Why `secret` is not usable, or undefined when it is. Never quotes the secret. */
export function secretProblem(secret: string): string | undefined {
  const b64 = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  if (b64 === '' || !BASE64.test(b64)) return 'is not a whsec_<base64> secret';
  const n = Buffer.from(b64, 'base64').length;
  if (n < MIN_SECRET_BYTES) return `is ${n} bytes long; Standard Webhooks secrets are at least ${MIN_SECRET_BYTES} random bytes`;
  return undefined;
}

/** The HMAC key of a `whsec_<base64>` secret. Throws (without quoting it) when malformed. */
export function secretKey(secret: string): Buffer {
  const problem = secretProblem(secret);
  if (problem) throw new Error(`webhook secret ${problem}`);
  const b64 = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  return Buffer.from(b64, 'base64');
}

/** `v1,<base64 signature>` of one message with one key. */
export function signV1(key: Uint8Array, id: string, timestamp: number, body: Uint8Array | string): string {
  const mac = createHmac('sha256', key);
  mac.update(`${id}.${timestamp}.`);
  mac.update(typeof body === 'string' ? Buffer.from(body, 'utf8') : body);
  return 'v1,' + mac.digest('base64');
}

/** The `webhook-signature` header value: one `v1,` signature per key, space separated. */
export function signatureHeader(keys: readonly Uint8Array[], id: string, timestamp: number, body: Uint8Array | string): string {
  return keys.map((k) => signV1(k, id, timestamp, body)).join(' ');
}

/** The three Standard Webhooks headers of one attempt (no `webhook-signature` without keys). */
export function webhookHeaders(keys: readonly Uint8Array[], id: string, timestamp: number, body: Uint8Array | string): Record<string, string> {
  const h: Record<string, string> = { 'webhook-id': id, 'webhook-timestamp': String(timestamp) };
  if (keys.length) h['webhook-signature'] = signatureHeader(keys, id, timestamp, body);
  return h;
}

export interface VerifyOptions {
  /** Allowed distance between `webhook-timestamp` and now, in seconds (default 300). */
  readonly toleranceSec?: number;
  /** Current time in ms (tests). */
  readonly now?: number;
}

/**
 * Receiver side, for tests and for users' own receivers written against Sluice: true when the
 * headers carry a `v1` signature made with `secret` over `body` and a timestamp within the
 * tolerance. Signatures of other versions are ignored; comparison is constant-time.
 */
export function verifyWebhook(secret: string, headers: Readonly<Record<string, string | string[] | undefined>>, body: Uint8Array | string, opts: VerifyOptions = {}): boolean {
  const get = (name: string): string | undefined => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const id = get('webhook-id');
  const ts = get('webhook-timestamp');
  const sigs = get('webhook-signature');
  if (!id || !ts || !sigs || !/^\d+$/.test(ts)) return false;
  const now = Math.floor((opts.now ?? Date.now()) / 1000);
  if (Math.abs(now - Number(ts)) > (opts.toleranceSec ?? 300)) return false;
  let key: Buffer;
  try {
    key = secretKey(secret);
  } catch {
    return false;
  }
  const expected = Buffer.from(signV1(key, id, Number(ts), body).slice(3), 'base64');
  for (const s of sigs.split(' ')) {
    const comma = s.indexOf(',');
    if (comma < 0 || s.slice(0, comma) !== 'v1') continue;
    const got = Buffer.from(s.slice(comma + 1), 'base64');
    if (got.length === expected.length && timingSafeEqual(got, expected)) return true;
  }
  return false;
}

/**
 * Makes a configured or derived id safe to sign: the specification forbids `.` in ids (the
 * signed content is dot-delimited). `%`, `.` and whitespace are percent-encoded (UTF-8 bytes),
 * which keeps distinct ids distinct.
 */
export function safeWebhookId(id: string): string {
  return id.replace(/[%.\s]/gu, (c) => [...Buffer.from(c, 'utf8')].map((b) => '%' + b.toString(16).toUpperCase().padStart(2, '0')).join(''));
}
