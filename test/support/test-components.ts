/**
 * In-memory components for tests: `test_source` (an input the test pushes batches into and whose
 * acks it observes) and `test_sink` (an output that collects what it is given and can be told
 * to fail or to hang). They are registered only in test registries.
 */
import { defineInput, defineOutput, type AckFn, type ComponentContext, type ComponentKind, type ComponentSpec } from '../../src/engine/component.js';
import { silentLogger } from '../../src/engine/logger.js';
import { noBloblang } from '../../src/engine/bloblang-api.js';
import { Message, type Batch } from '../../src/engine/message.js';
import { field } from '../../src/engine/spec.js';
import { endOfInput } from '../../src/engine/errors.js';
import { Registry } from '../../src/engine/registry.js';
import { builtinComponents } from '../../src/components/index.js';

export interface AckRecord {
  readonly batch: Batch;
  readonly error: Error | undefined;
}

/** The test's handle on a `test_source`. */
export class Source {
  readonly acks: AckRecord[] = [];
  #queue: Batch[] = [];
  #wake: (() => void) | undefined;
  #ended = false;
  reads = 0;
  #ackWaiters: (() => void)[] = [];

  push(...items: (string | Message | Batch)[]): void {
    for (const it of items) {
      this.#queue.push(Array.isArray(it) ? it : [typeof it === 'string' ? new Message(it) : it]);
    }
    this.#wake?.();
  }

  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  async next(signal: AbortSignal): Promise<{ batch: Batch; ack: AckFn }> {
    for (;;) {
      const b = this.#queue.shift();
      if (b) {
        this.reads++;
        return {
          batch: b,
          ack: (error) => {
            this.acks.push({ batch: b, error });
            for (const w of this.#ackWaiters.splice(0)) w();
          },
        };
      }
      if (this.#ended) throw endOfInput();
      if (signal.aborted) throw new Error('aborted');
      await new Promise<void>((resolve) => {
        const done = () => {
          this.#wake = undefined;
          signal.removeEventListener('abort', done);
          resolve();
        };
        this.#wake = done;
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }

  /** Resolves once `n` acks (of any outcome) were recorded. */
  async waitAcks(n: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.acks.length < n) {
      if (Date.now() > deadline) throw new Error(`expected ${n} acks, got ${this.acks.length}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.#ackWaiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
}

export type SinkMode = 'ok' | 'nack_first' | 'hang' | 'fail';

/** The test's handle on a `test_sink`. */
export class Sink {
  readonly messages: Message[] = [];
  readonly writes: Batch[] = [];
  mode: SinkMode = 'ok';
  #seen = new Set<string>();
  #waiters: (() => void)[] = [];

  write(batch: Batch): void | Promise<void> {
    if (this.mode === 'hang') return new Promise<void>(() => {});
    if (this.mode === 'fail') throw new Error('sink failure');
    if (this.mode === 'nack_first') {
      const key = batch.map((m) => m.text()).join('\u0000');
      if (!this.#seen.has(key)) {
        this.#seen.add(key);
        throw new Error('first delivery rejected on purpose');
      }
    }
    this.writes.push(batch);
    this.messages.push(...batch);
    for (const w of this.#waiters.splice(0)) w();
  }

  texts(): string[] {
    return this.messages.map((m) => m.text());
  }

  /** Resolves once `n` different payloads arrived (redeliveries do not count twice). */
  async waitForDistinct(n: number, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (new Set(this.texts()).size < n) {
      if (Date.now() > deadline) throw new Error(`expected ${n} distinct messages, got ${new Set(this.texts()).size} (${this.messages.length} in all)`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Resolves once at least `n` messages arrived; rejects after the timeout with what did arrive. */
  async waitFor(n: number, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length < n) {
      if (Date.now() > deadline) throw new Error(`expected ${n} messages, got ${this.messages.length}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
}

const sources = new Map<string, Source>();
const sinks = new Map<string, Sink>();
let seq = 0;

export function newSource(): { id: string; source: Source } {
  const id = `src${++seq}`;
  const source = new Source();
  sources.set(id, source);
  return { id, source };
}

export function newSink(mode: SinkMode = 'ok'): { id: string; sink: Sink } {
  const id = `sink${++seq}`;
  const sink = new Sink();
  sink.mode = mode;
  sinks.set(id, sink);
  return { id, sink };
}

export const testSourceSpec = defineInput<{ id: string }>({
  name: 'test_source',
  summary: 'Test-only input fed by the test.',
  config: field.object('', '', [field.string('id', 'Handle id.')]),
  build: (conf) => {
    const s = sources.get(conf.id);
    if (!s) throw new Error(`no test source ${conf.id}`);
    return { connect: async () => {}, close: async () => {}, read: (signal) => s.next(signal) };
  },
});

export const testSinkSpec = defineOutput<{ id: string; max_in_flight: number }>({
  name: 'test_sink',
  summary: 'Test-only output collecting messages.',
  config: field.object('', '', [field.string('id', 'Handle id.'), field.int('max_in_flight', 'In flight.', { default: 64 })]),
  build: (conf) => {
    const s = sinks.get(conf.id);
    if (!s) throw new Error(`no test sink ${conf.id}`);
    return { maxInFlight: conf.max_in_flight, connect: async () => {}, close: async () => {}, write: (b) => s.write(b) };
  },
});

type AnySpec = ComponentSpec<ComponentKind, never>;

/** The built-in components plus the test ones. */
export function testRegistry(): Registry {
  return new Registry().addAll(builtinComponents).addAll([testSourceSpec as unknown as AnySpec, testSinkSpec as unknown as AnySpec]);
}

/**
 * The context a component gets when a test builds it directly (no stream): silent logs, no
 * resources, no child components, no HTTP listener, Bloblang only if given.
 */
export function unitContext(path: string, overrides: Partial<ComponentContext> = {}): ComponentContext {
  return {
    logger: silentLogger,
    resources: { get: () => { throw new Error('no resources in this test'); }, has: () => false } as unknown as ComponentContext['resources'],
    build: undefined as unknown as ComponentContext['build'],
    http: undefined,
    bloblang: noBloblang,
    path,
    stream: 'unit',
    signal: new AbortController().signal,
    ...overrides,
  };
}
