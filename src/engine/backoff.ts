/** Exponential backoff with jitter, for reconnects and retries. */

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  factor?: number;
  /** 0..1 share of the delay that is randomised. */
  jitter?: number;
}

export class Backoff {
  #attempt = 0;
  readonly #initial: number;
  readonly #max: number;
  readonly #factor: number;
  readonly #jitter: number;

  constructor(opts: BackoffOptions = {}) {
    this.#initial = opts.initialMs ?? 100;
    this.#max = opts.maxMs ?? 10_000;
    this.#factor = opts.factor ?? 2;
    this.#jitter = opts.jitter ?? 0.2;
  }

  get attempt(): number {
    return this.#attempt;
  }

  next(): number {
    const base = Math.min(this.#max, this.#initial * this.#factor ** this.#attempt);
    this.#attempt++;
    const j = base * this.#jitter;
    return Math.max(0, Math.round(base - j + Math.random() * 2 * j));
  }

  reset(): void {
    this.#attempt = 0;
  }
}

/** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Parses Go-style durations as Benthos configs use them: `500ms`, `1.5s`, `1m30s`, `2h`. '' → undefined. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === '' ) return undefined;
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let m: RegExpExecArray | null;
  let pos = 0;
  re.lastIndex = 0;
  while ((m = re.exec(s)) !== null) {
    const n = Number(m[1]);
    const unit = m[2];
    total += n * (unit === 'h' ? 3_600_000 : unit === 'm' ? 60_000 : unit === 's' ? 1000 : unit === 'ms' ? 1 : unit === 'ns' ? 1e-6 : 1e-3);
    pos = re.lastIndex;
  }
  if (pos !== s.length || pos === 0) throw new Error(`invalid duration "${text}": expected e.g. 500ms, 5s, 1m30s`);
  return total;
}

/** The parked waiters of each signal: one abort listener per signal, not one per wait. */
const parked = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Waits until the callback handed to `register` is called (new data arrived) or `signal`
 * aborts. Inputs use it to park `read()` without polling, once per message at low rates, so it
 * avoids adding and removing an abort listener (slow on EventTarget) each time.
 */
export function untilWoken(signal: AbortSignal, register: (wake: () => void) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    let waiters = parked.get(signal);
    if (!waiters) {
      const set = new Set<() => void>();
      waiters = set;
      parked.set(signal, set);
      signal.addEventListener('abort', () => {
        for (const w of [...set]) w();
      }, { once: true });
    }
    const set = waiters;
    const done = () => {
      set.delete(done);
      resolve();
    };
    set.add(done);
    register(done);
  });
}
