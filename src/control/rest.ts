/**
 * Sluice's own management REST API under /api/: APIs, keys, policies and stream status, with
 * proper status codes (201, 204, 404, 409) and errors as `{"error", "code"}`. Keys are named
 * by their hash only, so a key never travels in a URL. Described by src/control/openapi.ts.
 */
import type { AccessService } from '../access/service.js';
import type { Policy, Session } from '../access/types.js';
import { formatIssues, validatePolicy, validateSession } from '../access/validate.js';
import { isKeyHash } from '../access/hash.js';
import { SluiceError } from '../engine/errors.js';
import type { ApiCatalog, CatalogEntry } from './catalog.js';
import { InvalidDocument } from './catalog.js';
import { sluiceErrorReply, type Reply, type Route, type RouteContext } from './http.js';
import { keyView, redactSecrets } from './tyk.js';
import { openApiDocument } from './openapi.js';

export interface RestDeps {
  readonly access: AccessService;
  readonly catalog: ApiCatalog;
  readonly version: string;
}

async function rest(fn: () => Promise<Reply>): Promise<Reply> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof InvalidDocument) return sluiceErrorReply(err, { issues: err.issues.map((i) => ({ path: i.path, message: i.message })) });
    if (err instanceof SluiceError) return { ...sluiceErrorReply(err), headers: err.code === 'SLU_ERR_MESSAGE_TOO_LARGE' ? { Connection: 'close' } : undefined };
    throw err;
  }
}

const notFound = (what: string): Reply => sluiceErrorReply(new SluiceError('SLU_ERR_CONTROL_NOT_FOUND', [what]));

function invalid(what: string, issues: readonly { path: string; message: string }[]): Reply {
  return sluiceErrorReply(new SluiceError('SLU_ERR_CONTROL_BODY_INVALID', [what, formatIssues(issues)]), { issues });
}

function summary(catalog: ApiCatalog, e: CatalogEntry): Record<string, unknown> {
  const streams = catalog.streams(e.id);
  return {
    id: e.id,
    name: e.def.name,
    listen_path: e.def.listenPath,
    active: e.def.active,
    source: e.source,
    streams: e.def.streams.map((s) => ({ name: s.name, state: streams?.get(s.name)?.state ?? (e.def.active ? 'stopped' : 'inactive') })),
  };
}

