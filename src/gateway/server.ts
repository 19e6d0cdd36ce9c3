/**
 * The gateway listener: one HTTP server for every API. Requests are routed by the longest
 * matching listen path, then by exact path inside the API (Tyk semantics: JSON 404
 * otherwise). WebSocket upgrades are routed the same way. `/hello` answers health checks.
 * With `tls` the same listener speaks HTTPS / WSS instead (TLS 1.2 at least), with the same
 * handler, upgrades and limits; certificates can be swapped while it serves (`setTls`).
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type { Logger } from '../engine/logger.js';
import { sluiceError } from '../engine/errors.js';
import { ApiHost, type HostLimits, type WsServers } from './host.js';
import { clientOf } from './identity.js';
import { defaultEgressLimits } from './egress/hub.js';
import { rejectUpgrade, rejectUpgradeRaw, sendError, sendJson } from './respond.js';

function sendGuardFailure(res: ServerResponse, g: { status: number; body: string; headers?: Readonly<Record<string, string>> }): void {
  res.writeHead(g.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(g.body), ...g.headers });
  res.end(g.body);
}

export interface GatewayOptions {
  readonly host: string;
  readonly port: number;
  readonly logger: Logger;
  readonly version: string;
  readonly limits?: Partial<HostLimits>;
  /** Routes outside any API (health, management); tried before APIs. Return true when handled. */
  readonly handlers?: ((req: IncomingMessage, res: ServerResponse, path: string) => boolean)[];
  /** Serve HTTPS / WSS instead of plain HTTP (src/cli/tls.ts reads and checks the files). */
  readonly tls?: GatewayTls;
}

/** PEM material of the listener's TLS; `ca` and `clientAuth` turn on client certificates. */
export interface GatewayTls {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  /** CA certificates that client certificates must chain to. */
  readonly ca?: string | Buffer;
  /** `request`: ask for a client certificate, accept connections without one; `require`: refuse them. */
  readonly clientAuth?: 'request' | 'require';
}

/** The oldest TLS version the listener accepts. */
export const MIN_TLS_VERSION = 'TLSv1.2';

/** A client certificate that verified against the configured CA, as a request sees it. */
export interface ClientCertificate {
  /** e.g. `CN=alice,O=Example` */
  readonly subject: string;
  /** SHA-256 fingerprint, colon-separated hex as OpenSSL prints it. */
  readonly fingerprint256: string;
}

/** The verified client certificate of a request's TLS connection, if any (mutual TLS). */
export function clientCertificateOf(req: IncomingMessage): ClientCertificate | undefined {
  const socket = req.socket as Partial<TLSSocket>;
  if (!socket.encrypted || !socket.authorized || !socket.getPeerCertificate) return undefined;
  const peer = socket.getPeerCertificate();
  if (!peer || !peer.fingerprint256) return undefined;
  const subject = Object.entries(peer.subject ?? {})
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((one) => `${k}=${one}`))
    .join(',');
  return { subject, fingerprint256: peer.fingerprint256 };
}

/** The answer of an API's guard (authentication, access rights, request limits). */
export type GuardOutcome =
  | { readonly ok: true; readonly headers?: Readonly<Record<string, string>> }
  | { readonly ok: false; readonly status: number; readonly body: string; readonly headers?: Readonly<Record<string, string>> };

/** Runs before every request and upgrade of an API; keyless APIs have none (no await on their path). */
export type Guard = (req: IncomingMessage, rel: string) => Promise<GuardOutcome>;

interface Mount {
  readonly id: string;
  readonly listenPath: string;
  readonly host: ApiHost;
  readonly guard: Guard | undefined;
}

export type HealthCheck = () => Record<string, { status: 'pass' | 'warn' | 'fail'; [k: string]: unknown }>;

export class Gateway {
  readonly #opts: GatewayOptions;
  readonly #server: http.Server | https.Server;
  readonly #wss: WsServers;
  readonly #limits: HostLimits;
  #mounts: Mount[] = [];
  readonly #health: HealthCheck[] = [];
  readonly #handlers: ((req: IncomingMessage, res: ServerResponse, path: string) => boolean)[];

