/**
 * Per-message limits without a Redis round trip per message: each process leases a block of
 * units from the shared counter (`HotState.take`) and spends it locally, synchronously.
 *
 * How the limit stays exact across processes:
 *  - Units are deducted from the shared counter, atomically, *before* any is spent; a process
 *    only spends units it holds. The sum spent across processes can therefore never exceed the
 *    limit: no over-admission, ever.
 *  - A lease is valid until its window ends, measured from the moment the request was *sent*
 *    (the window's remaining time is read from Redis's clock), so a lease can never outlive its
 *    window, whatever the local clock says.
 *  - Leases are small (5 % of the limit by default) and, near the end of a window, shrink to
 *    exactly what is needed (see `grantFor`), so little is parked in one process while another
 *    is refused.
 *  - Units a process leased but did not spend go back to the counter when the lease has been
 *    idle for `idleReturnMs` (default 2 s) and on close, if the window is still the same.
 *  - Once the counter refuses, the process refuses locally for `denyCacheMs` (250 ms) before
 *    asking again, so a client far over its limit costs at most a few round trips a second.
 * The only inexactness left is under-admission, bounded by the units leased and not yet spent
 * or returned at that moment (and by the 250 ms refusal memory after units come back); it ends
 * when their holder spends or returns them.
 */
import type { HotState, WindowMode } from './types.js';

export type LeaseVerdict = { readonly ok: true } | { readonly ok: false; readonly retryAfterMs: number };

const OK: LeaseVerdict = Object.freeze({ ok: true });

interface Lease {
  tokens: number;
  /** Local time (ms) after which the lease is void. */
  expiresAt: number;
  window: number;
  limit: number;
  windowMs: number;
  lastUsed: number;
  refill: Promise<void> | undefined;
  /** After a refusal: refuse locally until then (local ms) instead of asking again per message. */
  deniedUntil: number;
  /** The smallest amount refused: smaller spends still ask. */
  deniedN: number;
  retryAt: number;
}

export interface LeaseOptions {
  /** Share of the limit asked for per lease (default 0.05). */
  readonly fraction?: number;
  /** Leases idle this long are returned (ms, default 2000). */
  readonly idleReturnMs?: number;
  /** After the counter refuses, refuse locally for this long (ms, default 250) before asking again. */
  readonly denyCacheMs?: number;
  readonly now?: () => number;
}

export class Leases {
  readonly #state: HotState;
  readonly #fraction: number;
  readonly #idleMs: number;
  readonly #denyMs: number;
  readonly #now: () => number;
  readonly #leases = new Map<string, Lease>();
  readonly #timer: NodeJS.Timeout;

  constructor(state: HotState, opts: LeaseOptions = {}) {
    this.#state = state;
    this.#fraction = opts.fraction ?? 0.05;
    this.#idleMs = opts.idleReturnMs ?? 2000;
    this.#denyMs = opts.denyCacheMs ?? 250;
    this.#now = opts.now ?? Date.now;
    this.#timer = setInterval(() => void this.#returnIdle(), Math.max(100, Math.min(1000, this.#idleMs / 2)));
    this.#timer.unref();
  }

  /** Spends `n` units from a lease this process holds; false when it must ask the counter. */
  trySpend(key: string, limit: number, windowMs: number, n: number): boolean {
    const l = this.#leases.get(key);
    if (!l || l.tokens < n || l.limit !== limit || l.windowMs !== windowMs) return false;
    const now = this.#now();
    if (now >= l.expiresAt) return false;
    l.tokens -= n;
    l.lastUsed = now;
    return true;
  }

