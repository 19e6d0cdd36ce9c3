/**
 * The identity a guard established for a request, kept beside the request (not on it) for the
 * handlers that need it: per-client limits and revocation (key hash), `$tyk_context.token`,
 * `jwt_claims_*` and `$tyk_meta.*` in templated streams.
 */
import type { IncomingMessage } from 'node:http';
import type { Identity } from '../access/types.js';

const identities = new WeakMap<IncomingMessage, Identity>();

export function setIdentity(req: IncomingMessage, identity: Identity): void {
  identities.set(req, identity);
}

export function identityOf(req: IncomingMessage): Identity | undefined {
  return identities.get(req);
}

/** The client a connection is counted and revoked by: its key hash, else its address. */
export function clientOf(req: IncomingMessage): string {
  const id = identities.get(req);
  return id?.keyHash ? `key:${id.keyHash}` : `ip:${req.socket.remoteAddress ?? ''}`;
}
