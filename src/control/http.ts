/**
 * The small HTTP layer of the management API: a route table with `{param}` segments, JSON
 * bodies with a size limit, and replies. Two error styles: Tyk's (`{"status":"error",
 * "message":...}`) under /tyk/, Sluice's (`{"error":..., "code":...}`) under /api/.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from '../gateway/body.js';
import { SluiceError, hasCode, type ErrorCode } from '../engine/errors.js';
import { parseJson } from './json.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface RouteContext {
  readonly req: IncomingMessage;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** The JSON body (413 past the limit, 400 with the position when malformed). */
  json(): Promise<unknown>;
}

export interface Route {
  readonly method: Method;
  /** e.g. `/tyk/keys/{keyID}`. */
  readonly path: string;
  /** Reachable without the secret (only the OpenAPI document). */
  readonly open?: boolean;
  readonly summary: string;
  readonly handle: (ctx: RouteContext) => Promise<Reply>;
}

interface Compiled {
  readonly route: Route;
  readonly re: RegExp;
  readonly names: string[];
}

export class Router {
  readonly #compiled: Compiled[];

  constructor(readonly routes: readonly Route[]) {
    this.#compiled = routes.map((route) => {
      const names: string[] = [];
      const src = route.path.split('/').map((seg) => {
        const m = /^\{([A-Za-z_]+)\}$/.exec(seg);
        if (m) {
          names.push(m[1]!);
          return '([^/]+)';
        }
        return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      });
      return { route, re: new RegExp(`^${src.join('/')}$`), names };
    });
  }

  /** The route for a method and path; `methodMismatch` when the path exists with other methods. */
  match(method: string, path: string): { route: Route; params: Record<string, string> } | { methodMismatch: true } | undefined {
    let pathSeen = false;
    for (const c of this.#compiled) {
      const m = c.re.exec(path);
      if (!m) continue;
      pathSeen = true;
      if (c.route.method !== method) continue;
      const params: Record<string, string> = {};
      c.names.forEach((n, i) => {
        params[n] = safeDecode(m[i + 1]!);
      });
      return { route: c.route, params };
    }
    return pathSeen ? { methodMismatch: true } : undefined;
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function makeContext(req: IncomingMessage, params: Record<string, string>, query: URLSearchParams, bodyLimit: number): RouteContext {
  let body: Promise<unknown> | undefined;
  return {
    req,
    params,
    query,
    json() {
      body ??= readJson(req, bodyLimit);
      return body;
    },
  };
}

async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const buf = await readBody(req, limit);
  const text = buf.toString('utf8');
  if (!text.trim()) throw new SluiceError('SLU_ERR_CONTROL_BODY_MALFORMED', [1, 1, 0, 'the body is empty; send a JSON document']);
  const r = parseJson(text);
  if (!r.ok) throw new SluiceError('SLU_ERR_CONTROL_BODY_MALFORMED', [r.line, r.column, r.position, r.message]);
  return r.value;
}

export function send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const headers: Record<string, string> = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', ...reply.headers };
  if (reply.status === 204 || reply.body === undefined) {
    res.writeHead(reply.status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

/** Tyk's error body. */
export function tykError(status: number, message: string): Reply {
  return { status, body: { status: 'error', message } };
}

/** Sluice's error body, from a SluiceError (or its code). */
export function sluiceErrorReply(err: SluiceError, extra: Record<string, unknown> = {}): Reply {
  return { status: err.status, body: { error: err.message, code: err.code, ...extra } };
}

export function errorCodeOf(err: unknown): ErrorCode | undefined {
  return err instanceof SluiceError ? err.code : undefined;
}

export { hasCode };
