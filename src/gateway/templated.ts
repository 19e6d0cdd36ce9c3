/**
 * A stream whose config uses `$tyk_context.*` / `$tyk_meta.*`: its paths are served at once, but
 * instances are created on the first request that renders a config not running yet (one instance
 * per distinct rendered config, as Tyk does), and stopped after `idleMs` without a request or
 * open connection (Tyk collects them once a minute; here the idle time is configurable).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createHash } from 'node:crypto';
import type { Registry } from '../engine/registry.js';
import type { BloblangEnvironment } from '../engine/bloblang-api.js';
import type { Logger } from '../engine/logger.js';
import type { Stream } from '../engine/stream.js';
import { buildStream } from '../engine/build.js';
import { Validator } from '../config/validate.js';
import { validateStream } from '../config/stream-spec.js';
import { formatIssue } from '../config/source.js';
import type { ApiHost } from './host.js';
import type { Gateway } from './server.js';
import { renderTykVars, requestContext, streamPaths, type RequestIdentity } from './tyk-vars.js';
import { rejectUpgrade, sendError } from './respond.js';

export interface TemplatedStreamOptions {
  readonly apiId: string;
  readonly name: string;
  readonly raw: unknown;
  readonly host: ApiHost;
  readonly gateway: Gateway;
  readonly registry: Registry;
  readonly bloblang: BloblangEnvironment;
  readonly logger: Logger;
  readonly idleMs: number;
  /** The authenticated identity of a request, when the API has authentication. */
  readonly identityOf?: (req: IncomingMessage) => RequestIdentity | undefined;
  /** Topic rights for the topics the rendered config reaches on path `rel`. */
  readonly topicsAllowed?: (req: IncomingMessage, rel: string, rendered: unknown) => boolean;
}

interface Instance {
  readonly key: string;
  readonly stream: Stream;
  readonly host: ApiHost;
  readonly ready: Promise<void>;
  active: number;
  idle: NodeJS.Timeout | undefined;
}

class TopicDenied extends Error {
  constructor() {
    super('Access to this topic has been disallowed');
  }
}

export class TemplatedStream {
  readonly #o: TemplatedStreamOptions;
  readonly #instances = new Map<string, Instance>();
  readonly #starting = new Map<string, Promise<Instance>>();
  #unregister: (() => void)[] = [];
  #stopped = false;

  constructor(o: TemplatedStreamOptions) {
    this.#o = o;
  }

  get instanceCount(): number {
    return this.#instances.size;
  }

  /** Registers the stream's paths on the API host. */
  register(): void {
    const { http, ws } = streamPaths(this.#o.raw);
    const owner = `${this.#o.apiId}/${this.#o.name} (templated stream)`;
    for (const p of http) this.#unregister.push(this.#o.host.routes.addHttp(p, owner, (req, res, rel) => void this.#http(req, res, rel)));
    for (const p of ws) this.#unregister.push(this.#o.host.routes.addWs(p, owner, (req, socket, head, rel) => void this.#ws(req, socket, head, rel)));
  }

  async #http(req: IncomingMessage, res: ServerResponse, rel: string): Promise<void> {
    let inst: Instance;
    try {
      inst = await this.#instanceFor(req, rel);
    } catch (err) {
      if (err instanceof TopicDenied) return sendError(res, 403, err.message);
      return sendError(res, 503, `stream unavailable: ${(err as Error).message}`);
    }
    this.#acquire(inst);
    res.on('close', () => this.#release(inst));
    const route = inst.host.routes.get(rel);
    if (!route?.http) return sendError(res, 404, 'not found');
    route.http.handler(req, res, rel);
  }

  async #ws(req: IncomingMessage, socket: Socket, head: Buffer, rel: string): Promise<void> {
    let inst: Instance;
    try {
      inst = await this.#instanceFor(req, rel);
    } catch (err) {
      if (err instanceof TopicDenied) return rejectUpgrade(socket, 403, err.message);
      return rejectUpgrade(socket, 503, `stream unavailable: ${(err as Error).message}`);
    }
    this.#acquire(inst);
    socket.on('close', () => this.#release(inst));
    const route = inst.host.routes.get(rel);
    if (!route?.ws) return rejectUpgrade(socket, 404, 'not found');
    route.ws.handler(req, socket, head, rel);
  }

  #acquire(inst: Instance): void {
    inst.active++;
    if (inst.idle) {
      clearTimeout(inst.idle);
      inst.idle = undefined;
    }
  }

  #release(inst: Instance): void {
    if (--inst.active > 0 || this.#stopped) return;
    inst.idle = setTimeout(() => void this.#stopInstance(inst), this.#o.idleMs);
    inst.idle.unref();
  }

  async #stopInstance(inst: Instance): Promise<void> {
    if (this.#instances.get(inst.key) !== inst || inst.active > 0) return;
    this.#instances.delete(inst.key);
    this.#o.logger.debug('stopping idle stream instance', { instances: this.#instances.size });
    await inst.stream.stop(5000);
  }

  async #instanceFor(req: IncomingMessage, rel: string): Promise<Instance> {
    if (this.#stopped) throw new Error('stream stopped');
    const ctx = requestContext(req, rel, this.#o.identityOf?.(req));
    const rendered = renderTykVars(this.#o.raw, ctx);
    if (this.#o.topicsAllowed && !this.#o.topicsAllowed(req, rel, rendered)) throw new TopicDenied();
    const key = createHash('sha256').update(JSON.stringify(rendered)).digest('hex');
    const existing = this.#instances.get(key);
    if (existing) {
      await existing.ready;
      return existing;
    }
    let starting = this.#starting.get(key);
    if (!starting) {
      starting = this.#start(key, rendered).finally(() => this.#starting.delete(key));
      this.#starting.set(key, starting);
    }
    return starting;
  }

  async #start(key: string, rendered: unknown): Promise<Instance> {
    const { registry, bloblang, gateway, logger } = this.#o;
    const v = new Validator({ registry });
    const conf = validateStream(v, rendered, `x-tyk-streaming.streams.${this.#o.name}`);
    if (v.issues.length) throw new Error(v.issues.map((i) => formatIssue(i)).join('; '));
    const host = gateway.createHost(`${this.#o.apiId}/${this.#o.name}`);
    const stream = await buildStream(conf, { registry, bloblang, logger, http: host, stream: `${this.#o.apiId}_${this.#o.name}_${key.slice(0, 8)}` });
    void stream.start();
    const ready = waitRunning(stream, 10_000);
    const inst: Instance = { key, stream, host, ready, active: 0, idle: undefined };
    try {
      await ready;
    } catch (err) {
      await stream.stop(1000);
      throw err;
    }
    this.#instances.set(key, inst);
    logger.debug('stream instance started', { instances: this.#instances.size });
    return inst;
  }

  async stop(timeoutMs?: number): Promise<void> {
    this.#stopped = true;
    for (const u of this.#unregister) u();
    this.#unregister = [];
    const all = [...this.#instances.values()];
    this.#instances.clear();
    for (const i of all) clearTimeout(i.idle);
    await Promise.allSettled(all.map((i) => i.stream.stop(timeoutMs)));
  }
}

async function waitRunning(s: Stream, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (s.state !== 'running') {
    if (s.state === 'stopped') throw new Error('stream stopped while starting');
    if (Date.now() > deadline) throw new Error('could not connect in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
