/**
 * The gateway's implementation of the engine's HttpHost, for one API: http_server inputs and
 * outputs register their paths here (relative to the listen path) and the gateway serves them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { WebSocketServer, RawData } from 'ws';
import type {
  EgressChannel,
  EgressOptions,
  HttpHost,
  IngressHandler,
  IngressOptions,
  IngressRequest,
  IngressResponse,
  Registration,
} from '../engine/http-host.js';
import { hasCode } from '../engine/errors.js';
import type { Logger } from '../engine/logger.js';
import { EgressHub, type EgressLimits, type ClientOf, type HubPolicy } from './egress/hub.js';
import type { CloseReason } from './egress/subscriber.js';
import type { GatewayAccess } from './guard.js';
import { identityOf } from './identity.js';
import type { Identity } from '../access/types.js';
import { RouteTable, type HttpHandler, type UpgradeHandler } from './routes.js';
import type { CorsOptions } from '../engine/http-host.js';
import { rejectUpgrade } from './respond.js';

function originAllowed(cors: CorsOptions, origin: string): boolean {
  return cors.allowedOrigins.includes('*') || cors.allowedOrigins.includes(origin);
}

/** CORS for a path: preflights answered, allowed origins echoed (credentials allowed, so never `*`). */
function withCors(cors: CorsOptions | undefined, verbs: readonly string[], handler: HttpHandler): HttpHandler {
  if (!cors) return handler;
  return (req, res, path) => {
    const origin = req.headers.origin;
    if (origin && originAllowed(cors, origin)) {
      // Any origin: `*` without credentials, so no site can make cookie-carrying reads.
      // Listed origins are echoed and may send credentials.
      if (cors.allowedOrigins.includes('*')) res.setHeader('Access-Control-Allow-Origin', '*');
      else {
        res.setHeader('Access-Control-Allow-Origin', origin);
        res.setHeader('Access-Control-Allow-Credentials', 'true');
        res.setHeader('Vary', 'Origin');
      }
      if (req.method === 'OPTIONS') {
        res.writeHead(204, {
          'Access-Control-Allow-Methods': [...verbs, 'OPTIONS'].join(', '),
          'Access-Control-Allow-Headers': String(req.headers['access-control-request-headers'] ?? 'Authorization, Content-Type, Last-Event-ID'),
          'Access-Control-Max-Age': '600',
        });
        res.end();
        return;
      }
    }
    handler(req, res, path);
  };
}

/** With CORS enabled, a WebSocket upgrade from a browser origin that is not allowed is refused (Bento behaviour). */
function wsOrigin(cors: CorsOptions | undefined, handler: UpgradeHandler): UpgradeHandler {
  if (!cors) return handler;
  return (req, socket, head, path) => {
    const origin = req.headers.origin;
    if (origin && !originAllowed(cors, origin)) return rejectUpgrade(socket, 403, 'origin not allowed');
    handler(req, socket, head, path);
  };
}
import { readBody } from './body.js';
import { sendError } from './respond.js';

export interface HostLimits extends EgressLimits {
  /** Largest message accepted by an ingress (request body or WebSocket frame). */
  readonly maxMessageBytes: number;
}

export interface WsServers {
  /** For subscribers: incoming frames are control only, tiny payload limit. */
  readonly egress: WebSocketServer;
  /** For subscribers of outputs that allow permessage-deflate. */
  readonly egressDeflate: WebSocketServer;
  /** For publishers: frames up to the message size limit. */
  readonly ingress: WebSocketServer;
}

interface Refusal {
  readonly status: number;
  readonly message: string;
}

/** A delivery that no message limit counts. */
const UNMETERED = { ok: true } as const;

const refusal = (v: { ok: true } | { ok: false; limit: 'rate' | 'quota'; message: string }): Refusal | undefined =>
  v.ok ? undefined : { status: v.limit === 'rate' ? 429 : 403, message: v.message };

export class ApiHost implements HttpHost {
  readonly routes = new RouteTable();
  readonly #owner: string;
  readonly #wss: WsServers;
  readonly #limits: HostLimits;
  readonly #log: Logger;
  readonly #channels = new Set<EgressHub>();

  readonly #policy: HubPolicy;
  /** Subscribers this API accepts across its outputs (0 = no limit). */
  maxConnections = 0;
  /** Per-message limits of authenticated clients (set by the API manager when access control is on). */
  #access: { readonly apiId: string; readonly service: GatewayAccess } | undefined;

