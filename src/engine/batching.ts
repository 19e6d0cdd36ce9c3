/**
 * Output batching: the `batching` field (`batchingFields()` in spec.ts) that outputs such as
 * kafka, http_client, redis_* and broker declare.
 *
 * Usage, in an output's `build`:
 *
 *     const output = new MyOutput(conf, ctx);
 *     return withBatching(output, conf.batching, ctx);
 *
 * `withBatching` returns `output` itself when the policy is a no-op (every field at its default),
 * otherwise an Output whose `write(batch)` adds the batch's messages to a pending batch. The
 * pending batch is flushed (its `processors` run over it, their results joined into one batch,
 * then written with the wrapped output's `write`) when:
 *  - `count` messages are pending (count > 0),
 *  - the pending messages hold `byte_size` bytes or more (byte_size > 0),
 *  - the `check` Bloblang query returns true for the message just added,
 *  - `period` has elapsed since the last flush (and the batch is not empty),
 *  - `flush()` is called, or the output is closed (partial batches are written on shutdown).
 *
 * Delivery: the promise a `write(batch)` returns resolves only once every batch holding one of
 * its messages was written successfully, and rejects with the first failure otherwise — so
 * the input is acked or nacked exactly as without batching. A `notConnected()` failure reaches
 * the engine unchanged, which reconnects and writes that batch again (its messages then join
 * the next pending batch). At most `output.maxInFlight` flushed batches are written at once;
 * the wrapper reports a larger `maxInFlight` so that enough single-message transactions can be
 * outstanding for a batch to fill.
 *
 * `BatchPolicy` is the trigger logic alone, for inputs that batch (kafka): `add` returns true
 * when the batch should be flushed, `flush` returns it with the processors applied, `fork`
 * makes another policy with the same settings and processors (one per partition, say).
 */
import type { ComponentContext, Output, Processor } from './component.js';
import type { Mapping } from './bloblang-api.js';
import type { Batch, Message } from './message.js';
import { parseDuration } from './backoff.js';
import { runProcessors } from './pipeline.js';
import { Semaphore } from './semaphore.js';
import { rateLimitedLog } from './logger.js';

/** The `batching` field as validated (see `batchingFields()`). */
export interface BatchingConfig {
  readonly count: number;
  readonly byte_size: number;
  readonly period: string;
  readonly check: string;
  /** Processor configs (validated ComponentNodes); built through `ctx.build`. */
  readonly processors?: readonly unknown[];
}

/** True when the policy would never group anything: each batch is written as it comes. */
export function isNoopBatching(conf: BatchingConfig | undefined): boolean {
  if (!conf) return true;
  return conf.count <= 1 && conf.byte_size <= 0 && conf.period.trim() === '' && conf.check.trim() === '' && !conf.processors?.length;
}

/** Pending messages a batching wrapper allows when `count` gives no bound. */
const OPEN_WINDOW = 4096;
/** Upper bound of the outstanding transactions a batching wrapper reports. */
const MAX_WINDOW = 65_536;

/** The trigger logic of a batching policy, with the batch being built. */
export class BatchPolicy {
  readonly #count: number;
  readonly #byteSize: number;
  readonly #periodMs: number | undefined;
  readonly #check: Mapping | undefined;
  readonly #processors: readonly Processor[];
  readonly #ctx: ComponentContext;
  readonly #conf: BatchingConfig;
  readonly #log = rateLimitedLog();
  #pending: Message[] = [];
  #bytes = 0;
  #lastFlush = Date.now();

  private constructor(conf: BatchingConfig, processors: readonly Processor[], ctx: ComponentContext) {
    this.#count = Math.max(0, conf.count);
    this.#byteSize = Math.max(0, conf.byte_size);
    this.#periodMs = parseDuration(conf.period);
    this.#check = conf.check.trim() ? ctx.bloblang.compileMapping(conf.check) : undefined;
    this.#processors = processors;
    this.#ctx = ctx;
    this.#conf = conf;
  }

  /** Builds the policy, including its processors. `path` is the config path of the `batching` field. */
  static async create(conf: BatchingConfig, ctx: ComponentContext, path = `${ctx.path}.batching`): Promise<BatchPolicy> {
    const processors = conf.processors?.length ? await ctx.build.processors(conf.processors, `${path}.processors`) : [];
    return new BatchPolicy(conf, processors, ctx);
  }

