// Tyk's own session, policy and key JSON (the Gateway API examples) posted to /tyk/keys and
// /tyk/policies of a Sluice on PostgreSQL + Redis, and read back.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startTestGateway, type TestGateway } from '../../src/control/testing.js';
import { TEST_PG_URL, dropSchema, uniqueSchema } from '../../src/store/testing.js';
import { keyHash } from '../../src/access/hash.js';

const REDIS = process.env.SLUICE_TEST_REDIS ?? 'redis://127.0.0.1:6379';
const API_ID = '8ddd91f3cda9453442c477b06c4e2da4';
const POLICY_ID = '5ead7120575961000181867e';

// Tyk's policy example (Gateway API swagger), as Tyk writes it.
const tykPolicy = {
  _id: '', id: POLICY_ID, name: 'Sample policy', org_id: '', rate: 1000, per: 60,
  quota_max: 10000, quota_renewal_rate: 3600, throttle_interval: 10, throttle_retry_limit: 10,
  max_query_depth: -1, access_rights: { [API_ID]: { api_id: API_ID, api_name: 'Itachi api', versions: ['Default'],
    allowed_urls: [{ url: '/users', methods: ['GET'] }], disable_introspection: false } },
  hmac_enabled: false, enable_http_signature_validation: false, active: true, is_inactive: false,
  tags: ['security'], key_expires_in: 2592000, post_expiry_grace_period: 0,
  partitions: { quota: true, rate_limit: true, complexity: false, acl: true, per_api: false },
  last_updated: '', meta_data: { user_type: 'mobile_user' }, graphql_access_rights: {}, smoothing: null,
};

// Tyk's session example.
const tykSession = {
  last_check: 0, allowance: 1000, rate: 1000, per: 60, throttle_interval: 10, throttle_retry_limit: 10,
  max_query_depth: 0, date_created: '2024-08-09T14:40:34.87614+03:00', expires: 0,
  quota_max: 10000, quota_renews: 1723207234, quota_remaining: 10000, quota_renewal_rate: 3600,
  access_rights: { [API_ID]: { api_name: 'Itachi api', api_id: API_ID, versions: ['Default'], allowed_urls: [{ url: '/users', methods: ['GET'] }],
    limit: { rate: 1000, per: 60, throttle_interval: 10, throttle_retry_limit: 10, max_query_depth: 0, quota_max: 10000, quota_renews: 1723207234, quota_remaining: 10000, quota_renewal_rate: 3600 },
    allowance_scope: '', endpoints: [{ path: '/users', methods: [{ name: 'GET', limit: { rate: 10, per: 1 } }] }] } },
  org_id: '5e9d9544a1dcd60001d0ed20', oauth_client_id: '', oauth_keys: {}, certificate: '',
  mtls_static_certificate_bindings: [], basic_auth_data: { password: '', hash_type: '' }, jwt_data: { secret: '' },
  hmac_enabled: false, enable_http_signature_validation: false, hmac_string: '', rsa_certificate_id: '',
  is_inactive: false, apply_policy_id: '', apply_policies: [POLICY_ID], data_expires: 0,
  monitor: { trigger_limits: [] }, enable_detail_recording: false, enable_detailed_recording: true,
  meta_data: { tyk_developer_id: '62b3fb9a1d5e4f00017226f5', user_type: 'mobile_user' },
  tags: ['security', 'edge'], alias: 'portal-key', last_updated: '1723203634', id_extractor_deadline: 0,
  session_lifetime: 0, post_expiry_action: '', post_expiry_grace_period: 0,
  smoothing: { enabled: false, threshold: 500, trigger: 0.8, step: 100, delay: 30 },
};

let gw: TestGateway;
let schema: string;

before(async () => {
  schema = uniqueSchema();
  gw = await startTestGateway({ store: `${TEST_PG_URL}?schema=${schema}`, redis: REDIS, redisPrefix: `sluice-test:${randomBytes(4).toString('hex')}:` });
});
after(async () => {
  await gw.close();
  await dropSchema(schema);
});

