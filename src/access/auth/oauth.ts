/**
 * OAuth 2.0 bearer tokens issued by an external authorization server, Tyk's `externalOAuth`
 * scheme (OAS `type: oauth2` with Tyk `providers`). Each provider validates tokens either
 *  - as JWTs, locally, with the server's keys (`jwt.source`: a JWKS URL, or a base64 secret or
 *    PEM; Sluice also takes `jwt.jwksURIs`, `jwt.allowedIssuers`, `jwt.allowedAudiences`), or
 *  - by RFC 7662 introspection (`introspection.url`, `clientId`, `clientSecret`), the gateway
 *    authenticating as a client; results are cached until the token's `exp`, at most
 *    `cache.timeout` seconds (30 by default; `cache: {enabled: false}` turns it off).
 * When a provider has both enabled, tokens shaped like a JWT are validated locally and the
 * others are introspected (Tyk uses only the JWT check then). Providers are tried in order.
 *
 * The session: the policies in `defaultPolicies` (a Sluice addition) when given, else Tyk's
 * virtual session, granting this API with no limits. Identity: `identityBaseField`, else `sub`,
 * else the client id claim.
 *
 * Answers (Tyk's external OAuth middleware):
 *   no token                              400 authorization field missing
 *   invalid, inactive, wrong signature    401 access token is not valid
 *   expired                               401 key not authorized: token has expired
 *   authorization server unreachable      500 error happened during the access token validation
 */
import { cacheKey, readCredential, stripBearer, TtlCache, virtualKeyHash } from './credentials.js';
import {
  MSG_OAUTH_EXPIRED,
  MSG_OAUTH_FIELD_MISSING,
  MSG_OAUTH_INVALID,
  MSG_OAUTH_VALIDATION_FAILED,
  checkSession,
  failure,
  guard,
} from './failures.js';
import { JwksCache, type JwksOptions, type JwksUri } from './jwks.js';
import { algorithmsFor, keyFromMaterial, parseSource, peekHeader, verifyJwt } from './jwt-verify.js';
import type { Identity, Session } from '../types.js';
import type { AuthResult, Authenticator, AuthRuntime, CredentialSources, KeyLookup } from './types.js';

export interface OAuthJwtValidation {
  readonly enabled?: boolean;
  readonly signingMethod?: string;
  readonly source?: string;
  readonly jwksURIs?: readonly JwksUri[];
  readonly identityBaseField?: string;
  readonly issuedAtValidationSkew?: number;
  readonly notBeforeValidationSkew?: number;
  readonly expiresAtValidationSkew?: number;
  readonly allowedIssuers?: readonly string[];
  readonly allowedAudiences?: readonly string[];
}

export interface OAuthIntrospection {
  readonly enabled?: boolean;
  readonly url: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly identityBaseField?: string;
  /** Tyk's `cache`; `timeout` in seconds. */
  readonly cache?: { readonly enabled?: boolean; readonly timeout?: number };
  /**
   * How the gateway authenticates to the introspection endpoint: HTTP Basic (default, RFC 6749
   * §2.3.1) or `client_secret_post` (the id and secret in the form body, as Tyk sends them).
   */
  readonly clientAuthMethod?: 'client_secret_basic' | 'client_secret_post';
}

export interface OAuthProvider {
  readonly jwt?: OAuthJwtValidation;
  readonly introspection?: OAuthIntrospection;
}

export interface ExternalOAuthOptions extends AuthRuntime {
  readonly providers: readonly OAuthProvider[];
  readonly lookup: KeyLookup;
  readonly sources?: CredentialSources;
  /** The API the virtual session grants. */
  readonly apiId?: string;
  readonly apiName?: string;
  /** Policies applied to every valid token (Sluice addition); otherwise Tyk's virtual session. */
  readonly defaultPolicies?: readonly string[];
  readonly jwks?: Omit<JwksOptions, keyof AuthRuntime>;
  /** Timeout of one introspection call (default 5 s). */
  readonly introspectionTimeoutMs?: number;
}