  constructor(opts: GatewayOptions) {
    this.#opts = opts;
    this.#limits = { ...defaultEgressLimits, maxMessageBytes: 1024 * 1024, ...opts.limits };
    this.#handlers = [...(opts.handlers ?? [])];
    this.#wss = {
      egress: new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false, maxPayload: 4096 }),
      egressDeflate: new WebSocketServer({ noServer: true, perMessageDeflate: true, clientTracking: false, maxPayload: 4096 }),
      ingress: new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false, maxPayload: this.#limits.maxMessageBytes }),
    };
    const onRequest = (req: IncomingMessage, res: ServerResponse) => this.#onRequest(req, res);
    const tls = opts.tls;
    this.#server = tls
      ? https.createServer(
          {
            maxHeaderSize: 16 * 1024,
            minVersion: MIN_TLS_VERSION,
            cert: tls.cert,
            key: tls.key,
            ...(tls.ca ? { ca: tls.ca } : {}),
            requestCert: tls.clientAuth !== undefined,
            rejectUnauthorized: tls.clientAuth === 'require',
          },
          onRequest,
        )
      : http.createServer({ maxHeaderSize: 16 * 1024 }, onRequest);
    this.#server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.#onUpgrade(req, socket, head));
    // Streams are long-lived: no request timeout, but keep-alive and header timeouts stay.
    this.#server.requestTimeout = 0;
    this.#server.keepAliveTimeout = 65_000;
    this.#server.headersTimeout = 70_000;
    this.#server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    // Failed handshakes (plain HTTP on the TLS port, no or untrusted client certificate, scanners):
    // Node closes the connection; note why at debug level only.
    this.#server.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
      this.#opts.logger.debug('TLS handshake failed', { remote: socket.remoteAddress ?? '', error: err.code ?? err.message });
    });
  }

  /** `https` when the listener terminates TLS, else `http`. */
  get scheme(): 'http' | 'https' {
    return this.#server instanceof https.Server ? 'https' : 'http';
  }

  /**
   * New certificate, key (and CA) for connections accepted from now on; open connections keep
   * theirs. Only for a gateway started with `tls` (plain HTTP cannot turn into HTTPS). The client
   * certificate mode stays as started.
   */
  setTls(tls: Omit<GatewayTls, 'clientAuth'>): void {
    if (!(this.#server instanceof https.Server)) throw new Error('the gateway was started without TLS');
    this.#server.setSecureContext({ minVersion: MIN_TLS_VERSION, cert: tls.cert, key: tls.key, ...(tls.ca ? { ca: tls.ca } : {}) });
  }

  addHandler(h: (req: IncomingMessage, res: ServerResponse, path: string) => boolean): void {
    this.#handlers.push(h);
  }

  addHealthCheck(check: HealthCheck): void {
    this.#health.push(check);
  }

  /** A new host for an API's http_server components; it serves nothing until mounted. */
  createHost(owner: string): ApiHost {
    return new ApiHost(owner, this.#wss, this.#limits, this.#opts.logger.with({ api: owner }), clientOf);
  }

  /** Serves `host` under `listenPath`. Returns the function that unmounts it. */
  mount(id: string, listenPath: string, host: ApiHost, guard?: Guard): () => void {
    const clash = this.#mounts.find((m) => m.listenPath === listenPath && m.id !== id);
    if (clash) throw sluiceError('SLU_ERR_ROUTE_CONFLICT', listenPath, `API ${clash.id}`);
    const mount: Mount = { id, listenPath, host, guard };
    this.#mounts = [...this.#mounts.filter((m) => m.id !== id), mount].sort((a, b) => b.listenPath.length - a.listenPath.length);
    return () => {
      this.#mounts = this.#mounts.filter((m) => m !== mount);
    };
  }

  #match(path: string): { mount: Mount; rel: string } | undefined {
    for (const m of this.#mounts) {
      const lp = m.listenPath;
      if (lp === '/') return { mount: m, rel: path };
      if (path === lp) return { mount: m, rel: '/' };
      if (path.startsWith(lp) && path.charCodeAt(lp.length) === 47 /* / */) return { mount: m, rel: path.slice(lp.length) };
    }
    return undefined;
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path === '/hello') return this.#hello(res);
    for (const h of this.#handlers) if (h(req, res, path)) return;
    const hit = this.#match(path);
    if (!hit) return sendError(res, 404, 'not found');
    if (hit.mount.guard) {
      void hit.mount.guard(req, hit.rel).then(
        (g) => {
          if (!g.ok) return sendGuardFailure(res, g);
          if (g.headers) for (const [k, v] of Object.entries(g.headers)) res.setHeader(k, v);
          this.#route(req, res, hit.mount, hit.rel);
        },
        (err: unknown) => {
          this.#opts.logger.error('API guard failed', { api: hit.mount.id, error: (err as Error).message });
          sendError(res, 500, 'internal error');
        },
      );
      return;
    }
    this.#route(req, res, hit.mount, hit.rel);
  }

  #route(req: IncomingMessage, res: ServerResponse, mount: Mount, rel: string): void {
    const route = mount.host.routes.get(rel);
    if (!route?.http) {
      if (route?.ws) return sendError(res, 400, 'this path expects a WebSocket upgrade');
      return sendError(res, 404, 'not found');
    }
    try {
      route.http.handler(req, res, rel);
    } catch (err) {
      this.#opts.logger.error('request handler failed', { path: rel, error: (err as Error).message });
      sendError(res, 500, 'internal error');
    }
  }

  #onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const hit = this.#match(path);
    if (!hit) return rejectUpgrade(socket, 404, 'not found');
    const go = () => {
      const route = hit.mount.host.routes.get(hit.rel);
      if (!route?.ws) return rejectUpgrade(socket, 404, 'not found');
      route.ws.handler(req, socket, head, hit.rel);
    };
    if (!hit.mount.guard) return go();
    void hit.mount.guard(req, hit.rel).then(
      (g) => (g.ok ? go() : rejectUpgradeRaw(socket, g.status, g.body, g.headers)),
      () => rejectUpgrade(socket, 500, 'internal error'),
    );
  }

  #hello(res: ServerResponse): void {
    const details: Record<string, unknown> = {};
    let status: 'pass' | 'warn' | 'fail' = 'pass';
    for (const check of this.#health) {
      for (const [k, v] of Object.entries(check())) {
        details[k] = v;
        if (v.status === 'fail') status = 'fail';
        else if (v.status === 'warn' && status === 'pass') status = 'warn';
      }
    }
    sendJson(res, status === 'fail' ? 503 : 200, { status, version: this.#opts.version, description: 'Sluice gateway', details });
  }

  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen({ host: this.#opts.host, port: this.#opts.port, backlog: 4096 }, () => {
        this.#server.off('error', reject);
        resolve(this.#server.address() as AddressInfo);
      });
    });
  }

  get address(): AddressInfo | undefined {
    return (this.#server.address() as AddressInfo | null) ?? undefined;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}
