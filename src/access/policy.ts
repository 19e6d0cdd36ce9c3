/**
 * Applying policies to a key's session, with Tyk's semantics (`apply_policies`):
 *  - `partitions` choose what a policy sets: `quota`, `rate_limit`, `acl`, `complexity`; none set
 *    means all of them. `per_api` instead gives each API of the policy its own limits and
 *    counters; a key cannot mix `per_api` policies with partitioned ones.
 *  - Several policies combine: access rights are merged (versions and `allowed_urls` united); the
 *    highest rate wins (the smallest `per / rate`, as since Tyk 5.4), the highest quota wins
 *    (`-1` = unlimited beats everything), the largest throttle settings win.
 *  - A policy without access rights (a "master" policy) sets the session-level limits.
 *  - Tags are united; policy `meta_data` is laid over the key's; an inactive policy makes the
 *    key inactive.
 *  - When a policy sets the ACL, the key's own `access_rights` are replaced by the policies'.
 *  - With policies from different sources setting limits on different APIs, each API counts
 *    against its policy (`allowance_scope`), as Tyk does.
 * Sluice's extensions follow the same partitions: topic rights with the ACL (pattern lists
 * united), message limits with `rate_limit` (rates) and `quota` (counts and bytes).
 * A policy id that does not exist fails the key when it is the only one, and is skipped when
 * there are several (Tyk logs and continues).
 */
import type { AccessDefinition, AllowedUrl, LimitFields, MessageLimits, Policy, PolicyPartitions, Session, TopicRights } from './types.js';

export type ApplyResult = { readonly ok: true; readonly session: Session } | { readonly ok: false; readonly error: string };

type Parts = Required<Pick<PolicyPartitions, 'quota' | 'rate_limit' | 'acl' | 'complexity'>>;

function partsOf(p: Policy): { parts: Parts; partitioned: boolean } {
  const pp = p.partitions ?? {};
  const partitioned = !!(pp.quota || pp.rate_limit || pp.acl || pp.complexity);
  if (!partitioned) return { parts: { quota: true, rate_limit: true, acl: true, complexity: true }, partitioned };
  return { parts: { quota: !!pp.quota, rate_limit: !!pp.rate_limit, acl: !!pp.acl, complexity: !!pp.complexity }, partitioned };
}

