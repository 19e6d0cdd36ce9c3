/**
 * `redis_pubsub` output: publishes each message to a channel (interpolated per message). Redis
 * only tells how many subscribers got it: a message published while nobody listens is gone.
 */
import type { ComponentContext, Output } from '../../../engine/component.js';
import { defineOutput } from '../../../engine/component.js';
import type { InterpolatedString } from '../../../engine/bloblang-api.js';
import type { Batch } from '../../../engine/message.js';
import { field, batchingFields, maxInFlightField } from '../../../engine/spec.js';
import { withBatching, type BatchingConfig } from '../../../engine/batching.js';
import { redisFields, type RedisConfig } from '../../redis-common.js';
import { RedisOutputConnection } from '../../redis-output.js';

export interface RedisPubSubOutputConfig extends RedisConfig {
  channel: string;
  max_in_flight: number;
  batching: BatchingConfig;
}

class RedisPubSubOutput implements Output {
  readonly maxInFlight: number;
  readonly #conn: RedisOutputConnection;
  readonly #channel: InterpolatedString;

  constructor(conf: RedisPubSubOutputConfig, ctx: ComponentContext) {
    this.maxInFlight = Math.max(1, conf.max_in_flight);
    this.#conn = new RedisOutputConnection(conf, ctx, 'redis_pubsub');
    this.#channel = ctx.bloblang.interpolate(conf.channel);
  }

  connect(signal: AbortSignal): Promise<void> {
    return this.#conn.connect(signal);
  }

  write(batch: Batch): Promise<void> {
    const channels = batch.map((_, i) => this.#channel.render(batch, i));
    return this.#conn.exec((p) => {
      for (let i = 0; i < batch.length; i++) p.publish(channels[i]!, Buffer.from(batch[i]!.bytes()));
    });
  }

  close(): Promise<void> {
    return this.#conn.close();
  }
}

export const spec = defineOutput<RedisPubSubOutputConfig>({
  name: 'redis_pubsub',
  summary: 'Publishes messages through Redis Pub/Sub (PUBLISH). Delivery to subscribers is not guaranteed.',
  description: 'The `channel` is interpolated per message. Redis keeps nothing for absent subscribers: a message published while nobody is subscribed is dropped by Redis (at-most-once).',
  categories: ['Services'],
  config: field.object('', '', [
    ...redisFields(),
    field.interp('channel', 'The channel to publish messages to.', { examples: ['events', 'user.${! @user_id }'] }),
    maxInFlightField(64),
    batchingFields(),
  ]),
  examples: [
    {
      title: 'Fan out to subscribers',
      config: 'output:\n  redis_pubsub:\n    url: redis://localhost:6379\n    channel: events\n',
    },
  ],
  build: (conf, ctx) => withBatching(new RedisPubSubOutput(conf, ctx), conf.batching, ctx),
});
