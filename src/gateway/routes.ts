/**
 * The routes of one API (or of the standalone service): exact paths relative to the listen
 * path, as Tyk matches stream paths. Each path may have a plain HTTP handler and a WebSocket
 * handler; registering a path twice is an error naming both owners.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { sluiceError } from '../engine/errors.js';

export type HttpHandler = (req: IncomingMessage, res: ServerResponse, path: string) => void;
export type UpgradeHandler = (req: IncomingMessage, socket: Socket, head: Buffer, path: string) => void;

export interface Route {
  http?: { readonly owner: string; readonly handler: HttpHandler };
  ws?: { readonly owner: string; readonly handler: UpgradeHandler };
}

export function normaliseRoutePath(p: string): string {
  let s = p.trim();
  if (!s.startsWith('/')) s = '/' + s;
  return s;
}

export class RouteTable {
  readonly #routes = new Map<string, Route>();

  addHttp(path: string, owner: string, handler: HttpHandler): () => void {
    return this.#add(path, 'http', owner, handler);
  }

  addWs(path: string, owner: string, handler: UpgradeHandler): () => void {
    return this.#add(path, 'ws', owner, handler);
  }

  #add(path: string, kind: 'http' | 'ws', owner: string, handler: HttpHandler | UpgradeHandler): () => void {
    const p = normaliseRoutePath(path);
    let r = this.#routes.get(p);
    if (!r) this.#routes.set(p, (r = {}));
    const existing = r[kind];
    if (existing) throw sluiceError('SLU_ERR_ROUTE_CONFLICT', p, existing.owner);
    if (kind === 'http') r.http = { owner, handler: handler as HttpHandler };
    else r.ws = { owner, handler: handler as UpgradeHandler };
    return () => {
      const cur = this.#routes.get(p);
      if (!cur || cur[kind]?.handler !== handler) return;
      delete cur[kind];
      if (!cur.http && !cur.ws) this.#routes.delete(p);
    };
  }

  get(path: string): Route | undefined {
    return this.#routes.get(path);
  }

  paths(): string[] {
    return [...this.#routes.keys()].sort();
  }
}
