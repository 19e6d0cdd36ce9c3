/**
 * Runs API definitions: for each active API, a host mounted at its listen path and one Stream
 * per `x-tyk-streaming` stream, built from the registry. Loading an API again replaces it;
 * unloading stops its streams (draining them) and closes its connections. One API's failure
 * never touches another's.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, basename, extname } from 'node:path';
import type { ApiDefinition } from '../config/load.js';
import { loadApiDefinition } from '../config/load.js';
import { formatIssue } from '../config/source.js';
import { buildStream } from '../engine/build.js';
import type { Registry } from '../engine/registry.js';
import type { BloblangEnvironment } from '../engine/bloblang-api.js';
import type { Logger } from '../engine/logger.js';
import type { Stream } from '../engine/stream.js';
import type { Gateway, Guard } from './server.js';
import type { GatewayAccess } from './guard.js';
import { apiRateLimitOf } from '../config/api-rate-limit.js';
import type { CloseReason } from './egress/subscriber.js';
import type { AccessEvent } from '../access/types.js';
import { planApiAuthentication } from '../access/auth/index.js';
import { identityOf } from './identity.js';
import type { ApiHost } from './host.js';
import { TemplatedStream } from './templated.js';
import { isTemplated, renderTykVars, streamRoutes, streamTopics, type RequestIdentity } from './tyk-vars.js';

function requestIdentity(req: IncomingMessage): RequestIdentity | undefined {
  const id = identityOf(req);
  if (!id) return undefined;
  return { ...(id.token ? { token: id.token } : {}), ...(id.claims ? { claims: id.claims } : {}), meta: id.session.meta_data ?? {} };
}
import { parseDuration } from '../engine/backoff.js';
import { Validator } from '../config/validate.js';
import { validateStream } from '../config/stream-spec.js';
import type { IncomingMessage } from 'node:http';
import type { StreamConfig } from '../engine/build.js';

interface ApiRuntime {
  readonly def: ApiDefinition;
  readonly host: ApiHost;
  readonly streams: Map<string, Stream>;
  readonly templated: Map<string, TemplatedStream>;
  readonly unmount: () => void;
}

/**
 * Sluice's own settings in an API document, under `x-sluice` (kept apart from Tyk's strict
 * schemas): `stream_idle_timeout` (templated stream instances, default 60s) and
 * `max_connections` (subscribers across the API's outputs, default no limit).
 */
function sluiceSettings(def: ApiDefinition): { idleMs: number; maxConnections: number } {
  const x = def.document['x-sluice'] as { stream_idle_timeout?: unknown; max_connections?: unknown } | undefined;
  const idle = typeof x?.stream_idle_timeout === 'string' ? parseDuration(x.stream_idle_timeout) : undefined;
  return { idleMs: idle ?? 60_000, maxConnections: typeof x?.max_connections === 'number' ? x.max_connections : 0 };
}

export interface ApiManagerOptions {
  readonly gateway: Gateway;
  readonly registry: Registry;
  readonly bloblang: BloblangEnvironment;
  readonly logger: Logger;
  /** Builds an API's guard (authentication, access rights, limits); none = keyless. */
  readonly guardFor?: (def: ApiDefinition) => Guard | undefined;
  /** Access control: per-message limits and revocation of open connections. */
  readonly access?: GatewayAccess;
}

interface TopicRule {
  readonly action: 'subscribe' | 'publish';
  readonly topics: readonly string[];
}

/** Paths of a stream and the topics a request on each reaches: publish paths → output topics, subscribe paths → input topics. */
export function topicRulesOf(raw: unknown): Map<string, TopicRule> {
  const rules = new Map<string, TopicRule>();
  const { ingress, egress } = streamRoutes(raw);
  const { subscribe, publish } = streamTopics(raw);
  if (publish.length) for (const p of ingress) rules.set(p, { action: 'publish', topics: publish });
  if (subscribe.length) for (const p of egress) rules.set(p, { action: 'subscribe', topics: subscribe });
  return rules;
}

const TOPIC_DENIED = '{"error":"Access to this topic has been disallowed"}';

const KEY_CLOSE: Record<'deleted' | 'deactivated' | 'expired', [CloseReason, string]> = {
  deleted: ['forbidden', 'Key has been revoked'],
  deactivated: ['forbidden', 'Key is inactive, please renew'],
  expired: ['expired', 'Key has expired, please renew'],
};

export class ApiManager {
  readonly #opts: ApiManagerOptions;
  readonly #apis = new Map<string, ApiRuntime>();

  #access: GatewayAccess | undefined;
  #guardFor: ((def: ApiDefinition) => Guard | undefined) | undefined;
  readonly #guards = new Map<string, Guard | undefined>();
  /** Per API, per path: the topics a request there subscribes to or publishes on (topic rights). */
  readonly #topicRules = new Map<string, Map<string, TopicRule>>();

