/**
 * The contracts between the engine and its components. Inputs, processors and outputs live in
 * src/components/ and implement these interfaces; the engine never imports a component.
 */
import type { Batch, Message } from './message.js';
import type { FieldSpec } from './spec.js';
import type { Logger } from './logger.js';
import type { HttpHost } from './http-host.js';
import type { BloblangEnvironment } from './bloblang-api.js';

/**
 * Acknowledges a batch back to the input that read it. `err` undefined means every message of
 * the batch was delivered (or deliberately dropped): the input may now commit/ack at its source.
 * An error means delivery failed: the input nacks (redelivers) according to its settings.
 * Called exactly once per batch. May return a promise (e.g. an offset commit); the engine does
 * not wait for it on the hot path but logs its failure.
 */
export type AckFn = (err?: Error) => void | Promise<void>;

export interface ReadResult {
  readonly batch: Batch;
  readonly ack: AckFn;
}

/**
 * An input. The engine calls `connect` (retrying with backoff until it resolves), then `read`
 * repeatedly. `read` waits for the next batch; it throws `notConnected()` when the connection
 * is lost (the engine reconnects with backoff and reads again), `endOfInput()` when exhausted,
 * and must return promptly when `signal` aborts (shutdown). The engine bounds how many batches
 * are unacknowledged at once, so an input needs no buffering of its own beyond the broker's.
 * `close` is called once, after in-flight batches were acked or the shutdown timeout passed.
 */
export interface Input {
  connect(signal: AbortSignal): Promise<void>;
  read(signal: AbortSignal): Promise<ReadResult>;
  close(): Promise<void>;
}

/**
 * An output. `write` delivers one batch; it returns (or resolves) once the destination has
 * accepted it — that is what acks the input — and throws/rejects if it could not. A synchronous
 * return means delivered now, which keeps the hot path free of awaits. Throwing `notConnected()`
 * makes the engine reconnect with backoff and retry the same batch. `maxInFlight` is how many
 * writes the engine may have outstanding at once.
 */
export interface Output {
  readonly maxInFlight: number;
  connect(signal: AbortSignal): Promise<void>;
  write(batch: Batch): void | Promise<void>;
  /** Writes anything held back (a partial batch); called when the stream starts draining. */
  flush?(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A processor maps one batch to zero or more batches. Returning [] drops the batch (it is acked
 * as delivered). A processor reports a failure on a message by flagging it (`msg.setError`)
 * and passing it on; it throws only when the whole batch failed (the engine then flags every
 * message). Sync results keep the hot path free of awaits.
 */
export interface Processor {
  process(batch: Batch): Batch[] | Promise<Batch[]>;
  close?(): Promise<void>;
}

/** A key/value cache resource (`cache_resources`). TTLs are milliseconds. */
export interface Cache {
  get(key: string): Promise<Uint8Array | undefined>;
  set(key: string, value: Uint8Array, ttlMs?: number): Promise<void>;
  /** Sets only if absent; throws SLU_ERR_CACHE_KEY_EXISTS otherwise. */
  add(key: string, value: Uint8Array, ttlMs?: number): Promise<void>;
  delete(key: string): Promise<void>;
  close?(): Promise<void>;
}

/** A rate limit resource (`rate_limit_resources`). `access` resolves to 0 when allowed, else the ms to wait. */
export interface RateLimit {
  access(): Promise<number> | number;
  close?(): Promise<void>;
}

export type ComponentKind = 'input' | 'processor' | 'output' | 'cache' | 'rate_limit';

export interface KindMap {
  input: Input;
  processor: Processor;
  output: Output;
  cache: Cache;
  rate_limit: RateLimit;
}

export interface Resources {
  get<K extends ComponentKind>(kind: K, label: string): KindMap[K];
  has(kind: ComponentKind, label: string): boolean;
}

/** What a component constructor receives besides its own (validated, defaulted) config. */
export interface ComponentContext {
  readonly logger: Logger;
  readonly resources: Resources;
  /** Builds child components from their config (for broker, switch, catch, ...). */
  readonly build: ComponentBuilder;
  /** The shared HTTP listener, for http_server components. Undefined where none is available. */
  readonly http: HttpHost | undefined;
  /** Bloblang mappings and `${! }` interpolation. */
  readonly bloblang: BloblangEnvironment;
  /** Config path of this component, e.g. `input.broker.inputs[0].kafka`, for errors and logs. */
  readonly path: string;
  /** Name of the stream the component belongs to. */
  readonly stream: string;
  /** Aborted when the stream shuts down. */
  readonly signal: AbortSignal;
}

export interface ComponentBuilder {
  input(config: unknown, path: string): Promise<Input>;
  output(config: unknown, path: string): Promise<Output>;
  processor(config: unknown, path: string): Promise<Processor>;
  processors(config: unknown, path: string): Promise<Processor[]>;
}

export interface ComponentExample {
  readonly title: string;
  readonly summary?: string;
  /** YAML of a whole stream or of this component. */
  readonly config: string;
}

export interface ComponentSpec<K extends ComponentKind = ComponentKind, C = unknown> {
  readonly name: string;
  readonly kind: K;
  readonly summary: string;
  readonly description?: string;
  readonly categories?: readonly string[];
  readonly status?: 'stable' | 'beta' | 'experimental' | 'deprecated';
  /** The component's whole configuration: usually an object field, sometimes a scalar or list. */
  readonly config: FieldSpec;
  readonly examples?: readonly ComponentExample[];
  /** Checks that span fields; return messages (they are reported at the component's path). */
  readonly lint?: (config: C) => string[];
  readonly build: (config: C, ctx: ComponentContext) => KindMap[K] | Promise<KindMap[K]>;
}

export type AnyComponentSpec = ComponentSpec<ComponentKind, never>;

export function defineInput<C>(spec: Omit<ComponentSpec<'input', C>, 'kind'>): ComponentSpec<'input', C> {
  return { ...spec, kind: 'input' };
}
export function defineProcessor<C>(spec: Omit<ComponentSpec<'processor', C>, 'kind'>): ComponentSpec<'processor', C> {
  return { ...spec, kind: 'processor' };
}
export function defineOutput<C>(spec: Omit<ComponentSpec<'output', C>, 'kind'>): ComponentSpec<'output', C> {
  return { ...spec, kind: 'output' };
}
export function defineCache<C>(spec: Omit<ComponentSpec<'cache', C>, 'kind'>): ComponentSpec<'cache', C> {
  return { ...spec, kind: 'cache' };
}
export function defineRateLimit<C>(spec: Omit<ComponentSpec<'rate_limit', C>, 'kind'>): ComponentSpec<'rate_limit', C> {
  return { ...spec, kind: 'rate_limit' };
}

/** Helper for processors that act on each message independently (most of them). */
export function perMessage(fn: (msg: Message) => Message | Message[] | null): Processor['process'] {
  return (batch) => {
    const out: Message[] = [];
    for (const m of batch) {
      const r = fn(m);
      if (r === null) continue;
      if (Array.isArray(r)) out.push(...r);
      else out.push(r);
    }
    return out.length ? [out] : [];
  };
}
