import { describe, test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { AccessService, MESSAGES } from './service.js';
import { MemoryStore } from '../store/memory.js';
import { MemoryState } from '../state/memory.js';
import { MemoryBus } from '../state/bus.js';
import { silentLogger } from '../engine/logger.js';
import { hasCode } from '../engine/errors.js';
import { keyHash } from './hash.js';
import type { AccessEvent, Identity, Session } from './types.js';
import type { KeyLookup } from './auth/types.js';

let store: MemoryStore;
let state: MemoryState;
let bus: MemoryBus;
let svc: AccessService;
let clockMs: number;
let slept: number[];

function make(extra: Partial<ConstructorParameters<typeof AccessService>[0]> = {}): AccessService {
  return new AccessService({ store, state, bus, logger: silentLogger, now: () => clockMs, sleep: async (ms) => void slept.push(ms), ...extra });
}

beforeEach(async () => {
  store = new MemoryStore();
  state = new MemoryState();
  bus = new MemoryBus();
  clockMs = Date.now();
  slept = [];
  svc = make();
  await svc.start();
});

afterEach(async () => {
  await svc.close();
  await state.close();
});

const api = (id: string, extra: Partial<NonNullable<Session['access_rights']>[string]> = {}) => ({ [id]: { api_id: id, ...extra } });

async function identity(session: Session): Promise<{ key: string; id: Identity }> {
  const { key } = await svc.createKey(session);
  const id = await svc.resolveKey(key);
  assert.ok(id);
  return { key, id };
}

describe('keys', () => {
  test('a created key is returned once with its hash, and stored only by hash', async () => {
    const { key, keyHash: h } = await svc.createKey({ access_rights: api('orders'), alias: 'k1' });
    assert.match(key, /^[0-9a-f]{32}$/);
    assert.equal(h, keyHash(key));
    assert.deepEqual(await store.listKeyHashes(), [h]);
    const stored = await store.getKey(h);
    assert.ok(!JSON.stringify(stored).includes(key));
    assert.equal(stored?.alias, 'k1');
    assert.ok(stored?.date_created);
    const id = await svc.resolveKey(key);
    assert.equal(id?.keyHash, h);
    assert.equal(id?.token, key);
    assert.equal(await svc.resolveKey(key + 'x'), undefined);
    assert.equal(await svc.resolveKey(''), undefined);
  });

  test('custom key ids are org_id + id, as Tyk', async () => {
    const { key } = await svc.createKey({ org_id: 'org1', access_rights: api('a') }, { customKeyId: 'my-key' });
    assert.equal(key, 'org1my-key');
    assert.ok(await svc.resolveKey('org1my-key'));
  });

  test('a key whose policies cannot apply is refused with SLU_ERR_ACCESS_POLICY', async () => {
    await assert.rejects(svc.createKey({ apply_policies: ['missing'] }), (e: unknown) => hasCode(e, 'SLU_ERR_ACCESS_POLICY'));
    await assert.rejects(svc.createKey({}), (e: unknown) => hasCode(e, 'SLU_ERR_ACCESS_POLICY'));
  });

  test('key_expires_in of a policy sets expires on new keys', async () => {
    await svc.putPolicy({ id: 'trial', key_expires_in: 3600, access_rights: api('a') });
    const { keyHash: h } = await svc.createKey({ apply_policies: ['trial'] });
    assert.equal((await store.getKey(h))?.expires, Math.floor(clockMs / 1000) + 3600);
  });

  test('basic-auth users: password stored as scrypt, checked, and never usable as a bearer key', async () => {
    const r = await svc.createKey({ org_id: 'o', basic_auth_data: { password: 's3cret!', hash_type: '' }, access_rights: api('a') }, { customKeyId: 'alice' });
    assert.equal(r.key, '');
    assert.equal(r.keyHash, keyHash('oalice'));
    const stored = await store.getKey(r.keyHash);
    assert.equal(stored?.basic_auth_data?.hash_type, 'scrypt');
    assert.ok(!JSON.stringify(stored).includes('s3cret!'));
    assert.ok(await svc.resolveBasic('alice', 's3cret!', 'o'));
    assert.ok(await svc.resolveBasic('alice', 's3cret!', 'o'), 'cached verification');
    assert.equal(await svc.resolveBasic('alice', 'wrong', 'o'), undefined);
    assert.equal(await svc.resolveKey('oalice'), undefined);
    // Sending back what GET shows (password blanked) keeps the hash.
    await svc.updateKey(r.keyHash, { ...stored!, basic_auth_data: { password: '', hash_type: '' } });
    assert.ok(await svc.resolveBasic('alice', 's3cret!', 'o'));
  });
});

describe('as the authenticators\' KeyLookup', () => {
  test('satisfies the interface; resolvePolicies applies policies to an empty key', async () => {
    const lookup: KeyLookup = svc;
    await svc.putPolicy({ id: 'gold', rate: 10, per: 1, access_rights: api('a') });
    await svc.putPolicy({ id: 'off', is_inactive: true, access_rights: api('a') });
    const s = await lookup.resolvePolicies(['gold']);
    assert.equal(s?.rate, 10);
    assert.deepEqual(s?.apply_policies, ['gold']);
    assert.deepEqual(Object.keys(s?.access_rights ?? {}), ['a']);
    assert.equal(await lookup.resolvePolicies(['gold', 'missing']), undefined);
    assert.equal(await lookup.resolvePolicies(['off']), undefined);
    await svc.createKey({ basic_auth_data: { password: 'pw', hash_type: '' }, access_rights: api('a') }, { customKeyId: 'bob' });
    assert.ok(await lookup.resolveBasicUser!('bob'));
    assert.ok(await lookup.resolveBasic('bob', 'pw'));
  });
});

describe('checkRequest', () => {
  test('access rights: another API is disallowed (403, Tyk message)', async () => {
    const { id } = await identity({ access_rights: api('orders') });
    assert.deepEqual(svc.checkRequest(id, 'orders', 'GET', '/orders/x'), { ok: true });
    assert.deepEqual(svc.checkRequest(id, 'billing', 'GET', '/billing'), { ok: false, status: 403, message: MESSAGES.disallowed });
  });

  test('expired: 401 "Key has expired, please renew"; expires < 1 never expires', async () => {
    const { id } = await identity({ expires: Math.floor(clockMs / 1000) + 10, access_rights: api('a') });
    assert.equal(svc.checkRequest(id, 'a', 'GET', '/').ok, true);
    clockMs += 11_000;
    assert.deepEqual(svc.checkRequest(id, 'a', 'GET', '/'), { ok: false, status: 401, message: 'Key has expired, please renew' });
    const { id: forever } = await identity({ expires: -1, access_rights: api('a') });
    assert.equal(svc.checkRequest(forever, 'a', 'GET', '/').ok, true);
  });

  test('inactive: 403', async () => {
    const { id } = await identity({ is_inactive: true, access_rights: api('a') });
    assert.deepEqual(svc.checkRequest(id, 'a', 'GET', '/'), { ok: false, status: 403, message: MESSAGES.inactive });
  });

  test('allowed_urls: Go regex against the path, methods', async () => {
    const { id } = await identity({ access_rights: api('a', { allowed_urls: [{ url: '^/a/events$', methods: ['GET'] }, { url: '/publish', methods: ['post'] }] }) });
    assert.equal(svc.checkRequest(id, 'a', 'GET', '/a/events').ok, true);
    assert.equal(svc.checkRequest(id, 'a', 'POST', '/a/publish/x').ok, true);
    assert.deepEqual(svc.checkRequest(id, 'a', 'POST', '/a/events'), { ok: false, status: 403, message: 'Access to this resource has been disallowed' });
    assert.equal(svc.checkRequest(id, 'a', 'GET', '/a/other').ok, false);
  });

  test('topics: subscribe/publish patterns; no rule = any topic', async () => {
    const { id } = await identity({ access_rights: { ...api('a', { topics: { subscribe: ['orders/+/created'] } }), ...api('b') } });
    assert.equal(svc.topicAllowed(id, 'a', 'subscribe', 'orders/eu/created'), true);
    assert.equal(svc.topicAllowed(id, 'a', 'subscribe', 'orders/eu/deleted'), false);
    assert.equal(svc.topicAllowed(id, 'a', 'publish', 'anything'), true);
    assert.equal(svc.topicAllowed(id, 'b', 'subscribe', 'x/y'), true);
  });
});

describe('consumeRequest', () => {
  test('rate limit: 429 "Rate Limit Exceeded" with X-RateLimit headers', async () => {
    const { id } = await identity({ rate: 3, per: 60, access_rights: api('a') });
    for (let i = 0; i < 3; i++) {
      const r = await svc.consumeRequest(id, 'a');
      assert.equal(r.ok, true);
      assert.equal(r.headers['X-RateLimit-Limit'], '3');
      assert.equal(r.headers['X-RateLimit-Remaining'], String(2 - i));
    }
    const r = await svc.consumeRequest(id, 'a');
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.status, 429);
    assert.equal(!r.ok && r.message, 'Rate Limit Exceeded');
    assert.equal(r.headers['X-RateLimit-Remaining'], '0');
    const reset = Number(r.headers['X-RateLimit-Reset']);
    assert.ok(reset >= Math.floor(clockMs / 1000) + 59 && reset <= Math.ceil(clockMs / 1000) + 61, String(reset));
  });

  test('throttling waits throttle_interval and retries throttle_retry_limit times before 429', async () => {
    const { id } = await identity({ rate: 1, per: 60, throttle_interval: 0.5, throttle_retry_limit: 3, access_rights: api('a') });
    assert.equal((await svc.consumeRequest(id, 'a')).ok, true);
    assert.equal((await svc.consumeRequest(id, 'a')).ok, false);
    assert.deepEqual(slept, [500, 500, 500]);
  });

  test('quota: 403 "Quota exceeded"; counted after the rate limit; shared across APIs without per-API limits', async () => {
    const { id } = await identity({ quota_max: 2, quota_renewal_rate: 3600, access_rights: { ...api('a'), ...api('b') } });
    assert.equal((await svc.consumeRequest(id, 'a')).ok, true);
    assert.equal((await svc.consumeRequest(id, 'b')).ok, true);
    const r = await svc.consumeRequest(id, 'a');
    assert.deepEqual([r.ok, !r.ok && r.status, !r.ok && r.message], [false, 403, 'Quota exceeded']);
    const q = await svc.quotaStatus(id.keyHash, id.session);
    assert.equal(q?.quota_remaining, 0);
  });

  test('per-API limits count separately', async () => {
    const { id } = await identity({ rate: 100, per: 1, access_rights: { ...api('a', { limit: { rate: 1, per: 60 } }), ...api('b') } });
    assert.equal((await svc.consumeRequest(id, 'a')).ok, true);
    assert.equal((await svc.consumeRequest(id, 'a')).ok, false);
    assert.equal((await svc.consumeRequest(id, 'b')).ok, true);
  });

  test('updating a key restarts its quota unless suppressReset', async () => {
    const { key, id } = await identity({ quota_max: 1, quota_renewal_rate: 3600, access_rights: api('a') });
    assert.equal((await svc.consumeRequest(id, 'a')).ok, true);
    assert.equal((await svc.consumeRequest(id, 'a')).ok, false);
    const stored = (await store.getKey(id.keyHash))!;
    await svc.updateKey(id.keyHash, stored, { suppressReset: true });
    assert.equal((await svc.consumeRequest((await svc.resolveKey(key))!, 'a')).ok, false);
    await svc.updateKey(id.keyHash, stored);
    assert.equal((await svc.consumeRequest((await svc.resolveKey(key))!, 'a')).ok, true);
  });

  test('the fixed-window limiter', async () => {
    await svc.close();
    svc = make({ rateLimiter: 'fixed' });
    await svc.start();
    const { id } = await identity({ rate: 2, per: 60, access_rights: api('a') });
    assert.equal((await svc.consumeRequest(id, 'a')).ok, true);
    assert.equal((await svc.consumeRequest(id, 'a')).ok, true);
    assert.equal((await svc.consumeRequest(id, 'a')).ok, false);
  });

  test('keyless identities are not counted', async () => {
    const r = await svc.consumeRequest({ keyHash: '', session: {} }, 'a');
    assert.deepEqual(r, { ok: true, headers: {} });
  });
});

