/**
 * Validation of the key (session) and policy JSON the management API accepts. Every field Tyk
 * writes is known (so a Tyk export posts unchanged, GraphQL/MCP-only fields included), plus
 * Sluice's extensions; anything else is refused with its path, as is a wrong type. `null`, which
 * Go writes for empty slices and maps, counts as absent and is dropped.
 */
import { RE2JS } from 're2js';
import type { Policy, Session } from './types.js';

export interface FieldIssue {
  readonly path: string;
  readonly message: string;
}

type Spec =
  | 'number'
  | 'string'
  | 'boolean'
  | 'any'
  | { readonly kind: 'object'; readonly fields: Readonly<Record<string, Spec>>; readonly extra?: (key: string) => boolean }
  | { readonly kind: 'map'; readonly of: Spec }
  | { readonly kind: 'array'; readonly of: Spec }
  | { readonly kind: 'oneOf'; readonly of: readonly Spec[]; readonly label: string };

const obj = (fields: Record<string, Spec>, extra?: (key: string) => boolean): Spec => ({ kind: 'object', fields, extra });
const map = (of: Spec): Spec => ({ kind: 'map', of });
const arr = (of: Spec): Spec => ({ kind: 'array', of });

const limitFields: Record<string, Spec> = {
  rate: 'number',
  per: 'number',
  throttle_interval: 'number',
  throttle_retry_limit: 'number',
  max_query_depth: 'number',
  quota_max: 'number',
  quota_remaining: 'number',
  quota_renews: 'number',
  quota_renewal_rate: 'number',
  smoothing: 'any',
  set_by: 'string',
};

const messageDir = obj({ rate: 'number', per: 'number', quota_max: 'number', quota_renewal_rate: 'number', bytes_quota_max: 'number' });
const messageLimits = obj({ delivered: messageDir, published: messageDir });
const topics = obj({ subscribe: arr('string'), publish: arr('string') });

const accessDefinition = obj(
  {
    api_id: 'string',
    api_name: 'string',
    versions: arr('string'),
    allowed_urls: arr(obj({ url: 'string', methods: arr('string') })),
    limit: obj(limitFields),
    allowance_scope: 'string',
    endpoints: arr('any'),
    restricted_types: 'any',
    allowed_types: 'any',
    field_access_rights: 'any',
    disable_introspection: 'boolean',
    topics,
    message_limits: messageLimits,
  },
  // GraphQL / JSON-RPC / MCP settings Sluice stores but does not interpret.
  (k) => k.startsWith('json_rpc_') || k.startsWith('mcp_'),
);

const sessionSpec = obj({
  ...limitFields,
  last_check: 'number',
  allowance: 'number',
  date_created: 'string',
  expires: 'number',
  access_rights: map(accessDefinition),
  org_id: 'string',
  oauth_client_id: 'string',
  oauth_keys: map('string'),
  certificate: 'string',
  mtls_static_certificate_bindings: arr('any'),
  basic_auth_data: obj({ password: 'string', hash_type: 'string' }),
  jwt_data: obj({ secret: 'string' }),
  hmac_enabled: 'boolean',
  enable_http_signature_validation: 'boolean',
  hmac_string: 'string',
  rsa_certificate_id: 'string',
  is_inactive: 'boolean',
  apply_policy_id: 'string',
  apply_policies: arr('string'),
  data_expires: 'number',
  monitor: obj({ trigger_limits: arr('number') }),
  enable_detail_recording: 'boolean',
  enable_detailed_recording: 'boolean',
  meta_data: map('any'),
  tags: arr('string'),
  alias: 'string',
  last_updated: 'string',
  id_extractor_deadline: 'number',
  session_lifetime: 'number',
  post_expiry_action: 'string',
  post_expiry_grace_period: 'number',
  key_id: 'string',
  custom_policies: 'any',
  message_limits: messageLimits,
});

const policySpec = obj({
  ...limitFields,
  _id: 'string',
  id: 'string',
  name: 'string',
  org_id: 'string',
  access_rights: map(accessDefinition),
  hmac_enabled: 'boolean',
  enable_http_signature_validation: 'boolean',
  active: 'boolean',
  is_inactive: 'boolean',
  tags: arr('string'),
  key_expires_in: 'number',
  post_expiry_grace_period: 'number',
  post_expiry_action: 'string',
  partitions: obj({ quota: 'boolean', rate_limit: 'boolean', complexity: 'boolean', acl: 'boolean', per_api: 'boolean' }),
  last_updated: 'string',
  meta_data: map('any'),
  graphql_access_rights: 'any',
  max_query_depth: 'number',
  message_limits: messageLimits,
});

