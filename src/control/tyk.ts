/**
 * Tyk Gateway API compatibility: `/tyk/apis`, `/tyk/apis/oas`, `/tyk/keys`, `/tyk/policies`,
 * `/tyk/reload`, with Tyk's request and response shapes, status codes and messages, so scripts
 * and tools written for Tyk work unchanged. Differences (all on purpose):
 *  - APIs are Tyk OAS documents everywhere; `/tyk/apis` answers with the OAS document too
 *    (Sluice has no classic API definitions) and changes apply at once, no reload needed.
 *  - Keys are always hashed (as `hash_keys: true`, sha256), so `key_hash` is always returned on
 *    create and `GET /tyk/keys` lists hashes.
 *  - A key needs access rights (Tyk's default `allow_master_keys: false`), answered 400 here.
 *  - Validation errors name the field (`invalid key: rate: expected a number`).
 */
import { randomBytes } from 'node:crypto';
import { keyHash } from '../access/hash.js';
import type { AccessService } from '../access/service.js';
import type { Policy, Session } from '../access/types.js';
import { formatIssues, validatePolicy, validateSession } from '../access/validate.js';
import { SluiceError } from '../engine/errors.js';
import type { ApiCatalog } from './catalog.js';
import { documentId } from './catalog.js';
import { tykError, type Reply, type Route, type RouteContext } from './http.js';

export interface ControlDeps {
  readonly access: AccessService;
  readonly catalog: ApiCatalog;
}

const ok = (key: string, action: 'added' | 'modified' | 'deleted' | 'updated', extra: Record<string, unknown> = {}): Reply => ({
  status: 200,
  body: { key, status: 'ok', action, ...extra },
});

/** Runs `fn`, turning Sluice errors into Tyk's error bodies. */
async function tyk(fn: () => Promise<Reply>): Promise<Reply> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SluiceError) {
      const status = err.code === 'SLU_ERR_ACCESS_POLICY' ? 400 : err.status;
      return { ...tykError(status, err.message), headers: err.code === 'SLU_ERR_MESSAGE_TOO_LARGE' ? { Connection: 'close' } : undefined };
    }
    throw err;
  }
}

async function sessionBody(ctx: RouteContext): Promise<Session> {
  const v = validateSession(await ctx.json());
  if (!v.ok) throw new SluiceError('SLU_ERR_CONTROL_BODY_INVALID', ['key', formatIssues(v.issues)]);
  return v.value;
}

async function policyBody(ctx: RouteContext): Promise<Policy> {
  const v = validatePolicy(await ctx.json());
  if (!v.ok) throw new SluiceError('SLU_ERR_CONTROL_BODY_INVALID', ['policy', formatIssues(v.issues)]);
  return v.value;
}

const truthy = (v: string | null): boolean => v !== null && v !== '' && v !== 'false' && v !== '0';

/** The stored hash a `{keyID}` names: the key itself, or its hash with `?hashed=true`. */
export function hashOf(keyID: string, query: URLSearchParams): string {
  return truthy(query.get('hashed')) ? keyID.toLowerCase() : keyHash(keyID);
}

/** What `GET /tyk/keys/{key}` shows: the effective session, live quota, no password. */
export async function keyView(access: AccessService, hash: string): Promise<Session | undefined> {
  const k = await access.getKey(hash);
  if (!k) return undefined;
  const view: Session = structuredClone(k.effective ?? k.stored) as Session;
  const q = await access.quotaStatus(hash, view);
  if (q) Object.assign(view, q);
  return redactSecrets(view);
}

/**
 * Blanks what a key's session holds in a usable form and must not be read back: the basic-auth
 * password (a hash) and the HMAC shared secret (`hmac_string`, kept as given so that signatures
 * can be verified). Changes and returns the session.
 */
export function redactSecrets(view: Session): Session {
  if (view.basic_auth_data) view.basic_auth_data = { ...view.basic_auth_data, password: '' };
  if (typeof view.hmac_string === 'string' && view.hmac_string) view.hmac_string = '';
  return view;
}

