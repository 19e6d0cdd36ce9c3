/**
 * Tyk's authentication failures: status codes and messages as Tyk's gateway sends them, the body
 * being `{"error": "<message>"}`. Unknown and wrong credentials get the same answer, so a client
 * cannot tell which one it sent.
 */
import type { AuthFailure, Identity } from '../types.js';
import type { AuthLogger, AuthRequest, AuthResult } from './types.js';

export const MSG_AUTH_FIELD_MISSING = 'Authorization field missing';
export const MSG_ACCESS_DISALLOWED = 'Access to this API has been disallowed';
export const MSG_KEY_EXPIRED = 'Key has expired, please renew';
export const MSG_KEY_INACTIVE = 'Key is inactive, please renew';
export const MSG_INTERNAL = 'internal server error';

export const MSG_JWT_NOT_AUTHORIZED = 'Key not authorized';
export const MSG_JWT_UNEXPECTED_SIGNING_METHOD = 'Key not authorized: Unexpected signing method';
export const MSG_JWT_EXPIRED = 'Key not authorized: token has expired';
export const MSG_JWT_NOT_YET_VALID = 'Key not authorized: token is not valid yet';
export const MSG_JWT_USED_BEFORE_ISSUED = 'Key not authorized: token used before issued';
export const MSG_JWT_NO_POLICY = 'key not authorized: no matching policy found';
export const MSG_JWT_BAD_POLICY = 'key not authorized: no matching policy';
export const MSG_JWT_NO_SCOPE_POLICY = 'key not authorized: no matching policy found in scope claim';
export const MSG_JWT_NO_IDENTITY = 'no suitable claims for user ID were found';

export const MSG_BASIC_NOT_AUTHORISED = 'User not authorised';
export const MSG_BASIC_MALFORMED = 'Attempted access with malformed header, header not in basic auth format';
export const MSG_BASIC_NOT_ENCODED = 'Attempted access with malformed header, auth data not encoded correctly';
export const MSG_BASIC_VALUES = 'Attempted access with malformed header, values not in basic auth format';

export const MSG_HMAC_INVALID = 'Authorization field missing, malformed or invalid';

export const MSG_TLS_NOT_ENABLED = 'TLS not enabled';
export const MSG_CERT_REQUIRED = 'Client TLS certificate is required';
export const msgCertNotAllowed = (sha256Hex: string): string => `Certificate with SHA256 ${sha256Hex} not allowed`;

export const MSG_OAUTH_FIELD_MISSING = 'authorization field missing';
export const MSG_OAUTH_INVALID = 'access token is not valid';
export const MSG_OAUTH_EXPIRED = 'key not authorized: token has expired';
export const MSG_OAUTH_VALIDATION_FAILED = 'error happened during the access token validation';

export function failure(status: number, message: string, headers?: Readonly<Record<string, string>>): { ok: false; failure: AuthFailure } {
  return { ok: false, failure: headers ? { status, message, headers } : { status, message } };
}

export function success(identity: Identity): { ok: true; identity: Identity } {
  return { ok: true, identity };
}

/** Failures that mean "nothing was sent" although their message does not say so (HMAC's single answer). */
const missing = new WeakSet<AuthFailure>();

/** Marks a failure as "no credential was sent". */
export function markMissing<T extends { ok: false; failure: AuthFailure }>(r: T): T {
  missing.add(r.failure);
  return r;
}

/** True for "no credential was sent" answers, which lose to any other failure when methods are ORed. */
export function isMissingCredential(f: AuthFailure): boolean {
  return missing.has(f) || f.message.toLowerCase() === MSG_AUTH_FIELD_MISSING.toLowerCase();
}

/** The response body Tyk sends with an authentication failure. */
export function failureBody(f: AuthFailure): string {
  return JSON.stringify({ error: f.message });
}

/**
 * Tyk's KeyExpired check, run right after a stored key was found: an inactive key is refused
 * with 403, an expired one (`expires` in Unix seconds, < 1 = never) with 401.
 */
export function checkSession(identity: Identity, nowMs: number): AuthResult {
  const s = identity.session;
  if (s.is_inactive === true) return failure(403, MSG_KEY_INACTIVE);
  const exp = typeof s.expires === 'number' ? s.expires : 0;
  if (exp >= 1 && exp * 1000 < nowMs) return failure(401, MSG_KEY_EXPIRED);
  return success(identity);
}

/**
 * Turns an exception inside an authenticator (store down, bug) into 500 "internal server error"
 * instead of a crashed request. The error's message is logged, never the request's credentials.
 */
export function guard(
  fn: (req: AuthRequest) => Promise<AuthResult>,
  method: string,
  logger: AuthLogger | undefined,
): (req: AuthRequest) => Promise<AuthResult> {
  return async (req) => {
    try {
      return await fn(req);
    } catch (err) {
      logger?.error('authentication failed with an error', { method, error: err instanceof Error ? err.message : String(err) });
      return failure(500, MSG_INTERNAL);
    }
  };
}
