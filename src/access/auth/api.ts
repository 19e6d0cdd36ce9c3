/**
 * The authenticator of one API, built from its Tyk OAS document:
 *  - OAS `components.securitySchemes` says what each scheme is (`apiKey`, `http` basic,
 *    `http` bearer + `bearerFormat: jwt`, `oauth2` with Tyk `providers` = external OAuth);
 *  - `x-tyk-api-gateway.server.authentication.securitySchemes.<same name>` enables it and adds
 *    Tyk's settings and credential sources (`header|query|cookie: {enabled, name}`);
 *  - OAS `security` lists the requirements: each one an AND of schemes. With
 *    `securityProcessingMode: legacy` (the default) only the first requirement is used; with
 *    `compliant` any requirement may be met (OR), Tyk's own `authentication.security`
 *    requirements (e.g. `[["custom"]]`) included;
 *  - `authentication.custom` is a custom plugin: in legacy mode it joins the first requirement,
 *    in compliant mode it is met through a `custom` requirement (or on its own when none names it);
 *  - `authentication.hmac` (HMAC request signing) is placed the same way, through an `hmac` requirement;
 *  - `authentication.enabled: false` (or no `authentication`) = keyless.
 *  As in Tyk, an enabled API with no scheme at all takes an auth token from `Authorization`.
 *
 * When an AND-requirement has several schemes, the session comes from
 * `baseIdentityProvider` if set, else by Tyk's precedence: auth token, JWT, OAuth, basic, HMAC, custom.
 * When no requirement is met, the answer is the first requirement's failure, unless a later one
 * failed on a credential that was sent (a wrong JWT beats a missing API key).
 *
 * After authentication the key must grant this API (`access_rights` empty or naming the API),
 * else 403 "Access to this API has been disallowed", as Tyk's access-rights check does.
 */
import type { ApiDefinition } from '../../config/load.js';
import type { Issue } from '../../config/source.js';
import { SluiceError } from '../../engine/errors.js';
import type { Identity } from '../types.js';
import { basicAuth } from './basic.js';
import { DEFAULT_AUTH_HEADER } from './credentials.js';
import { customAuth } from './custom.js';
import { MSG_ACCESS_DISALLOWED, MSG_CERT_REQUIRED, MSG_TLS_NOT_ENABLED, failure, isMissingCredential, msgCertNotAllowed } from './failures.js';
import type { JwksOptions, JwksUri } from './jwks.js';
import { jwtAuth, type JwtSchemeConfig, type ScopeToPolicy } from './jwt.js';
import { algorithmsFor, keyFromMaterial, parseSource } from './jwt-verify.js';
import { HMAC_ALGORITHMS, hmacAuth } from './hmac.js';
import { keyless } from './keyless.js';
import { externalOAuth, type OAuthProvider } from './oauth.js';
import { tokenAuth } from './token.js';
import type { AuthResult, Authenticator, AuthRuntime, CredentialSources, KeyLookup } from './types.js';

export type SchemeKind = 'authToken' | 'jwt' | 'basic' | 'externalOAuth' | 'hmac' | 'custom';

export interface PlannedScheme {
  /** The scheme's name in the document (`custom` for the custom plugin). */
  readonly name: string;
  readonly kind: SchemeKind;
  readonly sources: CredentialSources;
  /** Where its Tyk settings are written (for messages). */
  readonly path: string;
  /** Its Tyk settings, checked. */
  readonly config: Readonly<Record<string, unknown>>;
}

export interface AuthPlan {
  /** False = keyless. */
  readonly enabled: boolean;
  readonly mode: 'legacy' | 'compliant';
  /** Any one requirement may be met (OR); each requirement needs all its schemes (AND). */
  readonly requirements: readonly (readonly PlannedScheme[])[];
  /** Which scheme's session is used when a requirement has several. */
  readonly baseIdentityProvider?: SchemeKind;
  /**
   * Static mutual TLS (`server.clientCertificates`): SHA-256 fingerprints (lower-case hex) of the
   * client certificates allowed, checked before authentication.
   */
  readonly clientCertificates?: readonly string[];
}

export interface ApiAuthDeps extends AuthRuntime {
  readonly lookup: KeyLookup;
  /** Folder of the API definition file: custom plugin paths are resolved against it (else the working directory). */
  readonly baseDir?: string;
  /** JWKS caching and refetch limits. */
  readonly jwks?: Omit<JwksOptions, keyof AuthRuntime>;
  /** Longest a custom plugin call may take (default 5 s). */
  readonly customTimeoutMs?: number;
  /** Check that the session grants this API (default true). */
  readonly checkAccessRights?: boolean;
}

