/**
 * `amqp_0_9` input: consumes a queue (RabbitMQ and other AMQP 0-9-1 brokers).
 *
 * Delivery: a message is acked at the broker once it was delivered downstream; a failed delivery
 * is nacked with requeue, or rejected without requeue (dead-lettered when the queue has a DLX)
 * when the error matches `nack_reject_patterns`. `prefetch_count` bounds the unacked messages the
 * broker hands out. When the connection or channel is lost, unacked messages go back to the
 * queue at the broker and are redelivered (`amqp_redelivered: true`) after the reconnect.
 */
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import type { AckFn, ComponentContext, Input, ReadResult } from '../../../engine/component.js';
import { untilWoken } from '../../../engine/backoff.js';
import { defineInput } from '../../../engine/component.js';
import { Message } from '../../../engine/message.js';
import { field, tlsFields } from '../../../engine/spec.js';
import { notConnected } from '../../../engine/errors.js';
import type { TlsConfig } from '../../tls-common.js';
import { amqpMetadata, amqpUrlsField, dialAmqp, DIAL_TIMEOUT_MS, expandAmqpUrls, redactAmqpUrl, withTimeout } from '../../amqp-common.js';

export interface AmqpInputConfig {
  urls: string[];
  queue: string;
  queue_declare: { enabled: boolean; durable: boolean; auto_delete: boolean };
  bindings_declare?: { exchange: string; key: string }[];
  consumer_tag: string;
  auto_ack: boolean;
  nack_reject_patterns: string[];
  prefetch_count: number;
  prefetch_size: number;
  tls: TlsConfig;
}

interface Conn {
  readonly model: ChannelModel;
  readonly channel: Channel;
  readonly url: string;
  closed: boolean;
}

interface Delivery {
  readonly raw: ConsumeMessage;
  readonly conn: Conn;
}

/** What a failed delivery becomes at the broker. */
export function nackAction(err: Error, rejectPatterns: readonly RegExp[]): 'reject' | 'requeue' {
  const text = err.message;
  return rejectPatterns.some((p) => p.test(text)) ? 'reject' : 'requeue';
}

class AmqpInput implements Input {
  readonly #conf: AmqpInputConfig;
  readonly #ctx: ComponentContext;
  readonly #reject: RegExp[];
  #conn: Conn | undefined;
  #queue: Delivery[] = [];
  #waiter: (() => void) | undefined;
  #closing = false;

  constructor(conf: AmqpInputConfig, ctx: ComponentContext) {
    this.#conf = conf;
    this.#ctx = ctx;
    this.#reject = conf.nack_reject_patterns.map((p) => new RegExp(p));
    if (conf.prefetch_size !== 0) {
      ctx.logger.warn('prefetch_size is not supported by RabbitMQ and is ignored; prefetch_count still applies', { prefetch_size: conf.prefetch_size });
    }
  }