export function policyIds(session: Session): string[] {
  const ids = [...(session.apply_policies ?? [])];
  if (session.apply_policy_id && !ids.includes(session.apply_policy_id)) ids.push(session.apply_policy_id);
  return [...new Set(ids.filter((x) => typeof x === 'string' && x !== ''))];
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** Seconds per request; Infinity when no rate is set. Smaller = more requests allowed. */
export function rateDuration(l: { rate?: number; per?: number } | undefined): number {
  const rate = num(l?.rate);
  const per = num(l?.per);
  return rate > 0 && per > 0 ? per / rate : Number.POSITIVE_INFINITY;
}

/** Quota comparison where -1 (unlimited) is the greatest. */
export function quotaGreater(a: number | undefined, b: number | undefined): boolean {
  const x = num(a);
  const y = num(b);
  if (x === -1) return y !== -1;
  if (y === -1) return false;
  return x > y;
}

export function limitIsEmpty(l: LimitFields | undefined | null): boolean {
  if (!l) return true;
  return !num(l.rate) && !num(l.per) && !num(l.quota_max) && !num(l.quota_renewal_rate) && !num(l.throttle_interval) && !num(l.throttle_retry_limit) && !num(l.max_query_depth);
}

function policyLimit(p: Policy): LimitFields {
  return {
    rate: num(p.rate),
    per: num(p.per),
    throttle_interval: num(p.throttle_interval),
    throttle_retry_limit: num(p.throttle_retry_limit),
    max_query_depth: num(p.max_query_depth),
    quota_max: num(p.quota_max),
    quota_renewal_rate: num(p.quota_renewal_rate),
  };
}

function union(a: readonly string[] | undefined, b: readonly string[] | undefined): string[] {
  return [...new Set([...(a ?? []), ...(b ?? [])])];
}

export function mergeAllowedUrls(a: readonly AllowedUrl[] | undefined, b: readonly AllowedUrl[] | undefined): AllowedUrl[] {
  const out: AllowedUrl[] = (a ?? []).map((u) => ({ url: u.url, methods: [...(u.methods ?? [])] }));
  for (const u of b ?? []) {
    const same = out.find((x) => x.url === u.url);
    if (same) same.methods = union(same.methods, u.methods);
    else out.push({ url: u.url, methods: [...(u.methods ?? [])] });
  }
  return out;
}

function mergeTopics(a: TopicRights | undefined, b: TopicRights | undefined): TopicRights | undefined {
  if (!a && !b) return undefined;
  const out: TopicRights = {};
  if (a?.subscribe || b?.subscribe) out.subscribe = union(a?.subscribe, b?.subscribe);
  if (a?.publish || b?.publish) out.publish = union(a?.publish, b?.publish);
  return out;
}

type Dir = NonNullable<MessageLimits['delivered']>;

/** Lays `from` over `into` for the chosen partitions; higher limits win. */
function mergeMessageLimits(into: MessageLimits | undefined, from: MessageLimits | undefined, rate: boolean, quota: boolean): MessageLimits | undefined {
  if (!from) return into;
  const out: MessageLimits = { ...(into ?? {}) };
  for (const dir of ['delivered', 'published'] as const) {
    const f = from[dir];
    if (!f) continue;
    const cur: Dir = { ...(out[dir] ?? {}) };
    if (rate && rateDuration(f) < rateDuration(cur)) {
      cur.rate = f.rate;
      cur.per = f.per;
    }
    if (quota) {
      if (quotaGreater(f.quota_max, cur.quota_max)) cur.quota_max = f.quota_max;
      if (quotaGreater(f.bytes_quota_max, cur.bytes_quota_max)) cur.bytes_quota_max = f.bytes_quota_max;
      if (num(f.quota_renewal_rate) > num(cur.quota_renewal_rate)) cur.quota_renewal_rate = f.quota_renewal_rate;
    }
    out[dir] = cur;
  }
  return out;
}

function clearMessageLimits(m: MessageLimits | undefined, rate: boolean, quota: boolean): MessageLimits | undefined {
  if (!m) return m;
  const out: MessageLimits = {};
  for (const dir of ['delivered', 'published'] as const) {
    const d = m[dir];
    if (!d) continue;
    const c: Dir = { ...d };
    if (rate) {
      delete c.rate;
      delete c.per;
    }
    if (quota) {
      delete c.quota_max;
      delete c.bytes_quota_max;
      delete c.quota_renewal_rate;
    }
    out[dir] = c;
  }
  return out;
}

/** Raises `target`'s rate to the policy's when the policy allows more requests. */
function applyRate(target: LimitFields, p: Policy): void {
  const pl = policyLimit(p);
  if (rateDuration(pl) === Number.POSITIVE_INFINITY) return;
  if (rateDuration(target) > rateDuration(pl)) {
    target.rate = pl.rate;
    target.per = pl.per;
  }
}

export function applyPolicies(stored: Session, lookup: (id: string) => Policy | undefined): ApplyResult {
  const s = structuredClone(stored) as Session;
  if (!s.meta_data || typeof s.meta_data !== 'object') s.meta_data = {};
  const ids = policyIds(s);
  if (!ids.length) {
    for (const [apiId, ar] of Object.entries(s.access_rights ?? {})) {
      if (!limitIsEmpty(ar.limit) && !ar.allowance_scope) ar.allowance_scope = apiId;
    }
    return { ok: true, session: s };
  }

  const policies: Policy[] = [];
  for (const id of ids) {
    const p = lookup(id);
    if (p) policies.push(p);
    else if (ids.length === 1) return { ok: false, error: `policy not found: ${JSON.stringify(id)}` };
  }
  if (!policies.length) return { ok: false, error: `none of the policies exist: ${ids.map((x) => JSON.stringify(x)).join(', ')}` };

  // Clear what the policies are about to set, so a lower value on the key does not win.
  for (const p of policies) {
    const { parts } = partsOf(p);
    if (parts.quota) {
      s.quota_max = 0;
      s.quota_remaining = 0;
    }
    if (parts.rate_limit) {
      s.rate = 0;
      s.per = 0;
      s.throttle_interval = 0;
      s.throttle_retry_limit = 0;
    }
    if (parts.complexity) s.max_query_depth = 0;
    s.message_limits = clearMessageLimits(s.message_limits, parts.rate_limit, parts.quota);
  }

  const rights: Record<string, AccessDefinition> = {};
  const setBy = new Map<string, string>();
  const didAcl = new Set<string>();
  const didQuota = new Set<string>();
  const didRate = new Set<string>();
  const didComplexity = new Set<string>();
  let didPerApi = false;
  let didPartition = false;
  const tags = new Set<string>();
  let inactive = s.is_inactive === true;

  for (const p of policies) {
    const { parts, partitioned } = partsOf(p);
    const perApi = p.partitions?.per_api === true;
    if (perApi && partitioned) return { ok: false, error: `policy ${p.id} has per_api and partitions set` };
    if ((perApi && didPartition) || (!perApi && partitioned && didPerApi)) return { ok: false, error: 'a key cannot combine per_api policies with partitioned ones' };

    if (perApi) {
      for (const [apiId, v] of Object.entries(p.access_rights ?? {})) {
        const own = !limitIsEmpty(v.limit);
        const ar: AccessDefinition = structuredClone(v);
        ar.api_id = v.api_id || apiId;
        ar.limit = own ? { ...v.limit } : policyLimit(p);
        ar.allowance_scope = own ? apiId : p.id;
        if (!ar.message_limits && p.message_limits) ar.message_limits = structuredClone(p.message_limits);
        const cur = rights[apiId];
        if (cur) {
          // Two per_api policies on one API: the higher limits win.
          if (rateDuration(cur.limit) < rateDuration(ar.limit)) {
            ar.limit.rate = cur.limit?.rate;
            ar.limit.per = cur.limit?.per;
            ar.allowance_scope = cur.allowance_scope;
          }
          if (quotaGreater(cur.limit?.quota_max, ar.limit.quota_max)) ar.limit.quota_max = cur.limit?.quota_max;
          if (num(cur.limit?.quota_renewal_rate) > num(ar.limit.quota_renewal_rate)) ar.limit.quota_renewal_rate = cur.limit?.quota_renewal_rate;
          ar.versions = union(cur.versions, ar.versions);
          ar.allowed_urls = mergeAllowedUrls(cur.allowed_urls, ar.allowed_urls);
          ar.topics = mergeTopics(cur.topics, ar.topics);
          ar.message_limits = mergeMessageLimits(cur.message_limits, ar.message_limits, true, true);
        }
        rights[apiId] = ar;
        didAcl.add(apiId);
        didQuota.add(apiId);
        didRate.add(apiId);
        didComplexity.add(apiId);
      }
      if (Object.keys(p.access_rights ?? {}).length) didPerApi = true;
    } else {
      const entries = Object.entries(p.access_rights ?? {});
      for (const [apiId, v] of entries) {
        const ar: AccessDefinition = rights[apiId] ?? { api_id: v.api_id || apiId, limit: {} };
        if (v.api_name && !ar.api_name) ar.api_name = v.api_name;
        ar.limit = { ...(ar.limit ?? {}) };
        if (parts.acl) {
          didAcl.add(apiId);
          ar.versions = union(ar.versions, v.versions);
          ar.allowed_urls = mergeAllowedUrls(ar.allowed_urls, v.allowed_urls);
          ar.topics = mergeTopics(ar.topics, v.topics);
          for (const [k, val] of Object.entries(v)) {
            // Carry fields Sluice does not interpret (GraphQL, MCP) from the first policy that has them.
            if (!(k in ar) && !['limit', 'allowance_scope', 'message_limits'].includes(k)) (ar as unknown as Record<string, unknown>)[k] = structuredClone(val);
          }
          setBy.set(apiId, p.id);
        }
        if (parts.quota) {
          didQuota.add(apiId);
          if (quotaGreater(p.quota_max, ar.limit.quota_max)) {
            ar.limit.quota_max = p.quota_max;
            if (quotaGreater(p.quota_max, s.quota_max)) s.quota_max = p.quota_max;
          }
          if (num(p.quota_renewal_rate) > num(ar.limit.quota_renewal_rate)) {
            ar.limit.quota_renewal_rate = p.quota_renewal_rate;
            if (num(p.quota_renewal_rate) > num(s.quota_renewal_rate)) s.quota_renewal_rate = p.quota_renewal_rate;
          }
        }
        if (parts.rate_limit) {
          didRate.add(apiId);
          applyRate(ar.limit, p);
          applyRate(s, p);
          if (num(p.throttle_retry_limit) > num(ar.limit.throttle_retry_limit)) {
            ar.limit.throttle_retry_limit = p.throttle_retry_limit;
            if (num(p.throttle_retry_limit) > num(s.throttle_retry_limit)) s.throttle_retry_limit = p.throttle_retry_limit;
          }
          if (num(p.throttle_interval) > num(ar.limit.throttle_interval)) {
            ar.limit.throttle_interval = p.throttle_interval;
            if (num(p.throttle_interval) > num(s.throttle_interval)) s.throttle_interval = p.throttle_interval;
          }
        }
        if (parts.complexity) {
          didComplexity.add(apiId);
          if (num(p.max_query_depth) > num(ar.limit.max_query_depth) || p.max_query_depth === -1) ar.limit.max_query_depth = p.max_query_depth;
        }
        ar.message_limits = mergeMessageLimits(ar.message_limits, v.message_limits ?? p.message_limits, parts.rate_limit, parts.quota);
        rights[apiId] = ar;
      }
      if (!entries.length) {
        // Master policy: session-level values.
        if (parts.rate_limit) {
          s.rate = num(p.rate);
          s.per = num(p.per);
          s.throttle_interval = num(p.throttle_interval);
          s.throttle_retry_limit = num(p.throttle_retry_limit);
        }
        if (parts.complexity) s.max_query_depth = num(p.max_query_depth);
        if (parts.quota) {
          s.quota_max = num(p.quota_max);
          s.quota_renewal_rate = num(p.quota_renewal_rate);
        }
      }
      if (!entries.length || !partitioned) s.message_limits = mergeMessageLimits(s.message_limits, p.message_limits, parts.rate_limit, parts.quota);
      didPartition = didPartition || partitioned;
    }

    if (p.is_inactive === true || p.active === false) inactive = true;
    for (const t of p.tags ?? []) tags.add(t);
    if (p.meta_data && typeof p.meta_data === 'object') Object.assign(s.meta_data as Record<string, unknown>, structuredClone(p.meta_data));
    if (typeof p.last_updated === 'string' && p.last_updated > String(s.last_updated ?? '')) s.last_updated = p.last_updated;
  }

  for (const t of s.tags ?? []) tags.add(t);
  s.tags = [...tags];
  s.is_inactive = inactive;

  const distinctSetters = new Set(setBy.values());
  for (const [apiId, ar] of Object.entries(rights)) {
    if (!didAcl.has(apiId)) {
      delete rights[apiId];
      continue;
    }
    const l: LimitFields = (ar.limit ??= {});
    if (!didRate.has(apiId)) {
      l.rate = num(s.rate);
      l.per = num(s.per);
      l.throttle_interval = num(s.throttle_interval);
      l.throttle_retry_limit = num(s.throttle_retry_limit);
    }
    if (!didComplexity.has(apiId)) l.max_query_depth = num(s.max_query_depth);
    if (!didQuota.has(apiId)) {
      l.quota_max = num(s.quota_max);
      l.quota_renewal_rate = num(s.quota_renewal_rate);
    }
    if (!ar.message_limits && s.message_limits) ar.message_limits = structuredClone(s.message_limits);
    if (distinctSetters.size > 1 && !ar.allowance_scope && setBy.has(apiId)) ar.allowance_scope = setBy.get(apiId);
  }

  // One API only: mirror its limits at the session level (Tyk's legacy behaviour).
  if (didQuota.size === 1 && didRate.size === 1 && didComplexity.size === 1) {
    const only = Object.values(rights)[0];
    if (only?.limit) {
      s.rate = num(only.limit.rate);
      s.per = num(only.limit.per);
      s.quota_max = num(only.limit.quota_max);
      s.quota_renewal_rate = num(only.limit.quota_renewal_rate);
      s.max_query_depth = num(only.limit.max_query_depth);
    }
  }

  if (didAcl.size > 0) s.access_rights = rights;
  if (!Object.keys(s.access_rights ?? {}).length) return { ok: false, error: 'the key has no access rights: neither its own nor from its policies' };
  return { ok: true, session: s };
}
