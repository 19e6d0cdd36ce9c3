/**
 * AccessService: the facade the gateway calls on every request and message, and the management
 * API calls to change keys and policies.
 *
 * Request path (Tyk's order): resolveKey → checkRequest (inactive, expired, access rights,
 * allowed_urls) → consumeRequest (rate limit with throttling, then quota). Message path:
 * topicAllowed and consumeMessages (per-message limits, counted through local leases: see
 * src/state/leases.ts for how they stay exact across processes).
 *
 * Sessions are cached per process (by key hash), policies are all held in memory, and the change
 * channel drops what changed in every process within a second; a cached session is also re-read
 * after `cacheTtlMs` in case a change message was lost.
 */
import { createHash, randomBytes } from 'node:crypto';
import { RE2JS } from 're2js';
import type { Store } from '../store/store.js';
import type { HotState } from '../state/types.js';
import type { ChangeBus, ChangeMessage } from '../state/bus.js';
import { Leases, type LeaseVerdict } from '../state/leases.js';
import { rateLimitedLog, type Logger } from '../engine/logger.js';
import { SluiceError } from '../engine/errors.js';
import type { AccessDefinition, AccessEvent, AuthFailure, Identity, Policy, Session } from './types.js';
import { applyPolicies, limitIsEmpty, policyIds } from './policy.js';
import { generateKey, hashPassword, isPasswordHash, keyHash, PASSWORD_HASH_TYPE, verifyPassword } from './hash.js';
import { topicAllowed } from './topics.js';

/** `ok: true`, or Tyk's status code and message (body `{"error": message}`). */
export type AccessResult = { readonly ok: true } | AccessDenied;
export interface AccessDenied extends AuthFailure {
  readonly ok: false;
}

export type ConsumeResult =
  | { readonly ok: true; readonly headers: Readonly<Record<string, string>> }
  | (AccessDenied & { readonly headers: Readonly<Record<string, string>> });

export type MessageDirection = 'delivered' | 'published';

export type MessageVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly limit: 'rate' | 'quota'; readonly retryAfterMs?: number; readonly message: string };

export const MESSAGES = {
  disallowed: 'Access to this API has been disallowed',
  expired: 'Key has expired, please renew',
  inactive: 'Key is inactive, please renew',
  resource: 'Access to this resource has been disallowed',
  rate: 'Rate Limit Exceeded',
  apiRate: 'API Rate Limit Exceeded',
  quota: 'Quota exceeded',
  stateDown: 'Rate limit state unavailable',
  messageRate: 'Message rate limit exceeded',
  messageQuota: 'Message quota exceeded',
  messageBytes: 'Message byte quota exceeded',
} as const;

export interface AccessServiceOptions {
  readonly store: Store;
  readonly state: HotState;
  readonly bus: ChangeBus;
  readonly logger: Logger;
  /** `sliding` (default): Tyk's Redis rolling limiter; `fixed`: one counter per window. */
  readonly rateLimiter?: 'sliding' | 'fixed';
  /** Re-read a cached session after this long even without a change message (default 60 s). */
  readonly cacheTtlMs?: number;
  /** How long "no such key" is remembered (default 5 s; creations are announced anyway). */
  readonly negativeTtlMs?: number;
  /** How often cached sessions are checked for expiry (default 1 s). */
  readonly expiryCheckMs?: number;
  readonly maxCachedKeys?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

interface CachedKey {
  readonly stored: Session | undefined;
  /** Set when the key exists and its policies apply. */
  readonly identity: Identity | undefined;
  readonly policyError: string | undefined;
  readonly loadedAt: number;
  expiredNotified: boolean;
}

interface RequestLimits {
  readonly rate: number;
  readonly perMs: number;
  readonly throttleMs: number;
  readonly throttleRetries: number;
  readonly quotaMax: number;
  readonly quotaWindowMs: number;
  readonly rateKey: string;
  readonly quotaKey: string;
}

interface MessageCheck {
  readonly key: string;
  readonly limit: number;
  readonly windowMs: number;
  readonly mode: 'aligned' | 'lazy';
  readonly unit: 'count' | 'bytes';
  readonly kind: 'rate' | 'quota';
  readonly message: string;
}

type KeyAction = Extract<AccessEvent, { kind: 'key' }>['action'];

const OK: AccessResult = Object.freeze({ ok: true });
const MSG_OK: MessageVerdict = Object.freeze({ ok: true });
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

export interface CreatedKey {
  /** The key in plain text: shown once, never stored. '' for basic-auth users (Tyk does the same). */
  readonly key: string;
  readonly keyHash: string;
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v as Record<string, unknown>)) deepFreeze(x);
  }
  return v;
}

