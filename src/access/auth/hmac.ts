/**
 * HMAC request signing (Tyk's `authentication.hmac`), after draft-cavage HTTP signatures:
 *
 *   Authorization: Signature keyId="<key>",algorithm="hmac-sha256",headers="(request-target) date",signature="<sig>"
 *
 * The signing string is one `name: value` line per listed header (lower-cased names, trimmed
 * values, `\n` between them); `(request-target)` is `<method lower-cased> <request path>`; with
 * no `headers` parameter only `date` is signed. When `date` is listed and an `X-Aux-Date` header
 * is sent, that header is signed instead (as `x-aux-date: ...`), for clients that cannot set
 * `Date`. The signature is base64(HMAC(secret, signing string)), URL-escaped as Tyk writes it
 * (`%2B`, `%2F`, `%3D`, either case) or plain base64; it is compared in constant time.
 *
 * The key (`keyId`) is looked up like an auth token and must have `hmac_enabled: true` (or
 * `enable_http_signature_validation`) and a non-empty `hmac_string`, the shared secret.
 * Algorithms: hmac-sha1 (also when `algorithm` is absent, as Tyk), hmac-sha256, hmac-sha384,
 * hmac-sha512, restricted further by `allowedAlgorithms`. The date (`X-Aux-Date`, else `Date`,
 * `Mon, 02 Jan 2006 15:04:05 GMT` or a numeric zone) must be present and readable, and within
 * `allowedClockSkew` ms of the gateway's clock when that is above 0 (0 = no skew check, Tyk's
 * default).
 *
 * Every refusal is Tyk's single answer, so a client cannot tell a wrong secret from an unknown
 * key: 400 "Authorization field missing, malformed or invalid". A found key that is expired or
 * inactive then gets the usual 401 / 403. Nothing about the secret or signature is logged.
 */
import { createHmac } from 'node:crypto';
import { getHeader, readCredential, safeEqual } from './credentials.js';
import { MSG_HMAC_INVALID, checkSession, failure, guard, markMissing } from './failures.js';
import type { Authenticator, AuthRequest, AuthRuntime, CredentialSources, KeyLookup } from './types.js';

export const HMAC_ALGORITHMS = ['hmac-sha1', 'hmac-sha256', 'hmac-sha384', 'hmac-sha512'] as const;
export type HmacAlgorithm = (typeof HMAC_ALGORITHMS)[number];

const DIGEST: Readonly<Record<HmacAlgorithm, string>> = {
  'hmac-sha1': 'sha1',
  'hmac-sha256': 'sha256',
  'hmac-sha384': 'sha384',
  'hmac-sha512': 'sha512',
};

export interface HmacAuthOptions extends AuthRuntime {
  readonly lookup: KeyLookup;
  /** Where the `Signature ...` value is read; the `Authorization` header when none is given. */
  readonly sources?: CredentialSources;
  /** Tyk's `allowedAlgorithms`; empty or absent = all four. */
  readonly allowedAlgorithms?: readonly string[];
  /** Tyk's `allowedClockSkew` in milliseconds; 0 or absent = the date is not compared with the clock. */
  readonly allowedClockSkew?: number;
}

/** The parameters of a `Signature` authorization value. */
export interface SignatureParams {
  readonly keyId: string;
  readonly algorithm: string;
  readonly headers: readonly string[];
  readonly signature: string;
}

/**
 * Parses `keyId="a",algorithm="hmac-sha256",headers="(request-target) date",signature="..."`
 * (after the `Signature` word). Values may be quoted (with `\` escapes) or bare. Unknown
 * parameters, a parameter without `=`, or broken quoting give undefined (Tyk refuses them too).
 */
export function parseSignatureParams(value: string): SignatureParams | undefined {
  let rest = value.trim();
  if (/^signature(\s|$)/i.test(rest)) rest = rest.slice(9).trim();
  const out: { keyId?: string; algorithm?: string; headers?: string[]; signature?: string } = {};
  let i = 0;
  const n = rest.length;
  const skipSpace = () => {
    while (i < n && /\s/.test(rest[i]!)) i++;
  };
  while (i < n) {
    skipSpace();
    const eq = rest.indexOf('=', i);
    if (eq < 0) return undefined;
    const name = rest.slice(i, eq).trim().toLowerCase();
    if (!/^[a-z]+$/.test(name)) return undefined;
    i = eq + 1;
    skipSpace();
    let v = '';
    if (rest[i] === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const ch = rest[i]!;
        if (ch === '\\' && i + 1 < n) {
          v += rest[i + 1];
          i += 2;
          continue;
        }
        if (ch === '"') {
          closed = true;
          i++;
          break;
        }
        v += ch;
        i++;
      }
      if (!closed) return undefined;
    } else {
      const comma = rest.indexOf(',', i);
      const end = comma < 0 ? n : comma;
      v = rest.slice(i, end).trim();
      i = end;
    }
    skipSpace();
    if (i < n) {
      if (rest[i] !== ',') return undefined;
      i++;
    }
    switch (name) {
      case 'keyid':
        out.keyId = v;
        break;
      case 'algorithm':
        out.algorithm = v;
        break;
      case 'headers':
        out.headers = v.split(' ').filter((h) => h !== '');
        break;
      case 'signature':
        out.signature = v;
        break;
      default:
        return undefined;
    }
  }
  return {
    keyId: out.keyId ?? '',
    algorithm: out.algorithm ?? '',
    headers: out.headers && out.headers.length ? out.headers : ['date'],
    signature: out.signature ?? '',
  };
}

