/**
 * `redis_list` input: pops messages from a Redis list with BLPOP (or BRPOP).
 *
 * A pop removes the item from Redis, so the input keeps every popped item until it is acked.
 * A nacked item is replayed from memory (`auto_replay_nacks`); items popped but not acked when
 * the input closes (a shutdown timeout, or a nack still waiting for its replay) are pushed back
 * to the end they were popped from, so they are read again first. Popped items are lost only
 * when Sluice crashes, or when Redis dies between popping an item and delivering the reply
 * (BLPOP has no acknowledgement — the same as Benthos).
 *
 * The blocking pop runs on its own connection; a second one sends CLIENT UNBLOCK when a read is
 * abandoned (shutdown), so no item is popped and then dropped on the floor.
 */
import type { AckFn, ComponentContext, Input, ReadResult } from '../../../engine/component.js';
import { defineInput } from '../../../engine/component.js';
import { autoReplayNacks } from '../../../engine/acks.js';
import { Message } from '../../../engine/message.js';
import { field, autoReplayNacksField } from '../../../engine/spec.js';
import { parseDuration, untilWoken } from '../../../engine/backoff.js';
import { BlockingConnection } from '../../redis-blocking.js';
import { redisError, redisFields, type RedisConfig } from '../../redis-common.js';

export interface RedisListInputConfig extends RedisConfig {
  key: string;
  auto_replay_nacks: boolean;
  max_in_flight: number;
  timeout: string;
  command: 'blpop' | 'brpop';
}

class RedisListInput implements Input {
  readonly #conf: RedisListInputConfig;
  readonly #conn: BlockingConnection<[Buffer, Buffer] | null>;
  readonly #timeoutSec: number;
  /** Popped and handed out, not yet acked. */
  readonly #unacked = new Set<Buffer>();
  #slotWaiter: (() => void) | undefined;

  constructor(conf: RedisListInputConfig, ctx: ComponentContext) {
    this.#conf = conf;
    this.#conn = new BlockingConnection(conf, ctx, 'redis_list');
    this.#timeoutSec = Math.max(0.01, (parseDuration(conf.timeout) ?? 5000) / 1000);
  }

  connect(signal: AbortSignal): Promise<void> {
    return this.#conn.connect(signal);
  }

  async read(signal: AbortSignal): Promise<ReadResult> {
    for (;;) {
      await this.#waitForSlot(signal);
      const key = this.#conf.key;
      const timeout = this.#timeoutSec;
      const res = await this.#conn.blocking(signal, (c) =>
        this.#conf.command === 'brpop' ? c.brpopBuffer(key, timeout) : c.blpopBuffer(key, timeout),
      );
      // An abandoned pop is resumed by the next read (or handed back by close).
      if (res.aborted) throw signal.reason ?? new Error('aborted');
      if (!res.value) continue;
      const item = res.value[1];
      this.#unacked.add(item);
      return { batch: [new Message(item)], ack: this.#ack(item) };
    }
  }

  #ack(item: Buffer): AckFn {
    return () => {
      this.#unacked.delete(item);
      this.#slotWaiter?.();
    };
  }

  async #waitForSlot(signal: AbortSignal): Promise<void> {
    const max = this.#conf.max_in_flight;
    while (max > 0 && this.#unacked.size >= max && !signal.aborted) {
      await untilWoken(signal, (wake) => (this.#slotWaiter = () => ((this.#slotWaiter = undefined), wake())));
    }
  }

  async close(): Promise<void> {
    const last = await this.#conn.stop();
    const back = [...this.#unacked, ...(last ? [last[1]] : [])];
    this.#unacked.clear();
    const ctl = this.#conn.control;
    if (back.length && ctl && ctl.status === 'ready') {
      try {
        // Back to the end they came from, oldest nearest that end, so they are popped first and in order.
        if (this.#conf.command === 'brpop') await ctl.rpush(this.#conf.key, ...back.reverse());
        else await ctl.lpush(this.#conf.key, ...back.reverse());
      } catch (err) {
        this.#conn.logger.error('could not push unacknowledged items back to the list; they are lost', { key: this.#conf.key, count: back.length, error: redisError(err).message });
      }
    } else if (back.length) {
      this.#conn.logger.error('closing with unacknowledged items and no connection to push them back; they are lost', { key: this.#conf.key, count: back.length });
    }
    await this.#conn.close();
  }
}

export const spec = defineInput<RedisListInputConfig>({
  name: 'redis_list',
  summary: 'Pops messages from the beginning of a Redis list using BLPOP (or from the end with BRPOP).',
  description: [
    'Items are removed from the list when popped. Sluice keeps each popped item until it is delivered: a nacked item is replayed (`auto_replay_nacks`), and items not yet delivered when the stream stops are pushed back to the list. Items are lost only when the Sluice process crashes with items in flight, or when Redis dies after popping an item but before its reply arrives (BLPOP has no acknowledgement).',
    'Metadata: none (as Benthos).',
  ].join('\n\n'),
  categories: ['Services'],
  config: field.object('', '', [
    ...redisFields(),
    field.string('key', 'The key of a list to read from.'),
    autoReplayNacksField(),
    field.int('max_in_flight', 'The most popped items awaiting delivery at once (0 = as many as the stream allows).', { default: 0, advanced: true }),
    field.duration('timeout', 'How long a pop waits for an item before trying again.', { default: '5s', advanced: true }),
    field.string('command', 'The command used to pop items.', { default: 'blpop', options: ['blpop', 'brpop'], advanced: true }),
  ]),
  examples: [
    {
      title: 'A work queue',
      config: 'input:\n  redis_list:\n    url: redis://localhost:6379\n    key: jobs\n',
    },
  ],
  build: (conf, ctx) => autoReplayNacks(new RedisListInput(conf, ctx), conf.auto_replay_nacks),
});
