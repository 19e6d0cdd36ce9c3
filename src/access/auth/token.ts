/**
 * Auth token (API key): Tyk's `apiKey` security scheme. The key is read from a header
 * (`Authorization` by default, with or without `Bearer `), a query parameter or a cookie;
 * browsers' EventSource and WebSocket cannot set headers, so the query and cookie sources are
 * what they use.
 *
 *   missing            401 Authorization field missing
 *   unknown or wrong   403 Access to this API has been disallowed   (one answer for both)
 *   inactive           403 Key is inactive, please renew
 *   expired            401 Key has expired, please renew
 */
import { readCredential, stripBearer } from './credentials.js';
import { MSG_ACCESS_DISALLOWED, MSG_AUTH_FIELD_MISSING, checkSession, failure, guard } from './failures.js';
import type { Authenticator, AuthRuntime, CredentialSources, KeyLookup } from './types.js';

export interface TokenAuthOptions extends AuthRuntime {
  readonly lookup: KeyLookup;
  /** Where the key is read; the `Authorization` header when none is given. */
  readonly sources?: CredentialSources;
}

export function tokenAuth(options: TokenAuthOptions): Authenticator {
  const now = options.now ?? Date.now;
  return guard(async (req) => {
    const raw = readCredential(req, options.sources);
    if (!raw) return failure(401, MSG_AUTH_FIELD_MISSING);
    const key = stripBearer(raw);
    if (!key) return failure(401, MSG_AUTH_FIELD_MISSING);
    const found = await options.lookup.resolveKey(key);
    if (!found) return failure(403, MSG_ACCESS_DISALLOWED);
    return checkSession({ ...found, token: key }, now());
  }, 'authToken', options.logger);
}
