/**
 * JWT authentication, Tyk's `jwt` scheme (`type: http, scheme: bearer, bearerFormat: jwt`).
 *
 * Keys, as in Tyk:
 *  - `jwksURIs` (`[{url, cacheTimeout}]`) or a URL in `source`: keys fetched and cached, with
 *    an early refetch when a token names an unknown `kid` (rotation), rate limited;
 *  - `source` with key material: a base64 HMAC secret, or a base64 (or plain) PEM public key,
 *    certificate or JWK for RSA/ECDSA;
 *  - neither: one key per token, Tyk's "one-to-one" mode: the token's `kid` (unless `skipKid`),
 *    else its identity claim, names a stored key whose `jwt_data.secret` verifies it, and that
 *    key's session is used.
 *
 * With a central key (the first two) the token makes a session of its own: identified by
 * `subjectClaims` / `identityBaseField`, falling back to `sub`; its policies come from the
 * policy claim (`basePolicyClaims` / `policyFieldName`), else `defaultPolicies`, plus those that
 * `scopes.scopeToPolicyMapping` maps the token's scopes to. The session expires with the token.
 *
 * Answers (Tyk's JWT middleware):
 *   no token                      400 Authorization field missing
 *   bad signature / unknown key   403 Key not authorized
 *   algorithm not allowed         403 Key not authorized: Unexpected signing method
 *   expired                       401 Key not authorized: token has expired
 *   nbf / iat in the future       401 Key not authorized: token is not valid yet / used before issued
 *   issuer / audience / subject   401 Key not authorized: invalid issuer|audience|subject claim (Sluice's wording)
 *   no policy                     403 key not authorized: no matching policy found
 */
import { readCredential, stripBearer, virtualKeyHash } from './credentials.js';
import {
  MSG_AUTH_FIELD_MISSING,
  MSG_JWT_BAD_POLICY,
  MSG_JWT_EXPIRED,
  MSG_JWT_NO_IDENTITY,
  MSG_JWT_NO_POLICY,
  MSG_JWT_NO_SCOPE_POLICY,
  MSG_JWT_NOT_AUTHORIZED,
  MSG_JWT_NOT_YET_VALID,
  MSG_JWT_UNEXPECTED_SIGNING_METHOD,
  MSG_JWT_USED_BEFORE_ISSUED,
  checkSession,
  failure,
  guard,
} from './failures.js';
import { JwksCache, type JwksOptions, type JwksUri } from './jwks.js';
import {
  algorithmsFor,
  claimAt,
  isHmac,
  keyFromMaterial,
  parseSource,
  peekClaims,
  peekHeader,
  scopeList,
  subjectOf,
  verifyJwt,
  type JwtCheck,
  type JwtVerifyOptions,
} from './jwt-verify.js';
import type { Identity, Session } from '../types.js';
import type { AuthResult, Authenticator, AuthRuntime, CredentialSources, KeyLookup } from './types.js';

export interface ScopeToPolicy {
  readonly scope: string;
  readonly policyId: string;
}

/** Tyk OAS JWT fields (`x-tyk-api-gateway.server.authentication.securitySchemes.<name>`). */
export interface JwtSchemeConfig {
  readonly source?: string;
  readonly jwksURIs?: readonly JwksUri[];
  /** `hmac` (default), `rsa`, `ecdsa`, or one algorithm name. */
  readonly signingMethod?: string;
  readonly identityBaseField?: string;
  readonly subjectClaims?: readonly string[];
  readonly skipKid?: boolean;
  readonly policyFieldName?: string;
  readonly basePolicyClaims?: readonly string[];
  readonly defaultPolicies?: readonly string[];
  readonly scopes?: {
    readonly claimName?: string;
    readonly claims?: readonly string[];
    readonly scopeToPolicyMapping?: readonly ScopeToPolicy[];
  };
  readonly issuedAtValidationSkew?: number;
  readonly notBeforeValidationSkew?: number;
  readonly expiresAtValidationSkew?: number;
  readonly allowedIssuers?: readonly string[];
  readonly allowedAudiences?: readonly string[];
  readonly allowedSubjects?: readonly string[];
  readonly jtiValidation?: { readonly enabled?: boolean };
}

