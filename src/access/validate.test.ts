import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIssues, validatePolicy, validateSession } from './validate.js';

// Tyk's session example (reference §5.2), with GraphQL-only fields and Go's nulls.
const tykSession = {
  last_check: 0, allowance: 1000, rate: 1000, per: 60, throttle_interval: 10, throttle_retry_limit: 10,
  max_query_depth: 0, date_created: '2024-08-09T14:40:34.87614+03:00', expires: 0,
  quota_max: 10000, quota_renews: 1723207234, quota_remaining: 10000, quota_renewal_rate: 3600,
  access_rights: {
    '8ddd91f3cda9453442c477b06c4e2da4': {
      api_name: 'Itachi api', api_id: '8ddd91f3cda9453442c477b06c4e2da4', versions: ['Default'],
      allowed_urls: [{ url: '/users', methods: ['GET'] }],
      limit: { rate: 1000, per: 60, throttle_interval: 10, throttle_retry_limit: 10, max_query_depth: 0, quota_max: 10000, quota_renews: 1723207234, quota_remaining: 10000, quota_renewal_rate: 3600 },
      allowance_scope: '', endpoints: [{ path: '/users', methods: [{ name: 'GET', limit: { rate: 10, per: 1 } }] }],
      restricted_types: null, disable_introspection: false, json_rpc_methods: [],
    },
  },
  org_id: '5e9d9544a1dcd60001d0ed20', oauth_client_id: '', oauth_keys: {}, certificate: '',
  mtls_static_certificate_bindings: [], basic_auth_data: { password: '', hash_type: '' }, jwt_data: { secret: '' },
  hmac_enabled: false, enable_http_signature_validation: false, hmac_string: '', rsa_certificate_id: '',
  is_inactive: false, apply_policy_id: '', apply_policies: ['5ead7120575961000181867e'], data_expires: 0,
  monitor: { trigger_limits: [] }, enable_detail_recording: false, enable_detailed_recording: true,
  meta_data: { tyk_developer_id: '62b3fb9a1d5e4f00017226f5', user_type: 'mobile_user' },
  tags: ['security', 'edge'], alias: 'portal-key', last_updated: '1723203634', id_extractor_deadline: 0,
  session_lifetime: 0, post_expiry_action: '', post_expiry_grace_period: 0,
  smoothing: { enabled: false, threshold: 500, trigger: 0.8, step: 100, delay: 30 },
};

const tykPolicy = {
  _id: '', id: '5ead7120575961000181867e', name: 'Sample policy', org_id: '', rate: 1000, per: 60,
  quota_max: 10000, quota_renewal_rate: 3600, throttle_interval: 10, throttle_retry_limit: 10,
  max_query_depth: -1, access_rights: { '8ddd91f3cda9453442c477b06c4e2da4': { api_id: '8ddd91f3cda9453442c477b06c4e2da4',
    api_name: 'Itachi api', versions: ['Default'], allowed_urls: [{ url: '/users', methods: ['GET'] }], disable_introspection: false } },
  hmac_enabled: false, enable_http_signature_validation: false, active: true, is_inactive: false,
  tags: ['security'], key_expires_in: 2592000, post_expiry_grace_period: 0,
  partitions: { quota: true, rate_limit: true, complexity: false, acl: true, per_api: false },
  last_updated: '', meta_data: { user_type: 'mobile_user' }, graphql_access_rights: {}, smoothing: null,
};

test("Tyk's session and policy examples validate unchanged", () => {
  const s = validateSession(tykSession);
  assert.ok(s.ok, s.ok ? '' : formatIssues(s.issues));
  const p = validatePolicy(tykPolicy);
  assert.ok(p.ok, p.ok ? '' : formatIssues(p.issues));
});

test('nulls (Go nil slices and maps) count as absent', () => {
  const r = validateSession({ apply_policies: null, tags: null, meta_data: null, access_rights: { a: { api_id: 'a', allowed_urls: null, limit: null } } });
  assert.ok(r.ok);
  assert.deepEqual(r.value, { access_rights: { a: { api_id: 'a' } } });
});

test('unknown fields and wrong types are refused with their path', () => {
  const r = validateSession({ rate: '10', acces_rights: {}, access_rights: { a: { api_id: 'a', allowed_urls: [{ url: '/x', methods: 'GET' }], topics: { subscribe: [1] } } } });
  assert.equal(r.ok, false);
  const msg = formatIssues(r.ok ? [] : r.issues);
  assert.match(msg, /^rate: expected a number, got string/);
  assert.match(msg, /acces_rights: unknown field/);
  assert.match(msg, /access_rights\.a\.allowed_urls\[0\]\.methods: expected an array of strings, got string/);
  assert.match(msg, /access_rights\.a\.topics\.subscribe\[0\]: expected a string, got number/);
});

test('a body that is not an object, a bad regex, a bad method, a mismatched api_id', () => {
  assert.equal(validateSession([]).ok, false);
  const r = validateSession({ access_rights: { a: { api_id: 'b', allowed_urls: [{ url: '(', methods: ['GOT'] }] } } });
  assert.equal(r.ok, false);
  const msg = formatIssues(r.ok ? [] : r.issues);
  assert.match(msg, /access_rights\.a\.api_id: must be the same as its key/);
  assert.match(msg, /access_rights\.a\.allowed_urls\[0\]\.url: not a valid regular expression/);
  assert.match(msg, /methods\[0\]: unknown HTTP method "GOT"/);
});

test('policies: per_api with partitions is refused; unknown hash types are refused', () => {
  const p = validatePolicy({ id: 'x', partitions: { per_api: true, quota: true } });
  assert.equal(p.ok, false);
  const s = validateSession({ basic_auth_data: { password: '$2a$10$abc', hash_type: 'bcrypt' } });
  assert.equal(s.ok, false);
});
