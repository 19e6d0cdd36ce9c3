/**
 * The delivery log of webhook outputs: the final outcome of each message, the last N per output
 * kept in memory (a ring buffer), and a process-wide registry to read them by stream and
 * component path (for the management API, later).
 */

export type DeliveryOutcome = 'delivered' | 'dead_lettered' | 'failed';

export interface WebhookDelivery {
  /** The `webhook-id` sent (the same across attempts). */
  readonly id: string;
  /** The URL, with its password and secret-looking query values redacted. */
  readonly url: string;
  /** Status of the last response; 0 when none was received (network error, refused by the circuit). */
  readonly status: number;
  /** Requests sent, plus attempts the circuit breaker refused. */
  readonly attempts: number;
  /** From the first attempt to the final outcome (including waits between attempts). */
  readonly latency_ms: number;
  readonly outcome: DeliveryOutcome;
  /** Why the last attempt failed; '' when delivered. */
  readonly last_error: string;
  /** When the outcome was reached, ISO 8601. */
  readonly time: string;
}

/** A bounded, in-memory list of the latest deliveries, oldest first. */
export class DeliveryLog {
  readonly capacity: number;
  readonly #ring: WebhookDelivery[] = [];
  #next = 0;

  constructor(capacity: number) {
    this.capacity = Math.max(0, Math.floor(capacity));
  }

  add(d: WebhookDelivery): void {
    if (this.capacity === 0) return;
    if (this.#ring.length < this.capacity) this.#ring.push(d);
    else {
      this.#ring[this.#next] = d;
      this.#next = (this.#next + 1) % this.capacity;
    }
  }

  /** The records, oldest first. */
  entries(): WebhookDelivery[] {
    return [...this.#ring.slice(this.#next), ...this.#ring.slice(0, this.#next)];
  }

  get size(): number {
    return this.#ring.length;
  }
}

/** Identifies a webhook output: the stream it belongs to and its config path (e.g. `output.webhook`). */
export interface WebhookOutputKey {
  readonly stream: string;
  readonly path: string;
}

const logs = new Map<string, { readonly key: WebhookOutputKey; readonly log: DeliveryLog }>();
const keyOf = (k: WebhookOutputKey) => `${k.stream}\u0000${k.path}`;

/** Registers the log of a running output (a rebuilt output replaces the previous one). */
export function registerDeliveryLog(key: WebhookOutputKey, log: DeliveryLog): () => void {
  const k = keyOf(key);
  const entry = { key, log };
  logs.set(k, entry);
  return () => {
    if (logs.get(k) === entry) logs.delete(k);
  };
}

/** The webhook outputs currently running. */
export function webhookOutputs(): WebhookOutputKey[] {
  return [...logs.values()].map((e) => e.key);
}

/**
 * The latest deliveries of the running webhook outputs, oldest first: of one output (stream and
 * path), of every webhook output of a stream (stream only), or of all (no argument).
 */
export function webhookDeliveryLog(stream?: string, path?: string): WebhookDelivery[] {
  if (stream !== undefined && path !== undefined) return logs.get(keyOf({ stream, path }))?.log.entries() ?? [];
  const out: WebhookDelivery[] = [];
  for (const e of logs.values()) if (stream === undefined || e.key.stream === stream) out.push(...e.log.entries());
  // Stable: records of the same millisecond keep their order within each output.
  return out.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
}
