/**
 * `nats_jetstream` output: publishes each message to a JetStream subject and waits for the
 * stream's PubAck, so a write resolves only once JetStream has stored the message. A subject no
 * stream captures fails the write (the batch is nacked back to the input).
 */
import type { ComponentContext, Output } from '../../../engine/component.js';
import { defineOutput } from '../../../engine/component.js';
import type { Batch } from '../../../engine/message.js';
import { field, maxInFlightField } from '../../../engine/spec.js';
import { notConnected } from '../../../engine/errors.js';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import {
  buildHeaders,
  closeNats,
  connectionNameNote,
  isClosedError,
  NatsMessageShaper,
  natsAuthNote,
  natsMetadataField,
  natsTailFields,
  natsUrlsField,
  openNats,
  type NatsConnectionConfig,
  type NatsPublishConfig,
} from '../../nats-common.js';

export interface NatsJetStreamOutputConfig extends NatsConnectionConfig, NatsPublishConfig {
  max_in_flight: number;
}

/** How long a publish waits for its PubAck. */
const PUBACK_TIMEOUT_MS = 10_000;

class NatsJetStreamOutput implements Output {
  readonly maxInFlight: number;
  readonly #conf: NatsJetStreamOutputConfig;
  readonly #ctx: ComponentContext;
  readonly #shape: NatsMessageShaper;
  #nc: NatsConnection | undefined;
  #js: JetStreamClient | undefined;

  constructor(conf: NatsJetStreamOutputConfig, ctx: ComponentContext) {
    this.#conf = conf;
    this.#ctx = ctx;
    this.maxInFlight = Math.max(1, conf.max_in_flight);
    this.#shape = new NatsMessageShaper(conf, ctx);
  }

  #connecting: Promise<void> | undefined;

  /** Concurrent calls (several writes that lost the connection) share one attempt. */
  connect(signal: AbortSignal): Promise<void> {
    if (this.#nc && !this.#nc.isClosed()) return Promise.resolve();
    this.#connecting ??= openNats(this.#conf, this.#ctx, signal)
      .then((nc) => {
        this.#nc = nc;
        this.#js = jetstream(nc, { timeout: PUBACK_TIMEOUT_MS });
      })
      .finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  async write(batch: Batch): Promise<void> {
    const nc = this.#nc;
    const js = this.#js;
    if (!nc || !js || nc.isClosed()) throw notConnected();
    const acks: Promise<unknown>[] = [];
    for (let i = 0; i < batch.length; i++) {
      const headers = buildHeaders(this.#shape.headers(batch, i));
      acks.push(js.publish(this.#shape.subject(batch, i), batch[i]!.bytes(), headers ? { headers } : {}));
    }
    const results = await Promise.allSettled(acks);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (!failed) return;
    const err: unknown = failed.reason;
    if (isClosedError(err) || nc.isClosed()) {
      this.#nc = undefined;
      this.#js = undefined;
      throw notConnected(err);
    }
    throw err instanceof Error ? err : new Error(String(err));
  }

  async close(): Promise<void> {
    const nc = this.#nc;
    this.#nc = undefined;
    this.#js = undefined;
    await closeNats(nc);
  }
}

export const spec = defineOutput<NatsJetStreamOutputConfig>({
  name: 'nats_jetstream',
  summary: 'Writes messages to a NATS JetStream subject.',
  description: [
    'Each message is published and its PubAck awaited: a write completes only once JetStream stored the message. The subject must be captured by a stream. The subject and headers are interpolated per message.',
    connectionNameNote,
    natsAuthNote,
  ].join('\n\n'),
  categories: ['Services'],
  config: field.object('', '', [
    natsUrlsField(),
    field.interp('subject', 'A subject to write to.', { examples: ['foo.bar.baz', '${! meta("kafka_topic") }', 'foo.${! json("meta.type") }'] }),
    field.stringMap('headers', 'Explicit message headers to add to messages.', { default: {}, interpolated: true, examples: [{ 'Content-Type': 'application/json', Timestamp: '${!meta("Timestamp")}' }] }),
    natsMetadataField(),
    maxInFlightField(1024),
    ...natsTailFields(),
    field.string('inject_tracing_map', 'Accepted for compatibility; tracing is not injected yet.', { optional: true, advanced: true }),
  ]),
  examples: [
    {
      title: 'Store HTTP posts in a stream',
      config: 'input:\n  http_server:\n    path: /post\noutput:\n  nats_jetstream:\n    urls: [nats://127.0.0.1:4222]\n    subject: events.posted\n',
    },
  ],
  build: (conf, ctx) => new NatsJetStreamOutput(conf, ctx),
});
