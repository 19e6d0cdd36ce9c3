/**
 * The access facade for the gateway and the engine's delivery path. Typical use per request:
 *
 *   const id = await access.resolveKey(token);             // undefined → 403 "Access to this API has been disallowed"
 *   const chk = access.checkRequest(id, apiId, method, path); // !ok → chk.status, {"error": chk.message}
 *   const use = await access.consumeRequest(id, apiId);    // headers always; !ok → 429 / 403
 *
 * and per message: `access.topicAllowed(...)`, `access.consumeMessages(...)`.
 * `access.onChange(e => ...)` reports revocations so open connections can be closed.
 */
export { AccessService, MESSAGES } from './service.js';
export type { AccessResult, AccessDenied, AccessServiceOptions, ConsumeResult, CreatedKey, MessageDirection, MessageVerdict } from './service.js';
export { topicAllowed, topicMatches } from './topics.js';
export { keyHash, generateKey, constantTimeEqual, hashPassword, verifyPassword, isKeyHash } from './hash.js';
export { applyPolicies, policyIds } from './policy.js';
export { validateSession, validatePolicy, formatIssues } from './validate.js';
export type { FieldIssue } from './validate.js';
export type * from './types.js';
