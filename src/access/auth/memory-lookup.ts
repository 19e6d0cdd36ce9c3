/**
 * A `KeyLookup` kept in memory: for tests, and for embedding Sluice without a key store. Keys
 * are held by their SHA-256 hash; basic-auth passwords as SHA-256 digests compared in constant
 * time (a real store uses a slow hash); policies are applied simply (union of access rights,
 * the highest rate, the largest quota).
 */
import { sha256Hex, safeEqual } from './credentials.js';
import type { AccessDefinition, Identity, Policy, Session } from '../types.js';
import type { KeyLookup } from './types.js';

export interface MemoryLookup extends KeyLookup {
  setKey(key: string, session: Session): void;
  deleteKey(key: string): void;
  setBasicUser(username: string, password: string, session?: Session): void;
  deleteBasicUser(username: string): void;
  setPolicy(policy: Policy): void;
  /** How often each method was called (for tests of caching). */
  readonly calls: { resolveKey: number; resolveBasic: number; resolveBasicUser: number; resolvePolicies: number };
}

export interface MemoryLookupOptions {
  readonly keys?: Readonly<Record<string, Session>>;
  readonly basicUsers?: Readonly<Record<string, { readonly password: string; readonly session?: Session }>>;
  readonly policies?: readonly Policy[];
  /** Milliseconds since the epoch, for policies' `key_expires_in`. */
  readonly now?: () => number;
}

export function createMemoryLookup(options: MemoryLookupOptions = {}): MemoryLookup {
  const now = options.now ?? Date.now;
  const keys = new Map<string, Session>();
  const users = new Map<string, Session>();
  const policies = new Map<string, Policy>();
  const calls = { resolveKey: 0, resolveBasic: 0, resolveBasicUser: 0, resolvePolicies: 0 };

  const lookup: MemoryLookup = {
    calls,
    setKey(key, session) {
      keys.set(sha256Hex(key), structuredClone(session));
    },
    deleteKey(key) {
      keys.delete(sha256Hex(key));
    },
    setBasicUser(username, password, session = {}) {
      users.set(username, { ...structuredClone(session), basic_auth_data: { password: sha256Hex(password), hash_type: 'sha256' } });
    },
    deleteBasicUser(username) {
      users.delete(username);
    },
    setPolicy(policy) {
      policies.set(policy.id, structuredClone(policy));
    },
    async resolveKey(key) {
      calls.resolveKey++;
      const hash = sha256Hex(key);
      const s = keys.get(hash);
      return s ? { keyHash: hash, session: structuredClone(s) } : undefined;
    },
    async resolveBasic(username, password) {
      calls.resolveBasic++;
      const s = users.get(username);
      // Compare against a dummy digest for unknown users, so both cases take the same time.
      const stored = s?.basic_auth_data?.password ?? sha256Hex('\u0000no such user');
      const ok = safeEqual(sha256Hex(password), stored);
      return s && ok ? userIdentity(username, s) : undefined;
    },
    async resolveBasicUser(username) {
      calls.resolveBasicUser++;
      const s = users.get(username);
      return s ? userIdentity(username, s) : undefined;
    },
    async resolvePolicies(ids) {
      calls.resolvePolicies++;
      const found: Policy[] = [];
      for (const id of ids) {
        const p = policies.get(id);
        if (!p || p.active === false || p.is_inactive === true) return undefined;
        found.push(p);
      }
      return applyPolicies(found, now());
    },
  };
  for (const [k, s] of Object.entries(options.keys ?? {})) lookup.setKey(k, s);
  for (const [u, v] of Object.entries(options.basicUsers ?? {})) lookup.setBasicUser(u, v.password, v.session);
  for (const p of options.policies ?? []) lookup.setPolicy(p);
  return lookup;
}

function userIdentity(username: string, s: Session): Identity {
  return { keyHash: sha256Hex(`basic:${username}`), session: structuredClone(s) };
}

function applyPolicies(found: readonly Policy[], nowMs: number): Session {
  const session: Session = { apply_policies: found.map((p) => p.id) };
  const rights: Record<string, AccessDefinition> = {};
  let best = -1;
  for (const p of found) {
    for (const [api, def] of Object.entries(p.access_rights ?? {})) rights[api] = structuredClone(def);
    const rate = p.rate && p.per ? p.rate / p.per : 0;
    if (rate > best) {
      best = rate;
      if (p.rate !== undefined) session.rate = p.rate;
      if (p.per !== undefined) session.per = p.per;
    }
    if (p.quota_max !== undefined && (session.quota_max === undefined || p.quota_max === -1 || (session.quota_max !== -1 && p.quota_max > session.quota_max)))
      session.quota_max = p.quota_max;
    if (p.key_expires_in && p.key_expires_in > 0) session.expires = Math.floor(nowMs / 1000) + p.key_expires_in;
    if (p.tags?.length) session.tags = [...new Set([...(session.tags ?? []), ...p.tags])];
  }
  session.access_rights = rights;
  return session;
}
