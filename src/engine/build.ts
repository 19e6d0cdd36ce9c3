/**
 * Turns a validated stream config (ComponentNodes with defaults applied) into a running Stream:
 * builds resources first (caches and rate limits before the processors that use them), then
 * input, processors and output. Input and output `processors` are folded into the stream's chain
 * (input's first, output's last), so they share its acks and ordering.
 */
import type {
  ComponentBuilder,
  ComponentContext,
  ComponentKind,
  Input,
  KindMap,
  Output,
  Processor,
  Resources,
} from './component.js';
import type { BloblangEnvironment } from './bloblang-api.js';
import type { HttpHost } from './http-host.js';
import type { Logger } from './logger.js';
import { runProcessors } from './pipeline.js';
import { RESOURCE_TYPE, type ComponentNode, type Registry } from './registry.js';
import { sluiceError } from './errors.js';
import { parseDuration } from './backoff.js';
import { Stream } from './stream.js';
import type { Batch } from './message.js';

export interface StreamConfig {
  readonly input: ComponentNode;
  readonly pipeline: { readonly threads: number; readonly processors: readonly ComponentNode[] };
  readonly output: ComponentNode;
  readonly input_resources: readonly ComponentNode[];
  readonly processor_resources: readonly ComponentNode[];
  readonly output_resources: readonly ComponentNode[];
  readonly cache_resources: readonly ComponentNode[];
  readonly rate_limit_resources: readonly ComponentNode[];
  readonly shutdown_timeout: string;
  readonly shutdown_delay: string;
}

export interface BuildEnv {
  readonly registry: Registry;
  readonly logger: Logger;
  readonly bloblang: BloblangEnvironment;
  readonly http: HttpHost | undefined;
  readonly stream: string;
}

const RESOURCE_KINDS: readonly [keyof StreamConfig, ComponentKind][] = [
  ['cache_resources', 'cache'],
  ['rate_limit_resources', 'rate_limit'],
  ['processor_resources', 'processor'],
  ['input_resources', 'input'],
  ['output_resources', 'output'],
];

class StreamResources implements Resources {
  readonly built = new Map<string, unknown>();
  readonly nodes = new Map<string, ComponentNode>();

  get<K extends ComponentKind>(kind: K, label: string): KindMap[K] {
    const v = this.built.get(`${kind}:${label}`);
    if (v === undefined) throw sluiceError('SLU_ERR_RESOURCE_UNKNOWN', kind, label);
    return v as KindMap[K];
  }

  has(kind: ComponentKind, label: string): boolean {
    return this.built.has(`${kind}:${label}`);
  }

  /** Closes every resource (caches, rate limits, shared processors, ...) once the stream is done. */
  async closeAll(): Promise<void> {
    await Promise.allSettled(
      [...this.built.values()].map((r) => (r as { close?: () => Promise<void> }).close?.()),
    );
  }
}

class Builder implements ComponentBuilder {
  readonly #env: BuildEnv;
  readonly #resources: StreamResources;
  readonly #signal: AbortSignal;

  constructor(env: BuildEnv, resources: StreamResources, signal: AbortSignal) {
    this.#env = env;
    this.#resources = resources;
    this.#signal = signal;
  }

  async #build<K extends ComponentKind>(kind: K, node: ComponentNode): Promise<KindMap[K]> {
    if (node.type === RESOURCE_TYPE) return this.#resources.get(kind, String(node.config));
    const spec = this.#env.registry.require(kind, node.type);
    const ctx: ComponentContext = {
      logger: this.#env.logger.with({ component: node.path, ...(node.label ? { label: node.label } : {}) }),
      resources: this.#resources,
      build: this,
      http: this.#env.http,
      bloblang: this.#env.bloblang,
      path: node.path,
      stream: this.#env.stream,
      signal: this.#signal,
    };
    return (await spec.build(node.config as never, ctx)) as KindMap[K];
  }

  async input(config: unknown): Promise<Input> {
    const node = config as ComponentNode;
    const input = await this.#build('input', node);
    if (!node.processors.length) return input;
    return withInputProcessors(input, await this.processors(node.processors));
  }

  async output(config: unknown): Promise<Output> {
    const node = config as ComponentNode;
    const output = await this.#build('output', node);
    if (!node.processors.length) return output;
    return withOutputProcessors(output, await this.processors(node.processors));
  }

  processor(config: unknown): Promise<Processor> {
    return this.#build('processor', config as ComponentNode);
  }

  async processors(config: unknown): Promise<Processor[]> {
    const nodes = (config ?? []) as readonly ComponentNode[];
    const out: Processor[] = [];
    for (const n of nodes) out.push(await this.processor(n));
    return out;
  }

  async resource(kind: ComponentKind, node: ComponentNode): Promise<void> {
    const built = await this.#build(kind, node);
    this.#resources.built.set(`${kind}:${node.label}`, built);
  }
}

/** Builds every component of a stream. Nothing connects until `stream.start()`. */
export async function buildStream(config: StreamConfig, env: BuildEnv): Promise<Stream> {
  const resources = new StreamResources();
  const abort = new AbortController();
  const b = new Builder(env, resources, abort.signal);
  for (const [key, kind] of RESOURCE_KINDS) {
    for (const node of config[key] as readonly ComponentNode[]) await b.resource(kind, node);
  }
  const input = await b.input(config.input);
  const processors = await b.processors(config.pipeline.processors);
  const output = await b.output(config.output);
  const stream = new Stream({
    name: env.stream,
    input,
    processors,
    output,
    logger: env.logger,
    shutdownTimeoutMs: parseDuration(config.shutdown_timeout) ?? 20_000,
    cleanup: async () => {
      abort.abort();
      await resources.closeAll();
    },
  });
  return stream;
}

/** An input whose own `processors` run right after it reads. */
export function withInputProcessors(input: Input, processors: readonly Processor[]): Input {
  return {
    connect: (s) => input.connect(s),
    close: async () => {
      await input.close();
      await Promise.all(processors.map((p) => p.close?.()));
    },
    async read(signal) {
      for (;;) {
        const r = await input.read(signal);
        const batches = await runProcessors(processors, r.batch);
        if (batches.length === 0) {
          await r.ack();
          continue;
        }
        const batch: Batch = batches.length === 1 ? batches[0]! : batches.flat();
        return { batch, ack: r.ack };
      }
    },
  };
}

/** An output whose own `processors` run right before it writes. */
export function withOutputProcessors(output: Output, processors: readonly Processor[]): Output {
  return {
    get maxInFlight() {
      return output.maxInFlight;
    },
    connect: (s) => output.connect(s),
    ...(output.flush ? { flush: () => output.flush!() } : {}),
    close: async () => {
      await Promise.all(processors.map((p) => p.close?.()));
      await output.close();
    },
    async write(batch) {
      for (const b of await runProcessors(processors, batch)) await output.write(b);
    },
  };
}
