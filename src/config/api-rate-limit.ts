/**
 * The API-wide rate limit of a Tyk OAS document, `x-tyk-api-gateway.upstream.rateLimit`
 * (`{enabled, rate, per}`, `per` a duration such as `1s`, `1m`, `1h30m`): one limit for every
 * client of the API together (Tyk's "API Rate Limit Exceeded").
 */
import { parseDuration } from '../engine/backoff.js';

export interface ApiRateLimit {
  readonly rate: number;
  readonly perMs: number;
}

const WHERE = 'x-tyk-api-gateway.upstream.rateLimit';

/** What is wrong with the limit, by field path; empty when it is off or well formed. */
export function apiRateLimitIssues(document: Readonly<Record<string, unknown>>): { path: string; message: string }[] {
  const rl = rawLimit(document);
  if (!rl || rl.enabled !== true) return [];
  const issues: { path: string; message: string }[] = [];
  if (typeof rl.rate !== 'number' || !Number.isInteger(rl.rate) || rl.rate < 1) {
    issues.push({ path: `${WHERE}.rate`, message: `upstream.rateLimit.rate must be a positive integer, got ${JSON.stringify(rl.rate)}` });
  }
  if (perMs(rl.per) === undefined) {
    issues.push({ path: `${WHERE}.per`, message: `upstream.rateLimit.per must be a duration such as "1s" or "1m", got ${JSON.stringify(rl.per)}` });
  }
  return issues;
}

/** The limit, or undefined when off. Throws naming the field when it is on but malformed. */
export function apiRateLimitOf(document: Readonly<Record<string, unknown>>): ApiRateLimit | undefined {
  const issues = apiRateLimitIssues(document);
  if (issues.length) throw new Error(issues.map((i) => `${i.path}: ${i.message}`).join('; '));
  const rl = rawLimit(document);
  if (!rl || rl.enabled !== true) return undefined;
  return { rate: rl.rate as number, perMs: perMs(rl.per)! };
}

function rawLimit(document: Readonly<Record<string, unknown>>): { enabled?: unknown; rate?: unknown; per?: unknown } | undefined {
  const gw = document['x-tyk-api-gateway'] as { upstream?: { rateLimit?: unknown } } | undefined;
  const rl = gw?.upstream?.rateLimit;
  return rl !== null && typeof rl === 'object' ? (rl as { enabled?: unknown; rate?: unknown; per?: unknown }) : undefined;
}

function perMs(per: unknown): number | undefined {
  if (typeof per !== 'string') return undefined;
  try {
    const ms = parseDuration(per);
    return ms !== undefined && ms > 0 ? ms : undefined;
  } catch {
    return undefined;
  }
}
