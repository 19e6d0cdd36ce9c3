/**
 * `broker` output: sends each batch to several outputs by a pattern. The input is acked when
 * every output (fan_out*) or the chosen one (round_robin, greedy) has the batch.
 *  - fan_out: all outputs in parallel; a failing output is retried (with backoff) until it
 *    succeeds, so a slow output slows the whole stream (back pressure, never loss).
 *  - fan_out_fail_fast: all in parallel, a failure nacks the batch at once.
 *  - fan_out_sequential(_fail_fast): one after another, the next only after the previous.
 *  - round_robin: each batch to the next output in turn.
 *  - greedy: each batch to the output with the fewest batches in flight.
 */
import type { Output } from '../../../engine/component.js';
import { defineOutput } from '../../../engine/component.js';
import type { Batch } from '../../../engine/message.js';
import { field, batchingFields } from '../../../engine/spec.js';
import { Backoff, sleep } from '../../../engine/backoff.js';

export interface BrokerConfig {
  copies: number;
  pattern: 'fan_out' | 'fan_out_fail_fast' | 'fan_out_sequential' | 'fan_out_sequential_fail_fast' | 'round_robin' | 'greedy';
  outputs: unknown[];
}

const copyBatch = (b: Batch): Batch => b.map((m) => m.copy());

class BrokerOutput implements Output {
  readonly maxInFlight: number;
  readonly #outputs: Output[];
  readonly #pattern: BrokerConfig['pattern'];
  readonly #closing = new AbortController();
  readonly #inFlight: number[];
  #next = 0;

  constructor(outputs: Output[], pattern: BrokerConfig['pattern']) {
    this.#outputs = outputs;
    this.#pattern = pattern;
    this.#inFlight = outputs.map(() => 0);
    this.maxInFlight = Math.max(1, ...outputs.map((o) => o.maxInFlight));
  }

  async connect(signal: AbortSignal): Promise<void> {
    await Promise.all(this.#outputs.map((o) => o.connect(signal)));
  }

  async #retrying(o: Output, batch: Batch): Promise<void> {
    const backoff = new Backoff({ initialMs: 100, maxMs: 5_000 });
    for (;;) {
      try {
        await o.write(batch);
        return;
      } catch (err) {
        if (this.#closing.signal.aborted) throw err;
        await sleep(backoff.next(), this.#closing.signal);
      }
    }
  }

  async #counted(i: number, batch: Batch): Promise<void> {
    this.#inFlight[i]!++;
    try {
      await this.#outputs[i]!.write(batch);
    } finally {
      this.#inFlight[i]!--;
    }
  }

  write(batch: Batch): void | Promise<void> {
    const outs = this.#outputs;
    switch (this.#pattern) {
      case 'fan_out':
        return Promise.all(outs.map((o, i) => this.#retrying(o, i === 0 ? batch : copyBatch(batch)))).then(() => {});
      case 'fan_out_fail_fast':
        return Promise.all(outs.map((o, i) => o.write(i === 0 ? batch : copyBatch(batch)))).then(() => {});
      case 'fan_out_sequential':
        return (async () => {
          for (let i = 0; i < outs.length; i++) await this.#retrying(outs[i]!, i === 0 ? batch : copyBatch(batch));
        })();
      case 'fan_out_sequential_fail_fast':
        return (async () => {
          for (let i = 0; i < outs.length; i++) await outs[i]!.write(i === 0 ? batch : copyBatch(batch));
        })();
      case 'round_robin': {
        const o = outs[this.#next]!;
        this.#next = (this.#next + 1) % outs.length;
        return o.write(batch);
      }
      case 'greedy': {
        let best = 0;
        for (let i = 1; i < outs.length; i++) if (this.#inFlight[i]! < this.#inFlight[best]!) best = i;
        return this.#counted(best, batch);
      }
    }
  }

  async close(): Promise<void> {
    this.#closing.abort();
    await Promise.all(this.#outputs.map((o) => o.close()));
  }
}

export const spec = defineOutput<BrokerConfig>({
  name: 'broker',
  summary: 'Sends messages to several outputs: to all of them (fan_out), in sequence, in turn, or to whichever is free.',
  categories: ['Utility'],
  config: field.object('', '', [
    field.int('copies', 'How many times the list of outputs is repeated (for parallel writers).', { default: 1, advanced: true }),
    field.string('pattern', 'How messages are spread over the outputs.', {
      default: 'fan_out',
      options: ['fan_out', 'fan_out_fail_fast', 'fan_out_sequential', 'fan_out_sequential_fail_fast', 'round_robin', 'greedy'],
    }),
    field.outputs('outputs', 'The outputs.'),
    batchingFields(),
  ]),
  examples: [
    {
      title: 'Write to Kafka and return the message to the HTTP caller',
      config: 'output:\n  broker:\n    pattern: fan_out\n    outputs:\n      - kafka:\n          addresses: [localhost:9092]\n          topic: orders\n      - sync_response: {}\n',
    },
  ],
  lint: (c) => (c.outputs.length === 0 ? ['broker needs at least one output'] : []),
  build: async (conf, ctx) => {
    const outputs: Output[] = [];
    for (let copy = 0; copy < Math.max(1, conf.copies); copy++) {
      for (let i = 0; i < conf.outputs.length; i++) outputs.push(await ctx.build.output(conf.outputs[i], `${ctx.path}.outputs[${i}]`));
    }
    return new BrokerOutput(outputs, conf.pattern);
  },
});
