import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { basicAuth } from './basic.js';
import { createMemoryLookup } from './memory-lookup.js';
import type { AuthRequest, KeyLookup } from './types.js';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const req = (authorization?: string): AuthRequest => ({
  method: 'GET',
  path: '/',
  headers: authorization === undefined ? {} : { authorization },
  query: new URLSearchParams(),
});

function setup() {
  let now = 1_800_000_000_000;
  const lookup = createMemoryLookup({
    basicUsers: {
      alice: { password: 'wonderland', session: { alias: 'alice' } },
      carol: { password: 'a:b:c', session: { alias: 'carol' } },
      old: { password: 'pw', session: { expires: 1_800_000_000 - 5 } },
    },
  });
  return { lookup, clock: { get: () => now, advance: (ms: number) => (now += ms) } };
}

describe('basic auth (Tyk basic scheme)', () => {
  const table: Array<{ name: string; header?: string; status?: number; message?: string; alias?: string; challenge?: boolean }> = [
    { name: 'valid user and password', header: 'Basic ' + b64('alice:wonderland'), alias: 'alice' },
    { name: 'scheme word in any case', header: 'basic ' + b64('alice:wonderland'), alias: 'alice' },
    { name: 'password containing colons (RFC 7617)', header: 'Basic ' + b64('carol:a:b:c'), alias: 'carol' },
    { name: 'no header: 401 and a challenge', status: 401, message: 'Authorization field missing', challenge: true },
    { name: 'unknown user: 401 User not authorised', header: 'Basic ' + b64('mallory:x'), status: 401, message: 'User not authorised', challenge: true },
    { name: 'wrong password: the same answer', header: 'Basic ' + b64('alice:nope'), status: 401, message: 'User not authorised', challenge: true },
    { name: 'no credentials after Basic: 400', header: 'Basic', status: 400, message: 'Attempted access with malformed header, header not in basic auth format' },
    { name: 'a bearer token: 400', header: 'Bearer abc', status: 400, message: 'Attempted access with malformed header, header not in basic auth format' },
    { name: 'not base64: 400', header: 'Basic !!!!', status: 400, message: 'Attempted access with malformed header, auth data not encoded correctly' },
    { name: 'no colon: 400', header: 'Basic ' + b64('alice'), status: 400, message: 'Attempted access with malformed header, values not in basic auth format' },
    { name: 'expired user key: 401', header: 'Basic ' + b64('old:pw'), status: 401, message: 'Key has expired, please renew' },
  ];
  for (const c of table) {
    test(c.name, async () => {
      const { lookup, clock } = setup();
      const r = await basicAuth({ lookup, realm: 'orders', now: clock.get })(req(c.header));
      if (c.alias) {
        assert.ok(r.ok, JSON.stringify(r));
        assert.equal(r.identity.session.alias, c.alias);
        return;
      }
      assert.ok(!r.ok);
      assert.equal(r.failure.status, c.status);
      assert.equal(r.failure.message, c.message);
      if (c.challenge) assert.deepEqual(r.failure.headers, { 'WWW-Authenticate': 'Basic realm="orders"' });
    });
  }

  test('a successful check is cached: the slow hash runs once', async () => {
    const { lookup, clock } = setup();
    const auth = basicAuth({ lookup, now: clock.get });
    for (let i = 0; i < 3; i++) assert.ok((await auth(req('Basic ' + b64('alice:wonderland')))).ok);
    assert.equal(lookup.calls.resolveBasic, 1);
    assert.equal(lookup.calls.resolveBasicUser, 2);
  });

  test('failed checks are not cached', async () => {
    const { lookup, clock } = setup();
    const auth = basicAuth({ lookup, now: clock.get });
    await auth(req('Basic ' + b64('alice:nope')));
    await auth(req('Basic ' + b64('alice:nope')));
    assert.equal(lookup.calls.resolveBasic, 2);
  });

  test('cacheTTL: the entry expires (default 60 s)', async () => {
    const { lookup, clock } = setup();
    const auth = basicAuth({ lookup, now: clock.get, cacheTTL: 5 });
    await auth(req('Basic ' + b64('alice:wonderland')));
    clock.advance(4_000);
    await auth(req('Basic ' + b64('alice:wonderland')));
    assert.equal(lookup.calls.resolveBasic, 1);
    clock.advance(2_000);
    await auth(req('Basic ' + b64('alice:wonderland')));
    assert.equal(lookup.calls.resolveBasic, 2);
  });

  test('disableCaching: every request asks the store', async () => {
    const { lookup, clock } = setup();
    const auth = basicAuth({ lookup, now: clock.get, disableCaching: true });
    await auth(req('Basic ' + b64('alice:wonderland')));
    await auth(req('Basic ' + b64('alice:wonderland')));
    assert.equal(lookup.calls.resolveBasic, 2);
  });

  test('a password change or deleted user is seen at once despite the cache', async () => {
    const { lookup, clock } = setup();
    const auth = basicAuth({ lookup, now: clock.get });
    assert.ok((await auth(req('Basic ' + b64('alice:wonderland')))).ok);
    lookup.setBasicUser('alice', 'new-password', { alias: 'alice' });
    const r = await auth(req('Basic ' + b64('alice:wonderland')));
    assert.ok(!r.ok);
    assert.equal(r.failure.message, 'User not authorised');
    assert.ok((await auth(req('Basic ' + b64('alice:new-password')))).ok);
    lookup.deleteBasicUser('alice');
    assert.ok(!(await auth(req('Basic ' + b64('alice:new-password')))).ok);
  });

  test('session edits apply on a cache hit', async () => {
    const { lookup, clock } = setup();
    const auth = basicAuth({ lookup, now: clock.get });
    await auth(req('Basic ' + b64('alice:wonderland')));
    lookup.setBasicUser('alice', 'wonderland', { alias: 'alice', is_inactive: true });
    const r = await auth(req('Basic ' + b64('alice:wonderland')));
    assert.ok(!r.ok);
    assert.equal(r.failure.status, 403);
  });

  test('concurrent requests with the same credentials share one slow check', async () => {
    const { clock } = setup();
    let calls = 0;
    const slow: KeyLookup = {
      resolveKey: async () => undefined,
      resolvePolicies: async () => undefined,
      resolveBasic: async (u, p) => {
        calls++;
        await new Promise((r) => setTimeout(r, 20));
        return u === 'bob' && p === 'pw' ? { keyHash: 'h', session: {} } : undefined;
      },
    };
    const auth = basicAuth({ lookup: slow, now: clock.get });
    const results = await Promise.all(Array.from({ length: 5 }, () => auth(req('Basic ' + b64('bob:pw')))));
    assert.ok(results.every((r) => r.ok));
    assert.equal(calls, 1);
  });

  test('without resolveBasicUser the cached identity is used until the TTL', async () => {
    const { clock } = setup();
    let calls = 0;
    const store: KeyLookup = {
      resolveKey: async () => undefined,
      resolvePolicies: async () => undefined,
      resolveBasic: async () => {
        calls++;
        return { keyHash: 'h', session: { alias: 'bob' } };
      },
    };
    const auth = basicAuth({ lookup: store, now: clock.get });
    await auth(req('Basic ' + b64('bob:pw')));
    const r = await auth(req('Basic ' + b64('bob:pw')));
    assert.ok(r.ok);
    assert.equal(calls, 1);
  });
});
