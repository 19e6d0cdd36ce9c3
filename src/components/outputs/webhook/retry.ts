/**
 * The retry schedule of the webhook output: capped exponential backoff with jitter, and the
 * `Retry-After` response header.
 *
 * The uncapped wait before retry k (k = 1 for the first retry) is
 * `initial × multiplier^(k-1)`, capped at `max`. Jitter then picks the actual wait:
 * - `equal` (the default): half of the capped wait plus a random share of the other half, so a
 *   struggling receiver always gets at least half the intended pause;
 * - `full`: a random wait between 0 and the capped wait (spreads retries most);
 * - `none`: exactly the capped wait.
 *
 * With `honor_retry_after`, a `Retry-After` header (seconds or an HTTP date) on the failed
 * response lengthens the wait to what the receiver asked for, still capped at `max`.
 */

export type Jitter = 'full' | 'equal' | 'none';
export const JITTERS: readonly Jitter[] = ['equal', 'full', 'none'];

export interface RetrySchedule {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly multiplier: number;
  readonly jitter: Jitter;
}

/** The capped wait before retry `retry` (1-based), before jitter. */
export function cappedDelay(s: RetrySchedule, retry: number): number {
  const exp = s.initialMs * Math.pow(Math.max(1, s.multiplier), Math.max(0, retry - 1));
  return Math.max(0, Math.min(s.maxMs, Number.isFinite(exp) ? exp : s.maxMs));
}

/** The wait before retry `retry` (1-based), with jitter. `random` returns [0, 1). */
export function retryDelay(s: RetrySchedule, retry: number, random: () => number = Math.random): number {
  const d = cappedDelay(s, retry);
  switch (s.jitter) {
    case 'none':
      return Math.round(d);
    case 'full':
      return Math.round(random() * d);
    case 'equal':
      return Math.round(d / 2 + random() * (d / 2));
  }
}

/** Milliseconds a `Retry-After` value asks for (delta seconds or HTTP date); undefined when absent or invalid. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // An HTTP date (IMF-fixdate, RFC 850 or asctime) always has a day name and an hh:mm:ss time.
  if (!/^[a-z]{3}/i.test(v) || !/\d{2}:\d{2}:\d{2}/.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** The wait before the next attempt: the jittered backoff, or longer when the receiver asked for it. */
export function nextWait(s: RetrySchedule, retry: number, retryAfterMs: number | undefined, random: () => number = Math.random): number {
  const backoff = retryDelay(s, retry, random);
  if (retryAfterMs === undefined) return backoff;
  return Math.min(s.maxMs, Math.max(backoff, retryAfterMs));
}