const CLIENT_ID_CLAIMS = ['client_id', 'cid', 'clientId'];
const DEFAULT_INTROSPECTION_CACHE_S = 30;

type Validation = { ok: true; claims: Record<string, unknown>; subjectField?: string } | { ok: false; result: AuthResult };
type Validator = (token: string) => Promise<Validation>;

export function externalOAuth(options: ExternalOAuthOptions): Authenticator {
  const now = options.now ?? Date.now;
  const fetchFn = options.fetch ?? globalThis.fetch;
  const log = options.logger;
  if (!options.providers.length) throw new Error('externalOAuth needs at least one provider');

  const providers = options.providers.map((p) => ({
    jwt: p.jwt?.enabled ? jwtValidator(p.jwt) : undefined,
    introspect: p.introspection?.enabled ? introspectionValidator(p.introspection) : undefined,
    jwtField: p.jwt?.identityBaseField,
    jwtSkew: p.jwt?.expiresAtValidationSkew ?? 0,
    introspectionField: p.introspection?.identityBaseField,
  }));

  function jwtValidator(cfg: OAuthJwtValidation): Validator {
    const algorithms = algorithmsFor(cfg.signingMethod);
    if (!algorithms) throw new Error(`unknown signingMethod ${JSON.stringify(cfg.signingMethod)}`);
    const source = cfg.source?.trim() ? parseSource(cfg.source) : undefined;
    const uris = cfg.jwksURIs?.length ? [...cfg.jwksURIs] : source?.kind === 'url' ? [{ url: source.url }] : [];
    const jwks = uris.length ? new JwksCache(uris, { ...options.jwks, now: options.now, fetch: options.fetch, logger: log }) : undefined;
    const key = !jwks && source?.kind === 'material' ? keyFromMaterial(source.material, algorithms) : undefined;
    if (!jwks && !key) throw new Error('jwt validation needs a source or jwksURIs');
    return async (token) => {
      const check = await verifyJwt(token, {
        algorithms,
        key: jwks ? (h, t) => jwks.getKey(h, t) : key!,
        expiresAtSkew: cfg.expiresAtValidationSkew,
        notBeforeSkew: cfg.notBeforeValidationSkew,
        issuedAtSkew: cfg.issuedAtValidationSkew,
        allowedIssuers: cfg.allowedIssuers,
        allowedAudiences: cfg.allowedAudiences,
        now: now(),
      });
      if (check.ok) return { ok: true, claims: check.claims };
      switch (check.reason) {
        case 'expired':
          return { ok: false, result: failure(401, MSG_OAUTH_EXPIRED) };
        case 'not-yet-valid':
          return { ok: false, result: failure(401, 'key not authorized: token is not valid yet') };
        case 'used-before-issued':
          return { ok: false, result: failure(401, 'key not authorized: token used before issued') };
        case 'key-unavailable':
          log?.warn('could not get the authorization server keys', { error: check.detail });
          return { ok: false, result: failure(500, MSG_OAUTH_VALIDATION_FAILED) };
        default:
          return { ok: false, result: failure(401, MSG_OAUTH_INVALID) };
      }
    };
  }

  function introspectionValidator(cfg: OAuthIntrospection): Validator {
    const cacheOn = cfg.cache?.enabled !== false;
    const ttlMs = (cfg.cache?.timeout && cfg.cache.timeout > 0 ? cfg.cache.timeout : DEFAULT_INTROSPECTION_CACHE_S) * 1000;
    const cache = new TtlCache<Record<string, unknown>>(10_000, now);
    const inflight = new Map<string, Promise<Record<string, unknown>>>();

    const call = async (token: string): Promise<Record<string, unknown>> => {
      const form = new URLSearchParams({ token, token_type_hint: 'access_token' });
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
      if (cfg.clientAuthMethod === 'client_secret_post') {
        form.set('client_id', cfg.clientId);
        form.set('client_secret', cfg.clientSecret);
      } else {
        const id = encodeURIComponent(cfg.clientId).replace(/%20/g, '+');
        const secret = encodeURIComponent(cfg.clientSecret).replace(/%20/g, '+');
        headers.authorization = 'Basic ' + Buffer.from(`${id}:${secret}`).toString('base64');
      }
      const res = await fetchFn(cfg.url, {
        method: 'POST',
        headers,
        body: form.toString(),
        signal: AbortSignal.timeout(options.introspectionTimeoutMs ?? 5_000),
      });
      if (res.status !== 200) throw new Error(`introspection answered ${res.status}`);
      const body: unknown = await res.json();
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('introspection answer is not a JSON object');
      const claims = body as Record<string, unknown>;
      if (typeof claims.active !== 'boolean') throw new Error("introspection result doesn't have active flag");
      return claims;
    };

    return async (token) => {
      const ck = cacheKey('introspect', cfg.url, token);
      let claims = cacheOn ? cache.get(ck) : undefined;
      if (!claims) {
        let p = inflight.get(ck);
        if (!p) {
          p = call(token).finally(() => inflight.delete(ck));
          inflight.set(ck, p);
        }
        try {
          claims = await p;
        } catch (err) {
          log?.warn('token introspection failed', { url: cfg.url, error: err instanceof Error ? err.message : String(err) });
          return { ok: false, result: failure(500, MSG_OAUTH_VALIDATION_FAILED) };
        }
        if (cacheOn) {
          const exp = typeof claims.exp === 'number' ? claims.exp * 1000 - now() : Number.POSITIVE_INFINITY;
          cache.set(ck, claims, Math.min(ttlMs, exp));
        }
      }
      if (claims.active !== true) return { ok: false, result: failure(401, MSG_OAUTH_INVALID) };
      if (typeof claims.exp === 'number' && claims.exp * 1000 <= now()) return { ok: false, result: failure(401, MSG_OAUTH_EXPIRED) };
      return { ok: true, claims };
    };
  }

  const virtualSession = async (subject: string, claims: Record<string, unknown>, skew: number): Promise<Session | undefined> => {
    const exp = typeof claims.exp === 'number' ? Math.floor(claims.exp) + skew : 0;
    if (options.defaultPolicies?.length) {
      const s = await options.lookup.resolvePolicies(options.defaultPolicies);
      if (!s) return undefined;
      return { ...s, apply_policies: s.apply_policies ?? [...options.defaultPolicies], alias: subject, expires: Math.max(typeof s.expires === 'number' ? s.expires : 0, exp) };
    }
    const session: Session = { alias: subject, expires: exp };
    if (options.apiId) session.access_rights = { [options.apiId]: { api_id: options.apiId, ...(options.apiName ? { api_name: options.apiName } : {}) } };
    return session;
  };

  return guard(async (req) => {
    const raw = readCredential(req, options.sources);
    const token = raw ? stripBearer(raw) : '';
    if (!token) return failure(400, MSG_OAUTH_FIELD_MISSING);
    const looksJwt = token.split('.').length === 3 && peekHeader(token) !== undefined;
    let last: AuthResult = failure(401, MSG_OAUTH_INVALID);
    for (const p of providers) {
      const validate = p.jwt && (looksJwt || !p.introspect) ? p.jwt : p.introspect;
      if (!validate) continue;
      const field = validate === p.jwt ? p.jwtField : p.introspectionField;
      const v = await validate(token);
      if (!v.ok) {
        last = v.result;
        continue;
      }
      const subject = identityOf(v.claims, field);
      if (!subject) {
        last = failure(401, MSG_OAUTH_INVALID);
        continue;
      }
      const session = await virtualSession(subject, v.claims, validate === p.jwt ? p.jwtSkew : 0);
      if (!session) return failure(403, 'key not authorized: no matching policy');
      const identity: Identity = { keyHash: virtualKeyHash('oauth', subject), session, claims: v.claims, token };
      return checkSession(identity, now());
    }
    return last;
  }, 'externalOAuth', log);
}

function identityOf(claims: Record<string, unknown>, field: string | undefined): string | undefined {
  for (const n of [...(field ? [field] : []), 'sub', ...CLIENT_ID_CLAIMS]) {
    const v = claims[n];
    if (typeof v === 'string' && v !== '') return v;
  }
  return undefined;
}
