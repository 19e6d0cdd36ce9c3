import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { applyPolicies, mergeAllowedUrls, quotaGreater, rateDuration } from './policy.js';
import type { Policy, Session } from './types.js';

const lookup = (ps: Policy[]) => (id: string) => ps.find((p) => p.id === id);

function ok(r: ReturnType<typeof applyPolicies>): Session {
  assert.ok(r.ok, r.ok ? '' : r.error);
  return r.session;
}

describe('applyPolicies', () => {
  test('no policies: the session as it is; per-API limits get their own counter scope', () => {
    const s: Session = { rate: 5, per: 1, access_rights: { a: { api_id: 'a', limit: { rate: 1, per: 1 } }, b: { api_id: 'b' } } };
    const out = ok(applyPolicies(s, lookup([])));
    assert.equal(out.rate, 5);
    assert.equal(out.access_rights!.a!.allowance_scope, 'a');
    assert.equal(out.access_rights!.b!.allowance_scope, undefined);
    assert.equal(s.access_rights!.a!.allowance_scope, undefined, 'input untouched');
  });

  test('a policy without partitions sets ACL, rate and quota, replacing the key own rights', () => {
    const p: Policy = { id: 'p', rate: 100, per: 60, quota_max: 1000, quota_renewal_rate: 3600, throttle_interval: 2, throttle_retry_limit: 3, access_rights: { a: { api_id: 'a', versions: ['Default'] } }, tags: ['gold'], meta_data: { plan: 'gold' } };
    const s: Session = { rate: 1, per: 1, apply_policies: ['p'], access_rights: { other: { api_id: 'other' } }, tags: ['mine'], meta_data: { plan: 'free', user: 'u1' } };
    const out = ok(applyPolicies(s, lookup([p])));
    assert.deepEqual(Object.keys(out.access_rights!), ['a']);
    assert.equal(out.rate, 100);
    assert.equal(out.per, 60);
    assert.equal(out.quota_max, 1000);
    assert.equal(out.throttle_retry_limit, 3);
    assert.equal(out.access_rights!.a!.limit!.rate, 100);
    assert.deepEqual(out.tags!.sort(), ['gold', 'mine']);
    assert.deepEqual(out.meta_data, { plan: 'gold', user: 'u1' });
  });

  test('several policies: the highest rate wins (Tyk 5.4+), the highest quota wins, -1 beats all', () => {
    const a: Policy = { id: 'a', rate: 10, per: 1, quota_max: 100, access_rights: { x: { api_id: 'x' } } };
    const b: Policy = { id: 'b', rate: 1000, per: 60, quota_max: -1, access_rights: { x: { api_id: 'x' } } }; // 16.7/s
    const out = ok(applyPolicies({ apply_policies: ['a', 'b'] }, lookup([a, b])));
    assert.equal(out.rate, 1000);
    assert.equal(out.per, 60);
    assert.equal(out.quota_max, -1);
    const out2 = ok(applyPolicies({ apply_policies: ['b', 'a'] }, lookup([a, b])));
    assert.equal(out2.rate, 1000, 'order does not matter');
  });

  test('partitions: each policy sets only its part', () => {
    const acl: Policy = { id: 'acl', partitions: { acl: true }, access_rights: { x: { api_id: 'x', allowed_urls: [{ url: '/a', methods: ['GET'] }] } }, rate: 1, per: 1 };
    const rate: Policy = { id: 'rate', partitions: { rate_limit: true }, rate: 50, per: 1, access_rights: { x: { api_id: 'x' } } };
    const quota: Policy = { id: 'quota', partitions: { quota: true }, quota_max: 7, quota_renewal_rate: 60, access_rights: { x: { api_id: 'x' } } };
    const out = ok(applyPolicies({ apply_policies: ['acl', 'rate', 'quota'], rate: 9, per: 9, quota_max: 9 }, lookup([acl, rate, quota])));
    assert.equal(out.rate, 50);
    assert.equal(out.quota_max, 7);
    assert.deepEqual(out.access_rights!.x!.allowed_urls, [{ url: '/a', methods: ['GET'] }]);
    // an ACL-only policy: the rate comes from the session level, which the rate policy set
    assert.equal(out.access_rights!.x!.limit!.rate, 50);
  });

  test('ACL merge unites versions, allowed_urls (methods per URL) and topic patterns', () => {
    const a: Policy = { id: 'a', access_rights: { x: { api_id: 'x', versions: ['v1'], allowed_urls: [{ url: '/a', methods: ['GET'] }], topics: { subscribe: ['orders/#'] } } } };
    const b: Policy = { id: 'b', access_rights: { x: { api_id: 'x', versions: ['v2'], allowed_urls: [{ url: '/a', methods: ['POST'] }, { url: '/b', methods: ['GET'] }], topics: { subscribe: ['audit/+'], publish: ['cmd/#'] } } } };
    const out = ok(applyPolicies({ apply_policies: ['a', 'b'] }, lookup([a, b])));
    const x = out.access_rights!.x!;
    assert.deepEqual(x.versions, ['v1', 'v2']);
    assert.deepEqual(x.allowed_urls, [
      { url: '/a', methods: ['GET', 'POST'] },
      { url: '/b', methods: ['GET'] },
    ]);
    assert.deepEqual(x.topics, { subscribe: ['orders/#', 'audit/+'], publish: ['cmd/#'] });
  });

  test('per_api: each API keeps its own limits and counter', () => {
    const p: Policy = {
      id: 'pa',
      partitions: { per_api: true },
      rate: 5,
      per: 1,
      access_rights: { x: { api_id: 'x', limit: { rate: 100, per: 1, quota_max: 10 } }, y: { api_id: 'y' } },
    };
    const out = ok(applyPolicies({ apply_policies: ['pa'] }, lookup([p])));
    assert.equal(out.access_rights!.x!.limit!.rate, 100);
    assert.equal(out.access_rights!.x!.allowance_scope, 'x');
    assert.equal(out.access_rights!.y!.limit!.rate, 5);
    assert.equal(out.access_rights!.y!.allowance_scope, 'pa');
  });

  test('per_api cannot be mixed with partitioned policies', () => {
    const pa: Policy = { id: 'pa', partitions: { per_api: true }, access_rights: { x: { api_id: 'x' } } };
    const pq: Policy = { id: 'pq', partitions: { quota: true }, access_rights: { x: { api_id: 'x' } } };
    const r = applyPolicies({ apply_policies: ['pa', 'pq'] }, lookup([pa, pq]));
    assert.equal(r.ok, false);
  });

  test('a missing policy fails a key with only that policy; with several it is skipped', () => {
    const a: Policy = { id: 'a', access_rights: { x: { api_id: 'x' } } };
    assert.equal(applyPolicies({ apply_policies: ['nope'] }, lookup([a])).ok, false);
    assert.equal(ok(applyPolicies({ apply_policies: ['nope', 'a'] }, lookup([a]))).access_rights!.x!.api_id, 'x');
  });

  test('an inactive policy makes the key inactive; apply_policy_id (legacy) counts too', () => {
    const a: Policy = { id: 'a', is_inactive: true, access_rights: { x: { api_id: 'x' } } };
    assert.equal(ok(applyPolicies({ apply_policy_id: 'a' }, lookup([a]))).is_inactive, true);
    const b: Policy = { id: 'b', active: false, access_rights: { x: { api_id: 'x' } } };
    assert.equal(ok(applyPolicies({ apply_policies: ['b'] }, lookup([b]))).is_inactive, true);
  });

  test('a master policy (no access rights) sets the session limits; the key keeps its rights', () => {
    const m: Policy = { id: 'm', rate: 3, per: 1, quota_max: 30, quota_renewal_rate: 60 };
    const out = ok(applyPolicies({ apply_policies: ['m'], rate: 1000, per: 1, access_rights: { x: { api_id: 'x' } } }, lookup([m])));
    assert.equal(out.rate, 3);
    assert.equal(out.quota_max, 30);
    assert.deepEqual(Object.keys(out.access_rights!), ['x']);
  });

  test('no access rights at all is an error', () => {
    const m: Policy = { id: 'm', rate: 3, per: 1 };
    assert.equal(applyPolicies({ apply_policies: ['m'] }, lookup([m])).ok, false);
  });

  test('message limits follow the rate and quota partitions, highest wins', () => {
    const a: Policy = { id: 'a', access_rights: { x: { api_id: 'x' } }, message_limits: { delivered: { rate: 10, per: 1, quota_max: 100 } } };
    const b: Policy = { id: 'b', access_rights: { x: { api_id: 'x' } }, message_limits: { delivered: { rate: 600, per: 60, quota_max: 50, bytes_quota_max: 1000 } } };
    const out = ok(applyPolicies({ apply_policies: ['a', 'b'] }, lookup([a, b])));
    assert.deepEqual(out.access_rights!.x!.message_limits, { delivered: { rate: 10, per: 1, quota_max: 100, bytes_quota_max: 1000 } });
  });
});

test('helpers', () => {
  assert.equal(rateDuration({ rate: 10, per: 1 }), 0.1);
  assert.equal(rateDuration({ rate: 0, per: 1 }), Infinity);
  assert.equal(quotaGreater(-1, 5), true);
  assert.equal(quotaGreater(5, -1), false);
  assert.equal(quotaGreater(-1, -1), false);
  assert.equal(quotaGreater(6, 5), true);
  assert.deepEqual(mergeAllowedUrls(undefined, [{ url: '/x', methods: ['GET'] }]), [{ url: '/x', methods: ['GET'] }]);
});
