/**
 * Loading the two config formats:
 *  (a) a Benthos/Bento stream config, run standalone by `sluice run -c`;
 *  (b) a Tyk OAS API definition whose `x-tyk-streaming.streams.<name>` each hold one (a).
 * Both return every issue found (path + line), never just the first.
 */
import type { StreamConfig } from '../engine/build.js';
import type { Registry } from '../engine/registry.js';
import type { BloblangEnvironment } from '../engine/bloblang-api.js';
import { readConfig, type Issue } from './source.js';
import { Validator } from './validate.js';
import { validateStream } from './stream-spec.js';
import { apiRateLimitIssues } from './api-rate-limit.js';

export interface LoadOptions {
  readonly registry: Registry;
  readonly bloblang?: BloblangEnvironment;
  readonly env?: NodeJS.ProcessEnv;
}

export interface StreamLoad {
  readonly config: StreamConfig | undefined;
  readonly issues: Issue[];
}

export function loadStreamConfig(text: string, opts: LoadOptions): StreamLoad {
  const src = readConfig(text, opts.env);
  if (src.value === undefined) return { config: undefined, issues: src.issues };
  const v = new Validator({ registry: opts.registry, locate: src.locate, bloblang: opts.bloblang });
  if (typeof src.value !== 'object' || src.value === null || Array.isArray(src.value)) {
    v.issue('', 'expected a stream config object with input, pipeline and output');
    return { config: undefined, issues: [...src.issues, ...v.issues] };
  }
  const config = validateStream(v, src.value, '');
  const issues = [...src.issues, ...v.issues];
  return { config: issues.length ? undefined : config, issues };
}

export interface ApiStream {
  readonly name: string;
  readonly config: StreamConfig;
  /** The stream as written (before defaults), for per-request templating. */
  readonly raw: unknown;
}

export interface ApiDefinition {
  readonly id: string;
  readonly name: string;
  /** Normalised: leading '/', no trailing '/' (except the root '/'). */
  readonly listenPath: string;
  readonly active: boolean;
  readonly internal: boolean;
  readonly streams: readonly ApiStream[];
  /** The whole document, as loaded (after env interpolation). */
  readonly document: Record<string, unknown>;
}

export interface ApiLoad {
  readonly api: ApiDefinition | undefined;
  readonly issues: Issue[];
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined);

export function normaliseListenPath(p: string): string {
  let s = p.trim();
  if (!s.startsWith('/')) s = '/' + s;
  while (s.length > 1 && s.endsWith('/')) s = s.slice(0, -1);
  return s;
}

export function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'api';
}

/** Loads a Tyk OAS document (JSON or YAML) with `x-tyk-api-gateway` and `x-tyk-streaming`. */
export function loadApiDefinition(text: string, opts: LoadOptions & { readonly fallbackId?: string }): ApiLoad {
  const src = readConfig(text, opts.env);
  if (src.value === undefined) return { api: undefined, issues: src.issues };
  return validateApiDocument(src.value, { ...opts, locate: src.locate, preIssues: src.issues });
}

export function validateApiDocument(
  value: unknown,
  opts: LoadOptions & { readonly fallbackId?: string; readonly locate?: (p: string) => number | undefined; readonly preIssues?: Issue[] },
): ApiLoad {
  const v = new Validator({ registry: opts.registry, locate: opts.locate, bloblang: opts.bloblang });
  const doc = obj(value);
  if (!doc) {
    v.issue('', 'expected an OpenAPI document (an object)');
    return { api: undefined, issues: [...(opts.preIssues ?? []), ...v.issues] };
  }
  if (typeof doc.openapi !== 'string') v.issue('openapi', 'openapi is required (e.g. "3.0.3")');
  const gw = obj(doc['x-tyk-api-gateway']);
  const info = obj(gw?.info);
  const server = obj(gw?.server);
  if (!gw) v.issue('x-tyk-api-gateway', 'x-tyk-api-gateway is required');
  else {
    if (!info) v.issue('x-tyk-api-gateway.info', 'x-tyk-api-gateway: info is required');
    if (!server) v.issue('x-tyk-api-gateway.server', 'x-tyk-api-gateway: server is required');
  }
  const name = typeof info?.name === 'string' ? info.name : '';
  if (info && !/\S/.test(name)) v.issue('x-tyk-api-gateway.info.name', 'info.name is required');
  const lp = obj(server?.listenPath)?.value;
  if (server && (typeof lp !== 'string' || !/\S/.test(lp))) v.issue('x-tyk-api-gateway.server.listenPath.value', 'listenPath.value is required');
  for (const i of apiRateLimitIssues(doc)) v.issue(i.path, i.message);
  const state = obj(info?.state);
  const streaming = obj(doc['x-tyk-streaming']);
  const streamsObj = obj(streaming?.streams);
  if (!streaming) v.issue('x-tyk-streaming', 'x-tyk-streaming is required for a stream API');
  else if (!streamsObj) v.issue('x-tyk-streaming.streams', 'x-tyk-streaming: streams is required');
  const streams: ApiStream[] = [];
  for (const [sname, raw] of Object.entries(streamsObj ?? {})) {
    const config = validateStream(v, raw, `x-tyk-streaming.streams.${sname}`);
    streams.push({ name: sname, config, raw });
  }
  const issues = [...(opts.preIssues ?? []), ...v.issues];
  if (issues.length) return { api: undefined, issues };
  const id = typeof info!.id === 'string' && info!.id ? info!.id : opts.fallbackId ?? slug(name);
  return {
    api: {
      id,
      name,
      listenPath: normaliseListenPath(lp as string),
      active: state?.active !== false,
      internal: state?.internal === true,
      streams,
      document: doc,
    },
    issues,
  };
}
