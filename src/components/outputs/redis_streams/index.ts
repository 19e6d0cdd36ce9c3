/**
 * `redis_streams` output: appends each message to a stream (XADD, the stream interpolated per
 * message) as the field `body_key` plus one field per metadata key (minus excluded prefixes;
 * the body wins a name clash). `max_length` caps the stream approximately (MAXLEN ~). A batch
 * is one pipeline; the write completes when Redis has stored every entry.
 */
import type { ComponentContext, Output } from '../../../engine/component.js';
import { defineOutput } from '../../../engine/component.js';
import type { InterpolatedString } from '../../../engine/bloblang-api.js';
import type { Message, Batch } from '../../../engine/message.js';
import { field, batchingFields, maxInFlightField } from '../../../engine/spec.js';
import { withBatching, type BatchingConfig } from '../../../engine/batching.js';
import { redisFields, type RedisConfig } from '../../redis-common.js';
import { RedisOutputConnection } from '../../redis-output.js';

export interface RedisStreamsOutputConfig extends RedisConfig {
  stream: string;
  body_key: string;
  max_length: number;
  max_in_flight: number;
  batching: BatchingConfig;
  metadata: { exclude_prefixes: string[] };
}

/** The XADD field list of a message (exported for unit tests). */
export function entryFields(msg: Message, bodyKey: string, excludePrefixes: readonly string[]): (string | Buffer)[] {
  const out: (string | Buffer)[] = [bodyKey, Buffer.from(msg.bytes())];
  for (const [k, v] of Object.entries(msg.metaStrings())) {
    if (k === bodyKey || excludePrefixes.some((p) => k.startsWith(p))) continue;
    out.push(k, v);
  }
  return out;
}

class RedisStreamsOutput implements Output {
  readonly maxInFlight: number;
  readonly #conf: RedisStreamsOutputConfig;
  readonly #conn: RedisOutputConnection;
  readonly #stream: InterpolatedString;

  constructor(conf: RedisStreamsOutputConfig, ctx: ComponentContext) {
    this.#conf = conf;
    this.maxInFlight = Math.max(1, conf.max_in_flight);
    this.#conn = new RedisOutputConnection(conf, ctx, 'redis_streams');
    this.#stream = ctx.bloblang.interpolate(conf.stream);
  }

  connect(signal: AbortSignal): Promise<void> {
    return this.#conn.connect(signal);
  }

  write(batch: Batch): Promise<void> {
    const { body_key, max_length, metadata } = this.#conf;
    const entries = batch.map((m, i) => ({ stream: this.#stream.render(batch, i), fields: entryFields(m, body_key, metadata.exclude_prefixes) }));
    return this.#conn.exec((p) => {
      for (const e of entries) {
        if (max_length > 0) p.xadd(e.stream, 'MAXLEN', '~', max_length, '*', ...e.fields);
        else p.xadd(e.stream, '*', ...e.fields);
      }
    });
  }

  close(): Promise<void> {
    return this.#conn.close();
  }
}

export const spec = defineOutput<RedisStreamsOutputConfig>({
  name: 'redis_streams',
  summary: 'Pushes messages to a Redis (v5.0+) stream (created when missing) using XADD.',
  description: [
    'Each message becomes an entry: the field `body_key` holds the message and every metadata key becomes a field (unless excluded); when a metadata key equals `body_key` the body wins.',
    'With `max_length` above zero the stream is capped at about that many entries (MAXLEN ~: Redis trims whole macro nodes, for efficiency).',
  ].join('\n\n'),
  categories: ['Services'],
  config: field.object('', '', [
    ...redisFields(),
    field.interp('stream', 'The stream to add messages to.'),
    field.string('body_key', 'The field to set the message body to.', { default: 'body' }),
    field.int('max_length', 'When above zero, a rough cap on the length of the stream.', { default: 0 }),
    maxInFlightField(64),
    field.object('metadata', 'Which metadata keys become entry fields.', [
      field.stringList('exclude_prefixes', 'Metadata keys with these prefixes are not added.', { default: [] }),
    ]),
    batchingFields(),
  ]),
  examples: [
    {
      title: 'An audit log',
      config: 'output:\n  redis_streams:\n    url: redis://localhost:6379\n    stream: audit\n    max_length: 100000\n',
    },
  ],
  build: (conf, ctx) => withBatching(new RedisStreamsOutput(conf, ctx), conf.batching, ctx),
});
