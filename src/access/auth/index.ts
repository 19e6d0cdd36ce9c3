/** Authentication: one factory per method, and the authenticator of an API built from its Tyk OAS document. */
export type { AuthRequest, AuthResult, Authenticator, KeyLookup, CredentialSources, AuthLogger, AuthRuntime } from './types.js';
export { tokenAuth, type TokenAuthOptions } from './token.js';
export { basicAuth, type BasicAuthOptions } from './basic.js';
export { jwtAuth, type JwtAuthOptions, type JwtSchemeConfig, type ScopeToPolicy } from './jwt.js';
export { JwksCache, type JwksOptions, type JwksUri } from './jwks.js';
export { externalOAuth, type ExternalOAuthOptions, type OAuthProvider, type OAuthJwtValidation, type OAuthIntrospection } from './oauth.js';
export { customAuth, resolvePluginPath, type CustomAuthOptions, type CustomAuthContext, type CustomAuthFunction } from './custom.js';
export { hmacAuth, parseSignatureParams, signingString, parseHttpDate, hmacSignature, HMAC_ALGORITHMS, type HmacAuthOptions, type HmacAlgorithm, type SignatureParams } from './hmac.js';
export { keyless, type KeylessOptions } from './keyless.js';
export {
  createApiAuthenticator,
  planApiAuthentication,
  checkApiAuthentication,
  type ApiAuthDeps,
  type AuthPlan,
  type PlannedScheme,
  type SchemeKind,
} from './api.js';
export { failureBody, isMissingCredential } from './failures.js';
export { parseCookies, readCredential, stripBearer } from './credentials.js';
export { createMemoryLookup, type MemoryLookup, type MemoryLookupOptions } from './memory-lookup.js';
