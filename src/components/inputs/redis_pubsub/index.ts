/**
 * `redis_pubsub` input: SUBSCRIBE (or PSUBSCRIBE with `use_patterns`) to channels.
 *
 * Redis Pub/Sub keeps nothing: messages published while Sluice is not subscribed (for instance
 * during a reconnect) are never received, and messages still queued here when the stream stops
 * are lost — delivery is at-most-once. A nacked message is replayed from memory
 * (`auto_replay_nacks`). As in Benthos, no metadata is added.
 */
import type { ComponentContext, Input, ReadResult } from '../../../engine/component.js';
import { defineInput } from '../../../engine/component.js';
import { autoReplayNacks, noopAck } from '../../../engine/acks.js';
import { Message } from '../../../engine/message.js';
import { field, autoReplayNacksField } from '../../../engine/spec.js';
import { notConnected } from '../../../engine/errors.js';
import type { Redis } from 'ioredis';
import { AsyncQueue } from '../../async-queue.js';
import { closeRedis, onRedisClose, openRedis, redisFields, type RedisClient, type RedisConfig } from '../../redis-common.js';

export interface RedisPubSubInputConfig extends RedisConfig {
  channels: string[];
  use_patterns: boolean;
  auto_replay_nacks: boolean;
}

class RedisPubSubInput implements Input {
  readonly #conf: RedisPubSubInputConfig;
  readonly #ctx: ComponentContext;
  #client: RedisClient | undefined;
  #queue = new AsyncQueue<Buffer>();

  constructor(conf: RedisPubSubInputConfig, ctx: ComponentContext) {
    this.#conf = conf;
    this.#ctx = ctx;
  }

  async connect(signal: AbortSignal): Promise<void> {
    if (this.#client && !this.#queue.ended) return;
    await closeRedis(this.#client);
    const client = await openRedis(this.#conf, this.#ctx, signal, { blocking: true, name: `sluice:${this.#ctx.stream}:redis_pubsub` });
    const queue = new AsyncQueue<Buffer>();
    const push = (...args: Buffer[]) => queue.push(args[args.length - 1]!);
    try {
      if (this.#conf.use_patterns) {
        client.on('pmessageBuffer', push);
        await (client as Redis).psubscribe(...this.#conf.channels);
      } else {
        client.on('messageBuffer', push);
        await (client as Redis).subscribe(...this.#conf.channels);
      }
    } catch (err) {
      client.disconnect();
      throw new Error(`cannot subscribe to Redis channels ${this.#conf.channels.join(', ')}: ${(err as Error).message}`, { cause: err });
    }
    onRedisClose(client, () => queue.end());
    this.#client = client;
    this.#queue = queue;
  }

  async read(signal: AbortSignal): Promise<ReadResult> {
    if (!this.#client) throw notConnected();
    const payload = await this.#queue.take(signal);
    if (payload === undefined) {
      if (signal.aborted) throw signal.reason ?? new Error('aborted');
      this.#client = undefined;
      throw notConnected(new Error('Redis subscription connection closed'));
    }
    return { batch: [new Message(payload)], ack: noopAck };
  }

  async close(): Promise<void> {
    const c = this.#client;
    this.#client = undefined;
    this.#queue.drain();
    this.#queue.end();
    c?.disconnect();
  }
}

export const spec = defineInput<RedisPubSubInputConfig>({
  name: 'redis_pubsub',
  summary: 'Consumes from Redis Pub/Sub channels using SUBSCRIBE or PSUBSCRIBE.',
  description: [
    'With `use_patterns: true` channel names are glob-style patterns (PSUBSCRIBE): `h?llo` matches hello, hallo and hxllo; `h*llo` matches hllo and heeeello; `h[ae]llo` matches hello and hallo but not hillo. Use `\\` to match special characters literally.',
    'Redis Pub/Sub keeps no messages: delivery is **at-most-once**. Messages published while Sluice is not subscribed (including while it reconnects) are not received. A message rejected downstream is replayed from memory while `auto_replay_nacks` is true.',
    'Metadata: none (as Benthos).',
  ].join('\n\n'),
  categories: ['Services'],
  config: field.object('', '', [
    ...redisFields(),
    field.stringList('channels', 'A list of channels to consume from.'),
    field.bool('use_patterns', 'Whether to use PSUBSCRIBE, so that channels are glob-style patterns.', { default: false }),
    autoReplayNacksField(),
  ]),
  examples: [
    {
      title: 'Every channel of a prefix',
      config: 'input:\n  redis_pubsub:\n    url: redis://localhost:6379\n    channels: ["events.*"]\n    use_patterns: true\n',
    },
  ],
  build: (conf, ctx) => autoReplayNacks(new RedisPubSubInput(conf, ctx), conf.auto_replay_nacks),
});
