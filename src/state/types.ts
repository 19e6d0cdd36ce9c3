/**
 * Hot state: the counters behind rate limits and quotas. Two backends with the same semantics:
 * in memory (one process, the default) and Redis (`--redis redis://...`), where every operation
 * is one atomic Lua script, so limits are exact across all processes sharing the Redis.
 *
 * Two primitives cover everything:
 *  - `slidingHit`: a sliding-window log, like Tyk's Redis rate limiter: a hit is allowed when
 *    fewer than `limit` allowed hits fall in the last `windowMs`. Blocked hits are not logged
 *    (Tyk logs them too, which keeps a client that never slows down blocked for ever; Sluice
 *    lets capacity come back as old hits age out).
 *  - `take`: a counter over a window that either starts at fixed boundaries (`aligned`: fixed-window
 *    rate limits) or at the first use after the previous window ended (`lazy`: Tyk's quota
 *    renewal: "reset happens on the first request after expiry"). It grants up to `want` units,
 *    or nothing when fewer than `min` are left.
 */

export interface SlidingResult {
  readonly allowed: boolean;
  readonly limit: number;
  /** Hits still allowed in the current window (after this one). */
  readonly remaining: number;
  /** Milliseconds until the oldest counted hit leaves the window (a slot frees). */
  readonly resetInMs: number;
}

export interface TakeResult {
  /** Units granted: between `min` and `want`, or 0. */
  readonly granted: number;
  /** Units left in the window after this grant. */
  readonly remaining: number;
  /** Milliseconds until the window ends; -1 when it never does (window 0). */
  readonly resetInMs: number;
  /** Identifies the window (its end, on the state's clock), for `giveBack`. */
  readonly window: number;
}

export interface CounterPeek {
  readonly used: number;
  readonly resetInMs: number;
}

export type WindowMode = 'aligned' | 'lazy';

export interface HotState {
  readonly kind: 'memory' | 'redis';
  slidingHit(key: string, limit: number, windowMs: number): Promise<SlidingResult>;
  /** `windowMs` 0 = the window never ends (a quota that never renews). */
  take(key: string, limit: number, windowMs: number, want: number, min: number, mode: WindowMode): Promise<TakeResult>;
  /** Returns unused units to the counter, if its window is still `window`. */
  giveBack(key: string, amount: number, window: number): Promise<void>;
  /** How much of a `take` counter is used in its current window; undefined when none is running. */
  peek(key: string): Promise<CounterPeek | undefined>;
  /** Forgets counters (quota reset on key update, tests). */
  reset(keys: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/** Pure helpers shared by both backends, so the two cannot drift apart. */
export function windowEnd(now: number, windowMs: number, mode: WindowMode): number {
  if (windowMs <= 0) return -1;
  return mode === 'aligned' ? (Math.floor(now / windowMs) + 1) * windowMs : now + windowMs;
}

/**
 * Near the end of a window a lease request shrinks to what is needed right now, so tokens are
 * not parked in one process while another process is refused.
 */
export function grantFor(available: number, want: number, min: number): number {
  const w = want > min && available < want * 4 ? min : want;
  const g = Math.min(w, Math.max(0, available));
  return g < min ? 0 : g;
}