const BASE = 'x-tyk-api-gateway.server.authentication';
const KEYLESS: AuthPlan = { enabled: false, mode: 'legacy', requirements: [] };
const PRECEDENCE: readonly SchemeKind[] = ['authToken', 'jwt', 'externalOAuth', 'basic', 'hmac', 'custom'];
const BASE_IDENTITY: Readonly<Record<string, SchemeKind>> = {
  auth_token: 'authToken',
  jwt_claim: 'jwt',
  oauth_key: 'externalOAuth',
  basic_auth_user: 'basic',
  hmac_key: 'hmac',
  custom_auth: 'custom',
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

class Checker {
  readonly issues: Issue[] = [];
  issue(path: string, message: string): void {
    this.issues.push({ path, message });
  }
  obj(parent: Obj, key: string, path: string): Obj | undefined {
    const v = parent[key];
    if (v === undefined || v === null) return undefined;
    if (!isObj(v)) {
      this.issue(`${path}.${key}`, `${key} must be an object`);
      return undefined;
    }
    return v;
  }
  str(parent: Obj, key: string, path: string, required = false): string | undefined {
    const v = parent[key];
    if (v === undefined || v === null || (v === '' && !required)) {
      if (required) this.issue(`${path}.${key}`, `${key} is required`);
      return undefined;
    }
    if (typeof v !== 'string' || (required && v.trim() === '')) {
      this.issue(`${path}.${key}`, required ? `${key} is required (a non-empty string)` : `${key} must be a string`);
      return undefined;
    }
    return v;
  }
  bool(parent: Obj, key: string, path: string): boolean | undefined {
    const v = parent[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') {
      this.issue(`${path}.${key}`, `${key} must be true or false`);
      return undefined;
    }
    return v;
  }
  num(parent: Obj, key: string, path: string): number | undefined {
    const v = parent[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      this.issue(`${path}.${key}`, `${key} must be a number of seconds (0 or more)`);
      return undefined;
    }
    return v;
  }
  strs(parent: Obj, key: string, path: string): string[] | undefined {
    const v = parent[key];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
      this.issue(`${path}.${key}`, `${key} must be an array of strings`);
      return undefined;
    }
    return v as string[];
  }
}

/** Reads Tyk's `header|query|cookie: {enabled, name}`; no source at all = the Authorization header. */
function readSources(c: Checker, scheme: Obj, path: string, fromOas?: { in: string; name: string }): CredentialSources {
  const out: { header?: string; query?: string; cookie?: string } = {};
  let headerName = DEFAULT_AUTH_HEADER;
  const configured: Array<'header' | 'query' | 'cookie'> = [];
  let mentioned = 0;
  for (const where of ['header', 'query', 'cookie'] as const) {
    const src = c.obj(scheme, where, path);
    if (!src) continue;
    mentioned++;
    const enabled = c.bool(src, 'enabled', `${path}.${where}`);
    const name = c.str(src, 'name', `${path}.${where}`);
    if (enabled !== true) continue;
    configured.push(where);
    if (where === 'header') {
      headerName = name ?? DEFAULT_AUTH_HEADER;
      out.header = headerName;
    } else out[where] = name;
  }
  if (fromOas) out[fromOas.in as 'header' | 'query' | 'cookie'] = fromOas.name;
  // Tyk: a query parameter or cookie without a name takes the header's name.
  if (configured.includes('query') && !out.query) out.query = headerName;
  if (configured.includes('cookie') && !out.cookie) out.cookie = headerName;
  if (!out.header && !out.query && !out.cookie) {
    if (mentioned) c.issue(path, 'no credential source (header, query or cookie) is enabled');
    out.header = DEFAULT_AUTH_HEADER;
  }
  return out;
}