/** The date header Tyk signs and checks: `X-Aux-Date` when sent, else `Date`. */
function dateHeader(req: AuthRequest): { name: string; value: string } {
  const aux = getHeader(req, 'x-aux-date');
  if (aux) return { name: 'x-aux-date', value: aux };
  return { name: 'date', value: getHeader(req, 'date') ?? '' };
}

/** The request path Tyk signs for `(request-target)` (the path as received, decoded, no query). */
function requestPath(req: AuthRequest): string {
  const raw = req.requestPath ?? req.path;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** The draft-cavage signing string of a request for the listed headers. */
export function signingString(req: AuthRequest, headers: readonly string[]): string {
  return headers
    .map((h) => {
      const name = h.trim().toLowerCase();
      if (name === '(request-target)') return `(request-target): ${req.method.toLowerCase()} ${requestPath(req)}`;
      if (name === 'date') {
        const d = dateHeader(req);
        return `${d.name}: ${d.value.trim()}`;
      }
      return `${name}: ${(getHeader(req, name) ?? '').trim()}`;
    })
    .join('\n');
}

const MONTHS: Readonly<Record<string, number>> = { jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11 };
const DATE_RE = /^[A-Za-z]{3}, (\d{2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) (?:([A-Za-z]{1,5})|([+-])(\d{2})(?::?(\d{2}))?)$/;

/**
 * Milliseconds since the epoch of an HTTP date as Tyk reads it (`Mon, 02 Jan 2006 15:04:05 MST`,
 * or `-07` / `-0700` for the zone). A zone name counts as UTC (GMT, UTC; Go does the same for
 * names it does not know). Undefined when unreadable.
 */
export function parseHttpDate(value: string): number | undefined {
  const m = DATE_RE.exec(value.trim());
  if (!m) return undefined;
  const month = MONTHS[m[2]!.toLowerCase()];
  if (month === undefined) return undefined;
  const [day, year, hh, mm, ss] = [m[1], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number];
  if (day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60) return undefined;
  let ms = Date.UTC(year, month, day, hh, mm, ss);
  if (m[8]) {
    const offset = (Number(m[9]) * 60 + Number(m[10] ?? 0)) * 60_000;
    ms -= m[8] === '+' ? offset : -offset;
  }
  return Number.isFinite(ms) ? ms : undefined;
}

/** base64(HMAC) of a signing string. */
export function hmacSignature(algorithm: HmacAlgorithm, secret: string, text: string): string {
  return createHmac(DIGEST[algorithm], secret).update(text, 'utf8').digest('base64');
}

/** The signature a client sent, URL-unescaped (Tyk's clients send `url.QueryEscape(base64)`). */
function unescapeSignature(sig: string): string | undefined {
  if (!sig.includes('%')) return sig;
  try {
    return decodeURIComponent(sig);
  } catch {
    return undefined;
  }
}

export function hmacAuth(options: HmacAuthOptions): Authenticator {
  const now = options.now ?? Date.now;
  const allowed = options.allowedAlgorithms?.length ? new Set(options.allowedAlgorithms) : undefined;
  const skew = options.allowedClockSkew && options.allowedClockSkew > 0 ? options.allowedClockSkew : 0;
  const refuse = () => failure(400, MSG_HMAC_INVALID);

  return guard(async (req) => {
    const raw = readCredential(req, options.sources);
    if (!raw) return markMissing(failure(400, MSG_HMAC_INVALID));
    const params = parseSignatureParams(raw);
    if (!params || !params.keyId || !params.signature) return refuse();
    const algorithm = (params.algorithm || 'hmac-sha1') as HmacAlgorithm;
    if (!Object.prototype.hasOwnProperty.call(DIGEST, algorithm)) return refuse();
    if (allowed && !allowed.has(params.algorithm)) return refuse();

    const found = await options.lookup.resolveKey(params.keyId);
    const s = found?.session;
    const secret = s && typeof s.hmac_string === 'string' ? s.hmac_string : '';
    const enabled = s?.hmac_enabled === true || s?.enable_http_signature_validation === true;
    if (!found || !secret || !enabled) return refuse();

    const given = unescapeSignature(params.signature);
    const expected = hmacSignature(algorithm, secret, signingString(req, params.headers));
    if (given === undefined || !safeEqual(expected, given)) return refuse();

    const date = parseHttpDate(dateHeader(req).value);
    if (date === undefined) return refuse();
    if (skew && Math.abs(now() - date) > skew) return refuse();

    return checkSession({ ...found, token: params.keyId }, now());
  }, 'hmac', options.logger);
}
