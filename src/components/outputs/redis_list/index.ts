/**
 * `redis_list` output: pushes each message onto the end of a list (RPUSH, or LPUSH) whose key
 * is interpolated per message. A batch is sent as one pipeline; the write completes when Redis
 * has answered every push.
 */
import type { ComponentContext, Output } from '../../../engine/component.js';
import { defineOutput } from '../../../engine/component.js';
import type { InterpolatedString } from '../../../engine/bloblang-api.js';
import type { Batch } from '../../../engine/message.js';
import { field, batchingFields, maxInFlightField } from '../../../engine/spec.js';
import { withBatching, type BatchingConfig } from '../../../engine/batching.js';
import { redisFields, type RedisConfig } from '../../redis-common.js';
import { RedisOutputConnection } from '../../redis-output.js';

export interface RedisListOutputConfig extends RedisConfig {
  key: string;
  max_in_flight: number;
  batching: BatchingConfig;
  command: 'rpush' | 'lpush';
}

class RedisListOutput implements Output {
  readonly maxInFlight: number;
  readonly #conf: RedisListOutputConfig;
  readonly #conn: RedisOutputConnection;
  readonly #key: InterpolatedString;

  constructor(conf: RedisListOutputConfig, ctx: ComponentContext) {
    this.#conf = conf;
    this.maxInFlight = Math.max(1, conf.max_in_flight);
    this.#conn = new RedisOutputConnection(conf, ctx, 'redis_list');
    this.#key = ctx.bloblang.interpolate(conf.key);
  }

  connect(signal: AbortSignal): Promise<void> {
    return this.#conn.connect(signal);
  }

  write(batch: Batch): Promise<void> {
    const keys = batch.map((_, i) => this.#key.render(batch, i));
    return this.#conn.exec((p) => {
      for (let i = 0; i < batch.length; i++) {
        if (this.#conf.command === 'lpush') p.lpush(keys[i]!, Buffer.from(batch[i]!.bytes()));
        else p.rpush(keys[i]!, Buffer.from(batch[i]!.bytes()));
      }
    });
  }

  close(): Promise<void> {
    return this.#conn.close();
  }
}

export const spec = defineOutput<RedisListOutputConfig>({
  name: 'redis_list',
  summary: 'Pushes messages onto the end of a Redis list (created when missing) using RPUSH.',
  description: 'The `key` is interpolated per message, so each message may go to its own list. A write completes once Redis has stored every message of the batch.',
  categories: ['Services'],
  config: field.object('', '', [
    ...redisFields(),
    field.interp('key', 'The key of the list for each message.', { examples: ['some_list', '${! @kafka_key }', '${! this.doc.id }'] }),
    maxInFlightField(64),
    batchingFields(),
    field.string('command', 'The command used to push items.', { default: 'rpush', options: ['rpush', 'lpush'], advanced: true }),
  ]),
  examples: [
    {
      title: 'Archive to a list',
      config: 'output:\n  redis_list:\n    url: redis://localhost:6379\n    key: archive\n',
    },
  ],
  build: (conf, ctx) => withBatching(new RedisListOutput(conf, ctx), conf.batching, ctx),
});