  /** Gives back `n` units just spent (when a later check of the same message failed). */
  refund(key: string, n: number): void {
    const l = this.#leases.get(key);
    if (l && this.#now() < l.expiresAt) l.tokens += n;
  }

  /** Spends `n` units, leasing more from the shared counter when needed. */
  spend(key: string, limit: number, windowMs: number, mode: WindowMode, n: number): LeaseVerdict | Promise<LeaseVerdict> {
    if (n <= 0) return OK;
    if (this.trySpend(key, limit, windowMs, n)) return OK;
    const l = this.#leases.get(key);
    if (l && !l.refill && l.limit === limit && l.windowMs === windowMs) {
      const now = this.#now();
      if (now < l.deniedUntil && n >= l.deniedN) return { ok: false, retryAfterMs: l.retryAt < 0 ? -1 : Math.max(0, l.retryAt - now) };
    }
    return this.#spendAsync(key, limit, windowMs, mode, n);
  }

  async #spendAsync(key: string, limit: number, windowMs: number, mode: WindowMode, n: number): Promise<LeaseVerdict> {
    for (;;) {
      const pending = this.#leases.get(key)?.refill;
      if (!pending) break;
      await pending;
      if (this.trySpend(key, limit, windowMs, n)) return OK;
    }
    if (n > limit) return { ok: false, retryAfterMs: -1 };
    let verdict: LeaseVerdict = OK;
    const refill = (async () => {
      const sentAt = this.#now();
      const cur = this.#leases.get(key);
      const held = cur && cur.limit === limit && cur.windowMs === windowMs && sentAt < cur.expiresAt ? cur.tokens : 0;
      const need = Math.max(0, n - held);
      const want = Math.max(need, Math.min(limit, Math.ceil(limit * this.#fraction)));
      const r = await this.#state.take(key, limit, windowMs, want, need, mode);
      const expiresAt = r.resetInMs < 0 ? Number.POSITIVE_INFINITY : sentAt + r.resetInMs;
      const sameWindow = cur !== undefined && cur.window === r.window && held > 0;
      if (cur && !sameWindow && cur.tokens > 0 && this.#now() < cur.expiresAt) {
        // The counter moved to a new window while we held units of the old one: they are void.
        cur.tokens = 0;
      }
      const base = sameWindow ? cur.tokens : 0;
      const lease: Lease = { tokens: base + r.granted, expiresAt, window: r.window, limit, windowMs, lastUsed: this.#now(), refill: undefined, deniedUntil: 0, deniedN: 0, retryAt: 0 };
      if (r.granted >= need && lease.tokens >= n) {
        lease.tokens -= n;
        verdict = OK;
      } else {
        verdict = { ok: false, retryAfterMs: r.resetInMs };
        lease.retryAt = r.resetInMs < 0 ? -1 : sentAt + r.resetInMs;
        lease.deniedUntil = Math.min(expiresAt, sentAt + this.#denyMs);
        lease.deniedN = n;
      }
      this.#leases.set(key, lease);
    })();
    const holder = this.#leases.get(key);
    if (holder) holder.refill = refill;
    else this.#leases.set(key, { tokens: 0, expiresAt: 0, window: Number.NaN, limit, windowMs, lastUsed: this.#now(), refill, deniedUntil: 0, deniedN: 0, retryAt: 0 });
    try {
      await refill;
    } finally {
      const l = this.#leases.get(key);
      if (l && l.refill === refill) l.refill = undefined;
    }
    return verdict;
  }

  /** Drops (and returns) every lease whose key passes `match` (a key was revoked or changed). */
  async drop(match: (key: string) => boolean = () => true): Promise<void> {
    const work: Promise<void>[] = [];
    for (const [k, l] of this.#leases) {
      if (!match(k) || l.refill) continue;
      this.#leases.delete(k);
      if (l.tokens > 0 && this.#now() < l.expiresAt) work.push(this.#state.giveBack(k, l.tokens, l.window).catch(() => undefined));
    }
    await Promise.all(work);
  }

  async #returnIdle(): Promise<void> {
    const now = this.#now();
    const work: Promise<void>[] = [];
    for (const [k, l] of this.#leases) {
      if (l.refill) continue;
      if (now >= l.expiresAt) {
        this.#leases.delete(k);
        continue;
      }
      if (now - l.lastUsed >= this.#idleMs) {
        this.#leases.delete(k);
        if (l.tokens > 0) work.push(this.#state.giveBack(k, l.tokens, l.window).catch(() => undefined));
      }
    }
    await Promise.all(work);
  }

  /** Units currently held locally for `key` (tests, diagnostics). */
  held(key: string): number {
    const l = this.#leases.get(key);
    return l && this.#now() < l.expiresAt ? l.tokens : 0;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.drop();
  }
}
