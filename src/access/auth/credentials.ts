/**
 * Reading credentials from a request, hashing and comparing them. Nothing here logs.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AuthRequest, CredentialSources } from './types.js';

export const DEFAULT_AUTH_HEADER = 'Authorization';

/** A header's first value, the name matched in any case. */
export function getHeader(req: AuthRequest, name: string): string | undefined {
  const lower = name.toLowerCase();
  let v = req.headers[lower];
  if (v === undefined) {
    for (const [k, val] of Object.entries(req.headers)) {
      if (k.toLowerCase() === lower) {
        v = val;
        break;
      }
    }
  }
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : v[0];
}

/** Parses a `Cookie` header (`a=1; b=2`); later duplicates do not replace earlier ones. */
export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (!name || Object.prototype.hasOwnProperty.call(out, name)) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    try {
      out[name] = decodeURIComponent(value);
    } catch {
      out[name] = value;
    }
  }
  return out;
}

function cookie(req: AuthRequest, name: string): string | undefined {
  const jar = req.cookies ?? parseCookies(getHeader(req, 'cookie'));
  return Object.prototype.hasOwnProperty.call(jar, name) ? jar[name] : undefined;
}

/**
 * The credential from the configured sources, Tyk's way: the header first, replaced by a
 * non-empty query parameter, replaced by a non-empty cookie. With no source configured the
 * `Authorization` header is read. Returns '' when nothing was sent.
 */
export function readCredential(req: AuthRequest, sources: CredentialSources | undefined): string {
  const s = sources && (sources.header || sources.query || sources.cookie) ? sources : { header: DEFAULT_AUTH_HEADER };
  let value = '';
  if (s.header) value = getHeader(req, s.header) ?? '';
  if (s.query) {
    const q = req.query.get(s.query);
    if (q) value = q;
  }
  if (s.cookie) {
    const c = cookie(req, s.cookie);
    if (c) value = c;
  }
  return value.trim();
}

/** Drops a leading `Bearer ` (any case), as Tyk does for tokens and JWTs. */
export function stripBearer(token: string): string {
  return token.length > 7 && token.slice(0, 7).toLowerCase() === 'bearer ' ? token.slice(7).trim() : token;
}

export function sha256Hex(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

/**
 * The key hash of a session that has no stored key (JWT claims, OAuth token subject, custom
 * plugin): stable per method and identity, never equal to a stored key's hash by accident.
 */
export function virtualKeyHash(kind: string, id: string): string {
  return sha256Hex(`sluice-virtual\u0000${kind}\u0000${id}`);
}

/** Constant-time equality of two strings (compared as SHA-256 digests, so lengths do not leak). */
export function safeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}

const processSecret = randomBytes(32);

/** A keyed digest for using a secret as a cache key without keeping the secret itself. */
export function cacheKey(...parts: string[]): string {
  const h = createHmac('sha256', processSecret);
  for (const p of parts) h.update(p, 'utf8').update('\u0000');
  return h.digest('base64url');
}

/** A small map with per-entry expiry and a size bound (oldest entries go first). */
export class TtlCache<V> {
  private readonly map = new Map<string, { value: V; expiresAt: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number,
  ) {}

  get(key: string): V | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= this.now()) {
      this.map.delete(key);
      return undefined;
    }
    return e.value;
  }

  set(key: string, value: V, ttlMs: number): void {
    if (ttlMs <= 0) return;
    this.map.delete(key);
    if (this.map.size >= this.maxEntries) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
    this.map.set(key, { value, expiresAt: this.now() + ttlMs });
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  get size(): number {
    return this.map.size;
  }
}