export function tykRoutes(d: ControlDeps): Route[] {
  const { access, catalog } = d;

  const listApis = (publicMode: boolean): Reply => ({
    status: 200,
    body: catalog.list().map((e) => {
      if (!publicMode) return e.document;
      const { ['x-tyk-api-gateway']: _drop, ...rest } = e.document;
      return rest;
    }),
  });

  const getApi = (id: string, publicMode: boolean): Reply => {
    const e = catalog.get(id);
    if (!e) return tykError(404, 'API not found');
    if (!publicMode) return { status: 200, body: e.document };
    const { ['x-tyk-api-gateway']: _drop, ...rest } = e.document;
    return { status: 200, body: rest };
  };

  const createApi = (ctx: RouteContext) =>
    tyk(async () => {
      const body = await ctx.json();
      if (typeof body !== 'object' || body === null || !('x-tyk-api-gateway' in body)) {
        return tykError(400, 'the payload should contain x-tyk-api-gateway (Sluice serves Tyk OAS API definitions)');
      }
      const id = documentId(body);
      if (id && catalog.get(id)) return tykError(409, 'an API with the same ID already exists');
      const e = await catalog.create(body);
      return ok(e.id, 'added');
    });

  const updateApi = (ctx: RouteContext) =>
    tyk(async () => {
      const id = ctx.params.apiID!;
      if (!catalog.get(id)) return tykError(404, 'API not found');
      const body = await ctx.json();
      const given = documentId(body);
      if (given !== undefined && given !== id) return tykError(400, 'Request APIID does not match that in Definition! For Update operations these must match.');
      await catalog.update(id, body);
      return ok(id, 'modified');
    });

  const patchApi = (ctx: RouteContext) =>
    tyk(async () => {
      const id = ctx.params.apiID!;
      const cur = catalog.get(id);
      if (!cur) return tykError(404, 'API not found');
      const body = await ctx.json();
      if (typeof body !== 'object' || body === null || Array.isArray(body)) return tykError(400, 'Request malformed');
      // PATCH sends the plain OpenAPI part; the Tyk extensions are kept unless given.
      const merged: Record<string, unknown> = { ...(body as Record<string, unknown>) };
      for (const ext of ['x-tyk-api-gateway', 'x-tyk-streaming']) if (!(ext in merged) && ext in cur.document) merged[ext] = cur.document[ext];
      await catalog.update(id, merged);
      return ok(id, 'modified');
    });

  const deleteApi = (ctx: RouteContext) =>
    tyk(async () => {
      const id = ctx.params.apiID!;
      if (!(await catalog.remove(id))) return tykError(404, 'API not found');
      return ok(id, 'deleted');
    });

  const createKey = (ctx: RouteContext, custom?: string) =>
    tyk(async () => {
      const session = await sessionBody(ctx);
      const r = await access.createKey(session, custom === undefined ? {} : { customKeyId: custom });
      return ok(r.key, 'added', { key_hash: r.keyHash });
    });

  const apiRoutes = (base: string): Route[] => [
    { method: 'GET', path: base, summary: 'List APIs', handle: async (ctx) => listApis(ctx.query.get('mode') === 'public') },
    { method: 'POST', path: base, summary: 'Create an API', handle: createApi },
    { method: 'GET', path: `${base}/{apiID}`, summary: 'Get an API', handle: async (ctx) => getApi(ctx.params.apiID!, ctx.query.get('mode') === 'public') },
    { method: 'PUT', path: `${base}/{apiID}`, summary: 'Update an API', handle: updateApi },
    { method: 'DELETE', path: `${base}/{apiID}`, summary: 'Delete an API', handle: deleteApi },
  ];

  return [
    ...apiRoutes('/tyk/apis/oas'),
    { method: 'PATCH', path: '/tyk/apis/oas/{apiID}', summary: 'Update the OpenAPI part of an API', handle: patchApi },
    ...apiRoutes('/tyk/apis'),

    { method: 'GET', path: '/tyk/keys', summary: 'List keys (hashes)', handle: async () => ({ status: 200, body: { keys: await access.listKeyHashes() } }) },
    { method: 'POST', path: '/tyk/keys', summary: 'Create a key', handle: (ctx) => createKey(ctx) },
    { method: 'POST', path: '/tyk/keys/create', summary: 'Create a key', handle: (ctx) => createKey(ctx) },
    {
      method: 'POST',
      path: '/tyk/keys/policy/{keyID}',
      summary: "Set a key's policies (by hash)",
      handle: (ctx) =>
        tyk(async () => {
          const body = await ctx.json();
          const b = (typeof body === 'object' && body !== null ? body : {}) as { policy?: unknown; apply_policies?: unknown };
          const ids: string[] = [];
          if (Array.isArray(b.apply_policies)) for (const x of b.apply_policies) if (typeof x === 'string') ids.push(x);
          if (typeof b.policy === 'string' && b.policy) ids.push(b.policy);
          if ((b.apply_policies !== undefined && !Array.isArray(b.apply_policies)) || (b.policy !== undefined && typeof b.policy !== 'string')) {
            return tykError(400, "Couldn't decode instruction");
          }
          const hash = ctx.params.keyID!.toLowerCase();
          if (!(await access.setKeyPolicies(hash, ids))) return tykError(404, 'Key not found');
          return ok(hash, 'updated');
        }),
    },
    {
      method: 'GET',
      path: '/tyk/keys/{keyID}',
      summary: 'Get a key',
      handle: (ctx) =>
        tyk(async () => {
          const view = await keyView(access, hashOf(ctx.params.keyID!, ctx.query));
          return view ? { status: 200, body: view } : tykError(404, 'Key not found');
        }),
    },
    { method: 'POST', path: '/tyk/keys/{keyID}', summary: 'Create a custom key / import a key', handle: (ctx) => createKey(ctx, ctx.params.keyID!) },
    {
      method: 'PUT',
      path: '/tyk/keys/{keyID}',
      summary: 'Update a key',
      handle: (ctx) =>
        tyk(async () => {
          const session = await sessionBody(ctx);
          const hashed = truthy(ctx.query.get('hashed'));
          const hash = hashOf(ctx.params.keyID!, ctx.query);
          if (!(await access.updateKey(hash, session, { suppressReset: ctx.query.get('suppress_reset') === '1' }))) return tykError(404, 'Key is not found');
          return ok(hashed ? hash : ctx.params.keyID!, 'modified');
        }),
    },
    {
      method: 'DELETE',
      path: '/tyk/keys/{keyID}',
      summary: 'Delete a key',
      handle: (ctx) =>
        tyk(async () => {
          const hashed = truthy(ctx.query.get('hashed'));
          const hash = hashOf(ctx.params.keyID!, ctx.query);
          if (!(await access.deleteKey(hash))) return tykError(404, 'There is no such key found');
          return ok(hashed ? hash : ctx.params.keyID!, 'deleted');
        }),
    },

    { method: 'GET', path: '/tyk/policies', summary: 'List policies', handle: async () => ({ status: 200, body: access.policies() }) },
    {
      method: 'POST',
      path: '/tyk/policies',
      summary: 'Create a policy',
      handle: (ctx) =>
        tyk(async () => {
          const p = await policyBody(ctx);
          const withId = { ...p, id: p.id || randomId() };
          await access.putPolicy(withId);
          return ok(withId.id, 'added');
        }),
    },
    {
      method: 'GET',
      path: '/tyk/policies/{polID}',
      summary: 'Get a policy',
      handle: async (ctx) => {
        const p = access.getPolicy(ctx.params.polID!);
        return p ? { status: 200, body: p } : tykError(404, 'Policy not found');
      },
    },
    {
      method: 'PUT',
      path: '/tyk/policies/{polID}',
      summary: 'Update a policy',
      handle: (ctx) =>
        tyk(async () => {
          const p = await policyBody(ctx);
          const id = ctx.params.polID!;
          if (p.id && p.id !== id) return tykError(400, 'Request ID does not match that in policy! For Update operations these must match.');
          await access.putPolicy({ ...p, id });
          return ok(id, 'modified');
        }),
    },
    {
      method: 'DELETE',
      path: '/tyk/policies/{polID}',
      summary: 'Delete a policy',
      handle: (ctx) =>
        tyk(async () => {
          const id = ctx.params.polID!;
          if (!(await access.deletePolicy(id))) return tykError(404, 'Policy not found');
          return ok(id, 'deleted');
        }),
    },

    { method: 'GET', path: '/tyk/reload', summary: 'Reload this gateway', handle: () => reload(d, false) },
    { method: 'GET', path: '/tyk/reload/group', summary: 'Reload every gateway', handle: () => reload(d, true) },
  ];
}

async function reload(d: ControlDeps, group: boolean): Promise<Reply> {
  await Promise.all([d.access.reload(), d.catalog.resync()]);
  if (group) await d.access.announceReload();
  return { status: 200, body: { status: 'ok', message: '' } };
}

function randomId(): string {
  return randomBytes(12).toString('hex');
}
