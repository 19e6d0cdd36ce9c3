/**
 * The JWT checks shared by the JWT scheme and external OAuth: algorithm allow-list, signature
 * (jose), then Tyk's own time checks with separate skews for `exp`, `nbf` and `iat`, then the
 * allowed issuers / audiences / subjects and `jti` presence. Returns why a token was refused;
 * the callers turn that into Tyk's messages.
 */
import { createPublicKey, createSecretKey, X509Certificate, type JsonWebKey, type KeyObject } from 'node:crypto';
import { compactVerify, decodeProtectedHeader, type FlattenedJWSInput, type JWSHeaderParameters } from 'jose';
import type { JwsKey } from './jwks.js';

const HMAC_ALGS = ['HS256', 'HS384', 'HS512'];
const RSA_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const EC_ALGS = ['ES256', 'ES384', 'ES512'];
const ALL_ALGS = [...HMAC_ALGS, ...RSA_ALGS, ...EC_ALGS, 'EdDSA'];

/**
 * The algorithms a Tyk `signingMethod` allows: `hmac` (the default) = HS256/384/512, `rsa` =
 * RS* and PS*, `ecdsa` = ES*. An exact algorithm name (`RS256`, `EdDSA`, ...) allows just that
 * one. Undefined for an unknown value.
 */
export function algorithmsFor(signingMethod: string | undefined): string[] | undefined {
  const m = (signingMethod ?? '').trim();
  if (m === '' || m.toLowerCase() === 'hmac') return HMAC_ALGS;
  if (m.toLowerCase() === 'rsa') return RSA_ALGS;
  if (m.toLowerCase() === 'ecdsa') return EC_ALGS;
  return ALL_ALGS.includes(m) ? [m] : undefined;
}

export function isHmac(algorithms: readonly string[]): boolean {
  return algorithms.every((a) => a.startsWith('HS'));
}

const URL_RE = /^https?:\/\//i;
const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;

/** What a Tyk `source` value holds: a JWKS URL (plain or base64-encoded) or key material. */
export type SourceValue = { readonly kind: 'url'; readonly url: string } | { readonly kind: 'material'; readonly material: Buffer };

/**
 * Reads Tyk's `source`: a URL, a PEM or JWK written as is, or any of those base64-encoded (Tyk's
 * form; a base64 HMAC secret decodes to the secret's bytes). Undefined when it is none of these.
 */
export function parseSource(source: string): SourceValue | undefined {
  const s = source.trim();
  if (URL_RE.test(s)) return { kind: 'url', url: s };
  if (s.startsWith('-----BEGIN') || s.startsWith('{')) return { kind: 'material', material: Buffer.from(s, 'utf8') };
  const compact = s.replace(/\s+/g, '');
  if (!compact || compact.length % 4 !== 0 || !BASE64_RE.test(compact)) return undefined;
  const decoded = Buffer.from(compact, 'base64');
  const text = decoded.toString('utf8').trim();
  if (URL_RE.test(text) && !/\s/.test(text)) return { kind: 'url', url: text };
  return { kind: 'material', material: decoded };
}

/**
 * A verification key from material: the secret's bytes for HMAC; for RSA/EC a PEM public key,
 * a PEM certificate or a JWK (JSON). Throws when the material is not a key of that kind.
 */
export function keyFromMaterial(material: Buffer, algorithms: readonly string[]): KeyObject {
  if (isHmac(algorithms)) {
    if (!material.length) throw new Error('empty HMAC secret');
    return createSecretKey(material);
  }
  const text = material.toString('utf8').trim();
  if (text.startsWith('{')) {
    const jwk = JSON.parse(text) as JsonWebKey;
    return createPublicKey({ key: jwk, format: 'jwk' });
  }
  if (text.includes('-----BEGIN CERTIFICATE-----')) return new X509Certificate(text).publicKey;
  if (text.startsWith('-----BEGIN')) return createPublicKey(text);
  // DER (a base64 PEM body without its armour)
  try {
    return createPublicKey({ key: material, format: 'der', type: 'spki' });
  } catch {
    return new X509Certificate(material).publicKey;
  }
}