  /** A new, empty policy sharing this one's configuration and processors (e.g. one per partition). */
  fork(): BatchPolicy {
    return new BatchPolicy(this.#conf, this.#processors, this.#ctx);
  }

  get count(): number {
    return this.#count;
  }

  /** Messages in the batch being built. */
  get size(): number {
    return this.#pending.length;
  }

  /** Milliseconds until the period trigger fires for a non-empty batch; undefined without a period. */
  untilNext(now = Date.now()): number | undefined {
    if (this.#periodMs === undefined) return undefined;
    return Math.max(0, this.#lastFlush + this.#periodMs - now);
  }

  /** Adds a message; true when the batch should now be flushed. */
  add(msg: Message): boolean {
    this.#pending.push(msg);
    this.#bytes += msg.bytes().byteLength;
    if (this.#count > 0 && this.#pending.length >= this.#count) return true;
    if (this.#byteSize > 0 && this.#bytes >= this.#byteSize) return true;
    if (this.#check) {
      try {
        if (this.#check.query(this.#pending, this.#pending.length - 1) === true) return true;
      } catch (err) {
        this.#log('check', () => this.#ctx.logger.error('batching check failed', { error: err instanceof Error ? err.message : String(err) }));
      }
    }
    return false;
  }

  /** Takes the batch being built (empty when nothing is pending); the processors are applied. */
  async flush(): Promise<Batch> {
    const batch = this.#pending;
    this.#pending = [];
    this.#bytes = 0;
    this.#lastFlush = Date.now();
    if (batch.length === 0 || this.#processors.length === 0) return batch;
    const out = await runProcessors(this.#processors, batch);
    return out.length === 1 ? out[0]! : out.flat();
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.#processors.map((p) => p.close?.()));
  }
}

/** Settles the write() of one transaction once all its messages' batches were written. */
class Waiter {
  #pending = 0;
  #err: unknown;
  #failed = false;
  readonly promise: Promise<void>;
  #resolve!: () => void;
  #reject!: (err: unknown) => void;

  constructor() {
    this.promise = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  hold(): void {
    this.#pending++;
  }

  settle(err?: unknown, failed = err !== undefined): void {
    if (failed && !this.#failed) {
      this.#failed = true;
      this.#err = err;
    }
    if (--this.#pending === 0) {
      if (this.#failed) this.#reject(this.#err);
      else this.#resolve();
    }
  }
}

class BatchingOutput implements Output {
  readonly maxInFlight: number;
  readonly #out: Output;
  readonly #policy: BatchPolicy;
  readonly #writing: Semaphore;
  /** The waiters of the messages in the batch being built, in order, one entry per message. */
  #waiters: Waiter[] = [];
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(out: Output, policy: BatchPolicy) {
    this.#out = out;
    this.#policy = policy;
    this.#writing = new Semaphore(out.maxInFlight);
    const window = policy.count > 0 ? policy.count * (out.maxInFlight + 1) : OPEN_WINDOW;
    this.maxInFlight = Math.min(MAX_WINDOW, Math.max(out.maxInFlight, window));
  }

  connect(signal: AbortSignal): Promise<void> {
    return this.#out.connect(signal);
  }

  write(batch: Batch): Promise<void> {
    const w = new Waiter();
    if (batch.length === 0) return Promise.resolve();
    // Hold once for the loop, so a flush triggered half way does not settle early.
    w.hold();
    for (const m of batch) {
      w.hold();
      this.#waiters.push(w);
      if (this.#policy.add(m)) this.#flushNow();
    }
    this.#armTimer();
    w.settle();
    return w.promise;
  }

  /** Writes the pending batch now, resolving once it was written (or failed). */
  flush(): Promise<void> {
    return this.#flushNow();
  }

  #armTimer(): void {
    if (this.#timer || this.#policy.size === 0 || this.#closed) return;
    const wait = this.#policy.untilNext();
    if (wait === undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#flushNow();
    }, wait);
  }

  #flushNow(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const waiters = this.#waiters;
    this.#waiters = [];
    if (waiters.length === 0) return Promise.resolve();
    const p = this.#send(waiters);
    this.#inFlight.add(p);
    void p.finally(() => this.#inFlight.delete(p));
    return p;
  }

  async #send(waiters: Waiter[]): Promise<void> {
    let err: unknown;
    let failed = false;
    try {
      const batch = await this.#policy.flush();
      if (batch.length > 0) {
        if (!this.#writing.tryAcquire()) await this.#writing.acquire();
        try {
          await this.#out.write(batch);
        } finally {
          this.#writing.release();
        }
      }
    } catch (e) {
      err = e;
      failed = true;
    }
    for (const w of waiters) w.settle(err, failed);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#flushNow().catch(() => {});
    await Promise.allSettled([...this.#inFlight]);
    await this.#policy.close();
    await this.#out.close();
  }
}

/**
 * Wraps `output` with the batching policy `conf` (the component's `batching` field). Returns
 * `output` unchanged when the policy is a no-op. The returned output also has `flush()`.
 */
export async function withBatching(output: Output, conf: BatchingConfig | undefined, ctx: ComponentContext): Promise<Output> {
  if (!conf || isNoopBatching(conf)) return output;
  return new BatchingOutput(output, await BatchPolicy.create(conf, ctx));
}