  constructor(owner: string, wss: WsServers, limits: HostLimits, log: Logger, clientOf?: ClientOf) {
    this.#owner = owner;
    this.#policy = {
      clientOf: clientOf ?? ((req) => req.socket.remoteAddress ?? ''),
      admit: () =>
        this.maxConnections > 0 && this.subscriberCount >= this.maxConnections ? { status: 503, message: 'too many connections to this API' } : undefined,
      expiryOf: (req) => {
        const e = identityOf(req)?.session.expires;
        return typeof e === 'number' && e >= 1 ? e * 1000 : undefined;
      },
      meterFor: (req) => {
        const a = this.#access;
        const identity = identityOf(req);
        if (!a || !identity?.keyHash) return undefined;
        const hash = identity.keyHash;
        // The current identity of the key (its policy may change while connected). Whether it has
        // message limits at all is worked out once per identity, not once per delivery.
        let checked: Identity | undefined;
        let limited = false;
        return (count, bytes) => {
          const current = this.#current.get(hash) ?? identity;
          if (current !== checked) {
            checked = current;
            limited = a.service.hasMessageLimits(current, a.apiId, 'delivered');
          }
          return limited ? a.service.consumeMessages(current, a.apiId, 'delivered', count, bytes) : UNMETERED;
        };
      },
    };
    this.#wss = wss;
    this.#limits = limits;
    this.#log = log;
  }

  readonly #current = new Map<string, Identity>();

  useAccess(apiId: string, service: GatewayAccess): void {
    this.#access = { apiId, service };
  }

  /** A key's session changed: open connections count against its new limits from now on. */
  refreshIdentity(identity: Identity): void {
    if (this.#current.has(identity.keyHash) || this.subscriberCount > 0) this.#current.set(identity.keyHash, identity);
  }

  /** Adds a route; a soft (default-only) path already served elsewhere is skipped with a debug log. */
  #add(kind: 'http' | 'ws', path: string, owner: string, soft: readonly string[] | undefined, handler: HttpHandler | UpgradeHandler): () => void {
    try {
      return kind === 'http' ? this.routes.addHttp(path, owner, handler as HttpHandler) : this.routes.addWs(path, owner, handler as UpgradeHandler);
    } catch (err) {
      if (!soft?.includes(path) || !hasCode(err, 'SLU_ERR_ROUTE_CONFLICT')) throw err;
      this.#log.debug('default path already served by another stream; not registered', { path, owner });
      return () => {};
    }
  }

  addIngress(opts: IngressOptions, handler: IngressHandler): Registration {
    const undo: (() => void)[] = [];
    const owner = `${this.#owner} (http_server input)`;
    try {
      if (opts.path) {
        undo.push(
          this.#add(
            'http',
            opts.path,
            owner,
            opts.softPaths,
            withCors(opts.cors, opts.allowedVerbs, (req, res, path) => {
              if (!opts.allowedVerbs.includes(req.method ?? '')) return sendError(res, 405, 'Incorrect method');
              void this.#ingressHttp(req, res, path, handler);
            }),
          ),
        );
      }
      if (opts.wsPath) {
        undo.push(this.#add('ws', opts.wsPath, owner, opts.softPaths, wsOrigin(opts.cors, (req, socket, head, path) => this.#ingressWs(req, socket, head, path, opts, handler))));
      }
    } catch (err) {
      for (const u of undo) u();
      throw err;
    }
    return { close: () => undo.forEach((u) => u()) };
  }

  async #ingressHttp(req: IncomingMessage, res: ServerResponse, path: string, handler: IngressHandler): Promise<void> {
    let body: Buffer;
    try {
      body = await readBody(req, this.#limits.maxMessageBytes);
    } catch (err) {
      if (hasCode(err, 'SLU_ERR_MESSAGE_TOO_LARGE')) return sendError(res, 413, (err as Error).message, { Connection: 'close' });
      return sendError(res, 400, 'could not read request body');
    }
    const metered = this.#meterPublish(req, body.length);
    const refused = metered instanceof Promise ? await metered : metered;
    if (refused) return sendError(res, refused.status, refused.message);
    let reply: IngressResponse;
    try {
      reply = await handler(ingressRequest(req, path, body, false));
    } catch (err) {
      this.#log.error('ingress handler failed', { error: (err as Error).message });
      return sendError(res, 500, 'internal error');
    }
    writeReply(res, reply);
  }

  /** Published-message limits of the client's key: an error to answer with, or undefined. */
  // Synchronous unless the limit state must be asked: no await on the publish path otherwise.
  #meterPublish(req: IncomingMessage, bytes: number): Refusal | undefined | Promise<Refusal | undefined> {
    const a = this.#access;
    const identity = a ? identityOf(req) : undefined;
    if (!a || !identity?.keyHash) return undefined;
    const v = a.service.consumeMessages(identity, a.apiId, 'published', 1, bytes);
    return v instanceof Promise ? v.then(refusal) : refusal(v);
  }

  #ingressWs(req: IncomingMessage, socket: Socket, head: Buffer, path: string, opts: IngressOptions, handler: IngressHandler): void {
    this.#wss.ingress.handleUpgrade(req, socket, head, (ws) => {
      if (opts.wsWelcomeMessage) ws.send(opts.wsWelcomeMessage);
      ws.on('error', () => {});
      ws.on('message', (data: RawData, isBinary: boolean) => {
        const body = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
        void Promise.resolve(this.#meterPublish(req, body.length))
          .then((refused) => {
            if (!refused) return handler(ingressRequest(req, path, body, true));
            ws.close(refused.status === 429 ? 4429 : 4403, refused.message);
            return undefined;
          })
          .then(
          (reply) => {
            // A reply body (sync_response, or an error) goes back on the socket; plain 200s are silent.
            if (reply?.body !== undefined && reply.body.length && ws.readyState === ws.OPEN) ws.send(reply.body, { binary: isBinary });
          },
          () => {},
        );
      });
    });
  }

  addEgress(opts: EgressOptions): EgressChannel {
    const hub = new EgressHub(opts, this.#limits, this.#policy);
    const undo: (() => void)[] = [];
    const owner = `${this.#owner} (http_server output)`;
    const verbs = opts.allowedVerbs;
    try {
      if (opts.path) {
        undo.push(
          this.#add(
            'http',
            opts.path,
            owner,
            opts.softPaths,
            withCors(opts.cors, verbs, (req, res) => {
              if (!verbs.includes(req.method ?? '')) return sendError(res, 405, 'Incorrect method');
              hub.handleGet(req, res);
            }),
          ),
        );
      }
      if (opts.streamPath) {
        undo.push(
          this.#add(
            'http',
            opts.streamPath,
            owner,
            opts.softPaths,
            withCors(opts.cors, verbs, (req, res) => {
              if (!verbs.includes(req.method ?? '')) return sendError(res, 405, 'Incorrect method');
              hub.handleStream(req, res);
            }),
          ),
        );
      }
      if (opts.wsPath) {
        undo.push(
          this.#add('ws', opts.wsPath, owner, opts.softPaths, wsOrigin(opts.cors, (req, socket, head) => hub.handleUpgrade(opts.wsCompression ? this.#wss.egressDeflate : this.#wss.egress, req, socket, head))),
        );
      }
    } catch (err) {
      for (const u of undo) u();
      hub.close();
      throw err;
    }
    this.#channels.add(hub);
    const channels = this.#channels;
    return {
      publish: (batch) => hub.publish(batch),
      get subscriberCount() {
        return hub.subscriberCount;
      },
      close() {
        for (const u of undo) u();
        hub.close();
        channels.delete(hub);
      },
    };
  }

  /** Closes this API's subscribers whose client matches (revoked keys, changed policies). */
  closeSubscribers(match: (client: string) => boolean, reason: CloseReason, message: string): number {
    let n = 0;
    for (const c of this.#channels) n += c.closeWhere(match, reason, message);
    return n;
  }

  /** Subscribers connected to this API's outputs. */
  get subscriberCount(): number {
    let n = 0;
    for (const c of this.#channels) n += c.subscriberCount;
    return n;
  }
}

function ingressRequest(req: IncomingMessage, path: string, body: Buffer, websocket: boolean): IngressRequest {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return {
    method: req.method ?? 'GET',
    path,
    query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)),
    headers: req.headers,
    remoteAddr: req.socket.remoteAddress ?? '',
    body,
    websocket,
  };
}

function writeReply(res: ServerResponse, reply: IngressResponse): void {
  const body = reply.body === undefined ? undefined : typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body;
  res.writeHead(reply.status, { ...(reply.headers ?? {}), 'Content-Length': body?.byteLength ?? 0 });
  res.end(body);
}