export interface JwtVerifyOptions {
  readonly algorithms: readonly string[];
  readonly key: KeyObject | ((header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<JwsKey>);
  /** Seconds; Tyk's `expiresAtValidationSkew` etc. (0 by default, as in Tyk). */
  readonly expiresAtSkew?: number;
  readonly notBeforeSkew?: number;
  readonly issuedAtSkew?: number;
  readonly allowedIssuers?: readonly string[];
  readonly allowedAudiences?: readonly string[];
  readonly requireJti?: boolean;
  /** Milliseconds since the epoch. */
  readonly now: number;
}

export type JwtRejection =
  | 'malformed'
  | 'algorithm'
  | 'signature'
  | 'key-unavailable'
  | 'expired'
  | 'not-yet-valid'
  | 'used-before-issued'
  | 'issuer'
  | 'audience'
  | 'jti';

export type JwtCheck =
  | { readonly ok: true; readonly header: JWSHeaderParameters; readonly claims: Record<string, unknown> }
  | { readonly ok: false; readonly reason: JwtRejection; readonly detail?: string };

/** The protected header of a compact JWS, or undefined when it cannot be decoded. */
export function peekHeader(token: string): JWSHeaderParameters | undefined {
  try {
    return decodeProtectedHeader(token) as JWSHeaderParameters;
  } catch {
    return undefined;
  }
}

/** The payload of a compact JWS as JSON claims, not verified; undefined when it is not one. */
export function peekClaims(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export async function verifyJwt(token: string, opts: JwtVerifyOptions): Promise<JwtCheck> {
  const header = peekHeader(token);
  if (!header || token.split('.').length !== 3) return { ok: false, reason: 'malformed' };
  if (typeof header.alg !== 'string' || !opts.algorithms.includes(header.alg)) return { ok: false, reason: 'algorithm', detail: String(header.alg) };
  let payload: Uint8Array;
  try {
    const key = opts.key;
    const res =
      typeof key === 'function'
        ? await compactVerify(token, key, { algorithms: [...opts.algorithms] })
        : await compactVerify(token, key, { algorithms: [...opts.algorithms] });
    payload = res.payload;
  } catch (err) {
    const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
    if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' || code === 'ERR_JWKS_NO_MATCHING_KEY' || code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS')
      return { ok: false, reason: 'signature' };
    if (code === 'ERR_JOSE_ALG_NOT_ALLOWED') return { ok: false, reason: 'algorithm' };
    if (typeof code === 'string' && (code.startsWith('ERR_JWS') || code === 'ERR_JOSE_NOT_SUPPORTED' || code === 'ERR_JWK_INVALID')) return { ok: false, reason: 'malformed' };
    // Anything else: the key could not be had (JWKS fetch failed, bad key material) or a TypeError from a key of the wrong type.
    return { ok: false, reason: err instanceof TypeError ? 'signature' : 'key-unavailable', detail: err instanceof Error ? err.message : String(err) };
  }
  let claims: Record<string, unknown>;
  try {
    const v: unknown = JSON.parse(Buffer.from(payload).toString('utf8'));
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return { ok: false, reason: 'malformed' };
    claims = v as Record<string, unknown>;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const now = Math.floor(opts.now / 1000);
  const time = (name: string): number | undefined | null => {
    const v = claims[name];
    if (v === undefined || v === null) return undefined;
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  };
  const exp = time('exp');
  const nbf = time('nbf');
  const iat = time('iat');
  if (exp === null || nbf === null || iat === null) return { ok: false, reason: 'malformed' };
  if (exp !== undefined && now - (opts.expiresAtSkew ?? 0) > exp) return { ok: false, reason: 'expired' };
  if (iat !== undefined && now + (opts.issuedAtSkew ?? 0) < iat) return { ok: false, reason: 'used-before-issued' };
  if (nbf !== undefined && now + (opts.notBeforeSkew ?? 0) < nbf) return { ok: false, reason: 'not-yet-valid' };
  if (opts.allowedIssuers?.length) {
    const iss = claims.iss;
    if (typeof iss !== 'string' || !opts.allowedIssuers.includes(iss)) return { ok: false, reason: 'issuer' };
  }
  if (opts.allowedAudiences?.length) {
    const aud = claims.aud;
    const auds = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
    if (!auds.some((a) => opts.allowedAudiences!.includes(a))) return { ok: false, reason: 'audience' };
  }
  if (opts.requireJti && (typeof claims.jti !== 'string' || claims.jti === '')) return { ok: false, reason: 'jti' };
  return { ok: true, header, claims };
}

/** A claim by a dotted path (`realm_access.roles`), as Tyk reads scope claims. */
export function claimAt(claims: Record<string, unknown>, path: string): unknown {
  if (Object.prototype.hasOwnProperty.call(claims, path)) return claims[path];
  let cur: unknown = claims;
  for (const part of path.split('.')) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Scope values: a space-separated string, or an array of strings. */
export function scopeList(v: unknown): string[] {
  if (typeof v === 'string') return v.split(' ').filter(Boolean);
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string' && x !== '');
  return [];
}

/** The first non-empty string claim among `names`, then `sub` (Tyk's identity rule). */
export function subjectOf(claims: Record<string, unknown>, names: readonly string[]): string | undefined {
  for (const n of [...names, 'sub']) {
    const v = claims[n];
    if (typeof v === 'string' && v !== '') return v;
  }
  return undefined;
}
