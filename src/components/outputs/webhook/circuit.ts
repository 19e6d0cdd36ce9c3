/**
 * Circuit breakers of the webhook output, one per endpoint (scheme, host and path of the
 * rendered URL; the query string is not part of the key).
 *
 *   closed ── `threshold` consecutive failures ──▶ open
 *   open ── `openForMs` elapsed, next request ──▶ half-open (that request is the only probe)
 *   half-open ── probe succeeded ──▶ closed       half-open ── probe failed ──▶ open (timer restarts)
 *
 * While open, and while the probe is out, requests to that endpoint are refused without being
 * sent. A failure is what the output would retry (a `retry_on` status or a network error); any
 * other response shows the endpoint is up and counts as a success. An endpoint is tracked only
 * while it has failures, so endpoints that work cost no memory.
 */

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitOptions {
  /** Consecutive failures that open the circuit; 0 disables the breaker. */
  readonly threshold: number;
  readonly openForMs: number;
  /** Endpoints tracked at most (the oldest closed ones are forgotten first). Default 10 000. */
  readonly maxEndpoints?: number;
  readonly now?: () => number;
  /** Called on every state change (for logs). */
  readonly onChange?: (key: string, from: CircuitState, to: CircuitState) => void;
}

interface Entry {
  state: CircuitState;
  failures: number;
  openedAt: number;
  probing: boolean;
}

/** The outcome of asking to send a request. */
export type Permit =
  | { readonly allowed: true; readonly probe: boolean; done(ok: boolean): void; cancel(): void }
  | { readonly allowed: false; readonly state: 'open' | 'half_open'; /** ms until a probe may go; undefined while a probe is out. */ readonly retryInMs: number | undefined };

const NOOP_PERMIT: Permit = { allowed: true, probe: false, done: () => {}, cancel: () => {} };

export class CircuitBreakers {
  readonly #threshold: number;
  readonly #openForMs: number;
  readonly #max: number;
  readonly #now: () => number;
  readonly #onChange: CircuitOptions['onChange'];
  readonly #entries = new Map<string, Entry>();

  constructor(opts: CircuitOptions) {
    this.#threshold = Math.max(0, Math.floor(opts.threshold));
    this.#openForMs = Math.max(0, opts.openForMs);
    this.#max = opts.maxEndpoints ?? 10_000;
    this.#now = opts.now ?? Date.now;
    this.#onChange = opts.onChange;
  }

  get enabled(): boolean {
    return this.#threshold > 0;
  }

  /** Endpoints currently tracked (with failures, open or half-open). */
  get size(): number {
    return this.#entries.size;
  }

  state(key: string): CircuitState {
    const e = this.#entries.get(key);
    if (!e) return 'closed';
    if (e.state === 'open' && !e.probing && this.#now() - e.openedAt >= this.#openForMs) return 'half_open';
    return e.state;
  }

  /** Asks to send one request to `key`. An allowed request must be settled with `done` or `cancel`. */
  acquire(key: string): Permit {
    if (!this.enabled) return NOOP_PERMIT;
    const e = this.#entries.get(key);
    if (!e || e.state === 'closed') return this.#permit(key, false);
    if (e.state === 'open') {
      const left = e.openedAt + this.#openForMs - this.#now();
      if (left > 0) return { allowed: false, state: 'open', retryInMs: left };
      this.#set(key, e, 'half_open');
    }
    if (e.probing) return { allowed: false, state: 'half_open', retryInMs: undefined };
    e.probing = true;
    return this.#permit(key, true);
  }

  #permit(key: string, probe: boolean): Permit {
    let settled = false;
    return {
      allowed: true,
      probe,
      done: (ok) => {
        if (settled) return;
        settled = true;
        if (ok) this.#success(key, probe);
        else this.#failure(key, probe);
      },
      cancel: () => {
        if (settled) return;
        settled = true;
        const e = this.#entries.get(key);
        // An abandoned probe leaves the circuit half-open for the next request to probe.
        if (probe && e) e.probing = false;
      },
    };
  }

  #success(key: string, probe: boolean): void {
    const e = this.#entries.get(key);
    if (!e) return;
    // A late success of a request sent before the circuit opened does not close it: only the probe does.
    if (e.state !== 'closed' && !probe) return;
    if (e.state !== 'closed') this.#set(key, e, 'closed');
    this.#entries.delete(key);
  }

  #failure(key: string, probe: boolean): void {
    let e = this.#entries.get(key);
    if (!e) {
      this.#evict();
      e = { state: 'closed', failures: 0, openedAt: 0, probing: false };
      this.#entries.set(key, e);
    }
    if (probe) {
      e.probing = false;
      e.openedAt = this.#now();
      this.#set(key, e, 'open');
      return;
    }
    if (e.state !== 'closed') return;
    e.failures++;
    if (e.failures >= this.#threshold) {
      e.openedAt = this.#now();
      this.#set(key, e, 'open');
    }
  }

  #set(key: string, e: Entry, to: CircuitState): void {
    const from = e.state;
    e.state = to;
    if (to === 'closed') e.failures = 0;
    if (from !== to) this.#onChange?.(key, from, to);
  }

  #evict(): void {
    if (this.#entries.size < this.#max) return;
    for (const [k, e] of this.#entries) {
      if (e.state === 'closed') {
        this.#entries.delete(k);
        return;
      }
    }
    // Every tracked endpoint is open: forget the oldest.
    const first = this.#entries.keys().next();
    if (!first.done) this.#entries.delete(first.value);
  }
}

/** The breaker key of a URL: scheme, host (with port) and path; no credentials, no query. */
export function endpointKey(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}
