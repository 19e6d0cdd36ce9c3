/**
 * The management API as one handler for `Gateway.addHandler`: Tyk's Gateway API under /tyk/
 * and Sluice's REST API under /api/, both behind the secret (`x-tyk-authorization`, or
 * `Authorization: Bearer` for /api/). Everything under /tyk/ is ours; under /api/ only the
 * routes we know, so an API served at a listen path like /api/orders still reaches its streams.
 *
 * Nothing secret is logged: requests are logged by route pattern (`/tyk/keys/{keyID}`), never
 * by their path, which can hold a key.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessService } from '../access/service.js';
import { constantTimeEqual } from '../access/hash.js';
import { SluiceError } from '../engine/errors.js';
import type { Logger } from '../engine/logger.js';
import type { ApiCatalog } from './catalog.js';
import { makeContext, Router, send, sluiceErrorReply, tykError, type Reply, type Route } from './http.js';
import { tykRoutes } from './tyk.js';
import { restRoutes } from './rest.js';

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

export interface ManagementOptions {
  readonly access: AccessService;
  readonly catalog: ApiCatalog;
  /** The admin secret. */
  readonly secret: string;
  readonly logger: Logger;
  readonly version: string;
  /** Largest request body accepted (default 1 MiB); larger ones get 413. */
  readonly bodyLimit?: number;
}

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, path: string) => boolean;

export interface ManagementHandler extends RouteHandler {
  readonly tykRoutes: readonly Route[];
  readonly restRoutes: readonly Route[];
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

export function createManagementHandler(opts: ManagementOptions): ManagementHandler {
  const tyk = tykRoutes({ access: opts.access, catalog: opts.catalog });
  const rest = restRoutes({ access: opts.access, catalog: opts.catalog, version: opts.version });
  const tykRouter = new Router(tyk);
  const restRouter = new Router(rest);
  const limit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const log = opts.logger.with({ component: 'management' });

  const authorized = (req: IncomingMessage, allowBearer: boolean): boolean => {
    const h = req.headers['x-tyk-authorization'];
    if (typeof h === 'string' && h && constantTimeEqual(h, opts.secret)) return true;
    if (allowBearer) {
      const a = req.headers.authorization;
      if (typeof a === 'string' && /^bearer /i.test(a) && constantTimeEqual(a.slice(7).trim(), opts.secret)) return true;
    }
    return false;
  };

  const handler: RouteHandler = (req, res, path) => {
    const isTyk = path === '/tyk' || path.startsWith('/tyk/');
    if (!isTyk && !path.startsWith('/api/')) return false;
    const method = (req.method ?? 'GET').toUpperCase();
    const m = METHODS.has(method) ? (isTyk ? tykRouter : restRouter).match(method, path) : isTyk ? undefined : restRouter.match('GET', path) && { methodMismatch: true as const };
    if (!isTyk && !m) return false;
    const route = m && 'route' in m ? m.route : undefined;
    const fail = (status: number, code: 'SLU_ERR_CONTROL_UNAUTHORIZED' | 'SLU_ERR_CONTROL_NOT_FOUND' | 'SLU_ERR_CONTROL_METHOD', args: unknown[]): void => {
      req.resume();
      const e = new SluiceError(code, args);
      send(res, isTyk ? tykError(status, e.message) : sluiceErrorReply(e));
    };
    if (!route?.open && !authorized(req, !isTyk)) {
      log.warn('refused a management request without a valid secret', { method, route: route?.path ?? (isTyk ? '/tyk/…' : '/api/…'), remote: req.socket.remoteAddress });
      fail(403, 'SLU_ERR_CONTROL_UNAUTHORIZED', []);
      return true;
    }
    if (!m) {
      fail(404, 'SLU_ERR_CONTROL_NOT_FOUND', ['route']);
      return true;
    }
    if (!route) {
      if (isTyk) {
        req.resume();
        send(res, tykError(405, 'Method not supported'));
      } else fail(405, 'SLU_ERR_CONTROL_METHOD', [method, 'this path']);
      return true;
    }
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
    const started = Date.now();
    const ctx = makeContext(req, 'params' in m ? m.params : {}, query, limit);
    route.handle(ctx).then(
      (reply) => {
        req.resume();
        send(res, reply);
        log.debug('management request', { method, route: route.path, status: reply.status, ms: Date.now() - started });
      },
      (err: unknown) => {
        req.resume();
        let reply: Reply;
        if (err instanceof SluiceError) {
          reply = isTyk ? tykError(err.status, err.message) : sluiceErrorReply(err);
          if (err.code === 'SLU_ERR_MESSAGE_TOO_LARGE') reply = { ...reply, headers: { Connection: 'close' } };
        } else {
          log.error('management request failed', { method, route: route.path, error: (err as Error).message });
          const e = new SluiceError('SLU_ERR_CONTROL_INTERNAL');
          reply = isTyk ? tykError(500, e.message) : sluiceErrorReply(e);
        }
        send(res, reply);
        log.debug('management request', { method, route: route.path, status: reply.status, ms: Date.now() - started });
      },
    );
    return true;
  };
  return Object.assign(handler, { tykRoutes: tyk, restRoutes: rest });
}