const describe = (s: Spec): string => {
  if (typeof s === 'string') return s === 'any' ? 'any value' : `a ${s}`;
  if (s.kind === 'object' || s.kind === 'map') return 'an object';
  if (s.kind === 'array') return typeof s.of === 'string' && s.of !== 'any' ? `an array of ${s.of}s` : 'an array';
  return s.label;
};

const join = (base: string, key: string): string => (base ? `${base}.${key}` : key);

function check(spec: Spec, value: unknown, path: string, issues: FieldIssue[]): unknown {
  if (typeof spec === 'string') {
    if (spec === 'any') return value;
    if (spec === 'number' ? typeof value === 'number' && Number.isFinite(value) : typeof value === spec) return value;
    issues.push({ path, message: `expected ${describe(spec)}, got ${typeName(value)}` });
    return value;
  }
  switch (spec.kind) {
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        issues.push({ path, message: `expected an object, got ${typeName(value)}` });
        return value;
      }
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        const f = spec.fields[k];
        if (!f) {
          if (spec.extra?.(k)) out[k] = v;
          else issues.push({ path: join(path, k), message: 'unknown field' });
          continue;
        }
        if (v === null) continue;
        out[k] = check(f, v, join(path, k), issues);
      }
      return out;
    }
    case 'map': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        issues.push({ path, message: `expected an object, got ${typeName(value)}` });
        return value;
      }
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        if (v === null && spec.of !== 'any') continue;
        out[k] = check(spec.of, v, join(path, k), issues);
      }
      return out;
    }
    case 'array': {
      if (!Array.isArray(value)) {
        issues.push({ path, message: `expected ${describe(spec)}, got ${typeName(value)}` });
        return value;
      }
      return value.map((v, i) => check(spec.of, v, `${path}[${i}]`, issues));
    }
    case 'oneOf': {
      for (const s of spec.of) {
        const probe: FieldIssue[] = [];
        const v = check(s, value, path, probe);
        if (!probe.length) return v;
      }
      issues.push({ path, message: `expected ${spec.label}` });
      return value;
    }
  }
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : typeof v;
}

export type Validated<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly issues: readonly FieldIssue[] };

function validateWith<T>(spec: Spec, value: unknown, extra: (v: T, issues: FieldIssue[]) => void): Validated<T> {
  const issues: FieldIssue[] = [];
  const out = check(spec, value, '', issues) as T;
  if (!issues.length) extra(out, issues);
  return issues.length ? { ok: false, issues } : { ok: true, value: out };
}

const VERBS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'CONNECT', 'TRACE']);

function checkAccessRights(rights: Session['access_rights'], base: string, issues: FieldIssue[]): void {
  for (const [apiId, ar] of Object.entries(rights ?? {})) {
    const p = `${base}.${apiId}`;
    if (ar.api_id !== undefined && ar.api_id !== '' && ar.api_id !== apiId) issues.push({ path: `${p}.api_id`, message: `must be the same as its key (${apiId})` });
    (ar.allowed_urls ?? []).forEach((u, i) => {
      try {
        RE2JS.compile(u.url); // Go's regexp syntax, as Tyk
      } catch (err) {
        issues.push({ path: `${p}.allowed_urls[${i}].url`, message: `not a valid regular expression: ${(err as Error).message}` });
      }
      u.methods.forEach((m, j) => {
        if (!VERBS.has(m.toUpperCase())) issues.push({ path: `${p}.allowed_urls[${i}].methods[${j}]`, message: `unknown HTTP method ${JSON.stringify(m)}` });
      });
    });
  }
}

export function validateSession(value: unknown): Validated<Session> {
  return validateWith<Session>(sessionSpec, value, (s, issues) => {
    checkAccessRights(s.access_rights, 'access_rights', issues);
    const h = s.basic_auth_data?.hash_type;
    if (h && h !== 'scrypt' && h !== 'plaintext') {
      issues.push({ path: 'basic_auth_data.hash_type', message: `${JSON.stringify(h)} is not supported: send the password in plain text (hash_type "") and Sluice hashes it with scrypt` });
    }
  });
}

export function validatePolicy(value: unknown): Validated<Policy> {
  return validateWith<Policy>(policySpec, value, (p, issues) => {
    checkAccessRights(p.access_rights, 'access_rights', issues);
    if (p.partitions?.per_api && (p.partitions.quota || p.partitions.rate_limit || p.partitions.acl || p.partitions.complexity)) {
      issues.push({ path: 'partitions', message: 'per_api cannot be combined with quota, rate_limit, acl or complexity' });
    }
  });
}

export function formatIssues(issues: readonly FieldIssue[]): string {
  return issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
}
