/**
 * Basic authentication (`Authorization: Basic base64(user:password)`), Tyk's `basic` scheme.
 * The password is checked by the key store (a slow hash there). A successful check is cached for
 * `cacheTTL` seconds (60 by default; off with `disableCaching`), keyed by a keyed digest of user
 * and password, so repeated connections do not pay the slow hash each time. Failed checks are
 * never cached.
 *
 *   missing                 401 Authorization field missing        + WWW-Authenticate
 *   malformed header        400 Attempted access with malformed header, ...
 *   unknown user/password   401 User not authorised                + WWW-Authenticate
 *   inactive / expired      403 / 401 as for keys
 */
import { cacheKey, getHeader, safeEqual, TtlCache } from './credentials.js';
import {
  MSG_AUTH_FIELD_MISSING,
  MSG_BASIC_MALFORMED,
  MSG_BASIC_NOT_AUTHORISED,
  MSG_BASIC_NOT_ENCODED,
  MSG_BASIC_VALUES,
  checkSession,
  failure,
  guard,
} from './failures.js';
import type { Identity } from '../types.js';
import type { Authenticator, AuthRuntime, KeyLookup } from './types.js';

export interface BasicAuthOptions extends AuthRuntime {
  readonly lookup: KeyLookup;
  /** The realm in `WWW-Authenticate: Basic realm="..."`; Tyk uses the API's name. */
  readonly realm?: string;
  /** Tyk's `disableCaching`: check the password with the store on every request. */
  readonly disableCaching?: boolean;
  /** Tyk's `cacheTTL` in seconds; 0 or absent = 60. */
  readonly cacheTTL?: number;
  /** Most cached users kept (default 10000). */
  readonly maxCacheEntries?: number;
}

const DEFAULT_TTL_S = 60;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

interface Cached {
  readonly identity: Identity;
  /** The stored password hash at the time of the check: a changed password drops the entry. */
  readonly storedHash: string;
}

export function basicAuth(options: BasicAuthOptions): Authenticator {
  const now = options.now ?? Date.now;
  const realm = (options.realm ?? 'sluice').replace(/["\\]/g, '');
  const challenge = { 'WWW-Authenticate': `Basic realm="${realm}"` };
  const ttlMs = (options.cacheTTL && options.cacheTTL > 0 ? options.cacheTTL : DEFAULT_TTL_S) * 1000;
  const cache = new TtlCache<Cached>(options.maxCacheEntries ?? 10_000, now);
  const inflight = new Map<string, Promise<Identity | undefined>>();
  const lookup = options.lookup;

  const verify = (ck: string, user: string, pass: string): Promise<Identity | undefined> => {
    let p = inflight.get(ck);
    if (!p) {
      p = lookup.resolveBasic(user, pass).finally(() => inflight.delete(ck));
      inflight.set(ck, p);
    }
    return p;
  };

  return guard(async (req) => {
    const header = getHeader(req, 'authorization')?.trim() ?? '';
    if (!header) return failure(401, MSG_AUTH_FIELD_MISSING, challenge);
    const bits = header.split(/\s+/);
    if (bits.length !== 2 || bits[0]!.toLowerCase() !== 'basic') return failure(400, MSG_BASIC_MALFORMED);
    const b64 = bits[1]!;
    if (b64.length % 4 !== 0 || !BASE64.test(b64)) return failure(400, MSG_BASIC_NOT_ENCODED);
    const decoded = Buffer.from(b64, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return failure(400, MSG_BASIC_VALUES);
    const user = decoded.slice(0, colon);
    const pass = decoded.slice(colon + 1);
    if (!user) return failure(401, MSG_BASIC_NOT_AUTHORISED, challenge);

    const ck = cacheKey('basic', user, pass);
    if (!options.disableCaching) {
      const hit = cache.get(ck);
      if (hit) {
        if (!lookup.resolveBasicUser) return checkSession(hit.identity, now());
        const current = await lookup.resolveBasicUser(user);
        if (current && safeEqual(storedHash(current), hit.storedHash)) return checkSession(current, now());
        cache.delete(ck);
      }
    }
    const identity = await verify(ck, user, pass);
    if (!identity) return failure(401, MSG_BASIC_NOT_AUTHORISED, challenge);
    if (!options.disableCaching) cache.set(ck, { identity, storedHash: storedHash(identity) }, ttlMs);
    return checkSession(identity, now());
  }, 'basic', options.logger);
}

function storedHash(identity: Identity): string {
  return identity.session.basic_auth_data?.password ?? '';
}