export interface JwtAuthOptions extends JwtSchemeConfig, AuthRuntime {
  readonly lookup: KeyLookup;
  /** Where the token is read; the `Authorization` header when none is given. */
  readonly sources?: CredentialSources;
  /** Caching and refetch limits of `jwksURIs`. */
  readonly jwks?: Omit<JwksOptions, keyof AuthRuntime>;
}

/** Throws on a configuration that cannot work (bad signing method or key); `createApiAuthenticator` reports these first. */
export function jwtAuth(options: JwtAuthOptions): Authenticator {
  const now = options.now ?? Date.now;
  const algorithms = algorithmsFor(options.signingMethod);
  if (!algorithms) throw new Error(`unknown signingMethod ${JSON.stringify(options.signingMethod)}`);

  const source = options.source?.trim() ? parseSource(options.source) : undefined;
  if (options.source?.trim() && !source) throw new Error('source is neither a URL, a PEM, a JWK nor base64');
  const jwksUris: JwksUri[] = options.jwksURIs?.length ? [...options.jwksURIs] : source?.kind === 'url' ? [{ url: source.url }] : [];
  const jwks = jwksUris.length
    ? new JwksCache(jwksUris, { ...options.jwks, now: options.now, fetch: options.fetch, logger: options.logger })
    : undefined;
  const staticKey = !jwks && source?.kind === 'material' ? keyFromMaterial(source.material, algorithms) : undefined;
  const centralised = jwks !== undefined || staticKey !== undefined;

  const subjectNames = options.subjectClaims?.length ? options.subjectClaims : options.identityBaseField ? [options.identityBaseField] : [];
  const policyNames = options.basePolicyClaims?.length ? options.basePolicyClaims : options.policyFieldName ? [options.policyFieldName] : [];
  const defaults = options.defaultPolicies ?? [];
  const mapping = new Map((options.scopes?.scopeToPolicyMapping ?? []).map((m) => [m.scope, m.policyId]));
  const scopeClaims = options.scopes?.claims?.length ? options.scopes.claims : [options.scopes?.claimName || 'scope'];

  const verifyOptions = (key: JwtVerifyOptions['key']): JwtVerifyOptions => ({
    algorithms,
    key,
    expiresAtSkew: options.expiresAtValidationSkew,
    notBeforeSkew: options.notBeforeValidationSkew,
    issuedAtSkew: options.issuedAtValidationSkew,
    allowedIssuers: options.allowedIssuers,
    allowedAudiences: options.allowedAudiences,
    requireJti: options.jtiValidation?.enabled === true,
    now: now(),
  });

  const refuse = (check: Extract<JwtCheck, { ok: false }>): AuthResult => {
    switch (check.reason) {
      case 'algorithm':
        return failure(403, MSG_JWT_UNEXPECTED_SIGNING_METHOD);
      case 'expired':
        return failure(401, MSG_JWT_EXPIRED);
      case 'not-yet-valid':
        return failure(401, MSG_JWT_NOT_YET_VALID);
      case 'used-before-issued':
        return failure(401, MSG_JWT_USED_BEFORE_ISSUED);
      case 'issuer':
        return failure(401, `${MSG_JWT_NOT_AUTHORIZED}: invalid issuer claim`);
      case 'audience':
        return failure(401, `${MSG_JWT_NOT_AUTHORIZED}: invalid audience claim`);
      case 'jti':
        return failure(401, `${MSG_JWT_NOT_AUTHORIZED}: missing jti claim`);
      case 'key-unavailable':
        options.logger?.warn('JWT key unavailable', { error: check.detail });
        return failure(403, MSG_JWT_NOT_AUTHORIZED);
      default:
        return failure(403, MSG_JWT_NOT_AUTHORIZED);
    }
  };

  const checkSubject = (subject: string | undefined): AuthResult | undefined => {
    if (options.allowedSubjects?.length && (subject === undefined || !options.allowedSubjects.includes(subject)))
      return failure(401, `${MSG_JWT_NOT_AUTHORIZED}: invalid subject claim`);
    return undefined;
  };

  /** One-to-one: a stored key named by the token verifies it and gives the session. */
  const oneToOne = async (token: string): Promise<AuthResult> => {
    const header = peekHeader(token);
    const unverified = peekClaims(token);
    if (!header || !unverified) return failure(403, MSG_JWT_NOT_AUTHORIZED);
    if (typeof header.alg !== 'string' || !algorithms.includes(header.alg)) return failure(403, MSG_JWT_UNEXPECTED_SIGNING_METHOD);
    const id = !options.skipKid && typeof header.kid === 'string' && header.kid !== '' ? header.kid : subjectOf(unverified, subjectNames);
    if (!id) return failure(403, MSG_JWT_NO_IDENTITY);
    const stored = await options.lookup.resolveKey(id);
    const secret = stored?.session.jwt_data?.secret;
    if (!stored || !secret) return failure(403, MSG_JWT_NOT_AUTHORIZED);
    let key;
    try {
      key = keyFromMaterial(storedKeyMaterial(secret, algorithms), algorithms);
    } catch (err) {
      options.logger?.warn('stored JWT secret is not a usable key', { error: err instanceof Error ? err.message : String(err) });
      return failure(403, MSG_JWT_NOT_AUTHORIZED);
    }
    const check = await verifyJwt(token, verifyOptions(key));
    if (!check.ok) return refuse(check);
    const bad = checkSubject(subjectOf(check.claims, subjectNames));
    if (bad) return bad;
    return checkSession({ ...stored, claims: check.claims, token }, now());
  };

  /** Central key: the token's claims make the session. */
  const central = async (token: string): Promise<AuthResult> => {
    const check = await verifyJwt(token, verifyOptions(jwks ? (h, t) => jwks.getKey(h, t) : staticKey!));
    if (!check.ok) return refuse(check);
    const claims = check.claims;
    const subject = subjectOf(claims, subjectNames);
    if (!subject) return failure(403, MSG_JWT_NO_IDENTITY);
    const bad = checkSubject(subject);
    if (bad) return bad;

    let base: string | undefined;
    for (const n of policyNames) {
      const v = claims[n];
      if (typeof v === 'string' && v !== '') {
        base = v;
        break;
      }
    }
    const isDefault = base === undefined;
    if (isDefault && !defaults.length) return failure(403, MSG_JWT_NO_POLICY);
    let policies: string[] = isDefault ? [...defaults] : [base!];
    if (mapping.size) {
      let scopes: string[] = [];
      for (const n of scopeClaims) {
        const v = claimAt(claims, n);
        if (v !== undefined) {
          scopes = scopeList(v);
          break;
        }
      }
      if (scopes.length) {
        const mapped = scopes.map((s) => mapping.get(s)).filter((p): p is string => p !== undefined);
        const ids = [...(isDefault ? [] : [base!]), ...mapped];
        if (!ids.length) return failure(403, MSG_JWT_NO_SCOPE_POLICY);
        policies = ids;
      }
    }
    policies = [...new Set(policies)];
    const fromPolicies = await options.lookup.resolvePolicies(policies);
    if (!fromPolicies) return failure(403, MSG_JWT_BAD_POLICY);
    const keyHash = virtualKeyHash('jwt', subject);
    const exp = typeof claims.exp === 'number' ? Math.floor(claims.exp) + (options.expiresAtValidationSkew ?? 0) : 0;
    const session: Session = {
      ...fromPolicies,
      apply_policies: fromPolicies.apply_policies ?? policies,
      alias: subject,
      expires: Math.max(typeof fromPolicies.expires === 'number' ? fromPolicies.expires : 0, exp),
      meta_data: { ...fromPolicies.meta_data, TykJWTSessionID: keyHash },
    };
    const identity: Identity = { keyHash, session, claims, token };
    return checkSession(identity, now());
  };

  return guard(async (req) => {
    const raw = readCredential(req, options.sources);
    const token = raw ? stripBearer(raw) : '';
    if (!token) return failure(400, MSG_AUTH_FIELD_MISSING);
    return centralised ? central(token) : oneToOne(token);
  }, 'jwt', options.logger);
}

/**
 * A stored key's `jwt_data.secret` as key material: for HMAC the secret's own bytes (as Tyk
 * uses it); for RSA/ECDSA a PEM or JWK as written, or base64 of one.
 */
function storedKeyMaterial(secret: string, algorithms: readonly string[]): Buffer {
  if (isHmac(algorithms)) return Buffer.from(secret, 'utf8');
  const parsed = parseSource(secret);
  return parsed?.kind === 'material' ? parsed.material : Buffer.from(secret, 'utf8');
}