function checkJwtKeys(c: Checker, cfg: Obj, path: string, signingMethod: string | undefined): void {
  const algorithms = algorithmsFor(signingMethod);
  if (!algorithms) {
    c.issue(`${path}.signingMethod`, `signingMethod ${JSON.stringify(signingMethod)} is not one of: hmac, rsa, ecdsa (or an algorithm name such as RS256)`);
    return;
  }
  const source = c.str(cfg, 'source', path);
  const uris = cfg.jwksURIs;
  if (uris !== undefined && uris !== null) {
    if (!Array.isArray(uris)) c.issue(`${path}.jwksURIs`, 'jwksURIs must be an array of {url, cacheTimeout}');
    else
      uris.forEach((u, i) => {
        const p = `${path}.jwksURIs[${i}]`;
        if (!isObj(u)) return c.issue(p, 'expected {url, cacheTimeout}');
        const url = c.str(u, 'url', p, true);
        if (url && !/^https?:\/\//i.test(url)) c.issue(`${p}.url`, 'url must be an http(s) URL');
        c.num(u, 'cacheTimeout', p);
      });
  }
  if (source !== undefined && !(Array.isArray(uris) && uris.length)) {
    const parsed = parseSource(source);
    if (!parsed) c.issue(`${path}.source`, 'source must be a JWKS URL, or a base64 secret, PEM or JWK (optionally base64-encoded)');
    else if (parsed.kind === 'material') {
      try {
        keyFromMaterial(parsed.material, algorithms);
      } catch (err) {
        c.issue(`${path}.source`, `source is not a usable ${signingMethod || 'hmac'} key: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}

function checkJwt(c: Checker, cfg: Obj, path: string): JwtSchemeConfig {
  const signingMethod = c.str(cfg, 'signingMethod', path);
  checkJwtKeys(c, cfg, path, signingMethod);
  const scopesObj = c.obj(cfg, 'scopes', path);
  let scopes: JwtSchemeConfig['scopes'];
  if (scopesObj) {
    const sp = `${path}.scopes`;
    const mapping: ScopeToPolicy[] = [];
    const m = scopesObj.scopeToPolicyMapping;
    if (m !== undefined && m !== null) {
      if (!Array.isArray(m)) c.issue(`${sp}.scopeToPolicyMapping`, 'scopeToPolicyMapping must be an array of {scope, policyId}');
      else
        m.forEach((e, i) => {
          const p = `${sp}.scopeToPolicyMapping[${i}]`;
          if (!isObj(e)) return c.issue(p, 'expected {scope, policyId}');
          const scope = c.str(e, 'scope', p, true);
          const policyId = c.str(e, 'policyId', p, true);
          if (scope && policyId) mapping.push({ scope, policyId });
        });
    }
    scopes = { claimName: c.str(scopesObj, 'claimName', sp), claims: c.strs(scopesObj, 'claims', sp), scopeToPolicyMapping: mapping };
  }
  const jti = c.obj(cfg, 'jtiValidation', path);
  const skipKid = c.bool(cfg, 'skipKid', path);
  const cleanUris = Array.isArray(cfg.jwksURIs)
    ? (cfg.jwksURIs.filter((u) => isObj(u) && typeof u.url === 'string') as Obj[]).map(
        (u): JwksUri => ({ url: u.url as string, ...(typeof u.cacheTimeout === 'number' ? { cacheTimeout: u.cacheTimeout } : {}) }),
      )
    : undefined;
  if (c.obj(cfg, 'customClaimValidation', path)) c.issue(`${path}.customClaimValidation`, 'customClaimValidation is not supported yet');
  if (c.str(cfg, 'clientBaseField', path)) c.issue(`${path}.clientBaseField`, 'clientBaseField is not supported; use policyFieldName or defaultPolicies');
  return {
    source: c.str(cfg, 'source', path),
    jwksURIs: cleanUris,
    signingMethod,
    identityBaseField: c.str(cfg, 'identityBaseField', path),
    subjectClaims: c.strs(cfg, 'subjectClaims', path),
    skipKid,
    policyFieldName: c.str(cfg, 'policyFieldName', path),
    basePolicyClaims: c.strs(cfg, 'basePolicyClaims', path),
    defaultPolicies: c.strs(cfg, 'defaultPolicies', path),
    scopes,
    issuedAtValidationSkew: c.num(cfg, 'issuedAtValidationSkew', path),
    notBeforeValidationSkew: c.num(cfg, 'notBeforeValidationSkew', path),
    expiresAtValidationSkew: c.num(cfg, 'expiresAtValidationSkew', path),
    allowedIssuers: c.strs(cfg, 'allowedIssuers', path),
    allowedAudiences: c.strs(cfg, 'allowedAudiences', path),
    allowedSubjects: c.strs(cfg, 'allowedSubjects', path),
    jtiValidation: jti ? { enabled: c.bool(jti, 'enabled', `${path}.jtiValidation`) === true } : undefined,
  };
}

function checkBasic(c: Checker, cfg: Obj, path: string): Obj {
  const body = c.obj(cfg, 'extractCredentialsFromBody', path);
  if (body && c.bool(body, 'enabled', `${path}.extractCredentialsFromBody`) === true)
    c.issue(`${path}.extractCredentialsFromBody`, 'extracting basic-auth credentials from the body is not supported');
  return { disableCaching: c.bool(cfg, 'disableCaching', path) === true, cacheTTL: c.num(cfg, 'cacheTTL', path) };
}

function checkExternalOAuth(c: Checker, cfg: Obj, path: string): Obj {
  const providers: OAuthProvider[] = [];
  const list = cfg.providers;
  if (!Array.isArray(list) || !list.length) {
    c.issue(`${path}.providers`, 'providers is required: at least one {jwt} or {introspection} provider');
    return { providers };
  }
  list.forEach((p, i) => {
    const pp = `${path}.providers[${i}]`;
    if (!isObj(p)) return c.issue(pp, 'expected {jwt: {...}} or {introspection: {...}}');
    const provider: { jwt?: OAuthProvider['jwt']; introspection?: OAuthProvider['introspection'] } = {};
    const jwt = c.obj(p, 'jwt', pp);
    if (jwt && c.bool(jwt, 'enabled', `${pp}.jwt`) === true) {
      const jp = `${pp}.jwt`;
      const signingMethod = c.str(jwt, 'signingMethod', jp);
      if (jwt.source === undefined && jwt.jwksURIs === undefined) c.issue(`${jp}.source`, 'source (a JWKS URL or key) or jwksURIs is required');
      checkJwtKeys(c, jwt, jp, signingMethod);
      const uris = Array.isArray(jwt.jwksURIs)
        ? (jwt.jwksURIs.filter((u) => isObj(u) && typeof u.url === 'string') as Obj[]).map((u): JwksUri => ({ url: u.url as string }))
        : undefined;
      provider.jwt = {
        enabled: true,
        signingMethod,
        source: c.str(jwt, 'source', jp),
        jwksURIs: uris,
        identityBaseField: c.str(jwt, 'identityBaseField', jp),
        issuedAtValidationSkew: c.num(jwt, 'issuedAtValidationSkew', jp),
        notBeforeValidationSkew: c.num(jwt, 'notBeforeValidationSkew', jp),
        expiresAtValidationSkew: c.num(jwt, 'expiresAtValidationSkew', jp),
        allowedIssuers: c.strs(jwt, 'allowedIssuers', jp),
        allowedAudiences: c.strs(jwt, 'allowedAudiences', jp),
      };
    }
    const intro = c.obj(p, 'introspection', pp);
    if (intro && c.bool(intro, 'enabled', `${pp}.introspection`) === true) {
      const ip = `${pp}.introspection`;
      const url = c.str(intro, 'url', ip, true);
      if (url && !/^https?:\/\//i.test(url)) c.issue(`${ip}.url`, 'url must be an http(s) URL');
      const clientId = c.str(intro, 'clientId', ip, true);
      const clientSecret = c.str(intro, 'clientSecret', ip, true);
      const cache = c.obj(intro, 'cache', ip);
      const method = c.str(intro, 'clientAuthMethod', ip);
      if (method !== undefined && method !== 'client_secret_basic' && method !== 'client_secret_post')
        c.issue(`${ip}.clientAuthMethod`, 'clientAuthMethod must be client_secret_basic or client_secret_post');
      provider.introspection = {
        enabled: true,
        url: url ?? '',
        clientId: clientId ?? '',
        clientSecret: clientSecret ?? '',
        identityBaseField: c.str(intro, 'identityBaseField', ip),
        cache: cache ? { enabled: c.bool(cache, 'enabled', `${ip}.cache`), timeout: c.num(cache, 'timeout', `${ip}.cache`) } : undefined,
        clientAuthMethod: method === 'client_secret_post' ? 'client_secret_post' : 'client_secret_basic',
      };
    }
    if (!provider.jwt && !provider.introspection) c.issue(pp, 'a provider needs jwt.enabled or introspection.enabled');
    providers.push(provider);
  });
  return { providers, defaultPolicies: c.strs(cfg, 'defaultPolicies', path) };
}

/** A certificate id as Tyk writes it (`<org id><sha256 hex>`) or a bare fingerprint, with or without colons, in any case. */
export function certificateFingerprint(id: string): string | undefined {
  const hex = id.replace(/:/g, '').trim().toLowerCase();
  const tail = hex.slice(-64);
  return /^[0-9a-f]{64}$/.test(tail) ? tail : undefined;
}

function readClientCertificates(c: Checker, server: Obj | undefined): string[] | undefined {
  if (!server) return undefined;
  const path = 'x-tyk-api-gateway.server';
  const cc = c.obj(server, 'clientCertificates', path);
  if (!cc || c.bool(cc, 'enabled', `${path}.clientCertificates`) !== true) return undefined;
  const list = c.strs(cc, 'allowlist', `${path}.clientCertificates`) ?? [];
  const out: string[] = [];
  list.forEach((id, i) => {
    const fp = certificateFingerprint(id);
    if (fp) out.push(fp);
    else c.issue(`${path}.clientCertificates.allowlist[${i}]`, 'expected a certificate id (<org id><SHA-256 hex>) or a SHA-256 fingerprint');
  });
  if (!list.length) c.issue(`${path}.clientCertificates.allowlist`, 'allowlist is empty: no client certificate could be accepted');
  return out;
}

/**
 * Reads and checks a document's authentication settings. Issues name the path of what is wrong;
 * the plan is undefined when there are any.
 */
export function planApiAuthentication(document: Readonly<Record<string, unknown>>): { readonly plan: AuthPlan | undefined; readonly issues: readonly Issue[] } {
  const c = new Checker();
  const gw = isObj(document['x-tyk-api-gateway']) ? document['x-tyk-api-gateway'] : undefined;
  const server = gw && isObj(gw.server) ? gw.server : undefined;
  const clientCertificates = readClientCertificates(c, server);
  const rawAuth = server?.authentication;
  const keylessWithCerts = (): void => {
    if (clientCertificates)
      c.issue('x-tyk-api-gateway.server.clientCertificates', 'client certificates on an API without authentication are not supported yet; enable authentication too');
  };
  if (rawAuth === undefined || rawAuth === null) {
    keylessWithCerts();
    return c.issues.length ? { plan: undefined, issues: c.issues } : { plan: KEYLESS, issues: [] };
  }
  if (!isObj(rawAuth)) return { plan: undefined, issues: [{ path: BASE, message: 'authentication must be an object' }] };
  const auth = rawAuth;
  if (typeof auth.enabled !== 'boolean') c.issue(`${BASE}.enabled`, 'enabled is required (true or false)');
  if (auth.enabled !== true) {
    keylessWithCerts();
    return c.issues.length ? { plan: undefined, issues: c.issues } : { plan: KEYLESS, issues: [] };
  }

  const modeRaw = c.str(auth, 'securityProcessingMode', BASE);
  if (modeRaw !== undefined && modeRaw !== 'legacy' && modeRaw !== 'compliant')
    c.issue(`${BASE}.securityProcessingMode`, `securityProcessingMode ${JSON.stringify(modeRaw)} is not one of: legacy, compliant`);
  const mode = modeRaw === 'compliant' ? 'compliant' : 'legacy';
  const bipRaw = c.str(auth, 'baseIdentityProvider', BASE);
  const baseIdentityProvider = bipRaw !== undefined ? BASE_IDENTITY[bipRaw] : undefined;
  if (bipRaw !== undefined && !baseIdentityProvider)
    c.issue(`${BASE}.baseIdentityProvider`, `baseIdentityProvider ${JSON.stringify(bipRaw)} is not one of: ${Object.keys(BASE_IDENTITY).join(', ')}`);

  const oidc = c.obj(auth, 'oidc', BASE);
  if (oidc && oidc.enabled === true) c.issue(`${BASE}.oidc`, 'OpenID Connect (deprecated in Tyk; use jwt) is not supported');

  // HMAC request signing.
  let hmacScheme: PlannedScheme | undefined;
  const hmac = c.obj(auth, 'hmac', BASE);
  if (hmac && c.bool(hmac, 'enabled', `${BASE}.hmac`) === true) {
    const hp = `${BASE}.hmac`;
    const algorithms = c.strs(hmac, 'allowedAlgorithms', hp);
    algorithms?.forEach((a, i) => {
      if (!(HMAC_ALGORITHMS as readonly string[]).includes(a))
        c.issue(`${hp}.allowedAlgorithms[${i}]`, `${JSON.stringify(a)} is not one of: ${HMAC_ALGORITHMS.join(', ')}`);
    });
    const skew = hmac.allowedClockSkew;
    if (skew !== undefined && skew !== null && (typeof skew !== 'number' || !Number.isFinite(skew)))
      c.issue(`${hp}.allowedClockSkew`, 'allowedClockSkew must be a number of milliseconds (0 or less = no check)');
    hmacScheme = {
      name: 'hmac',
      kind: 'hmac',
      sources: readSources(c, hmac, hp),
      path: hp,
      config: { allowedAlgorithms: algorithms ?? [], allowedClockSkew: typeof skew === 'number' && skew > 0 ? skew : 0 },
    };
  }

  const components = isObj(document.components) && isObj(document.components.securitySchemes) ? document.components.securitySchemes : {};
  const tykSchemes = c.obj(auth, 'securitySchemes', BASE) ?? {};

  // The custom plugin.
  let customScheme: PlannedScheme | undefined;
  const custom = c.obj(auth, 'custom', BASE);
  if (custom && c.bool(custom, 'enabled', `${BASE}.custom`) === true) {
    const cp = `${BASE}.custom`;
    const config = c.obj(custom, 'config', cp);
    if (!config) c.issue(`${cp}.config`, 'config is required: {path, functionName}');
    else if (config.enabled !== false) {
      const path = c.str(config, 'path', `${cp}.config`, true);
      const functionName = c.str(config, 'functionName', `${cp}.config`, true);
      const sources = readSources(c, custom, cp);
      if (path && functionName) customScheme = { name: 'custom', kind: 'custom', sources, path: cp, config: { path, functionName } };
    }
  }

  const planned = new Map<string, PlannedScheme | null>();
  const schemeFor = (name: string, at: string): PlannedScheme | null => {
    if (planned.has(name)) return planned.get(name)!;
    const result = ((): PlannedScheme | null => {
      const comp = components[name];
      if (!isObj(comp)) {
        c.issue(at, `security scheme ${name} is not defined in components.securitySchemes`);
        return null;
      }
      const tyk = tykSchemes[name];
      const path = `${BASE}.securitySchemes.${name}`;
      if (tyk !== undefined && !isObj(tyk)) {
        c.issue(path, `${name} must be an object`);
        return null;
      }
      if (tyk === undefined) {
        c.issue(path, `security scheme ${name} has no settings here; add {"enabled": true} (and its sources) to use it`);
        return null;
      }
      if (tyk.enabled !== true) return null; // not enabled: Tyk skips it
      const type = typeof comp.type === 'string' ? comp.type : '';
      const cpath = `components.securitySchemes.${name}`;
      const scheme = typeof comp.scheme === 'string' ? comp.scheme.toLowerCase() : '';
      if (type === 'apiKey') {
        const where = comp.in;
        if (where !== 'header' && where !== 'query' && where !== 'cookie') {
          c.issue(`${cpath}.in`, 'in must be header, query or cookie');
          return null;
        }
        const pname = typeof comp.name === 'string' && comp.name ? comp.name : where === 'header' ? DEFAULT_AUTH_HEADER : '';
        if (!pname) {
          c.issue(`${cpath}.name`, 'name is required');
          return null;
        }
        const sig = c.obj(tyk, 'signatureValidation', path);
        if (sig && sig.enabled === true) c.issue(`${path}.signatureValidation`, 'signature validation of auth tokens is not supported');
        if (tyk.enableClientCertificate === true) c.issue(`${path}.enableClientCertificate`, 'client certificate keys are not supported');
        return { name, kind: 'authToken', sources: readSources(c, tyk, path, { in: where, name: pname }), path, config: {} };
      }
      if (type === 'http' && scheme === 'basic') return { name, kind: 'basic', sources: { header: DEFAULT_AUTH_HEADER }, path, config: checkBasic(c, tyk, path) };
      if (type === 'http' && scheme === 'bearer') {
        if (typeof comp.bearerFormat !== 'string' || comp.bearerFormat.toLowerCase() !== 'jwt') {
          c.issue(`${cpath}.bearerFormat`, 'a bearer scheme must have bearerFormat: JWT (use type: apiKey for opaque tokens)');
          return null;
        }
        return { name, kind: 'jwt', sources: readSources(c, tyk, path), path, config: { ...checkJwt(c, tyk, path) } };
      }
      if (type === 'oauth2') {
        if (tyk.providers === undefined) {
          c.issue(path, "Tyk's own OAuth 2.0 authorization server is not supported; configure providers for an external one");
          return null;
        }
        return { name, kind: 'externalOAuth', sources: readSources(c, tyk, path), path, config: checkExternalOAuth(c, tyk, path) };
      }
      c.issue(`${cpath}.type`, `security scheme type ${JSON.stringify(type)}${scheme ? ` (scheme ${scheme})` : ''} is not supported`);
      return null;
    })();
    planned.set(name, result);
    return result;
  };

  // OAS requirements.
  const oasReqs: { names: string[]; at: string }[] = [];
  const security = document.security;
  if (security !== undefined && security !== null) {
    if (!Array.isArray(security)) c.issue('security', 'security must be an array of requirements');
    else
      security.forEach((r, i) => {
        if (!isObj(r)) return c.issue(`security[${i}]`, 'a security requirement must be an object');
        oasReqs.push({ names: Object.keys(r), at: `security[${i}]` });
      });
  }
  // Tyk's own requirements (compliant mode).
  const vendorReqs: { names: string[]; at: string }[] = [];
  const vs = auth.security;
  if (vs !== undefined && vs !== null) {
    if (!Array.isArray(vs) || vs.some((r) => !Array.isArray(r) || r.some((n) => typeof n !== 'string')))
      c.issue(`${BASE}.security`, 'security must be an array of arrays of scheme names');
    else vs.forEach((r: string[], i) => vendorReqs.push({ names: r, at: `${BASE}.security[${i}]` }));
  }

  const resolveName = (name: string, at: string): PlannedScheme | null => {
    if (name === 'custom' || name === 'coprocess') {
      if (!customScheme) c.issue(at, `${name} is named but authentication.custom is not enabled`);
      return customScheme ?? null;
    }
    if (name === 'hmac') {
      if (!hmacScheme) c.issue(at, 'hmac is named but authentication.hmac is not enabled');
      return hmacScheme ?? null;
    }
    if (name === 'mtls') {
      c.issue(at, 'mtls (certificate-bound keys) is not supported; use clientCertificates for an allowlist of certificates');
      return null;
    }
    return schemeFor(name, `${at}.${name}`);
  };

  let requirements: PlannedScheme[][] = [];
  const anyTykEnabled = Object.values(tykSchemes).some((s) => isObj(s) && s.enabled === true);
  if (mode === 'legacy') {
    const first = oasReqs[0];
    const chain = first ? first.names.map((n) => resolveName(n, first.at)).filter((s): s is PlannedScheme => s !== null) : [];
    if (hmacScheme && !chain.includes(hmacScheme)) chain.push(hmacScheme);
    if (customScheme && !chain.includes(customScheme)) chain.push(customScheme);
    if (!chain.length) {
      if (anyTykEnabled) c.issue(`${BASE}.securitySchemes`, 'schemes are enabled but the first security requirement names none of them (legacy mode uses only the first)');
      chain.push({ name: 'authToken', kind: 'authToken', sources: { header: DEFAULT_AUTH_HEADER }, path: BASE, config: {} });
    }
    requirements = [chain];
  } else {
    for (const r of [...oasReqs, ...vendorReqs]) {
      const schemes = r.names.map((n) => resolveName(n, r.at));
      if (schemes.length && schemes.every((s) => s !== null)) requirements.push(schemes as PlannedScheme[]);
    }
    if (hmacScheme && !requirements.some((r) => r.includes(hmacScheme!))) requirements.push([hmacScheme]);
    if (customScheme && !requirements.some((r) => r.includes(customScheme!))) requirements.push([customScheme]);
    if (!requirements.length) c.issue('security', 'no security requirement names only enabled schemes, so no request could be authenticated');
  }

  if (c.issues.length) return { plan: undefined, issues: c.issues };
  return {
    plan: { enabled: true, mode, requirements, ...(baseIdentityProvider ? { baseIdentityProvider } : {}), ...(clientCertificates ? { clientCertificates } : {}) },
    issues: [],
  };
}

/** The issues in a document's authentication settings (none = usable). */
export function checkApiAuthentication(document: Readonly<Record<string, unknown>>): readonly Issue[] {
  return planApiAuthentication(document).issues;
}

function build(scheme: PlannedScheme, api: ApiDefinition, deps: ApiAuthDeps): Authenticator {
  const runtime: AuthRuntime = { now: deps.now, fetch: deps.fetch, logger: deps.logger };
  const cfg = scheme.config;
  switch (scheme.kind) {
    case 'authToken':
      return tokenAuth({ ...runtime, lookup: deps.lookup, sources: scheme.sources });
    case 'basic':
      return basicAuth({
        ...runtime,
        lookup: deps.lookup,
        realm: api.name,
        disableCaching: cfg.disableCaching === true,
        cacheTTL: typeof cfg.cacheTTL === 'number' ? cfg.cacheTTL : undefined,
      });
    case 'jwt':
      return jwtAuth({ ...(cfg as JwtSchemeConfig), ...runtime, lookup: deps.lookup, sources: scheme.sources, jwks: deps.jwks });
    case 'externalOAuth':
      return externalOAuth({
        ...runtime,
        providers: cfg.providers as OAuthProvider[],
        defaultPolicies: cfg.defaultPolicies as string[] | undefined,
        lookup: deps.lookup,
        sources: scheme.sources,
        apiId: api.id,
        apiName: api.name,
        jwks: deps.jwks,
      });
    case 'hmac':
      return hmacAuth({
        ...runtime,
        lookup: deps.lookup,
        sources: scheme.sources,
        allowedAlgorithms: cfg.allowedAlgorithms as string[],
        allowedClockSkew: cfg.allowedClockSkew as number,
      });
    case 'custom':
      return customAuth({
        ...runtime,
        path: cfg.path as string,
        functionName: cfg.functionName as string,
        baseDir: deps.baseDir,
        lookup: deps.lookup,
        api: { id: api.id, name: api.name },
        sources: scheme.sources,
        timeoutMs: deps.customTimeoutMs,
      });
  }
}

/**
 * The authenticator of an API. Throws SLU_ERR_API_INVALID listing every authentication issue
 * (with its path) when the settings cannot work.
 */
export function createApiAuthenticator(api: ApiDefinition, deps: ApiAuthDeps): Authenticator {
  const { plan, issues } = planApiAuthentication(api.document);
  if (!plan) throw new SluiceError('SLU_ERR_API_INVALID', [api.name, issues.map((i) => `${i.path}: ${i.message}`).join('; ')]);
  if (!plan.enabled) return keyless({ apiId: api.id, apiName: api.name });

  const built = new Map<PlannedScheme, Authenticator>();
  for (const r of plan.requirements)
    for (const s of r)
      if (!built.has(s)) {
        try {
          built.set(s, build(s, api, deps));
        } catch (err) {
          throw new SluiceError('SLU_ERR_API_INVALID', [api.name, `${s.path}: ${err instanceof Error ? err.message : String(err)}`]);
        }
      }

  const order = plan.baseIdentityProvider ? [plan.baseIdentityProvider, ...PRECEDENCE.filter((k) => k !== plan.baseIdentityProvider)] : PRECEDENCE;
  const requirement = async (schemes: readonly PlannedScheme[], req: Parameters<Authenticator>[0]): Promise<AuthResult> => {
    const found: { kind: SchemeKind; identity: Identity }[] = [];
    for (const s of schemes) {
      const r = await built.get(s)!(req);
      if (!r.ok) return r;
      found.push({ kind: s.kind, identity: r.identity });
    }
    found.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
    return { ok: true, identity: found[0]!.identity };
  };
  const checkRights = deps.checkAccessRights !== false;

  const allowedCerts = plan.clientCertificates ? new Set(plan.clientCertificates) : undefined;

  return async (req) => {
    if (allowedCerts) {
      // Tyk's certificate check runs before authentication, with its 403 answers.
      if (req.tls === false) return failure(403, MSG_TLS_NOT_ENABLED);
      const fp = req.clientCertificate ? certificateFingerprint(req.clientCertificate.fingerprint256) : undefined;
      if (!fp) return failure(403, MSG_CERT_REQUIRED);
      if (!allowedCerts.has(fp)) return failure(403, msgCertNotAllowed(fp));
    }
    let answer: AuthResult | undefined;
    for (const r of plan.requirements) {
      const res = await requirement(r, req);
      if (res.ok) {
        answer = res;
        break;
      }
      if (!answer || (!answer.ok && isMissingCredential(answer.failure) && !isMissingCredential(res.failure))) answer = res;
    }
    if (!answer) return failure(401, 'Authorization field missing');
    if (answer.ok && checkRights) {
      const rights = answer.identity.session.access_rights;
      if (rights && Object.keys(rights).length && !Object.prototype.hasOwnProperty.call(rights, api.id)) return failure(403, MSG_ACCESS_DISALLOWED);
    }
    return answer;
  };
}
