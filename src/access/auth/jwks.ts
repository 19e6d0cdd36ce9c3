/**
 * JSON Web Key Sets fetched from `jwksURIs`: the keys of all URIs are merged into one set (as
 * Tyk does), kept for the URI's `cacheTimeout` (Tyk's default 240 s), and refetched at once when
 * a token names a `kid` the set does not have (key rotation); such refetches happen at most once
 * per `minRefetchIntervalMs`, so tokens with made-up kids cannot make the gateway hammer the IdP.
 * A failed refresh keeps the keys it had.
 */
import { createLocalJWKSet, type FlattenedJWSInput, type JSONWebKeySet, type JWK, type JWSHeaderParameters } from 'jose';
import type { AuthRuntime } from './types.js';

export interface JwksUri {
  readonly url: string;
  /** Seconds the keys are used before a refresh; absent or 0 = the default. */
  readonly cacheTimeout?: number;
}

export interface JwksOptions extends AuthRuntime {
  /** Least time between two fetches caused by an unknown `kid` (default 10 s). */
  readonly minRefetchIntervalMs?: number;
  /** How long keys are kept when a URI sets no `cacheTimeout` (default 240 s, Tyk's). */
  readonly defaultCacheMs?: number;
  /** Timeout of one fetch (default 5 s). */
  readonly timeoutMs?: number;
}

type KeyResolver = ReturnType<typeof createLocalJWKSet>;
export type JwsKey = Awaited<ReturnType<KeyResolver>>;

export class JwksFetchError extends Error {
  override readonly name = 'JwksFetchError';
}

export class JwksCache {
  private resolver: KeyResolver | undefined;
  private expiresAt = 0;
  private lastMissRefetchAt = Number.NEGATIVE_INFINITY;
  private inflight: Promise<void> | undefined;
  private fetches = 0;
  private readonly now: () => number;
  private readonly fetchFn: typeof globalThis.fetch;

  constructor(
    private readonly uris: readonly JwksUri[],
    private readonly options: JwksOptions = {},
  ) {
    if (!uris.length) throw new Error('JwksCache needs at least one URI');
    this.now = options.now ?? Date.now;
    this.fetchFn = options.fetch ?? globalThis.fetch;
  }

  /** How many times the set was fetched (each fetch reads every URI). */
  get fetchCount(): number {
    return this.fetches;
  }

  /** The verification key for a token's protected header, in the form jose's verify functions take. */
  async getKey(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<JwsKey> {
    if (!this.resolver || this.now() >= this.expiresAt) await this.refresh(!this.resolver);
    if (!this.resolver) throw new JwksFetchError('no JSON Web Key Set could be fetched');
    try {
      return await this.resolver(header, token);
    } catch (err) {
      if (!isNoMatchingKey(err)) throw err;
      if (this.now() - this.lastMissRefetchAt < (this.options.minRefetchIntervalMs ?? 10_000)) throw err;
      this.lastMissRefetchAt = this.now();
      await this.refresh(false);
      return await this.resolver!(header, token);
    }
  }

  private refresh(mustSucceed: boolean): Promise<void> {
    if (!this.inflight) {
      this.inflight = this.load()
        .catch((err: unknown) => {
          this.options.logger?.warn('could not refresh JSON Web Key Set', { error: err instanceof Error ? err.message : String(err) });
          if (mustSucceed || !this.resolver) throw err;
        })
        .finally(() => {
          this.inflight = undefined;
        });
    }
    return this.inflight;
  }

  private async load(): Promise<void> {
    this.fetches++;
    const results = await Promise.allSettled(this.uris.map((u) => this.fetchOne(u.url)));
    const keys: JWK[] = [];
    let ttl = Number.POSITIVE_INFINITY;
    const errors: string[] = [];
    results.forEach((r, i) => {
      const uri = this.uris[i]!;
      if (r.status === 'fulfilled') {
        keys.push(...r.value);
        ttl = Math.min(ttl, uri.cacheTimeout && uri.cacheTimeout > 0 ? uri.cacheTimeout * 1000 : this.options.defaultCacheMs ?? 240_000);
      } else {
        errors.push(`${uri.url}: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`);
      }
    });
    if (!keys.length) throw new JwksFetchError(errors.length ? errors.join('; ') : 'no keys in the key sets');
    if (errors.length) this.options.logger?.warn('some JSON Web Key Set URIs failed', { errors });
    const set: JSONWebKeySet = { keys };
    this.resolver = createLocalJWKSet(set);
    this.expiresAt = this.now() + ttl;
  }

  private async fetchOne(url: string): Promise<JWK[]> {
    const res = await this.fetchFn(url, {
      headers: { accept: 'application/jwk-set+json, application/json' },
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 5_000),
    });
    if (!res.ok) throw new JwksFetchError(`status ${res.status}`);
    const body: unknown = await res.json();
    const keys = typeof body === 'object' && body !== null ? (body as { keys?: unknown }).keys : undefined;
    if (!Array.isArray(keys)) throw new JwksFetchError('not a JSON Web Key Set (no "keys" array)');
    return keys.filter((k): k is JWK => typeof k === 'object' && k !== null && typeof (k as { kty?: unknown }).kty === 'string');
  }
}

function isNoMatchingKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ERR_JWKS_NO_MATCHING_KEY';
}
