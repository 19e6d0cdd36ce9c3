/**
 * Custom authentication plugins, Tyk's `authentication.custom` (`config.path` +
 * `config.functionName`): a JavaScript module (ESM, or CommonJS through Node's interop) loaded
 * with dynamic import on first use. Its function gets the request and a context and answers
 * like any authenticator:
 *
 *   export async function authenticate(req, ctx) {
 *     if (ctx.credential === 'let-me-in') return { ok: true, identity: ctx.virtualIdentity('alice', { rate: 10, per: 1 }) };
 *     const id = await ctx.lookup.resolveKey(ctx.credential);
 *     return id ? { ok: true, identity: id } : { ok: false, failure: { status: 403, message: 'Access to this API has been disallowed' } };
 *   }
 *
 * The module path is resolved against the folder of the API definition (`baseDir`) when known,
 * else against the working directory; absolute paths and `file:` URLs are taken as they are.
 * A plugin that throws, times out, cannot be loaded or answers something else than
 * `{ok: true, identity}` / `{ok: false, failure}` gets the client a 500 "internal server
 * error"; the gateway goes on.
 */
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readCredential, virtualKeyHash } from './credentials.js';
import { MSG_INTERNAL, checkSession, failure } from './failures.js';
import type { AuthFailure, Identity, Session } from '../types.js';
import type { AuthRequest, AuthResult, Authenticator, AuthRuntime, CredentialSources, KeyLookup } from './types.js';

export interface CustomAuthContext {
  readonly api: { readonly id: string; readonly name: string };
  readonly lookup: KeyLookup;
  /** The credential from the configured sources (the `Authorization` header by default); '' when none was sent. */
  readonly credential: string;
  /** An identity for a session the plugin made up rather than looked up. */
  virtualIdentity(id: string, session: Session, extra?: { readonly claims?: Readonly<Record<string, unknown>>; readonly token?: string }): Identity;
}

export type CustomAuthFunction = (req: AuthRequest, ctx: CustomAuthContext) => AuthResult | Promise<AuthResult>;

export interface CustomAuthOptions extends AuthRuntime {
  /** Module path (Tyk's `config.path`). */
  readonly path: string;
  /** Exported function name (Tyk's `config.functionName`); `default` for the default export. */
  readonly functionName: string;
  /** Folder relative paths are resolved against; the working directory when absent. */
  readonly baseDir?: string;
  readonly lookup: KeyLookup;
  readonly api?: { readonly id: string; readonly name: string };
  readonly sources?: CredentialSources;
  /** Longest a plugin call may take (default 5 s). */
  readonly timeoutMs?: number;
}

/** Where a plugin module is loaded from. */
export function resolvePluginPath(path: string, baseDir?: string): string {
  if (path.startsWith('file:')) return fileURLToPath(path);
  if (isAbsolute(path)) return path;
  return resolve(baseDir ?? process.cwd(), path);
}

export function customAuth(options: CustomAuthOptions): Authenticator {
  const now = options.now ?? Date.now;
  const file = resolvePluginPath(options.path, options.baseDir);
  const api = options.api ?? { id: '', name: '' };
  let loaded: Promise<CustomAuthFunction> | undefined;
  let loadErrorLogged = false;

  const load = (): Promise<CustomAuthFunction> => {
    loaded ??= (async () => {
      const mod: unknown = await import(pathToFileURL(file).href);
      const fn = pick(mod, options.functionName) ?? pick(pick(mod, 'default'), options.functionName);
      if (typeof fn !== 'function') throw new Error(`${options.functionName} is not a function exported by the plugin`);
      return fn as CustomAuthFunction;
    })();
    return loaded;
  };

  const internal = (msg: string, err: unknown): AuthResult => {
    options.logger?.error(msg, { plugin: file, function: options.functionName, error: err instanceof Error ? err.message : String(err) });
    return failure(500, MSG_INTERNAL);
  };

  return async (req) => {
    let fn: CustomAuthFunction;
    try {
      fn = await load();
    } catch (err) {
      if (loadErrorLogged) return failure(500, MSG_INTERNAL);
      loadErrorLogged = true;
      return internal('could not load the custom authentication plugin', err);
    }
    const ctx: CustomAuthContext = {
      api,
      lookup: options.lookup,
      credential: readCredential(req, options.sources),
      virtualIdentity: (id, session, extra) => ({ keyHash: virtualKeyHash('custom', id), session, ...extra }),
    };
    let answer: unknown;
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeoutMs = options.timeoutMs ?? 5_000;
      answer = await Promise.race([
        Promise.resolve().then(() => fn(req, ctx)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (err) {
      return internal('the custom authentication plugin failed', err);
    } finally {
      if (timer) clearTimeout(timer);
    }
    const result = asAuthResult(answer);
    if (!result) return internal('the custom authentication plugin gave an answer of the wrong shape', 'expected {ok: true, identity} or {ok: false, failure}');
    return result.ok ? checkSession(result.identity, now()) : result;
  };
}

function pick(v: unknown, name: string): unknown {
  return (typeof v === 'object' || typeof v === 'function') && v !== null ? (v as Record<string, unknown>)[name] : undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function asAuthResult(v: unknown): AuthResult | undefined {
  if (!isRecord(v)) return undefined;
  if (v.ok === true) {
    const id = v.identity;
    if (!isRecord(id) || typeof id.keyHash !== 'string' || !isRecord(id.session)) return undefined;
    if (id.claims !== undefined && !isRecord(id.claims)) return undefined;
    if (id.token !== undefined && typeof id.token !== 'string') return undefined;
    const identity: Identity = {
      keyHash: id.keyHash,
      session: id.session as Session,
      ...(id.claims !== undefined ? { claims: id.claims } : {}),
      ...(id.token !== undefined ? { token: id.token as string } : {}),
    };
    return { ok: true, identity };
  }
  if (v.ok === false) {
    const f = v.failure;
    if (!isRecord(f) || !Number.isInteger(f.status) || (f.status as number) < 400 || (f.status as number) > 599 || typeof f.message !== 'string') return undefined;
    if (f.headers !== undefined && (!isRecord(f.headers) || Object.values(f.headers).some((h) => typeof h !== 'string'))) return undefined;
    const out: AuthFailure = {
      status: f.status as number,
      message: f.message,
      ...(f.headers !== undefined ? { headers: f.headers as Record<string, string> } : {}),
    };
    return { ok: false, failure: out };
  }
  return undefined;
}