  async connect(signal: AbortSignal): Promise<void> {
    if (this.#conn && !this.#conn.closed) return;
    this.#closing = false;
    const { model, url } = await dialAmqp(this.#conf.urls, this.#conf.tls, signal);
    const where = `${redactAmqpUrl(url)} queue ${this.#conf.queue}`;
    let step = 'opening a channel';
    // Every setup step is an RPC: a stalled broker must not hang connect().
    const rpc = <T>(p: Promise<T>) => withTimeout(p, DIAL_TIMEOUT_MS, step);
    try {
      const channel = await rpc(model.createChannel());
      const conn: Conn = { model, channel, url, closed: false };
      const lost = (reason: string) => {
        if (conn.closed) return;
        conn.closed = true;
        // Everything not acked yet is requeued by the broker; drop our copies.
        this.#queue = this.#queue.filter((d) => d.conn !== conn);
        if (!this.#closing && this.#conn === conn) this.#ctx.logger.warn('amqp_0_9 input lost its connection', { url: redactAmqpUrl(url), reason });
        void model.close().catch(() => {});
        this.#wake();
      };
      channel.on('error', (err: Error) => lost(err.message));
      channel.on('close', () => lost('channel closed'));
      model.on('close', (err?: Error) => lost(err?.message ?? 'connection closed'));
      const { queue_declare: qd } = this.#conf;
      if (qd.enabled) {
        step = 'declaring the queue';
        await rpc(channel.assertQueue(this.#conf.queue, { durable: qd.durable, autoDelete: qd.auto_delete, exclusive: false }));
      }
      for (const b of this.#conf.bindings_declare ?? []) {
        step = `binding the queue to exchange ${b.exchange} with key "${b.key}"`;
        await rpc(channel.bindQueue(this.#conf.queue, b.exchange, b.key));
      }
      step = 'setting the prefetch count';
      await rpc(channel.prefetch(this.#conf.prefetch_count, false));
      step = 'consuming';
      // auto_ack acks each message as it is read, not on receipt: prefetch still bounds memory.
      await rpc(channel.consume(
        this.#conf.queue,
        (raw) => {
          if (raw === null) {
            lost('the broker cancelled the consumer (queue deleted?)');
            return;
          }
          this.#queue.push({ raw, conn });
          this.#wake();
        },
        { noAck: false, ...(this.#conf.consumer_tag ? { consumerTag: this.#conf.consumer_tag } : {}) },
      ));
      this.#conn = conn;
      this.#ctx.logger.debug('amqp_0_9 input connected', { url: redactAmqpUrl(url), queue: this.#conf.queue });
    } catch (err) {
      void model.close().catch(() => {});
      throw new Error(`amqp_0_9: ${step} at ${where} failed: ${(err as Error).message}`);
    }
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }

  #settle(d: Delivery, err: Error | undefined): void {
    // On a closed channel the broker has requeued the message already.
    if (d.conn.closed) return;
    try {
      if (!err) d.conn.channel.ack(d.raw);
      else if (nackAction(err, this.#reject) === 'reject') d.conn.channel.nack(d.raw, false, false);
      else d.conn.channel.nack(d.raw, false, true);
    } catch (e) {
      this.#ctx.logger.debug('amqp_0_9 acknowledgement not sent: channel closed', { error: (e as Error).message });
    }
  }

  async read(signal: AbortSignal): Promise<ReadResult> {
    for (;;) {
      const d = this.#queue.shift();
      if (d) {
        const msg = new Message(d.raw.content, amqpMetadata(d.raw));
        let ack: AckFn;
        if (this.#conf.auto_ack) {
          this.#settle(d, undefined);
          ack = () => {};
        } else {
          let done = false;
          ack = (err) => {
            if (done) return;
            done = true;
            this.#settle(d, err);
          };
        }
        return { batch: [msg], ack };
      }
      if (!this.#conn || this.#conn.closed) {
        this.#conn = undefined;
        throw notConnected();
      }
      if (signal.aborted) throw signal.reason ?? new Error('aborted');
      await untilWoken(signal, (wake) => (this.#waiter = wake));
    }
  }

  async close(): Promise<void> {
    this.#closing = true;
    const conn = this.#conn;
    this.#conn = undefined;
    this.#queue = [];
    this.#wake();
    if (!conn || conn.closed) return;
    conn.closed = true;
    // Closing the connection returns every unacked message to the queue.
    await Promise.race([conn.model.close().catch(() => {}), new Promise((r) => setTimeout(r, 2000).unref())]);
  }
}

export const spec = defineInput<AmqpInputConfig>({
  name: 'amqp_0_9',
  summary: 'Connects to an AMQP (0.91) queue. AMQP is a messaging protocol used by various message brokers, including RabbitMQ.',
  description:
    'TLS is automatic when connecting to an `amqps` URL, but custom settings can be enabled in the `tls` section. ' +
    'Each message is acknowledged once delivered downstream; failed messages are nacked and requeued, or rejected (dropped or dead-lettered) when the error matches `nack_reject_patterns`. ' +
    'Metadata: `amqp_content_type`, `amqp_content_encoding`, `amqp_delivery_mode`, `amqp_priority`, `amqp_correlation_id`, `amqp_reply_to`, `amqp_expiration`, `amqp_message_id`, `amqp_timestamp`, `amqp_type`, `amqp_user_id`, `amqp_app_id`, `amqp_consumer_tag`, `amqp_delivery_tag`, `amqp_redelivered`, `amqp_exchange`, `amqp_routing_key`, and all message headers (`-` in names becomes `_`; nested headers are prefixed with the key of their parent).',
  categories: ['Services'],
  config: field.object('', '', [
    amqpUrlsField(),
    field.string('queue', 'An AMQP queue to consume from.'),
    field.object('queue_declare', 'Allows you to passively declare the target queue. If the queue already exists then the declaration passively verifies that they match the target fields.', [
      field.bool('enabled', 'Whether to enable queue declaration.', { default: false }),
      field.bool('durable', 'Whether the declared queue is durable.', { default: true }),
      field.bool('auto_delete', 'Whether the declared queue will auto-delete.', { default: false }),
    ], { advanced: true }),
    field.objectList('bindings_declare', 'Allows you to passively declare bindings for the target queue.', [
      field.string('exchange', 'The exchange of the declared binding.', { default: '' }),
      field.string('key', 'The key of the declared binding.', { default: '' }),
    ], { optional: true, advanced: true, examples: [[{ exchange: 'foo', key: 'bar' }]] }),
    field.string('consumer_tag', 'A consumer tag.', { default: '' }),
    field.bool('auto_ack', 'Acknowledge messages automatically as they are consumed rather than waiting for acknowledgments from downstream. This can improve throughput and prevent the pipeline from blocking but at the cost of eliminating delivery guarantees.', {
      default: false,
      advanced: true,
    }),
    field.stringList('nack_reject_patterns', 'A list of regular expression patterns whereby if a message that has failed to be delivered has an error that matches it will be dropped (or delivered to a dead-letter queue if one exists). By default failed messages are nacked with requeue enabled.', {
      default: [],
      advanced: true,
      examples: [['^reject me please:.+$']],
    }),
    field.int('prefetch_count', 'The maximum number of pending messages to have consumed at a time.', { default: 10 }),
    field.int('prefetch_size', 'The maximum amount of pending messages measured in bytes to have consumed at a time (not supported by RabbitMQ: ignored).', { default: 0, advanced: true }),
    tlsFields(),
  ]),
  examples: [
    {
      title: 'Consume a durable queue bound to an exchange',
      config:
        'input:\n  amqp_0_9:\n    urls: [ amqp://guest:guest@localhost:5672/ ]\n    queue: invoices\n    queue_declare: { enabled: true, durable: true }\n    bindings_declare: [ { exchange: amq.topic, key: "invoices.#" } ]\n    prefetch_count: 10\n',
    },
  ],
  lint: (conf) => {
    const out: string[] = [];
    if (expandAmqpUrls(conf.urls ?? []).length === 0) out.push('field urls must contain at least one URL');
    for (const [i, p] of (conf.nack_reject_patterns ?? []).entries()) {
      try {
        new RegExp(p);
      } catch (err) {
        out.push(`nack_reject_patterns[${i}] is not a valid regular expression: ${(err as Error).message}`);
      }
    }
    if (conf.prefetch_count < 0 || conf.prefetch_count > 65535) out.push(`prefetch_count must be between 0 and 65535, got ${conf.prefetch_count}`);
    return out;
  },
  build: (conf, ctx) => new AmqpInput(conf, ctx),
});
