/**
 * Keyless (open) access: Tyk's `authentication.enabled: false`. Every request passes with an
 * empty key hash and a session without limits of its own (API-level limits still apply).
 */
import type { Identity } from '../types.js';
import type { Authenticator } from './types.js';

export interface KeylessOptions {
  /** When given, the session grants this API (as a key with access rights to it would). */
  readonly apiId?: string;
  readonly apiName?: string;
}

export function keyless(options: KeylessOptions = {}): Authenticator {
  const { apiId, apiName } = options;
  return async () => {
    const identity: Identity = {
      keyHash: '',
      session: apiId ? { access_rights: { [apiId]: { api_id: apiId, ...(apiName ? { api_name: apiName } : {}) } } } : {},
    };
    return { ok: true, identity };
  };
}