describe('consumeMessages', () => {
  test('message rate: synchronous while leased, refused past the limit with a wait', async () => {
    const { id } = await identity({ access_rights: api('a'), message_limits: { delivered: { rate: 100, per: 60 } } });
    let ok = 0;
    let sync = 0;
    let last;
    for (let i = 0; i < 150; i++) {
      const v = svc.consumeMessages(id, 'a', 'delivered', 1, 10);
      if (!(v instanceof Promise)) sync++;
      last = await v;
      if (last.ok) ok++;
    }
    assert.equal(ok, 100);
    assert.ok(sync >= 100, `sync ${sync}`);
    assert.equal(last!.ok, false);
    assert.equal(!last!.ok && last!.limit, 'rate');
    assert.ok(!last!.ok && last!.retryAfterMs! > 0);
    // published has no limit
    assert.equal(svc.consumeMessages(id, 'a', 'published', 1, 10), svc.consumeMessages(id, 'a', 'published', 5, 10));
  });

  test('quota counts and bytes, all-or-nothing', async () => {
    const { id } = await identity({ access_rights: api('a'), message_limits: { published: { quota_max: 10, bytes_quota_max: 100, quota_renewal_rate: 3600 } } });
    assert.equal((await svc.consumeMessages(id, 'a', 'published', 2, 90)).ok, true);
    const v = await svc.consumeMessages(id, 'a', 'published', 1, 20);
    assert.deepEqual([v.ok, !v.ok && v.limit, !v.ok && v.message], [false, 'quota', 'Message byte quota exceeded']);
    // The refused message did not use a count: 8 more fit.
    assert.equal((await svc.consumeMessages(id, 'a', 'published', 8, 10)).ok, true);
    const w = await svc.consumeMessages(id, 'a', 'published', 1, 0);
    assert.equal(!w.ok && w.message, 'Message quota exceeded');
  });
});

