/**
 * `nats_kv` output: puts each message into a NATS KV bucket under its interpolated `key`. A write
 * resolves once JetStream stored every value of the batch (each put waits for its PubAck); a key
 * that is empty or not a valid KV key fails the write, which nacks the batch back to the input.
 */
import type { ComponentContext, Output } from '../../../engine/component.js';
import { defineOutput } from '../../../engine/component.js';
import type { InterpolatedString } from '../../../engine/bloblang-api.js';
import type { Batch } from '../../../engine/message.js';
import { field, maxInFlightField } from '../../../engine/spec.js';
import { notConnected } from '../../../engine/errors.js';
import type { NatsConnection } from '@nats-io/transport-node';
import type { KV } from '@nats-io/kv';
import {
  closeNats,
  connectionNameNote,
  isClosedError,
  natsAddress,
  natsAuthNote,
  natsKvBucketField,
  natsTailFields,
  natsUrlsField,
  openKvBucket,
  openNats,
  type NatsConnectionConfig,
} from '../../nats-common.js';

export interface NatsKvOutputConfig extends NatsConnectionConfig {
  bucket: string;
  key: string;
  max_in_flight: number;
}

/** How long a put (and the bucket lookup) waits for JetStream. */
const API_TIMEOUT_MS = 10_000;

class NatsKvOutput implements Output {
  readonly maxInFlight: number;
  readonly #conf: NatsKvOutputConfig;
  readonly #ctx: ComponentContext;
  readonly #key: InterpolatedString;
  #nc: NatsConnection | undefined;
  #kv: KV | undefined;
  #connecting: Promise<void> | undefined;

  constructor(conf: NatsKvOutputConfig, ctx: ComponentContext) {
    this.#conf = conf;
    this.#ctx = ctx;
    this.maxInFlight = Math.max(1, conf.max_in_flight);
    this.#key = ctx.bloblang.interpolate(conf.key);
  }

  /** Concurrent calls (several writes that lost the connection) share one attempt. */
  connect(signal: AbortSignal): Promise<void> {
    if (this.#nc && !this.#nc.isClosed()) return Promise.resolve();
    this.#connecting ??= this.#open(signal).finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  async #open(signal: AbortSignal): Promise<void> {
    const nc = await openNats(this.#conf, this.#ctx, signal);
    try {
      this.#kv = await openKvBucket(nc, this.#conf.bucket, API_TIMEOUT_MS);
      this.#nc = nc;
    } catch (err) {
      await closeNats(nc);
      throw new Error(`nats_kv at ${natsAddress(this.#conf)}: ${(err as Error).message}`, { cause: err });
    }
  }

  async write(batch: Batch): Promise<void> {
    const nc = this.#nc;
    const kv = this.#kv;
    if (!nc || !kv || nc.isClosed()) throw notConnected();
    const puts: Promise<number>[] = [];
    for (let i = 0; i < batch.length; i++) {
      const key = this.#key.render(batch, i);
      if (!key) throw new Error('the key interpolated to an empty string');
      puts.push(kv.put(key, batch[i]!.bytes()));
    }
    const results = await Promise.allSettled(puts);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (!failed) return;
    const err: unknown = failed.reason;
    if (isClosedError(err) || nc.isClosed()) {
      this.#nc = undefined;
      this.#kv = undefined;
      await closeNats(nc);
      throw notConnected(err);
    }
    throw new Error(`nats_kv put to bucket ${this.#conf.bucket}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }

  async close(): Promise<void> {
    const nc = this.#nc;
    this.#nc = undefined;
    this.#kv = undefined;
    await closeNats(nc);
  }
}

export const spec = defineOutput<NatsKvOutputConfig>({
  name: 'nats_kv',
  summary: 'Put messages in a NATS key-value bucket.',
  description: [
    'Each message is stored as the value of `key`, which is interpolated per message, so each message can have its own key. A write completes once JetStream stored the values of the whole batch. The bucket must exist.',
    connectionNameNote,
    natsAuthNote,
  ].join('\n\n'),
  categories: ['Services'],
  status: 'beta',
  config: field.object('', '', [
    natsUrlsField(),
    natsKvBucketField(),
    field.interp('key', 'The key for each message.', { examples: ['foo', 'foo.bar.baz', 'foo.${! json("meta.type") }'] }),
    maxInFlightField(1024),
    ...natsTailFields(),
  ]),
  lint: (conf) => {
    const out: string[] = [];
    if (conf.bucket === '') out.push('bucket must not be empty');
    if (conf.key === '') out.push('key must not be empty');
    return out;
  },
  examples: [
    {
      title: 'Keep the last state of every device',
      config: 'input:\n  mqtt:\n    urls: [tcp://127.0.0.1:1883]\n    topics: [devices/+/state]\noutput:\n  nats_kv:\n    urls: [nats://127.0.0.1:4222]\n    bucket: devices\n    key: ${! meta("mqtt_topic").replace_all("/", ".") }\n',
    },
  ],
  build: (conf, ctx) => new NatsKvOutput(conf, ctx),
});
