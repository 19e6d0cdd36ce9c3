/**
 * Test helper: a real gateway (listener, ApiManager, built-in components) with the control plane
 * mounted, on a free port, its log lines captured.
 */
import { Gateway } from '../gateway/server.js';
import { ApiManager } from '../gateway/apis.js';
import { createBloblang, createRegistry, VERSION } from '../cli/wiring.js';
import { createLogger } from '../engine/logger.js';
import type { Store } from '../store/store.js';
import type { HotState } from '../state/types.js';
import type { ChangeBus } from '../state/bus.js';
import { startControlPlane, type ControlPlane } from './plane.js';
import { attachAccess } from '../gateway/guard.js';
import { request as httpsRequest } from 'node:https';
import { loadTls, type TlsFiles } from '../cli/tls.js';

export interface TestGateway {
  readonly base: string;
  readonly secret: string;
  readonly plane: ControlPlane;
  readonly gateway: Gateway;
  readonly apis: ApiManager;
  /** Every log line written so far (JSON, debug level). */
  readonly logs: string[];
  /** A request with the secret (unless `headers` says otherwise); the body is JSON-encoded unless a string. */
  req(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: unknown; headers: Headers }>;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  readonly dataDir?: string;
  readonly store?: string;
  readonly redis?: string;
  readonly redisPrefix?: string;
  readonly secret?: string;
  readonly apisDir?: string;
  readonly use?: { readonly store?: Store; readonly state?: HotState; readonly bus?: ChangeBus };
  readonly bodyLimit?: number;
  readonly print?: (text: string) => void;
  /**
   * Serve HTTPS / WSS with these files (read and checked as `sluice start --tls-*` does). `req()`
   * then trusts the server certificate itself (a self-signed one) and presents no client certificate.
   */
  readonly tls?: TlsFiles;
}

export async function startTestGateway(opts: TestGatewayOptions = {}): Promise<TestGateway> {
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', format: 'json', write: (l) => logs.push(l) });
  const registry = createRegistry();
  const bloblang = await createBloblang();
  const tls = opts.tls ? loadTls(opts.tls) : undefined;
  const gateway = new Gateway({ host: '127.0.0.1', port: 0, logger, version: VERSION, ...(tls ? { tls } : {}) });
  const apis = new ApiManager({ gateway, registry, bloblang, logger });
  const addr = await gateway.listen();
  if (opts.apisDir) await apis.loadDir(opts.apisDir);
  const secret = opts.secret ?? 'test-secret-' + Math.random().toString(36).slice(2);
  const plane = await startControlPlane({
    gateway,
    apis,
    logger,
    registry,
    bloblang,
    version: VERSION,
    dataDir: opts.dataDir,
    store: opts.store,
    redis: opts.redis,
    redisPrefix: opts.redisPrefix,
    secret,
    use: opts.use,
    bodyLimit: opts.bodyLimit,
    print: opts.print ?? (() => undefined),
    env: {},
  }).catch(async (err: unknown) => {
    await gateway.close();
    throw err;
  });
  attachAccess(apis, plane.access, logger);
  const base = `${gateway.scheme}://127.0.0.1:${addr.port}`;
  return {
    base,
    secret,
    plane,
    gateway,
    apis,
    logs,
    async req(method, path, body, headers) {
      const h: Record<string, string> = { 'x-tyk-authorization': secret, ...headers };
      for (const [k, v] of Object.entries(h)) if (v === '') delete h[k];
      const init: RequestInit = { method, headers: h };
      if (body !== undefined) {
        init.body = typeof body === 'string' ? body : JSON.stringify(body);
        h['content-type'] = 'application/json';
      }
      const res = tls ? await tlsFetch(base + path, init, tls.cert) : await fetch(base + path, init);
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        /* not JSON */
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
    async close() {
      await apis.stopAll(1000);
      await gateway.close();
      await plane.close();
    },
  };
}

/** fetch() for the TLS test gateway: node's fetch cannot be given a CA, https.request can. */
function tlsFetch(url: string, init: RequestInit, ca: string | Buffer): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: init.method, headers: init.headers as Record<string, string>, ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const headers = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) for (const one of Array.isArray(v) ? v : [v]) headers.append(k, one);
        const status = res.statusCode ?? 0;
        resolve(new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), { status, headers }));
      });
    });
    req.on('error', reject);
    req.end(typeof init.body === 'string' ? init.body : undefined);
  });
}