export class AccessService {
  readonly #store: Store;
  readonly #state: HotState;
  readonly #bus: ChangeBus;
  readonly #logger: Logger;
  readonly #fixed: boolean;
  readonly #ttl: number;
  readonly #negTtl: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #leases: Leases;
  readonly #policies = new Map<string, Policy>();
  readonly #keys = new Map<string, CachedKey>();
  readonly #loading = new Map<string, Promise<CachedKey>>();
  readonly #listeners = new Set<(e: AccessEvent) => void>();
  readonly #regex = new Map<string, RE2JS | null>();
  readonly #requestLimits = new WeakMap<Session, Map<string, RequestLimits>>();
  readonly #messageChecks = new WeakMap<Session, Map<string, readonly MessageCheck[]>>();
  readonly #basicOk = new Map<string, number>();
  readonly #basicSalt = randomBytes(16);
  readonly #storeDownLog = rateLimitedLog(10_000);
  readonly #unsubscribe: () => void;
  readonly #timer: NodeJS.Timeout;
  #closed = false;

  constructor(opts: AccessServiceOptions) {
    this.#store = opts.store;
    this.#state = opts.state;
    this.#bus = opts.bus;
    this.#logger = opts.logger;
    this.#fixed = opts.rateLimiter === 'fixed';
    this.#ttl = opts.cacheTtlMs ?? 60_000;
    this.#negTtl = opts.negativeTtlMs ?? 5000;
    this.#maxKeys = opts.maxCachedKeys ?? 100_000;
    this.#now = opts.now ?? Date.now;
    this.#sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.#leases = new Leases(opts.state);
    this.#unsubscribe = opts.bus.subscribe((m) => void this.#onMessage(m));
    this.#timer = setInterval(() => this.#checkExpiry(), opts.expiryCheckMs ?? 1000);
    this.#timer.unref();
  }

  /** Loads the policies. Call once before serving. */
  async start(): Promise<void> {
    const all = await this.#store.listPolicies();
    this.#policies.clear();
    for (const p of all) this.#policies.set(p.id, p);
  }

  // -------------------------------------------------------------------------------------------
  // Resolution

  /** The identity of a key presented by a client: the effective session, policies applied. */
  async resolveKey(key: string): Promise<Identity | undefined> {
    if (!key) return undefined;
    const e = await this.#entry(keyHash(key));
    const id = e.identity;
    // A basic-auth user's "key" is its org id + user name: guessable, so never a bearer token.
    if (!id || id.session.basic_auth_data?.password) return undefined;
    return { keyHash: id.keyHash, session: id.session, token: key };
  }