describe("Tyk's JSON, posted and read back (PostgreSQL + Redis)", () => {
  test('the policy', async () => {
    const r = await gw.req('POST', '/tyk/policies', tykPolicy);
    assert.deepEqual([r.status, r.body], [200, { key: POLICY_ID, status: 'ok', action: 'added' }]);
    const back = await gw.req('GET', `/tyk/policies/${POLICY_ID}`);
    const { smoothing: _null, ...expected } = tykPolicy; // Go's null is "absent"
    assert.deepEqual(back.body, expected);
    const list = (await gw.req('GET', '/tyk/policies')).body as unknown[];
    assert.deepEqual(list, [expected]);
  });

  test('the session as a generated key: stored as posted, read back with the policy applied', async () => {
    const r = await gw.req('POST', '/tyk/keys', tykSession);
    assert.equal(r.status, 200);
    const c = r.body as { key: string; status: string; action: string; key_hash: string };
    assert.deepEqual([c.status, c.action, c.key_hash], ['ok', 'added', keyHash(c.key)]);
    assert.match(c.key, /^5e9d9544a1dcd60001d0ed20[0-9a-f]{32}$/, 'org id + random, as Tyk');

    // As stored: everything posted, but the creation stamps are the server's, and the policy's
    // key_expires_in (30 days) set `expires` on the new key, as Tyk does.
    const stored = (await gw.req('GET', `/api/keys/${c.key_hash}`)).body as { session: Record<string, unknown> };
    const { date_created: _d, last_updated: _l, expires: _e, ...posted } = tykSession;
    const { date_created, last_updated, expires, ...rest } = stored.session;
    assert.deepEqual(rest, posted);
    assert.ok(Math.abs(Number(expires) - (Date.now() / 1000 + 2592000)) < 60, String(expires));
    assert.ok(Date.parse(String(date_created)) > Date.parse('2025-01-01'));
    assert.match(String(last_updated), /^\d{10}$/);

    // As Tyk's GET answers: policies applied, live quota.
    const eff = (await gw.req('GET', `/tyk/keys/${c.key}`)).body as Record<string, unknown>;
    assert.equal(eff.rate, 1000);
    assert.equal(eff.per, 60);
    assert.equal(eff.quota_max, 10000);
    assert.equal(eff.quota_remaining, 10000);
    assert.deepEqual(eff.apply_policies, [POLICY_ID]);
    assert.deepEqual((eff.meta_data as Record<string, unknown>).user_type, 'mobile_user');
    assert.deepEqual(new Set(eff.tags as string[]), new Set(['security', 'edge']));
    assert.deepEqual(Object.keys(eff.access_rights as object), [API_ID]);
    // By hash, the same session; quota_renews is computed live, so two reads may be a second apart.
    const byHash = (await gw.req('GET', `/tyk/keys/${c.key_hash}?hashed=true`)).body as Record<string, unknown>;
    const { quota_renews: renewsA, ...effRest } = eff;
    const { quota_renews: renewsB, ...byHashRest } = byHash;
    assert.deepEqual(byHashRest, effRest);
    assert.ok(Math.abs(Number(renewsA) - Number(renewsB)) <= 1, `${renewsA} vs ${renewsB}`);
    assert.deepEqual((await gw.req('GET', '/tyk/keys')).body, { keys: [c.key_hash] });

    // And it works as a key: the policy's allowed_urls, its rate limit headers.
    const access = gw.plane.access;
    const id = await access.resolveKey(c.key);
    assert.ok(id);
    assert.deepEqual(access.checkRequest(id, API_ID, 'GET', '/itachi/users'), { ok: true });
    assert.deepEqual(access.checkRequest(id, API_ID, 'POST', '/itachi/users'), { ok: false, status: 403, message: 'Access to this resource has been disallowed' });
    assert.deepEqual(access.checkRequest(id, 'another-api', 'GET', '/users'), { ok: false, status: 403, message: 'Access to this API has been disallowed' });
    const used = await access.consumeRequest(id, API_ID);
    assert.equal(used.ok, true);
    assert.equal(used.headers['X-RateLimit-Limit'], '1000');
    assert.equal(used.headers['X-RateLimit-Remaining'], '999');
    const after = (await gw.req('GET', `/tyk/keys/${c.key}`)).body as { quota_remaining: number };
    assert.equal(after.quota_remaining, 9999);
  });

  test('the session as a custom key, updated and deleted', async () => {
    const r = await gw.req('POST', '/tyk/keys/itachi-key', tykSession);
    const custom = '5e9d9544a1dcd60001d0ed20itachi-key';
    assert.deepEqual(r.body, { key: custom, status: 'ok', action: 'added', key_hash: keyHash(custom) });
    const upd = await gw.req('PUT', `/tyk/keys/${custom}`, { ...tykSession, alias: 'renamed', is_inactive: true });
    assert.deepEqual(upd.body, { key: custom, status: 'ok', action: 'modified' });
    const back = (await gw.req('GET', `/tyk/keys/${custom}`)).body as { alias: string; is_inactive: boolean };
    assert.deepEqual([back.alias, back.is_inactive], ['renamed', true]);
    const id = await gw.plane.access.resolveKey(custom);
    assert.deepEqual(gw.plane.access.checkRequest(id!, API_ID, 'GET', '/users'), { ok: false, status: 403, message: 'Key is inactive, please renew' });
    assert.deepEqual((await gw.req('DELETE', `/tyk/keys/${custom}`)).body, { key: custom, status: 'ok', action: 'deleted' });
    assert.equal(await gw.plane.access.resolveKey(custom), undefined);
  });

  test('a basic-auth user: the password is hashed, blank on read, key blank on create', async () => {
    const r = await gw.req('POST', '/tyk/keys/alice', { ...tykSession, org_id: '', basic_auth_data: { password: 'p@ss w0rd', hash_type: '' } });
    assert.deepEqual(r.body, { key: '', status: 'ok', action: 'added', key_hash: keyHash('alice') });
    const back = (await gw.req('GET', `/tyk/keys/${keyHash('alice')}?hashed=true`)).body as { basic_auth_data: { password: string; hash_type: string } };
    assert.deepEqual(back.basic_auth_data, { password: '', hash_type: 'scrypt' });
    assert.ok(await gw.plane.access.resolveBasic('alice', 'p@ss w0rd'));
    assert.equal(await gw.plane.access.resolveBasic('alice', 'wrong'), undefined);
    const raw = await gw.plane.store.getKey(keyHash('alice'));
    assert.match(raw!.basic_auth_data!.password, /^scrypt\$/);
  });
});
