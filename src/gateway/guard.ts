/**
 * An API's guard: what runs before a request or WebSocket upgrade reaches a stream path, in
 * Tyk's order — authentication, then access rights (expiry, inactive, `allowed_urls`), then the
 * request rate limit and quota (with throttling). The identity it establishes is kept for the
 * handlers (per-client limits, templated streams, per-message limits, revocation).
 */
import type { IncomingMessage } from 'node:http';
import type { ApiDefinition } from '../config/load.js';
import type { Logger } from '../engine/logger.js';
import type { AccessEvent, AuthFailure, Identity } from '../access/types.js';
import { createApiAuthenticator, planApiAuthentication, failureBody, type KeyLookup } from '../access/auth/index.js';
import { clientCertificateOf, type Guard, type GuardOutcome } from './server.js';
import { setIdentity } from './identity.js';
import { apiRateLimitOf } from '../config/api-rate-limit.js';

/** The parts of the access service a guard uses. */
export interface RequestAccess {
  /** One request against the API-wide limit (`upstream.rateLimit`), counted across every client and process. */
  consumeApiRate(apiId: string, rate: number, perMs: number): Promise<{ readonly ok: true } | ({ readonly ok: false } & AuthFailure)>;
  checkRequest(identity: Identity, apiId: string, method: string, path: string): { readonly ok: true } | ({ readonly ok: false } & AuthFailure);
  consumeRequest(
    identity: Identity,
    apiId: string,
  ): Promise<{ readonly ok: true; readonly headers: Readonly<Record<string, string>> } | ({ readonly ok: false; readonly headers: Readonly<Record<string, string>> } & AuthFailure)>;
}

/** Everything the gateway asks of the access service: guards, message limits, revocation. */
export interface GatewayAccess extends RequestAccess {
  consumeMessages(
    identity: Identity,
    apiId: string,
    direction: 'delivered' | 'published',
    count: number,
    bytes: number,
  ): { readonly ok: true } | { readonly ok: false; readonly limit: 'rate' | 'quota'; readonly retryAfterMs?: number; readonly message: string } | Promise<{ readonly ok: true } | { readonly ok: false; readonly limit: 'rate' | 'quota'; readonly retryAfterMs?: number; readonly message: string }>;
  /** False when `consumeMessages` would always answer ok for this identity (no limits to count). */
  hasMessageLimits(identity: Identity, apiId: string, direction: 'delivered' | 'published'): boolean;
  resolveHash(hash: string): Promise<Identity | undefined>;
  onChange(listener: (e: AccessEvent) => void): () => void;
  /** Topic rights: may this identity subscribe to / publish on `topic` of the API. */
  topicAllowed(identity: Identity, apiId: string, action: 'subscribe' | 'publish', topic: string): boolean;
}

export interface GuardDeps {
  readonly lookup: KeyLookup;
  readonly access?: RequestAccess;
  readonly logger: Logger;
  /** Where custom auth plugins are resolved from. */
  readonly baseDir?: string;
}

const fail = (f: AuthFailure, headers?: Readonly<Record<string, string>>): GuardOutcome => ({
  ok: false,
  status: f.status,
  body: failureBody(f),
  headers: { ...f.headers, ...headers },
});

/**
 * The guard of an API, or undefined when it is keyless and has no API-wide rate limit (no work
 * at all on its request path). The API-wide limit comes first, before authentication, as Tyk's.
 */
export function createGuard(def: ApiDefinition, deps: GuardDeps): Guard | undefined {
  const { plan } = planApiAuthentication(def.document);
  const apiLimit = deps.access ? apiRateLimitOf(def.document) : undefined;
  const authenticate = plan?.enabled
    ? createApiAuthenticator(def, {
        lookup: deps.lookup,
        ...(deps.baseDir ? { baseDir: deps.baseDir } : {}),
        logger: { warn: (m, f) => deps.logger.warn(m, f), error: (m, f) => deps.logger.error(m, f) },
      })
    : undefined;
  if (!authenticate && !apiLimit) return undefined;
  return async (req: IncomingMessage, rel: string): Promise<GuardOutcome> => {
    const access = deps.access;
    if (apiLimit && access) {
      const a = await access.consumeApiRate(def.id, apiLimit.rate, apiLimit.perMs);
      if (!a.ok) return fail(a);
    }
    if (!authenticate) return { ok: true };
    // Read (a new object from the TLS socket) only for APIs that check certificates.
    const cert = plan?.clientCertificates ? clientCertificateOf(req) : undefined;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const r = await authenticate({
      method: req.method ?? 'GET',
      path: rel,
      headers: req.headers,
      query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)),
      remoteAddr: req.socket.remoteAddress ?? '',
      requestPath: q < 0 ? url : url.slice(0, q),
      tls: (req.socket as { encrypted?: boolean }).encrypted === true,
      ...(cert ? { clientCertificate: cert } : {}),
    });
    if (!r.ok) return fail(r.failure);
    if (access) {
      const c = access.checkRequest(r.identity, def.id, req.method ?? 'GET', rel);
      if (!c.ok) return fail(c);
      const l = await access.consumeRequest(r.identity, def.id);
      if (!l.ok) return fail(l, l.headers);
      setIdentity(req, r.identity);
      return { ok: true, headers: l.headers };
    }
    setIdentity(req, r.identity);
    return { ok: true };
  };
}

/** Puts an access service in front of every API an ApiManager serves (guards, limits, revocation). */
export function attachAccess(
  apis: { configureAccess(o: { access?: GatewayAccess; guardFor?: (def: ApiDefinition) => Guard | undefined }): void },
  access: GatewayAccess & KeyLookup,
  logger: Logger,
  baseDir?: string,
): void {
  apis.configureAccess({ access, guardFor: (def) => createGuard(def, { lookup: access, access, logger, ...(baseDir ? { baseDir } : {}) }) });
}
