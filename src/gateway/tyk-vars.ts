/**
 * Tyk's variable substitution in stream configs: `$tyk_context.<name>`, `$tyk_meta.<field>` and
 * `$secret_env.<VAR>` inside any string of a stream config. Context variables are rendered per
 * request, so a config that uses them runs one instance per distinct rendered config (Tyk's
 * per-client fan-out recipe, e.g. `consumer_group: $tyk_context.request_id`). As in Tyk, values
 * are query-escaped and an unknown variable renders as the empty string.
 */
import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';

const VAR = /\$(tyk_context|tyk_meta|secret_env|secret_conf)\.([A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)*)/g;
const PER_REQUEST = /\$(tyk_context|tyk_meta)\./;

export interface TykContext {
  /** `$tyk_context.*` values by name (request_id, path, headers_X, ...). */
  readonly context: Readonly<Record<string, string>>;
  /** `$tyk_meta.*`: the session's meta_data. */
  readonly meta: Readonly<Record<string, unknown>>;
}

/** True when a stream config needs per-request rendering. */
export function isTemplated(raw: unknown): boolean {
  return PER_REQUEST.test(JSON.stringify(raw) ?? '');
}

function escape(v: string): string {
  return encodeURIComponent(v).replace(/%20/g, '+');
}

/** Renders every string in `raw`. Without a context only `$secret_env` is resolved. */
export function renderTykVars(raw: unknown, ctx?: TykContext, env: NodeJS.ProcessEnv = process.env): unknown {
  const renderString = (s: string): string =>
    s.includes('$')
      ? s.replace(VAR, (whole, kind: string, name: string) => {
          switch (kind) {
            case 'secret_env':
              return env[name] ?? '';
            case 'secret_conf':
              return '';
            case 'tyk_context':
              return ctx ? escape(ctx.context[name] ?? '') : whole;
            default: {
              if (!ctx) return whole;
              const v = ctx.meta[name];
              return v === undefined || v === null ? '' : escape(typeof v === 'string' ? v : JSON.stringify(v));
            }
          }
        })
      : s;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return renderString(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x);
      return out;
    }
    return v;
  };
  return walk(raw);
}

export interface RequestIdentity {
  readonly token?: string;
  readonly claims?: Readonly<Record<string, unknown>>;
  readonly meta?: Readonly<Record<string, unknown>>;
}

/** Tyk's context variables of a request (`headers_X_Y` for header `X-Y`, `request_data_<param>`, ...). */
export function requestContext(req: IncomingMessage, path: string, identity?: RequestIdentity): TykContext {
  const c: Record<string, string> = {
    request_id: randomUUID(),
    path,
    path_parts: path.split('/').filter(Boolean).join(','),
    remote_addr: req.socket.remoteAddress ?? '',
  };
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  if (q >= 0) {
    const params = new URLSearchParams(url.slice(q + 1));
    const all: string[] = [];
    for (const [k, v] of params) {
      c[`request_data_${k}`] = v;
      all.push(`${k}=${v}`);
    }
    c.request_data = all.join('&');
  }
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    const name = k.replace(/(^|-)([a-z])/g, (_, d: string, ch: string) => d + ch.toUpperCase()).replace(/-/g, '_');
    c[`headers_${name}`] = Array.isArray(v) ? v.join(',') : v;
  }
  const cookie = req.headers.cookie;
  if (cookie) {
    for (const part of cookie.split(';')) {
      const i = part.indexOf('=');
      if (i > 0) c[`cookies_${part.slice(0, i).trim()}`] = part.slice(i + 1).trim();
    }
  }
  if (identity?.token) c.token = identity.token;
  for (const [k, v] of Object.entries(identity?.claims ?? {})) c[`jwt_claims_${k}`] = typeof v === 'string' ? v : JSON.stringify(v);
  return { context: c, meta: identity?.meta ?? {} };
}

const DEFAULT_PATHS: Record<string, Record<string, string>> = {
  input: { path: '/post', ws_path: '/post/ws' },
  output: { path: '/get', stream_path: '/get/stream', ws_path: '/get/ws' },
};

/**
 * Every HTTP path an (unrendered) stream config serves, as Tyk collects them: each `http_server`
 * in input, output or a broker, with Bento's defaults for keys that are not set. `ingress` paths
 * publish into the stream (its input), `egress` paths subscribe to it (its output).
 */