describe('when the store is away', () => {
  test('a cached session keeps working; an unknown key is an error, not a pass', async () => {
    await svc.close();
    let down = false;
    const flaky = new (class extends MemoryStore {
      override async getKey(h: string) {
        if (down) throw new Error('connection refused');
        return super.getKey(h);
      }
    })();
    store = flaky;
    svc = make({ cacheTtlMs: 0 });
    await svc.start();
    const { key } = await svc.createKey({ access_rights: api('a') });
    assert.ok(await svc.resolveKey(key));
    down = true;
    assert.ok(await svc.resolveKey(key), 'served from the cache');
    await assert.rejects(svc.resolveKey('unknown-key'), /connection refused/);
  });
});

describe('onChange', () => {
  async function events(fn: () => Promise<void>): Promise<AccessEvent[]> {
    const got: AccessEvent[] = [];
    const off = svc.onChange((e) => got.push(e));
    await fn();
    await new Promise((r) => setTimeout(r, 20));
    off();
    return got;
  }

  test('deleted, deactivated and updated keys', async () => {
    const { key, id } = await identity({ access_rights: api('a') });
    const stored = (await store.getKey(id.keyHash))!;
    assert.deepEqual(await events(() => svc.updateKey(id.keyHash, { ...stored, is_inactive: true }).then(() => undefined)), [{ kind: 'key', keyHash: id.keyHash, action: 'deactivated' }]);
    assert.equal((await svc.resolveKey(key))?.session.is_inactive, true, 'the cache was dropped');
    assert.deepEqual(await events(() => svc.updateKey(id.keyHash, stored).then(() => undefined)), [{ kind: 'key', keyHash: id.keyHash, action: 'updated' }]);
    assert.deepEqual(await events(() => svc.deleteKey(id.keyHash).then(() => undefined)), [{ kind: 'key', keyHash: id.keyHash, action: 'deleted' }]);
    assert.equal(await svc.resolveKey(key), undefined);
  });

  test('a policy change reaches the keys that use it', async () => {
    await svc.putPolicy({ id: 'p', rate: 10, per: 1, access_rights: api('a') });
    const { key, id } = await identity({ apply_policies: ['p'] });
    assert.equal(id.session.rate, 10);
    const got = await events(() => svc.putPolicy({ id: 'p', rate: 10, per: 1, is_inactive: true, access_rights: api('a') }).then(() => undefined));
    assert.deepEqual(got, [
      { kind: 'policy', id: 'p', action: 'updated' },
      { kind: 'key', keyHash: id.keyHash, action: 'deactivated' },
    ]);
    assert.equal((await svc.resolveKey(key))?.session.is_inactive, true);
    const gone = await events(() => svc.deletePolicy('p').then(() => undefined));
    assert.deepEqual(gone, [
      { kind: 'policy', id: 'p', action: 'deleted' },
      { kind: 'key', keyHash: id.keyHash, action: 'deactivated' },
    ]);
    assert.equal(await svc.resolveKey(key), undefined, 'its only policy is gone');
  });

  test('expiry is announced once, within the check interval', async () => {
    await svc.close();
    svc = make({ expiryCheckMs: 20 });
    await svc.start();
    const { id } = await identity({ expires: Math.floor(clockMs / 1000) + 5, access_rights: api('a') });
    const got: AccessEvent[] = [];
    svc.onChange((e) => got.push(e));
    await new Promise((r) => setTimeout(r, 60));
    assert.deepEqual(got, []);
    clockMs += 6000;
    await new Promise((r) => setTimeout(r, 80));
    assert.deepEqual(got, [{ kind: 'key', keyHash: id.keyHash, action: 'expired' }]);
  });

  test('another process hears changes made through its own change channel', async () => {
    // Two services on one bus stand in for two processes (the carriers are tested in src/state).
    const other = make();
    await other.start();
    const { key } = await identity({ access_rights: api('a') });
    assert.ok(await other.resolveKey(key));
    const got: AccessEvent[] = [];
    other.onChange((e) => got.push(e));
    await svc.deleteKey(keyHash(key));
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(got, [{ kind: 'key', keyHash: keyHash(key), action: 'deleted' }]);
    assert.equal(await other.resolveKey(key), undefined);
    await other.close();
  });
});
