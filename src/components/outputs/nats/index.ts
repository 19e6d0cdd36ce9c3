/**
 * `nats` output: publishes each message to a core NATS subject (interpolated per message).
 * A write resolves after a round trip to the server (flush), so the server has the messages;
 * whether any subscriber received them core NATS cannot tell.
 */
import type { ComponentContext, Output } from '../../../engine/component.js';
import { defineOutput } from '../../../engine/component.js';
import type { Batch } from '../../../engine/message.js';
import { field, maxInFlightField } from '../../../engine/spec.js';
import { notConnected } from '../../../engine/errors.js';
import type { NatsConnection } from '@nats-io/transport-node';
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

export interface NatsOutputConfig extends NatsConnectionConfig, NatsPublishConfig {
  max_in_flight: number;
}

class NatsOutput implements Output {
  readonly maxInFlight: number;
  readonly #conf: NatsOutputConfig;
  readonly #ctx: ComponentContext;
  readonly #shape: NatsMessageShaper;
  #nc: NatsConnection | undefined;

  constructor(conf: NatsOutputConfig, ctx: ComponentContext) {
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
      })
      .finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  async write(batch: Batch): Promise<void> {
    const nc = this.#nc;
    if (!nc || nc.isClosed()) throw notConnected();
    try {
      for (let i = 0; i < batch.length; i++) {
        const headers = buildHeaders(this.#shape.headers(batch, i));
        nc.publish(this.#shape.subject(batch, i), batch[i]!.bytes(), headers ? { headers } : undefined);
      }
      await nc.flush();
    } catch (err) {
      if (isClosedError(err) || nc.isClosed()) {
        this.#nc = undefined;
        throw notConnected(err);
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    const nc = this.#nc;
    this.#nc = undefined;
    if (nc && !nc.isClosed()) {
      try {
        await nc.drain();
      } catch {
        await closeNats(nc);
      }
    }
  }
}

export const spec = defineOutput<NatsOutputConfig>({
  name: 'nats',
  summary: 'Publishes messages to a NATS subject.',
  description: [
    'The subject and headers are interpolated per message. A write completes once the server has received the messages; core NATS cannot confirm that any subscriber got them (at-most-once).',
    connectionNameNote,
    natsAuthNote,
  ].join('\n\n'),
  categories: ['Services'],
  config: field.object('', '', [
    natsUrlsField(),
    field.interp('subject', 'The subject to publish to.', { examples: ['foo.bar.baz'] }),
    field.stringMap('headers', 'Explicit message headers to add to messages.', { default: {}, interpolated: true, examples: [{ 'Content-Type': 'application/json', Timestamp: '${!meta("Timestamp")}' }] }),
    natsMetadataField(),
    maxInFlightField(64),
    ...natsTailFields(),
    field.string('inject_tracing_map', 'Accepted for compatibility; tracing is not injected yet.', { optional: true, advanced: true }),
  ]),
  examples: [
    {
      title: 'Publish per customer',
      config: 'output:\n  nats:\n    urls: [nats://127.0.0.1:4222]\n    subject: orders.${! json("customer") }\n',
    },
  ],
  build: (conf, ctx) => new NatsOutput(conf, ctx),
});