export function streamRoutes(raw: unknown): { ingress: string[]; egress: string[]; http: string[]; ws: string[] } {
  const http = new Set<string>();
  const ws = new Set<string>();
  const ingress = new Set<string>();
  const egress = new Set<string>();
  const visit = (node: unknown, kind: 'input' | 'output') => {
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    const hs = n.http_server as Record<string, unknown> | undefined;
    if (hs && typeof hs === 'object') {
      const d = DEFAULT_PATHS[kind]!;
      for (const key of Object.keys(d)) {
        const v = typeof hs[key] === 'string' ? (hs[key] as string) : d[key]!;
        if (!v) continue;
        const p = v.startsWith('/') ? v : `/${v}`;
        (key === 'ws_path' ? ws : http).add(p);
        (kind === 'input' ? ingress : egress).add(p);
      }
    }
    const broker = n.broker as Record<string, unknown> | undefined;
    for (const child of [...((broker?.inputs as unknown[]) ?? []), ...((broker?.outputs as unknown[]) ?? [])]) visit(child, kind);
    const sw = n.switch as Record<string, unknown> | undefined;
    for (const c of (sw?.cases as { output?: unknown }[] | undefined) ?? []) visit(c.output, kind);
    for (const o of (n.fallback as unknown[] | undefined) ?? []) visit(o, kind);
  };
  const r = (raw ?? {}) as Record<string, unknown>;
  visit(r.input, 'input');
  visit(r.output, 'output');
  return { ingress: [...ingress], egress: [...egress], http: [...http], ws: [...ws] };
}

export function streamPaths(raw: unknown): { http: string[]; ws: string[] } {
  const { http, ws } = streamRoutes(raw);
  return { http, ws };
}

// Where each connector names its topic/subject/channel/queue (inputs subscribe, outputs publish).
const INPUT_TOPIC_FIELDS: Record<string, string> = {
  kafka: 'topics', kafka_franz: 'topics', mqtt: 'topics', nats: 'subject', nats_jetstream: 'subject',
  redis_pubsub: 'channels', redis_streams: 'streams', redis_list: 'key', amqp_0_9: 'queue', amqp_1: 'source_address',
};
const OUTPUT_TOPIC_FIELDS: Record<string, string> = {
  kafka: 'topic', kafka_franz: 'topic', mqtt: 'topic', nats: 'subject', nats_jetstream: 'subject',
  redis_pubsub: 'channel', redis_streams: 'stream', redis_list: 'key', amqp_0_9: 'exchange', amqp_1: 'target_address',
};

/**
 * The topics a (rendered) stream subscribes to through its input and publishes to through its
 * output, for topic rights. Values chosen per message (`${! ... }`) are left out: they cannot be
 * known before the message.
 */
export function streamTopics(raw: unknown): { subscribe: string[]; publish: string[] } {
  const collect = (node: unknown, fields: Record<string, string>, out: Set<string>) => {
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    for (const [type, f] of Object.entries(fields)) {
      const conf = n[type] as Record<string, unknown> | undefined;
      const v = conf?.[f];
      for (const t of Array.isArray(v) ? v : [v]) {
        if (typeof t === 'string' && t && !t.includes('${!')) for (const one of t.split(',')) out.add(one.trim().replace(/:\d.*$/, ''));
      }
    }
    const broker = n.broker as Record<string, unknown> | undefined;
    for (const child of [...((broker?.inputs as unknown[]) ?? []), ...((broker?.outputs as unknown[]) ?? [])]) collect(child, fields, out);
    const sw = n.switch as Record<string, unknown> | undefined;
    for (const c of (sw?.cases as { output?: unknown }[] | undefined) ?? []) collect(c.output, fields, out);
    for (const o of (n.fallback as unknown[] | undefined) ?? []) collect(o, fields, out);
  };
  const r = (raw ?? {}) as Record<string, unknown>;
  const subscribe = new Set<string>();
  const publish = new Set<string>();
  collect(r.input, INPUT_TOPIC_FIELDS, subscribe);
  collect(r.output, OUTPUT_TOPIC_FIELDS, publish);
  return { subscribe: [...subscribe], publish: [...publish] };
}
