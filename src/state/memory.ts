/** In-process hot state: the default when no Redis is configured. Exact within one process. */
import { grantFor, windowEnd, type CounterPeek, type HotState, type SlidingResult, type TakeResult, type WindowMode } from './types.js';

interface Counter {
  n: number;
  /** Window end (ms); -1 = never. */
  r: number;
}

interface Log {
  /** Timestamps of allowed hits, oldest first, from `head`. */
  hits: number[];
  head: number;
  windowMs: number;
}

export interface MemoryStateOptions {
  /** Clock, for tests. */
  readonly now?: () => number;
  /** How often expired entries are swept (ms). */
  readonly sweepMs?: number;
}

export class MemoryState implements HotState {
  readonly kind = 'memory' as const;
  readonly #now: () => number;
  readonly #counters = new Map<string, Counter>();
  readonly #logs = new Map<string, Log>();
  readonly #timer: NodeJS.Timeout;

  constructor(opts: MemoryStateOptions = {}) {
    this.#now = opts.now ?? Date.now;
    this.#timer = setInterval(() => this.#sweep(), opts.sweepMs ?? 10_000);
    this.#timer.unref();
  }

  async slidingHit(key: string, limit: number, windowMs: number): Promise<SlidingResult> {
    return this.slidingHitSync(key, limit, windowMs);
  }

  slidingHitSync(key: string, limit: number, windowMs: number): SlidingResult {
    const now = this.#now();
    let log = this.#logs.get(key);
    if (!log) {
      log = { hits: [], head: 0, windowMs };
      this.#logs.set(key, log);
    }
    log.windowMs = windowMs;
    const floor = now - windowMs;
    while (log.head < log.hits.length && log.hits[log.head]! <= floor) log.head++;
    if (log.head > 1024 && log.head * 2 > log.hits.length) {
      log.hits = log.hits.slice(log.head);
      log.head = 0;
    }
    let count = log.hits.length - log.head;
    let allowed = false;
    if (count < limit) {
      log.hits.push(now);
      count++;
      allowed = true;
    }
    const oldest = log.hits[log.head];
    return { allowed, limit, remaining: Math.max(0, limit - count), resetInMs: oldest === undefined ? windowMs : oldest + windowMs - now };
  }

  async take(key: string, limit: number, windowMs: number, want: number, min: number, mode: WindowMode): Promise<TakeResult> {
    return this.takeSync(key, limit, windowMs, want, min, mode);
  }

  takeSync(key: string, limit: number, windowMs: number, want: number, min: number, mode: WindowMode): TakeResult {
    const now = this.#now();
    let c = this.#counters.get(key);
    if (!c || (c.r >= 0 && now >= c.r) || (c.r < 0 && windowMs > 0)) {
      c = { n: 0, r: windowEnd(now, windowMs, mode) };
      this.#counters.set(key, c);
    }
    const granted = grantFor(limit - c.n, want, min);
    c.n += granted;
    return { granted, remaining: Math.max(0, limit - c.n), resetInMs: c.r < 0 ? -1 : c.r - now, window: c.r };
  }

  async giveBack(key: string, amount: number, window: number): Promise<void> {
    const c = this.#counters.get(key);
    if (c && c.r === window) c.n = Math.max(0, c.n - amount);
  }

  async peek(key: string): Promise<CounterPeek | undefined> {
    const c = this.#counters.get(key);
    const now = this.#now();
    if (!c || (c.r >= 0 && now >= c.r)) return undefined;
    return { used: c.n, resetInMs: c.r < 0 ? -1 : c.r - now };
  }

  async reset(keys: readonly string[]): Promise<void> {
    for (const k of keys) {
      this.#counters.delete(k);
      this.#logs.delete(k);
    }
  }

  #sweep(): void {
    const now = this.#now();
    for (const [k, c] of this.#counters) if (c.r >= 0 && now >= c.r) this.#counters.delete(k);
    for (const [k, l] of this.#logs) {
      const last = l.hits[l.hits.length - 1];
      if (last === undefined || last <= now - l.windowMs) this.#logs.delete(k);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#counters.clear();
    this.#logs.clear();
  }
}