  constructor(opts: ApiManagerOptions) {
    this.#opts = opts;
    if (opts.access || opts.guardFor) this.configureAccess({ ...(opts.access ? { access: opts.access } : {}), ...(opts.guardFor ? { guardFor: opts.guardFor } : {}) });
    opts.gateway.addHealthCheck(() => {
      const out: Record<string, { status: 'pass' | 'warn' | 'fail'; [k: string]: unknown }> = {};
      for (const [id, rt] of this.#apis) {
        for (const [name, s] of rt.streams) {
          out[`${id}/${name}`] = { status: s.state === 'running' ? 'pass' : s.state === 'stopped' ? 'fail' : 'warn', componentType: 'stream', state: s.state };
        }
      }
      return out;
    });
  }

  get(id: string): ApiDefinition | undefined {
    return this.#apis.get(id)?.def;
  }

  list(): ApiDefinition[] {
    return [...this.#apis.values()].map((r) => r.def);
  }

  /** The HTTP host of an API (its routes and subscribers). */
  host(id: string): ApiHost | undefined {
    return this.#apis.get(id)?.host;
  }

  streams(id: string): ReadonlyMap<string, Stream> | undefined {
    return this.#apis.get(id)?.streams;
  }

  /**
   * Access control arrives when the control plane is ready (the embedded store may take seconds
   * on a first start). APIs already served pick it up at once; until then an API that requires
   * authentication answers 503 — it is never served open.
   */
  configureAccess(o: { access?: GatewayAccess; guardFor?: (def: ApiDefinition) => Guard | undefined }): void {
    if (o.access && o.access !== this.#access) {
      this.#access = o.access;
      o.access.onChange((e) => void this.#onAccessEvent(e));
      for (const rt of this.#apis.values()) rt.host.useAccess(rt.def.id, o.access);
    }
    if (o.guardFor) {
      this.#guardFor = o.guardFor;
      this.#guards.clear();
    }
  }

  /** The API's guard: undefined for keyless APIs without an API-wide limit (no work on their request path). */
  #guard(def: ApiDefinition): Guard | undefined {
    const { plan, issues } = planApiAuthentication(def.document);
    if (issues.length) throw new Error(`authentication settings: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
    if (!plan?.enabled && !apiRateLimitOf(def.document)) return undefined;
    return (req, rel) => {
      let g = this.#guards.get(def.id);
      if (g === undefined && this.#guardFor) {
        g = this.#guardFor(def);
        this.#guards.set(def.id, g);
      }
      if (!g) return Promise.resolve({ ok: false, status: 503, body: '{"error":"access control is starting, try again shortly"}', headers: { 'Retry-After': '2' } });
      const rule = this.#topicRules.get(def.id)?.get(rel);
      if (!rule) return g(req, rel);
      return g(req, rel).then((out) =>
        out.ok && !this.topicsAllowed(req, def.id, rule.action, rule.topics) ? { ok: false as const, status: 403, body: TOPIC_DENIED } : out,
      );
    };
  }

  /** Topic rights of the request's key (true when it has none, or no access control is on). */
  topicsAllowed(req: IncomingMessage, apiId: string, action: 'subscribe' | 'publish', topics: readonly string[]): boolean {
    const access = this.#access;
    const identity = identityOf(req);
    if (!access || !identity?.keyHash) return true;
    return topics.every((t) => access.topicAllowed(identity, apiId, action, t));
  }

  /**
   * A key changed somewhere in the cluster: its open connections close within a second when it
   * was deleted, deactivated or expired, or when its new session no longer grants the API;
   * otherwise they continue under the new limits.
   */
  async #onAccessEvent(e: AccessEvent): Promise<void> {
    if (e.kind !== 'key') return;
    const client = `key:${e.keyHash}`;
    const match = (c: string) => c === client;
    if (e.action !== 'updated') {
      const [reason, message] = KEY_CLOSE[e.action];
      for (const rt of this.#apis.values()) rt.host.closeSubscribers(match, reason, message);
      return;
    }
    const access = this.#access!;
    const identity = await access.resolveHash(e.keyHash).catch(() => undefined);
    for (const rt of this.#apis.values()) {
      if (!identity) {
        rt.host.closeSubscribers(match, 'forbidden', 'Key has been revoked');
        continue;
      }
      const check = access.checkRequest(identity, rt.def.id, 'GET', rt.def.listenPath);
      if (!check.ok) rt.host.closeSubscribers(match, check.status === 401 ? 'expired' : 'forbidden', check.message);
      else rt.host.refreshIdentity(identity);
    }
  }

  /** One line per served path: URL and what serves it. */
  describeRoutes(id: string, base: string): string[] {
    const rt = this.#apis.get(id);
    if (!rt) return [];
    const prefix = rt.def.listenPath === '/' ? '' : rt.def.listenPath;
    const lines: string[] = [];
    for (const p of rt.host.routes.paths()) {
      const r = rt.host.routes.get(p)!;
      if (r.http) lines.push(`${base}${prefix}${p}  ${r.http.owner.replace(/^.*\((.*)\)$/, '$1')}`);
      if (r.ws) lines.push(`${base.replace(/^http/, 'ws')}${prefix}${p}  ${r.ws.owner.replace(/^.*\((.*)\)$/, '$1')} (WebSocket)`);
    }
    return lines;
  }

  /** Starts (or replaces) an API. Inactive APIs are unloaded and not served. */
  async load(def: ApiDefinition): Promise<void> {
    await this.unload(def.id);
    if (!def.active) {
      this.#opts.logger.info('API is inactive, not served', { api: def.id });
      return;
    }
    const { gateway, registry, bloblang, logger } = this.#opts;
    const guard = this.#guard(def);
    this.#guards.delete(def.id);
    const host = gateway.createHost(def.name || def.id);
    host.maxConnections = sluiceSettings(def).maxConnections;
    if (this.#access) host.useAccess(def.id, this.#access);
    const streams = new Map<string, Stream>();
    const templated = new Map<string, TemplatedStream>();
    const rules = new Map<string, TopicRule>();
    this.#topicRules.set(def.id, rules);
    try {
      for (const s of def.streams) {
        const log = logger.with({ api: def.id, stream: s.name });
        if (isTemplated(s.raw)) {
          // Rendered per request: instances start on first use, stop when idle.
          const t = new TemplatedStream({
            apiId: def.id, name: s.name, raw: renderTykVars(s.raw), host, gateway, registry, bloblang, logger: log,
            idleMs: sluiceSettings(def).idleMs, identityOf: requestIdentity,
            // Topics chosen by the request (e.g. `$tyk_context.request_data_topic`) are checked once rendered.
            topicsAllowed: (req, rel, rendered) => {
              const rule = topicRulesOf(rendered).get(rel);
              return !rule || this.topicsAllowed(req, def.id, rule.action, rule.topics);
            },
          });
          t.register();
          templated.set(s.name, t);
          continue;
        }
        for (const [p, rule] of topicRulesOf(renderTykVars(s.raw))) rules.set(p, rule);
        const config = this.#withSecrets(s.raw, s.config, s.name);
        const stream = await buildStream(config, { registry, bloblang, logger: log, http: host, stream: `${def.id}_${s.name}` });
        streams.set(s.name, stream);
      }
    } catch (err) {
      await Promise.allSettled([...streams.values()].map((s) => s.stop(1000)));
      await Promise.allSettled([...templated.values()].map((t) => t.stop(1000)));
      throw err;
    }
    const unmount = gateway.mount(def.id, def.listenPath, host, guard);
    this.#apis.set(def.id, { def, host, streams, templated, unmount });
    for (const [name, stream] of streams) {
      void stream.start().then(
        () => logger.info('stream ended', { api: def.id, stream: name }),
        (err: unknown) => logger.error('stream failed', { api: def.id, stream: name, error: (err as Error).message }),
      );
    }
    logger.info('API loaded', { api: def.id, listen_path: def.listenPath, streams: [...streams.keys(), ...templated.keys()].join(',') });
  }

  /** `$secret_env.*` is resolved once at load; the config is validated again only if it changed. */
  #withSecrets(raw: unknown, config: StreamConfig, name: string): StreamConfig {
    const rendered = renderTykVars(raw);
    if (JSON.stringify(rendered) === JSON.stringify(raw)) return config;
    const v = new Validator({ registry: this.#opts.registry });
    const c = validateStream(v, rendered, `x-tyk-streaming.streams.${name}`);
    if (v.issues.length) throw new Error(v.issues.map((i) => `${i.path}: ${i.message}`).join('; '));
    return c;
  }

  /** Templated streams of an API (per-request instances). */
  templated(id: string): ReadonlyMap<string, TemplatedStream> | undefined {
    return this.#apis.get(id)?.templated;
  }

  async unload(id: string, timeoutMs?: number): Promise<boolean> {
    const rt = this.#apis.get(id);
    if (!rt) return false;
    this.#apis.delete(id);
    this.#topicRules.delete(id);
    rt.unmount();
    await Promise.allSettled([...rt.streams.values()].map((s) => s.stop(timeoutMs)));
    await Promise.allSettled([...rt.templated.values()].map((t) => t.stop(timeoutMs)));
    return true;
  }

  async stopAll(timeoutMs?: number): Promise<void> {
    await Promise.allSettled([...this.#apis.keys()].map((id) => this.unload(id, timeoutMs)));
  }

  /** Loads every *.json / *.yaml / *.yml definition of a folder; invalid ones are reported and skipped. */
  async loadDir(dir: string): Promise<{ loaded: string[]; failed: string[] }> {
    const loaded: string[] = [];
    const failed: string[] = [];
    const files = (await readdir(dir)).filter((f) => ['.json', '.yaml', '.yml'].includes(extname(f))).sort();
    for (const f of files) {
      const file = join(dir, f);
      const { api, issues } = loadApiDefinition(await readFile(file, 'utf8'), {
        registry: this.#opts.registry,
        bloblang: this.#opts.bloblang,
        fallbackId: basename(f, extname(f)),
      });
      if (!api) {
        for (const i of issues) this.#opts.logger.error(formatIssue(i, f));
        failed.push(f);
        continue;
      }
      try {
        await this.load(api);
        loaded.push(api.id);
      } catch (err) {
        this.#opts.logger.error('API could not be started', { file: f, error: (err as Error).message });
        failed.push(f);
      }
    }
    return { loaded, failed };
  }
}