  /** The identity for a key hash (after a change event, to re-check open connections). */
  async resolveHash(hash: string): Promise<Identity | undefined> {
    return (await this.#entry(hash)).identity;
  }

  /** A basic-auth user (Tyk: key id = org id + user name, `basic_auth_data.password`). */
  async resolveBasic(username: string, password: string, orgId = ''): Promise<Identity | undefined> {
    if (!username) return undefined;
    const hash = keyHash(orgId + username);
    const e = await this.#entry(hash);
    const stored = e.stored?.basic_auth_data;
    if (!e.identity || !stored?.password) {
      // Spend the same time as a wrong password, so answers do not tell which users exist.
      await verifyPassword(password, await this.#dummyHash());
      return undefined;
    }
    const memo = createHash('sha256').update(this.#basicSalt).update(hash).update('\0').update(password).update('\0').update(stored.password).digest('base64');
    const until = this.#basicOk.get(memo);
    const now = this.#now();
    if (until === undefined || until < now) {
      const ok = stored.hash_type === PASSWORD_HASH_TYPE ? await verifyPassword(password, stored.password) : false;
      if (!ok) return undefined;
      if (this.#basicOk.size > 10_000) this.#basicOk.clear();
      this.#basicOk.set(memo, now + 60_000);
    }
    return e.identity;
  }

  #dummy: Promise<string> | undefined;
  #dummyHash(): Promise<string> {
    this.#dummy ??= hashPassword(randomBytes(16).toString('hex'));
    return this.#dummy;
  }

  /** A basic-auth user's current identity without a password check (after a cached check). */
  async resolveBasicUser(username: string, orgId = ''): Promise<Identity | undefined> {
    if (!username) return undefined;
    const e = await this.#entry(keyHash(orgId + username));
    return e.stored?.basic_auth_data?.password ? e.identity : undefined;
  }

  /**
   * The session made by applying these policies to an empty key (JWT and OAuth identities that
   * name policies); undefined when one is unknown or inactive, or they grant nothing.
   */
  async resolvePolicies(ids: readonly string[]): Promise<Session | undefined> {
    if (!ids.length) return undefined;
    for (const id of ids) {
      const p = this.#policies.get(id);
      if (!p || p.is_inactive === true || p.active === false) return undefined;
    }
    const r = applyPolicies({ apply_policies: [...ids] }, (id) => this.#policies.get(id));
    return r.ok ? deepFreeze(r.session) : undefined;
  }

  async #entry(hash: string): Promise<CachedKey> {
    const cached = this.#keys.get(hash);
    const now = this.#now();
    if (cached && now - cached.loadedAt < (cached.stored ? this.#ttl : this.#negTtl)) return cached;
    const pending = this.#loading.get(hash);
    if (pending) return pending;
    const p = this.#load(hash)
      .catch((err: unknown) => {
        // The store is away: a session we know keeps working (revocations still arrive through
        // the change channel); an unknown key cannot be checked, so the error goes up.
        if (!cached) throw err;
        this.#storeDownLog('store', () => this.#logger.warn('store unavailable; using cached sessions', { error: (err as Error).message }));
        const retryLater: CachedKey = { ...cached, loadedAt: this.#now() - this.#ttl + 5000 };
        this.#keys.set(hash, retryLater);
        return retryLater;
      })
      .finally(() => this.#loading.delete(hash));
    this.#loading.set(hash, p);
    return p;
  }

  async #load(hash: string): Promise<CachedKey> {
    const stored = await this.#store.getKey(hash);
    const entry = this.#build(hash, stored);
    if (this.#keys.size >= this.#maxKeys) {
      const oldest = this.#keys.keys().next().value;
      if (oldest !== undefined) this.#keys.delete(oldest);
    }
    this.#keys.delete(hash);
    this.#keys.set(hash, entry);
    return entry;
  }

  #build(hash: string, stored: Session | undefined): CachedKey {
    if (!stored) return { stored, identity: undefined, policyError: undefined, loadedAt: this.#now(), expiredNotified: false };
    const applied = applyPolicies(stored, (id) => this.#policies.get(id));
    if (!applied.ok) return { stored, identity: undefined, policyError: applied.error, loadedAt: this.#now(), expiredNotified: false };
    const identity: Identity = { keyHash: hash, session: deepFreeze(applied.session) };
    return { stored, identity, policyError: undefined, loadedAt: this.#now(), expiredNotified: false };
  }

  // -------------------------------------------------------------------------------------------
  // Request checks

  /** Inactive, expired, access rights, `allowed_urls`: Tyk's answers. `path` is the full request path. */
  checkRequest(identity: Identity, apiId: string, method: string, path: string): AccessResult {
    const s = identity.session;
    if (s.is_inactive) return { ok: false, status: 403, message: MESSAGES.inactive };
    if (this.isExpired(s)) return { ok: false, status: 401, message: MESSAGES.expired };
    const ar = s.access_rights?.[apiId];
    if (!ar) return { ok: false, status: 403, message: MESSAGES.disallowed };
    const urls = ar.allowed_urls;
    if (urls && urls.length) {
      const m = method.toUpperCase();
      let allowed = false;
      for (const u of urls) {
        const re = this.#compile(u.url);
        if (!re || !re.test(path)) continue;
        if (!u.methods?.length || u.methods.some((x) => x.toUpperCase() === m)) {
          allowed = true;
          break;
        }
      }
      if (!allowed) return { ok: false, status: 403, message: MESSAGES.resource };
    }
    return OK;
  }

  isExpired(s: Session): boolean {
    const exp = typeof s.expires === 'number' ? s.expires : 0;
    return exp >= 1 && exp * 1000 <= this.#now();
  }

  /** Whether the key may subscribe to / publish on `topic` (no `topics` rule = any topic). */
  topicAllowed(identity: Identity, apiId: string, action: 'subscribe' | 'publish', topic: string): boolean {
    const rules = identity.session.access_rights?.[apiId]?.topics?.[action];
    return rules === undefined || topicAllowed(rules, topic);
  }

  #compile(src: string): RE2JS | null {
    let re = this.#regex.get(src);
    if (re === undefined) {
      try {
        re = RE2JS.compile(src);
      } catch {
        re = null;
      }
      if (this.#regex.size > 10_000) this.#regex.clear();
      this.#regex.set(src, re);
    }
    return re;
  }

  // -------------------------------------------------------------------------------------------
  // Rate limits and quotas

  #requestLimitsFor(identity: Identity, apiId: string): RequestLimits {
    const s = identity.session;
    let byApi = this.#requestLimits.get(s);
    if (!byApi) {
      byApi = new Map();
      this.#requestLimits.set(s, byApi);
    }
    let l = byApi.get(apiId);
    if (!l) {
      const ar = s.access_rights?.[apiId];
      const src = ar && !limitIsEmpty(ar.limit) ? ar.limit! : s;
      const scope = ar && !limitIsEmpty(ar.limit) ? (ar.allowance_scope ?? '') : '';
      const id = this.#counterId(identity);
      const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
      l = {
        rate: n(src.rate),
        perMs: n(src.per) * 1000,
        throttleMs: n(src.throttle_interval) * 1000,
        throttleRetries: n(src.throttle_retry_limit),
        quotaMax: n(src.quota_max),
        quotaWindowMs: Math.max(0, n(src.quota_renewal_rate)) * 1000,
        rateKey: `rl:${scope}:${id}`,
        quotaKey: `q:${scope}:${id}`,
      };
      byApi.set(apiId, l);
    }
    return l;
  }

  /** The counter identity: the key hash, or Tyk's `meta_data.rate_limit_pattern` rendered. */
  #counterId(identity: Identity): string {
    const pattern = identity.session.meta_data?.rate_limit_pattern;
    if (typeof pattern !== 'string' || !pattern) return identity.keyHash;
    const meta = identity.session.meta_data ?? {};
    const rendered = pattern.replace(/\$tyk_meta\.([A-Za-z0-9_]+)/g, (_, k: string) => String(meta[k] ?? ''));
    return 'p' + createHash('sha256').update(rendered).digest('hex').slice(0, 40);
  }

  /** One request against a rate limit, with the configured limiter (sliding log or fixed window). */
  #rateHit(key: string, rate: number, perMs: number): Promise<{ allowed: boolean; remaining: number; resetInMs: number }> {
    if (!this.#fixed) return this.#state.slidingHit(key, rate, perMs);
    return this.#state.take(key, rate, perMs, 1, 1, 'aligned').then((t) => ({ allowed: t.granted === 1, remaining: t.remaining, resetInMs: t.resetInMs }));
  }

  /**
   * Counts one request against the API-wide limit (`upstream.rateLimit`): one sliding window per
   * API in the hot state, so every client and every gateway process shares it. 429 "API Rate
   * Limit Exceeded" past it, as Tyk's API rate limiter.
   */
  async consumeApiRate(apiId: string, rate: number, perMs: number): Promise<{ readonly ok: true } | ({ readonly ok: false } & AuthFailure)> {
    try {
      const r = await this.#rateHit(`api-rate:${apiId}`, rate, perMs);
      if (r.allowed) return { ok: true };
      return { ok: false, status: 429, message: MESSAGES.apiRate, headers: { 'Retry-After': String(Math.max(1, Math.ceil(r.resetInMs / 1000))) } };
    } catch (err) {
      this.#logger.error('rate limit state failed; request refused', { error: (err as Error).message });
      return { ok: false, status: 503, message: MESSAGES.stateDown };
    }
  }

  /**
   * Counts one request: the rate limit first (holding the request `throttle_interval` seconds
   * and retrying up to `throttle_retry_limit` times, as Tyk's throttling), then the quota.
   * Headers are Tyk 5.13's `rate_limits` mode: X-RateLimit-Limit / -Remaining / -Reset (Unix s).
   */
  async consumeRequest(identity: Identity, apiId: string): Promise<ConsumeResult> {
    if (!identity.keyHash) return { ok: true, headers: NO_HEADERS };
    const l = this.#requestLimitsFor(identity, apiId);
    let headers: Record<string, string> = {};
    try {
      if (l.rate > 0 && l.perMs > 0) {
        for (let attempt = 0; ; attempt++) {
          const r = await this.#rateHit(l.rateKey, l.rate, l.perMs);
          headers = {
            'X-RateLimit-Limit': String(l.rate),
            'X-RateLimit-Remaining': String(r.remaining),
            'X-RateLimit-Reset': String(Math.ceil((this.#now() + Math.max(0, r.resetInMs)) / 1000)),
          };
          if (r.allowed) break;
          if (attempt < l.throttleRetries && l.throttleMs > 0) {
            await this.#sleep(l.throttleMs);
            continue;
          }
          return { ok: false, status: 429, message: MESSAGES.rate, headers };
        }
      }
      if (l.quotaMax > 0) {
        const q = await this.#state.take(l.quotaKey, l.quotaMax, l.quotaWindowMs, 1, 1, 'lazy');
        if (q.granted !== 1) return { ok: false, status: 403, message: MESSAGES.quota, headers };
      }
    } catch (err) {
      this.#logger.error('rate limit state failed; request refused', { error: (err as Error).message });
      return { ok: false, status: 503, message: MESSAGES.stateDown, headers };
    }
    return { ok: true, headers };
  }

  #messageChecksFor(identity: Identity, apiId: string, direction: MessageDirection): readonly MessageCheck[] {
    const s = identity.session;
    let byApi = this.#messageChecks.get(s);
    if (!byApi) {
      byApi = new Map();
      this.#messageChecks.set(s, byApi);
    }
    const cacheKey = `${direction}\0${apiId}`;
    let checks = byApi.get(cacheKey);
    if (!checks) {
      const ar: AccessDefinition | undefined = s.access_rights?.[apiId];
      const ml = (ar?.message_limits ?? s.message_limits)?.[direction];
      const scope = ar?.allowance_scope ?? (ar?.message_limits && !policyIds(s).length ? apiId : '');
      const id = this.#counterId(identity);
      const out: MessageCheck[] = [];
      const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
      if (ml) {
        const window = Math.max(0, n(ml.quota_renewal_rate)) * 1000;
        if (n(ml.rate) > 0 && n(ml.per) > 0) {
          out.push({ key: `m:${direction}:r:${scope}:${id}`, limit: n(ml.rate), windowMs: n(ml.per) * 1000, mode: 'aligned', unit: 'count', kind: 'rate', message: MESSAGES.messageRate });
        }
        if (n(ml.quota_max) > 0) {
          out.push({ key: `m:${direction}:q:${scope}:${id}`, limit: n(ml.quota_max), windowMs: window, mode: 'lazy', unit: 'count', kind: 'quota', message: MESSAGES.messageQuota });
        }
        if (n(ml.bytes_quota_max) > 0) {
          out.push({ key: `m:${direction}:b:${scope}:${id}`, limit: n(ml.bytes_quota_max), windowMs: window, mode: 'lazy', unit: 'bytes', kind: 'quota', message: MESSAGES.messageBytes });
        }
      }
      checks = out;
      byApi.set(cacheKey, checks);
    }
    return checks;
  }

  /**
   * Counts `count` messages of `bytes` bytes delivered to or published by a key. Synchronous
   * (no I/O) while this process holds leased units; a Promise only when it must lease more.
   * All-or-nothing: when one limit refuses, nothing is counted.
   */
  /** Whether `consumeMessages` can ever refuse this identity on the API (false: no need to ask per message). */
  hasMessageLimits(identity: Identity, apiId: string, direction: MessageDirection): boolean {
    return identity.keyHash !== '' && this.#messageChecksFor(identity, apiId, direction).length > 0;
  }

  consumeMessages(identity: Identity, apiId: string, direction: MessageDirection, count: number, bytes: number): MessageVerdict | Promise<MessageVerdict> {
    if (!identity.keyHash) return MSG_OK;
    const checks = this.#messageChecksFor(identity, apiId, direction);
    if (!checks.length) return MSG_OK;
    for (let i = 0; i < checks.length; i++) {
      const c = checks[i]!;
      const v = this.#leases.spend(c.key, c.limit, c.windowMs, c.mode, c.unit === 'count' ? count : bytes);
      if (v instanceof Promise) return this.#consumeAsync(checks, i, v, count, bytes);
      if (!v.ok) return this.#refused(checks, i, v.retryAfterMs, count, bytes);
    }
    return MSG_OK;
  }

  async #consumeAsync(checks: readonly MessageCheck[], from: number, first: Promise<LeaseVerdict>, count: number, bytes: number): Promise<MessageVerdict> {
    for (let i = from; i < checks.length; i++) {
      const c = checks[i]!;
      let v: LeaseVerdict;
      try {
        v = await (i === from ? first : this.#leases.spend(c.key, c.limit, c.windowMs, c.mode, c.unit === 'count' ? count : bytes));
      } catch (err) {
        this.#logger.error('message limit state failed; messages refused', { error: (err as Error).message });
        v = { ok: false, retryAfterMs: 1000 };
      }
      if (!v.ok) return this.#refused(checks, i, v.retryAfterMs, count, bytes);
    }
    return MSG_OK;
  }

  /** Check `i` refused: give back what the earlier checks took, and say which limit. */
  #refused(checks: readonly MessageCheck[], i: number, retryAfterMs: number, count: number, bytes: number): MessageVerdict {
    for (let j = 0; j < i; j++) this.#leases.refund(checks[j]!.key, checks[j]!.unit === 'count' ? count : bytes);
    const c = checks[i]!;
    return retryAfterMs >= 0 ? { ok: false, limit: c.kind, retryAfterMs, message: c.message } : { ok: false, limit: c.kind, message: c.message };
  }

  // -------------------------------------------------------------------------------------------
  // Changes

  /** Key and policy changes, in this process and (through the change channel) in others. */
  onChange(listener: (e: AccessEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(e: AccessEvent): void {
    for (const l of [...this.#listeners]) {
      try {
        l(e);
      } catch (err) {
        this.#logger.error('access change listener failed', { error: (err as Error).message });
      }
    }
  }

  async #onMessage(m: ChangeMessage): Promise<void> {
    if (this.#closed) return;
    try {
      switch (m.kind) {
        case 'key':
          await this.#keyChanged(m.keyHash, m.action);
          break;
        case 'policy':
          await this.#policyChanged(m.id, m.action);
          break;
        case 'api':
          this.#emit(m);
          break;
        case 'reload':
          await this.reload();
          break;
      }
    } catch (err) {
      this.#logger.error('could not apply a change', { kind: m.kind, error: (err as Error).message });
    }
  }

  async #keyChanged(hash: string, action: KeyAction): Promise<void> {
    const was = this.#keys.get(hash);
    this.#keys.delete(hash);
    this.#requestLimitsDrop(was);
    await this.#leases.drop((k) => k.endsWith(hash));
    if (action === 'deleted' || action === 'expired' || action === 'deactivated') {
      this.#emit({ kind: 'key', keyHash: hash, action });
      return;
    }
    const now = await this.#load(hash);
    this.#emit({ kind: 'key', keyHash: hash, action: this.#actionFor(now) });
  }

  #requestLimitsDrop(e: CachedKey | undefined): void {
    if (e?.identity) {
      this.#requestLimits.delete(e.identity.session);
      this.#messageChecks.delete(e.identity.session);
    }
  }

  #actionFor(e: CachedKey): KeyAction {
    if (!e.stored) return 'deleted';
    if (!e.identity || e.identity.session.is_inactive) return 'deactivated';
    if (this.isExpired(e.identity.session)) return 'expired';
    return 'updated';
  }

  async #policyChanged(id: string, action: 'updated' | 'deleted'): Promise<void> {
    const p = action === 'deleted' ? undefined : await this.#store.getPolicy(id);
    if (p) this.#policies.set(id, p);
    else this.#policies.delete(id);
    this.#emit({ kind: 'policy', id, action: p ? 'updated' : 'deleted' });
    // Recompute the cached keys that use it: their limits, rights or state may have changed.
    for (const [hash, e] of [...this.#keys]) {
      if (!e.stored || !policyIds(e.stored).includes(id)) continue;
      const next = this.#build(hash, e.stored);
      this.#requestLimitsDrop(e);
      this.#keys.set(hash, next);
      await this.#leases.drop((k) => k.endsWith(hash));
      this.#emit({ kind: 'key', keyHash: hash, action: this.#actionFor(next) });
    }
  }

  #checkExpiry(): void {
    for (const [hash, e] of this.#keys) {
      if (e.expiredNotified || !e.identity) continue;
      if (this.isExpired(e.identity.session)) {
        e.expiredNotified = true;
        this.#emit({ kind: 'key', keyHash: hash, action: 'expired' });
      }
    }
  }

  /** Re-reads the policies and forgets every cached session (Tyk's `/tyk/reload`). */
  async reload(): Promise<void> {
    await this.start();
    const hashes = [...this.#keys.keys()];
    this.#keys.clear();
    for (const h of hashes) {
      const e = await this.#load(h);
      this.#emit({ kind: 'key', keyHash: h, action: this.#actionFor(e) });
    }
  }

  /** Asks every process to reload (Tyk's `/tyk/reload/group`). */
  async announceReload(): Promise<void> {
    await this.#bus.publish({ kind: 'reload' });
  }

  // -------------------------------------------------------------------------------------------
  // Management (the control API calls these with already validated JSON)

  policies(): Policy[] {
    return [...this.#policies.values()];
  }

  getPolicy(id: string): Policy | undefined {
    return this.#policies.get(id);
  }

  async putPolicy(policy: Policy): Promise<'created' | 'updated'> {
    const p: Policy = { ...policy, id: policy.id || randomBytes(12).toString('hex') };
    const r = await this.#store.putPolicy(p);
    this.#policies.set(p.id, p);
    await this.#bus.publish({ kind: 'policy', id: p.id, action: 'updated' });
    return r;
  }

  async deletePolicy(id: string): Promise<boolean> {
    const ok = await this.#store.deletePolicy(id);
    if (ok) {
      this.#policies.delete(id);
      await this.#bus.publish({ kind: 'policy', id, action: 'deleted' });
    }
    return ok;
  }

  listKeyHashes(): Promise<string[]> {
    return this.#store.listKeyHashes();
  }

  /** Every key hash with its stored session (for listings; never contains a plaintext key). */
  listKeysDetailed(): Promise<{ keyHash: string; session: Session }[]> {
    return this.#store.listKeys();
  }

  /** The stored session (as written) and the effective one (policies applied), if it exists. */
  async getKey(hash: string): Promise<{ stored: Session; effective: Session | undefined; policyError?: string } | undefined> {
    const e = await this.#load(hash);
    if (!e.stored) return undefined;
    return { stored: e.stored, effective: e.identity?.session, policyError: e.policyError };
  }

  /** Live quota figures for a session (Tyk fills `quota_remaining` and `quota_renews` on GET). */
  async quotaStatus(hash: string, session: Session): Promise<{ quota_remaining: number; quota_renews: number } | undefined> {
    const identity: Identity = { keyHash: hash, session };
    const l = this.#requestLimitsFor(identity, '\0none');
    if (l.quotaMax <= 0) return undefined;
    const p = await this.#state.peek(l.quotaKey).catch(() => undefined);
    const now = this.#now();
    if (!p) return { quota_remaining: l.quotaMax, quota_renews: Math.floor((now + l.quotaWindowMs) / 1000) };
    return { quota_remaining: Math.max(0, l.quotaMax - p.used), quota_renews: p.resetInMs < 0 ? 0 : Math.floor((now + p.resetInMs) / 1000) };
  }

  /**
   * Creates a key. With `customKeyId` the key is `org_id + customKeyId` (Tyk's custom keys);
   * otherwise a random one. Basic-auth passwords are hashed with scrypt before storing.
   * Throws SLU_ERR_ACCESS_POLICY when its policies cannot be applied.
   */
  async createKey(input: Session, opts: { customKeyId?: string } = {}): Promise<CreatedKey> {
    const session: Session = structuredClone(input);
    const org = typeof session.org_id === 'string' ? session.org_id : '';
    const key = opts.customKeyId !== undefined ? org + opts.customKeyId : generateKey(org);
    const hash = keyHash(key);
    const now = this.#now();
    session.date_created = new Date(now).toISOString();
    session.last_updated = String(Math.floor(now / 1000));
    if (!(typeof session.expires === 'number' && session.expires >= 1)) {
      for (const id of policyIds(session)) {
        const p = this.#policies.get(id);
        if (p?.key_expires_in && p.key_expires_in > 0) session.expires = Math.floor(now / 1000) + p.key_expires_in;
      }
    }
    await this.#hashBasicPassword(session, undefined);
    this.#mustApply(session);
    await this.#store.putKey(hash, session);
    await this.#resetCounters(hash, session);
    await this.#bus.publish({ kind: 'key', keyHash: hash, action: 'updated' });
    return { key: session.basic_auth_data?.password ? '' : key, keyHash: hash };
  }

  /** Replaces a key's session. Quotas restart unless `suppressReset` (Tyk's `suppress_reset=1`). */
  async updateKey(hash: string, input: Session, opts: { suppressReset?: boolean } = {}): Promise<boolean> {
    const old = await this.#store.getKey(hash);
    if (!old) return false;
    const session: Session = structuredClone(input);
    if (old.date_created) session.date_created = old.date_created;
    if (!opts.suppressReset) session.last_updated = String(Math.floor(this.#now() / 1000));
    await this.#hashBasicPassword(session, old);
    // GET answers with the HMAC secret blanked: sending that back keeps the stored one.
    if (session.hmac_string === '' && typeof old.hmac_string === 'string' && old.hmac_string) session.hmac_string = old.hmac_string;
    this.#mustApply(session);
    await this.#store.putKey(hash, session);
    if (!opts.suppressReset) await this.#resetCounters(hash, session, old);
    await this.#bus.publish({ kind: 'key', keyHash: hash, action: 'updated' });
    return true;
  }

  /** Tyk's `POST /tyk/keys/policy/{key}`: replaces the key's `apply_policies`. */
  async setKeyPolicies(hash: string, ids: readonly string[]): Promise<boolean> {
    const old = await this.#store.getKey(hash);
    if (!old) return false;
    const session: Session = { ...old, apply_policies: [...ids], last_updated: String(Math.floor(this.#now() / 1000)) };
    this.#mustApply(session);
    await this.#store.putKey(hash, session);
    await this.#bus.publish({ kind: 'key', keyHash: hash, action: 'updated' });
    return true;
  }

  async deleteKey(hash: string): Promise<boolean> {
    const old = await this.#store.getKey(hash);
    const ok = await this.#store.deleteKey(hash);
    if (!ok) return false;
    if (old) await this.#resetCounters(hash, old).catch(() => undefined);
    await this.#bus.publish({ kind: 'key', keyHash: hash, action: 'deleted' });
    return true;
  }

  /** Tyk refuses "master keys" (no access rights) by default; Sluice always does. */
  #mustApply(session: Session): void {
    const r = applyPolicies(session, (id) => this.#policies.get(id));
    if (!r.ok) throw new SluiceError('SLU_ERR_ACCESS_POLICY', [r.error]);
    if (!Object.keys(r.session.access_rights ?? {}).length) {
      throw new SluiceError('SLU_ERR_ACCESS_POLICY', ['a key needs at least one access_rights entry, its own or from a policy']);
    }
  }

  async #hashBasicPassword(session: Session, old: Session | undefined): Promise<void> {
    const b = session.basic_auth_data;
    const prev = old?.basic_auth_data;
    if (!b || !b.password) {
      // GET answers with the password blanked: sending that back keeps the stored hash.
      if (prev?.password) session.basic_auth_data = { ...prev };
      return;
    }
    if (prev?.password && b.password === prev.password) return; // unchanged stored hash
    if (b.hash_type === PASSWORD_HASH_TYPE && isPasswordHash(b.password)) return; // imported hash
    session.basic_auth_data = { password: await hashPassword(b.password), hash_type: PASSWORD_HASH_TYPE };
  }

  /** Forgets the rate, quota and message counters of a key (every scope its sessions used). */
  async #resetCounters(hash: string, ...sessions: Session[]): Promise<void> {
    const keys = new Set<string>();
    for (const s of sessions) {
      const applied = applyPolicies(s, (id) => this.#policies.get(id));
      const eff = applied.ok ? applied.session : s;
      const identity: Identity = { keyHash: hash, session: eff };
      const scopes = new Set<string>(['']);
      for (const [apiId, ar] of Object.entries(eff.access_rights ?? {})) {
        if (ar.allowance_scope) scopes.add(ar.allowance_scope);
        scopes.add(apiId);
      }
      const id = this.#counterId(identity);
      for (const sc of scopes) {
        keys.add(`q:${sc}:${id}`);
        for (const d of ['delivered', 'published']) for (const t of ['r', 'q', 'b']) keys.add(`m:${d}:${t}:${sc}:${id}`);
      }
    }
    await this.#leases.drop((k) => k.endsWith(hash));
    try {
      await this.#state.reset([...keys]);
    } catch (err) {
      this.#logger.warn('could not reset the counters of a key', { error: (err as Error).message });
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#unsubscribe();
    await this.#leases.close();
  }
}
