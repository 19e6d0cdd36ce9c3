import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { customAuth, resolvePluginPath } from './custom.js';
import { createMemoryLookup } from './memory-lookup.js';
import { virtualKeyHash } from './credentials.js';
import type { AuthRequest } from './types.js';

const PLUGIN = `
export async function authenticate(req, ctx) {
  if (ctx.credential === 'let-me-in') return { ok: true, identity: ctx.virtualIdentity('alice', { rate: 5, per: 1 }, { token: ctx.credential }) };
  if (req.query.get('user') === 'bob' && req.method === 'GET') return { ok: true, identity: ctx.virtualIdentity('bob', { alias: ctx.api.name }) };
  const id = ctx.credential ? await ctx.lookup.resolveKey(ctx.credential) : undefined;
  return id ? { ok: true, identity: id } : { ok: false, failure: { status: 403, message: 'Access to this API has been disallowed' } };
}
export function throws() { throw new Error('boom'); }
export function rejects() { return Promise.reject(new Error('async boom')); }
export function garbage() { return 42; }
export function badStatus() { return { ok: false, failure: { status: 200, message: 'fine?' } }; }
export function badIdentity() { return { ok: true, identity: { session: {} } }; }
export function slow() { return new Promise(() => {}); }
export function challenge() { return { ok: false, failure: { status: 401, message: 'who are you', headers: { 'WWW-Authenticate': 'Custom' } } }; }
export function expired(req, ctx) { return { ok: true, identity: ctx.virtualIdentity('x', { expires: 1 }) }; }
export const notAFunction = 1;
export default function (req, ctx) { return { ok: true, identity: ctx.virtualIdentity('default-export', {}) }; }
`;
const CJS = `module.exports = { authenticate: (req, ctx) => ({ ok: true, identity: ctx.virtualIdentity('from-cjs', {}) }) };`;

const req = (headers: Record<string, string> = {}, query = ''): AuthRequest => ({ method: 'GET', path: '/', headers, query: new URLSearchParams(query) });

describe('custom authentication plugins', () => {
  let dir = '';
  const lookup = createMemoryLookup({ keys: { 'key-1': { alias: 'stored' } } });
  const errors: string[] = [];
  const logger = { warn: () => {}, error: (m: string, f?: Record<string, unknown>) => errors.push(`${m} ${JSON.stringify(f)}`) };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-auth-plugin-'));
    writeFileSync(join(dir, 'plugin.mjs'), PLUGIN);
    writeFileSync(join(dir, 'plugin.cjs'), CJS);
    writeFileSync(join(dir, 'broken.mjs'), 'export function authenticate( {');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const make = (functionName: string, extra: { path?: string; timeoutMs?: number; sources?: { query?: string } } = {}) =>
    customAuth({
      path: extra.path ?? 'plugin.mjs',
      functionName,
      baseDir: dir,
      lookup,
      api: { id: 'orders', name: 'Orders' },
      logger,
      timeoutMs: extra.timeoutMs,
      sources: extra.sources,
      now: () => 1_800_000_000_000,
    });

  test('a plugin makes up an identity from the credential', async () => {
    const r = await make('authenticate')(req({ authorization: 'let-me-in' }));
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.identity.keyHash, virtualKeyHash('custom', 'alice'));
    assert.equal(r.identity.session.rate, 5);
    assert.equal(r.identity.token, 'let-me-in');
  });

  test('a plugin reads the request and the API', async () => {
    const r = await make('authenticate')(req({}, 'user=bob'));
    assert.ok(r.ok);
    assert.equal(r.identity.session.alias, 'Orders');
  });

  test('a plugin uses the key store', async () => {
    const r = await make('authenticate')(req({ authorization: 'key-1' }));
    assert.ok(r.ok);
    assert.equal(r.identity.session.alias, 'stored');
  });

  test('a plugin failure reaches the client as it is, headers included', async () => {
    const r = await make('authenticate')(req({ authorization: 'nope' }));
    assert.ok(!r.ok);
    assert.deepEqual(r.failure, { status: 403, message: 'Access to this API has been disallowed' });
    const c = await make('challenge')(req());
    assert.ok(!c.ok);
    assert.deepEqual(c.failure.headers, { 'WWW-Authenticate': 'Custom' });
  });

  test('credential sources apply to ctx.credential', async () => {
    const r = await make('authenticate', { sources: { query: 'k' } })(req({}, 'k=let-me-in'));
    assert.ok(r.ok);
  });

  test('an expired session from a plugin: 401', async () => {
    const r = await make('expired')(req());
    assert.ok(!r.ok);
    assert.equal(r.failure.message, 'Key has expired, please renew');
  });

  const broken: Array<[string, string, { path?: string; timeoutMs?: number }?]> = [
    ['a plugin that throws', 'throws'],
    ['a plugin whose promise rejects', 'rejects'],
    ['a plugin answering a number', 'garbage'],
    ['a plugin answering a 200 failure', 'badStatus'],
    ['a plugin answering an identity without keyHash', 'badIdentity'],
    ['a plugin that never answers (timeout)', 'slow', { timeoutMs: 50 }],
    ['a function name that is not a function', 'notAFunction'],
    ['a function name that does not exist', 'nope'],
    ['a module that does not exist', 'authenticate', { path: 'missing.mjs' }],
    ['a module with a syntax error', 'authenticate', { path: 'broken.mjs' }],
  ];
  for (const [name, fn, extra] of broken) {
    test(`${name}: 500, and the gateway goes on`, async () => {
      errors.length = 0;
      const auth = make(fn, extra);
      const r = await auth(req({ authorization: 'secret-credential' }));
      assert.ok(!r.ok);
      assert.deepEqual(r.failure, { status: 500, message: 'internal server error' });
      assert.equal(errors.length, 1);
      assert.ok(!errors[0]!.includes('secret-credential'), 'credentials are never logged');
      const again = await auth(req());
      assert.ok(!again.ok);
      assert.equal(again.failure.status, 500);
    });
  }

  test('CommonJS modules and default exports', async () => {
    const cjs = await make('authenticate', { path: 'plugin.cjs' })(req());
    assert.ok(cjs.ok);
    assert.equal(cjs.identity.keyHash, virtualKeyHash('custom', 'from-cjs'));
    const def = await make('default')(req());
    assert.ok(def.ok);
    assert.equal(def.identity.keyHash, virtualKeyHash('custom', 'default-export'));
  });

  test('path resolution: relative to baseDir, else the working directory; absolute paths and file: URLs as they are', () => {
    assert.equal(resolvePluginPath('plugins/a.mjs', '/defs/orders'), resolve('/defs/orders', 'plugins/a.mjs'));
    assert.equal(resolvePluginPath('a.mjs'), resolve(process.cwd(), 'a.mjs'));
    assert.equal(resolvePluginPath('/abs/a.mjs', '/defs'), '/abs/a.mjs');
    assert.equal(resolvePluginPath(pathToFileURL('/abs/b.mjs').href, '/defs'), '/abs/b.mjs');
  });
});
