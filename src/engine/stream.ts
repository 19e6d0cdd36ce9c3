/**
 * The stream runner: input → processors → output, as one transaction per batch.
 *
 * Contracts (each is tested in stream.test.ts):
 * - At-least-once: a batch is acked to its input only after the output accepted every batch the
 *   processors made of it (or the processors dropped it). A failed delivery nacks it.
 * - Bounded in-flight work: at most `maxInFlight` batches (default: the output's) are between
 *   read and ack. When the output is slow or stuck the input is simply not read, so memory
 *   stays bounded and back pressure reaches the source.
 * - Order: batches reach the output in the order they were read, even when a processor is
 *   asynchronous; acks may complete in any order.
 * - Processor errors flag the messages and the batch continues (Benthos semantics).
 * - Connection loss: `notConnected()` from read/write/connect makes the stream reconnect with
 *   backoff while it waits; the failed write is retried, nothing is acked meanwhile.
 * - Shutdown: `stop()` stops reading, lets in-flight batches drain for up to
 *   `shutdownTimeoutMs`, then closes input, processors and output. `endOfInput()` from the
 *   input ends the stream the same way, and `done` resolves.
 */
import type { AckFn, Input, Output, Processor, ReadResult } from './component.js';
import type { Batch } from './message.js';
import type { Logger } from './logger.js';
import { rateLimitedLog } from './logger.js';
import { Backoff, sleep } from './backoff.js';
import { hasCode } from './errors.js';
import { Semaphore } from './semaphore.js';
import { runProcessors } from './pipeline.js';

export interface StreamOptions {
  readonly name: string;
  readonly input: Input;
  readonly processors: readonly Processor[];
  readonly output: Output;
  readonly logger: Logger;
  /** Default 20 s, as Benthos. */
  readonly shutdownTimeoutMs?: number;
  /** Defaults to the output's maxInFlight. */
  readonly maxInFlight?: number;
  /** Runs after input, processors and output closed (resources, component signals). */
  readonly cleanup?: () => Promise<void>;
}

export interface StreamStats {
  received: number;
  sent: number;
  dropped: number;
  errored: number;
  nacked: number;
  inFlight: number;
}

export type StreamState = 'created' | 'connecting' | 'running' | 'draining' | 'stopped';

function isPromise<T>(v: unknown): v is Promise<T> {
  return typeof (v as Promise<T> | undefined)?.then === 'function';
}

export class Stream {
  readonly name: string;
  readonly stats: StreamStats = { received: 0, sent: 0, dropped: 0, errored: 0, nacked: 0, inFlight: 0 };
  #state: StreamState = 'created';
  readonly #opts: StreamOptions;
  readonly #log: Logger;
  readonly #inflight: Semaphore;
  readonly #stopReading = new AbortController();
  readonly #hardStop = new AbortController();
  readonly #shutdownTimeoutMs: number;
  #tail: Promise<void> | undefined;
  #done: Promise<void> | undefined;
  #outputReady: Promise<boolean> | undefined;
  readonly #rateLog = rateLimitedLog();

  constructor(opts: StreamOptions) {
    this.name = opts.name;
    this.#opts = opts;
    this.#log = opts.logger;
    this.#inflight = new Semaphore(opts.maxInFlight ?? opts.output.maxInFlight);
    this.#shutdownTimeoutMs = opts.shutdownTimeoutMs ?? 20_000;
  }

  get state(): StreamState {
    return this.#state;
  }

  /** Starts the stream; the promise resolves when the stream has ended (input exhausted or stopped). */
  start(): Promise<void> {
    if (!this.#done) this.#done = this.#run();
    return this.#done;
  }

  get done(): Promise<void> {
    return this.#done ?? Promise.resolve();
  }

  /** Stops reading, drains in-flight batches (up to the shutdown timeout), closes everything. */
  async stop(timeoutMs = this.#shutdownTimeoutMs): Promise<void> {
    if (!this.#done) {
      this.#state = 'stopped';
      await this.#closeAll();
      return;
    }
    this.#stopReading.abort();
    const timer = setTimeout(() => this.#hardStop.abort(), timeoutMs);
    try {
      await this.#done;
    } finally {
      clearTimeout(timer);
    }
  }

  async #run(): Promise<void> {
    this.#state = 'connecting';
    const { input, output } = this.#opts;
    this.#outputReady = this.#connect('output', output, this.#hardStop.signal);
    const inputOk = await this.#connect('input', input, this.#stopReading.signal);
    if (inputOk && (await this.#outputReady)) {
      this.#state = 'running';
      await this.#readLoop();
    }
    this.#state = 'draining';
    // Outputs that batch hold partial batches: write them now rather than at the timeout.
    void this.#opts.output.flush?.().catch((err: unknown) => this.#log.warn('flush on drain failed', { error: errMsg(err) }));
    await Promise.race([this.#inflight.whenIdle(), abortPromise(this.#hardStop.signal)]);
    if (this.#inflight.inUse > 0) {
      this.#log.warn('shutdown timeout reached with messages in flight; they will be redelivered by sources that support it', {
        in_flight: this.#inflight.inUse,
      });
    }
    this.#hardStop.abort();
    await this.#closeAll();
    this.#state = 'stopped';
  }

  async #closeAll(): Promise<void> {
    const { input, output, processors } = this.#opts;
    const closing = [input.close(), ...processors.map((p) => p.close?.()), output.close()];
    const results = await Promise.allSettled(closing);
    if (this.#opts.cleanup) results.push(...(await Promise.allSettled([this.#opts.cleanup()])));
    for (const r of results) if (r.status === 'rejected') this.#log.warn('error while closing', { error: errMsg(r.reason) });
  }

  async #connect(what: 'input' | 'output', c: Input | Output, signal: AbortSignal): Promise<boolean> {
    const backoff = new Backoff({ initialMs: 200, maxMs: 15_000 });
    while (!signal.aborted) {
      try {
        await c.connect(signal);
        if (backoff.attempt > 0) this.#log.info(`${what} connected`, { attempts: backoff.attempt + 1 });
        return true;
      } catch (err) {
        if (signal.aborted) break;
        const wait = backoff.next();
        this.#rateLog(`connect-${what}`, () =>
          this.#log.error(`${what} cannot connect, retrying`, { error: errMsg(err), retry_in_ms: wait }),
        );
        await sleep(wait, signal);
      }
    }
    return false;
  }

