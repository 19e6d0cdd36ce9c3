import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { tokenAuth } from './token.js';
import { createMemoryLookup } from './memory-lookup.js';
import { sha256Hex } from './credentials.js';
import type { AuthRequest, CredentialSources, KeyLookup } from './types.js';

const NOW = 1_800_000_000_000;

function req(parts: { headers?: Record<string, string>; query?: string; cookies?: Record<string, string> } = {}): AuthRequest {
  return {
    method: 'GET',
    path: '/feed',
    headers: parts.headers ?? {},
    query: new URLSearchParams(parts.query ?? ''),
    ...(parts.cookies ? { cookies: parts.cookies } : {}),
  };
}

const lookup = createMemoryLookup({
  keys: {
    'key-alice': { alias: 'alice' },
    'key-old': { alias: 'old', expires: NOW / 1000 - 10 },
    'key-later': { alias: 'later', expires: NOW / 1000 + 3600 },
    'key-off': { alias: 'off', is_inactive: true },
  },
});

describe('auth token (Tyk apiKey scheme)', () => {
  const cases: Array<{ name: string; sources?: CredentialSources; request: AuthRequest; status?: number; message?: string; alias?: string }> = [
    { name: 'raw key in Authorization', request: req({ headers: { authorization: 'key-alice' } }), alias: 'alice' },
    { name: 'Bearer prefix is dropped', request: req({ headers: { authorization: 'Bearer key-alice' } }), alias: 'alice' },
    { name: 'bearer prefix in any case', request: req({ headers: { Authorization: 'bEaReR key-alice' } }), alias: 'alice' },
    { name: 'no credential: 401', request: req(), status: 401, message: 'Authorization field missing' },
    { name: 'empty header: 401', request: req({ headers: { authorization: '' } }), status: 401, message: 'Authorization field missing' },
    { name: 'only "Bearer ": looked up as a key, 403 (as Tyk)', request: req({ headers: { authorization: 'Bearer ' } }), status: 403 },
    { name: 'unknown key: 403', request: req({ headers: { authorization: 'nope' } }), status: 403, message: 'Access to this API has been disallowed' },
    { name: 'wrong key (prefix of a real one): same 403', request: req({ headers: { authorization: 'key-alic' } }), status: 403, message: 'Access to this API has been disallowed' },
    { name: 'expired key: 401', request: req({ headers: { authorization: 'key-old' } }), status: 401, message: 'Key has expired, please renew' },
    { name: 'key expiring later passes', request: req({ headers: { authorization: 'key-later' } }), alias: 'later' },
    { name: 'inactive key: 403', request: req({ headers: { authorization: 'key-off' } }), status: 403, message: 'Key is inactive, please renew' },
    { name: 'query source (EventSource)', sources: { header: 'Authorization', query: 'token' }, request: req({ query: 'token=key-alice' }), alias: 'alice' },
    { name: 'query not enabled: missing', request: req({ query: 'token=key-alice' }), status: 401, message: 'Authorization field missing' },
    { name: 'query names are case-sensitive', sources: { query: 'token' }, request: req({ query: 'Token=key-alice' }), status: 401 },
    { name: 'cookie source from Cookie header', sources: { cookie: 'sid' }, request: req({ headers: { cookie: 'a=1; sid=key-alice' } }), alias: 'alice' },
    { name: 'cookie source from parsed cookies', sources: { cookie: 'sid' }, request: req({ cookies: { sid: 'key-alice' } }), alias: 'alice' },
    { name: 'custom header, any case', sources: { header: 'X-Api-Key' }, request: req({ headers: { 'x-api-key': 'key-alice' } }), alias: 'alice' },
    { name: 'custom header only: Authorization ignored', sources: { header: 'X-Api-Key' }, request: req({ headers: { authorization: 'key-alice' } }), status: 401 },
    {
      name: 'query beats header (Tyk order)',
      sources: { header: 'Authorization', query: 'token' },
      request: req({ headers: { authorization: 'nope' }, query: 'token=key-alice' }),
      alias: 'alice',
    },
    {
      name: 'cookie beats query',
      sources: { header: 'Authorization', query: 'token', cookie: 'sid' },
      request: req({ query: 'token=nope', cookies: { sid: 'key-alice' } }),
      alias: 'alice',
    },
    {
      name: 'an empty query parameter does not hide the header',
      sources: { header: 'Authorization', query: 'token' },
      request: req({ headers: { authorization: 'key-alice' }, query: 'token=' }),
      alias: 'alice',
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const auth = tokenAuth({ lookup, sources: c.sources, now: () => NOW });
      const r = await auth(c.request);
      if (c.alias) {
        assert.ok(r.ok, JSON.stringify(r));
        assert.equal(r.identity.session.alias, c.alias);
      } else {
        assert.ok(!r.ok, 'expected a failure');
        if (c.status) assert.equal(r.failure.status, c.status);
        if (c.message) assert.equal(r.failure.message, c.message);
      }
    });
  }

  test('identity carries the key hash and the token for $tyk_context.token', async () => {
    const r = await tokenAuth({ lookup, now: () => NOW })(req({ headers: { authorization: 'Bearer key-alice' } }));
    assert.ok(r.ok);
    assert.equal(r.identity.keyHash, sha256Hex('key-alice'));
    assert.equal(r.identity.token, 'key-alice');
  });

  test('a failing store gives 500 without crashing and without logging the key', async () => {
    const logged: string[] = [];
    const broken: KeyLookup = {
      resolveKey: async () => {
        throw new Error('store down');
      },
      resolveBasic: async () => undefined,
      resolvePolicies: async () => undefined,
    };
    const auth = tokenAuth({ lookup: broken, logger: { warn: (m, f) => logged.push(m + JSON.stringify(f)), error: (m, f) => logged.push(m + JSON.stringify(f)) } });
    const r = await auth(req({ headers: { authorization: 'secret-key-value' } }));
    assert.ok(!r.ok);
    assert.equal(r.failure.status, 500);
    assert.equal(logged.length, 1);
    assert.ok(!logged[0]!.includes('secret-key-value'));
  });
});