export function restRoutes(d: RestDeps): Route[] {
  const { access, catalog } = d;

  type Body<T> = { readonly value: T; readonly error?: undefined } | { readonly value?: undefined; readonly error: Reply };
  const session = async (ctx: RouteContext): Promise<Body<Session>> => {
    const v = validateSession(await ctx.json());
    return v.ok ? { value: v.value } : { error: invalid('key', v.issues) };
  };
  const policy = async (ctx: RouteContext): Promise<Body<Policy>> => {
    const v = validatePolicy(await ctx.json());
    return v.ok ? { value: v.value } : { error: invalid('policy', v.issues) };
  };

  const hashParam = (ctx: RouteContext): string | Reply => {
    const h = ctx.params.keyHash!.toLowerCase();
    return isKeyHash(h) ? h : notFound(`key ${h.slice(0, 8)}…`);
  };

  return [
    {
      method: 'GET',
      path: '/api/openapi.json',
      open: true,
      summary: 'This API, described in OpenAPI 3',
      handle: async () => ({ status: 200, body: openApiDocument(d.version) }),
    },

    { method: 'GET', path: '/api/apis', summary: 'List APIs', handle: async () => ({ status: 200, body: { apis: catalog.list().map((e) => summary(catalog, e)) } }) },
    {
      method: 'POST',
      path: '/api/apis',
      summary: 'Create an API',
      handle: (ctx) =>
        rest(async () => {
          const e = await catalog.create(await ctx.json());
          return { status: 201, body: summary(catalog, e), headers: { Location: `/api/apis/${encodeURIComponent(e.id)}` } };
        }),
    },
    {
      method: 'GET',
      path: '/api/apis/{id}',
      summary: 'Get an API definition',
      handle: async (ctx) => {
        const e = catalog.get(ctx.params.id!);
        return e ? { status: 200, body: e.document } : notFound(`API ${ctx.params.id}`);
      },
    },
    {
      method: 'PUT',
      path: '/api/apis/{id}',
      summary: 'Replace an API definition',
      handle: (ctx) => rest(async () => ({ status: 200, body: summary(catalog, await catalog.update(ctx.params.id!, await ctx.json())) })),
    },
    {
      method: 'DELETE',
      path: '/api/apis/{id}',
      summary: 'Delete an API',
      handle: (ctx) => rest(async () => ((await catalog.remove(ctx.params.id!)) ? { status: 204 } : notFound(`API ${ctx.params.id}`))),
    },

    {
      method: 'GET',
      path: '/api/keys',
      summary: 'List keys (hashes and a few fields)',
      handle: (ctx) =>
        rest(async () => {
          const all = await access.listKeysDetailed();
          return {
            status: 200,
            body: {
              keys: all
                .filter((k) => !ctx.query.get('policy') || (k.session.apply_policies ?? []).includes(ctx.query.get('policy')!))
                .map((k) => ({
                  key_hash: k.keyHash,
                  alias: k.session.alias ?? '',
                  apply_policies: k.session.apply_policies ?? [],
                  apis: Object.keys(k.session.access_rights ?? {}),
                  expires: k.session.expires ?? 0,
                  is_inactive: k.session.is_inactive === true,
                  tags: k.session.tags ?? [],
                })),
            },
          };
        }),
    },
    {
      method: 'POST',
      path: '/api/keys',
      summary: 'Create a key (the key is shown once)',
      handle: (ctx) =>
        rest(async () => {
          const s = await session(ctx);
          if (s.error) return s.error;
          const custom = ctx.query.get('key_id');
          const r = await access.createKey(s.value, custom ? { customKeyId: custom } : {});
          return { status: 201, body: { key: r.key, key_hash: r.keyHash }, headers: { Location: `/api/keys/${r.keyHash}` } };
        }),
    },
    {
      method: 'GET',
      path: '/api/keys/{keyHash}',
      summary: 'Get a key',
      handle: (ctx) =>
        rest(async () => {
          const h = hashParam(ctx);
          if (typeof h !== 'string') return h;
          const k = await access.getKey(h);
          if (!k) return notFound(`key ${h.slice(0, 8)}…`);
          const stored: Session = structuredClone(k.stored);
          redactSecrets(stored);
          return { status: 200, body: { key_hash: h, session: stored, effective: (await keyView(access, h)) ?? null, policy_error: k.policyError ?? null } };
        }),
    },
    {
      method: 'PUT',
      path: '/api/keys/{keyHash}',
      summary: 'Replace a key session',
      handle: (ctx) =>
        rest(async () => {
          const h = hashParam(ctx);
          if (typeof h !== 'string') return h;
          const s = await session(ctx);
          if (s.error) return s.error;
          if (!(await access.updateKey(h, s.value, { suppressReset: ctx.query.get('suppress_reset') === '1' }))) return notFound(`key ${h.slice(0, 8)}…`);
          return { status: 200, body: { key_hash: h } };
        }),
    },
    {
      method: 'DELETE',
      path: '/api/keys/{keyHash}',
      summary: 'Revoke a key',
      handle: (ctx) =>
        rest(async () => {
          const h = hashParam(ctx);
          if (typeof h !== 'string') return h;
          return (await access.deleteKey(h)) ? { status: 204 } : notFound(`key ${h.slice(0, 8)}…`);
        }),
    },

    { method: 'GET', path: '/api/policies', summary: 'List policies', handle: async () => ({ status: 200, body: { policies: access.policies().sort((a, b) => a.id.localeCompare(b.id)) } }) },
    {
      method: 'POST',
      path: '/api/policies',
      summary: 'Create a policy',
      handle: (ctx) =>
        rest(async () => {
          const b = await policy(ctx);
          if (b.error) return b.error;
          const p = b.value;
          if (!p.id) return invalid('policy', [{ path: 'id', message: 'is required' }]);
          if (access.getPolicy(p.id)) throw new SluiceError('SLU_ERR_CONTROL_EXISTS', [`policy ${p.id}`]);
          await access.putPolicy(p);
          return { status: 201, body: access.getPolicy(p.id), headers: { Location: `/api/policies/${encodeURIComponent(p.id)}` } };
        }),
    },
    {
      method: 'GET',
      path: '/api/policies/{id}',
      summary: 'Get a policy',
      handle: async (ctx) => {
        const p = access.getPolicy(ctx.params.id!);
        return p ? { status: 200, body: p } : notFound(`policy ${ctx.params.id}`);
      },
    },
    {
      method: 'PUT',
      path: '/api/policies/{id}',
      summary: 'Replace a policy',
      handle: (ctx) =>
        rest(async () => {
          const b = await policy(ctx);
          if (b.error) return b.error;
          const p = b.value;
          const id = ctx.params.id!;
          if (p.id && p.id !== id) return invalid('policy', [{ path: 'id', message: `is ${JSON.stringify(p.id)} but the URL names ${JSON.stringify(id)}` }]);
          if (!access.getPolicy(id)) return notFound(`policy ${id}`);
          await access.putPolicy({ ...p, id });
          return { status: 200, body: access.getPolicy(id) };
        }),
    },
    {
      method: 'DELETE',
      path: '/api/policies/{id}',
      summary: 'Delete a policy',
      handle: (ctx) => rest(async () => ((await access.deletePolicy(ctx.params.id!)) ? { status: 204 } : notFound(`policy ${ctx.params.id}`))),
    },

    {
      method: 'GET',
      path: '/api/streams',
      summary: 'State of every stream',
      handle: async () => ({
        status: 200,
        body: { streams: catalog.list().flatMap((e) => (summary(catalog, e).streams as { name: string; state: string }[]).map((s) => ({ api: e.id, stream: s.name, state: s.state }))) },
      }),
    },
    {
      method: 'GET',
      path: '/api/streams/{apiId}',
      summary: "State of one API's streams",
      handle: async (ctx) => {
        const e = catalog.get(ctx.params.apiId!);
        if (!e) return notFound(`API ${ctx.params.apiId}`);
        const s = summary(catalog, e);
        return { status: 200, body: { api: e.id, active: e.def.active, streams: s.streams } };
      },
    },
  ];
}