  async #readLoop(): Promise<void> {
    const { input } = this.#opts;
    const signal = this.#stopReading.signal;
    const backoff = new Backoff({ initialMs: 100, maxMs: 5_000 });
    while (!signal.aborted) {
      if (!this.#inflight.tryAcquire() && !(await this.#inflight.acquire(signal))) break;
      let res: ReadResult;
      try {
        res = await input.read(signal);
      } catch (err) {
        this.#inflight.release();
        if (signal.aborted) break;
        if (hasCode(err, 'SLU_ERR_END_OF_INPUT')) break;
        if (hasCode(err, 'SLU_ERR_NOT_CONNECTED')) {
          this.#rateLog('read-disconnected', () => this.#log.warn('input lost its connection, reconnecting', { error: errMsg(err) }));
          if (!(await this.#connect('input', input, signal))) break;
          continue;
        }
        const wait = backoff.next();
        this.#rateLog('read-error', () => this.#log.error('input read failed', { error: errMsg(err), retry_in_ms: wait }));
        await sleep(wait, signal);
        continue;
      }
      backoff.reset();
      this.stats.inFlight = this.#inflight.inUse;
      this.#handle(res.batch, res.ack);
    }
  }

  #handle(batch: Batch, ack: AckFn): void {
    this.stats.received += batch.length;
    let result: Batch[] | Promise<Batch[]>;
    try {
      result = runProcessors(this.#opts.processors, batch);
    } catch (err) {
      // runProcessors flags messages itself; reaching here is a bug in a processor's contract.
      this.#finish(ack, err instanceof Error ? err : new Error(String(err)));
      return;
    }
    // Keep output order equal to read order: wait behind any earlier batch still processing.
    if (!isPromise(result) && this.#tail === undefined) {
      this.#dispatch(result, ack);
      return;
    }
    const prev = this.#tail;
    const step = Promise.resolve(result).then(
      async (batches) => {
        if (prev) await prev;
        this.#dispatch(batches, ack);
      },
      (err: unknown) => this.#finish(ack, err instanceof Error ? err : new Error(String(err))),
    );
    this.#tail = step;
    void step.finally(() => {
      if (this.#tail === step) this.#tail = undefined;
    });
  }

  #dispatch(batches: Batch[], ack: AckFn): void {
    if (batches.length === 0) {
      this.stats.dropped++;
      this.#finish(ack, undefined);
      return;
    }
    let pending = batches.length;
    let firstErr: Error | undefined;
    const settle = (err?: unknown) => {
      if (err !== undefined && firstErr === undefined) firstErr = err instanceof Error ? err : new Error(String(err));
      if (--pending === 0) this.#finish(ack, firstErr);
    };
    for (const b of batches) {
      for (const m of b) if (m.error) this.stats.errored++;
      const r = this.#write(b);
      if (r === undefined) {
        this.stats.sent += b.length;
        settle();
      } else {
        r.then(() => {
          this.stats.sent += b.length;
          settle();
        }, settle);
      }
    }
  }

  #write(batch: Batch): Promise<void> | undefined {
    let r: void | Promise<void>;
    try {
      r = this.#opts.output.write(batch);
    } catch (err) {
      return this.#retryWrite(batch, err);
    }
    if (isPromise<void>(r)) return r.catch((err: unknown) => this.#retryWrite(batch, err));
    return undefined;
  }

  async #retryWrite(batch: Batch, err: unknown): Promise<void> {
    const { output } = this.#opts;
    while (hasCode(err, 'SLU_ERR_NOT_CONNECTED') && !this.#hardStop.signal.aborted) {
      this.#rateLog('write-disconnected', () => this.#log.warn('output lost its connection, reconnecting', { error: errMsg(err) }));
      const ready = this.#connect('output', output, this.#hardStop.signal);
      this.#outputReady = ready;
      if (!(await ready)) break;
      try {
        await output.write(batch);
        return;
      } catch (e) {
        err = e;
      }
    }
    throw err;
  }

  #finish(ack: AckFn, err: Error | undefined): void {
    this.#inflight.release();
    if (err) {
      this.stats.nacked++;
      this.#rateLog('nack', () => this.#log.warn('delivery failed, message nacked', { error: err.message }));
    }
    try {
      const r = ack(err);
      if (isPromise<void>(r)) r.catch((e: unknown) => this.#log.error('acknowledgement failed', { error: errMsg(e) }));
    } catch (e) {
      this.#log.error('acknowledgement failed', { error: errMsg(e) });
    }
  }
}

function abortPromise(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

export function errMsg(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
