/**
 * `amqp_1` input: reads messages from an AMQP 1.0 source (RabbitMQ with its amqp1_0 plugin,
 * ActiveMQ Artemis, Azure Service Bus, Qpid...).
 *
 * Delivery: a message is accepted (settled) at the broker once delivered downstream; a failed
 * delivery is settled as `released`, so the broker redelivers it. `credit`
 * bounds the unsettled messages: one credit is granted back per settled message. Metadata:
 * `amqp_content_type`, `amqp_content_encoding`, `amqp_creation_time`, every string message
 * annotation, and with `read_header` `amqp_durable`, `amqp_priority`, `amqp_ttl`,
 * `amqp_first_acquirer`, `amqp_delivery_count`.
 */
import type { Connection, Delivery, EventContext, Message as AmqpMessage, Receiver } from 'rhea';
import type { AckFn, ComponentContext, Input, ReadResult } from '../../../engine/component.js';
import { untilWoken } from '../../../engine/backoff.js';
import { defineInput } from '../../../engine/component.js';
import { Message } from '../../../engine/message.js';
import { field } from '../../../engine/spec.js';
import { notConnected } from '../../../engine/errors.js';
import { redactAmqpUrl, setAmqpMeta } from '../../amqp-common.js';
import {
  amqp1ErrorText,
  amqp1SaslField,
  amqp1TlsField,
  amqp1UrlsField,
  closeConnection,
  connectAmqp1,
  lintAmqp1Client,
  type Amqp1ClientConfig,
  awaitLink,
} from '../../amqp1-common.js';

export interface Amqp1InputConfig extends Amqp1ClientConfig {
  source_address: string;
  azure_renew_lock: boolean;
  read_header: boolean;
  credit: number;
}

/** The payload: data sections as bytes, a string value as UTF-8, anything else empty (as Benthos). */
export function amqp1Body(body: unknown): Uint8Array {
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return Buffer.from(body);
  if (body !== null && typeof body === 'object' && (body as { typecode?: number }).typecode === 0x75) {
    const s = body as { content: unknown; multiple?: boolean };
    if (s.multiple && Array.isArray(s.content)) return Buffer.concat(s.content.filter((c): c is Buffer => c instanceof Uint8Array));
    if (s.content instanceof Uint8Array) return s.content;
  }
  return new Uint8Array(0);
}

/** The metadata Benthos sets from an AMQP 1.0 message. */
export function amqp1Metadata(m: AmqpMessage, readHeader: boolean): Record<string, string> {
  const meta: Record<string, string> = {};
  setAmqpMeta(meta, 'amqp_content_type', m.content_type);
  setAmqpMeta(meta, 'amqp_content_encoding', m.content_encoding);
  setAmqpMeta(meta, 'amqp_creation_time', m.creation_time);
  if (readHeader) {
    setAmqpMeta(meta, 'amqp_durable', Boolean(m.durable));
    setAmqpMeta(meta, 'amqp_priority', m.priority ?? 4);
    if (m.ttl !== undefined) setAmqpMeta(meta, 'amqp_ttl', m.ttl);
    setAmqpMeta(meta, 'amqp_first_acquirer', Boolean(m.first_acquirer));
    setAmqpMeta(meta, 'amqp_delivery_count', m.delivery_count ?? 0);
  }
  for (const [k, v] of Object.entries((m.message_annotations ?? {}) as Record<string, unknown>)) {
    if (typeof v === 'string') setAmqpMeta(meta, k, v);
  }
  return meta;
}

interface Conn {
  readonly connection: Connection;
  readonly receiver: Receiver;
  readonly url: string;
  closed: boolean;
}

interface Pending {
  readonly msg: AmqpMessage;
  readonly delivery: Delivery;
  readonly conn: Conn;
}

class Amqp1Input implements Input {
  readonly #conf: Amqp1InputConfig;
  readonly #ctx: ComponentContext;
  #conn: Conn | undefined;
  #queue: Pending[] = [];
  #waiter: (() => void) | undefined;
  #closing = false;
  #tickOutcome: 'accepted' | 'released' | undefined;
  #deferred: [Pending, Error | undefined][] = [];

  constructor(conf: Amqp1InputConfig, ctx: ComponentContext) {
    this.#conf = conf;
    this.#ctx = ctx;
    if (conf.azure_renew_lock) ctx.logger.warn('azure_renew_lock is not supported and is ignored');
  }

  async connect(signal: AbortSignal): Promise<void> {
    if (this.#conn && !this.#conn.closed) return;
    this.#closing = false;
    const { connection, url } = await connectAmqp1(this.#conf, signal);
    const receiver = connection.open_receiver({ source: { address: this.#conf.source_address }, credit_window: 0, autoaccept: false });
    const conn: Conn = { connection, receiver, url, closed: false };
    const lost = (reason: string) => {
      if (conn.closed) return;
      conn.closed = true;
      // Unsettled deliveries are released by the broker when the link goes.
      this.#queue = this.#queue.filter((p) => p.conn !== conn);
      if (!this.#closing && this.#conn === conn) this.#ctx.logger.warn('amqp_1 input lost its connection', { url: redactAmqpUrl(url), reason });
      void closeConnection(connection, 500);
      this.#wake();
    };
    try {
      await awaitLink(connection, receiver, 'receiver');
    } catch (err) {
      conn.closed = true;
      void closeConnection(connection, 500);
      throw new Error(`amqp_1: attaching to source ${this.#conf.source_address} at ${redactAmqpUrl(url)} failed: ${(err as Error).message}`);
    }
    receiver.on('message', (ctx: EventContext) => {
      if (!ctx.message || !ctx.delivery) return;
      this.#queue.push({ msg: ctx.message, delivery: ctx.delivery, conn });
      this.#wake();
    });
    receiver.on('receiver_error', (ctx: EventContext) => lost(amqp1ErrorText(ctx)));
    receiver.on('receiver_close', () => lost('receiver closed'));
    connection.on('disconnected', (ctx: EventContext) => lost(amqp1ErrorText(ctx)));
    connection.on('connection_close', () => lost('connection closed'));
    receiver.add_credit(Math.max(1, this.#conf.credit));
    this.#conn = conn;
    this.#ctx.logger.debug('amqp_1 input connected', { url: redactAmqpUrl(url), source: this.#conf.source_address });
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }

  /**
   * rhea (3.0.x) writes the settlements made in one tick as ranged dispositions and, for a run of
   * one, does not compare the next outcome: `accepted` then `released` on adjacent ids goes out
   * as one range with the first outcome, so a nacked message was lost (or an acked one
   * redelivered). So each tick settles with one outcome only; the others wait for the next turn,
   * after rhea has flushed.
   */
  #settle(p: Pending, err: Error | undefined): void {
    const outcome = err ? 'released' : 'accepted';
    if (this.#tickOutcome !== undefined && this.#tickOutcome !== outcome) {
      this.#deferred.push([p, err]);
      return;
    }
    if (this.#tickOutcome === undefined) {
      this.#tickOutcome = outcome;
      setImmediate(() => {
        this.#tickOutcome = undefined;
        const deferred = this.#deferred;
        this.#deferred = [];
        for (const [dp, derr] of deferred) this.#settle(dp, derr);
      });
    }
    if (p.conn.closed) return;
    try {
      // `released` (not `modified`, which RabbitMQ 3.x keeps unacked until the link closes): the
      // broker hands the message out again at once.
      if (err) p.delivery.release();
      else p.delivery.accept();
      p.conn.receiver.add_credit(1);
    } catch (e) {
      this.#ctx.logger.debug('amqp_1 settlement not sent: link closed', { error: (e as Error).message });
    }
  }

  async read(signal: AbortSignal): Promise<ReadResult> {
    for (;;) {
      const p = this.#queue.shift();
      if (p) {
        const msg = new Message(amqp1Body(p.msg.body), amqp1Metadata(p.msg, this.#conf.read_header));
        let done = false;
        const ack: AckFn = (err) => {
          if (done) return;
          done = true;
          this.#settle(p, err);
        };
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
    await closeConnection(conn.connection, 2000);
  }
}

export const spec = defineInput<Amqp1InputConfig>({
  name: 'amqp_1',
  summary: 'Reads messages from an AMQP (1.0) server.',
  description:
    'Each message is accepted at the broker once delivered downstream; a failed delivery is `released`, so the broker redelivers it. ' +
    'Metadata: `amqp_content_type`, `amqp_content_encoding`, `amqp_creation_time` and all string typed message annotations; with `read_header: true` also `amqp_durable`, `amqp_priority`, `amqp_ttl`, `amqp_first_acquirer`, `amqp_delivery_count`. ' +
    'This input benefits from receiving multiple messages in flight in parallel: tune `credit`. With RabbitMQ 3.x enable the `rabbitmq_amqp1_0` plugin; sources are addresses such as `/queue/orders`.',
  categories: ['Services'],
  config: field.object('', '', [
    amqp1UrlsField(),
    field.string('source_address', 'The source address to consume from.', { examples: ['/foo', 'queue:/bar', 'topic:/baz'] }),
    field.bool('azure_renew_lock', 'Experimental: Azure service bus specific option to renew lock if processing takes more then configured lock time (not supported: ignored).', { default: false, advanced: true }),
    field.bool('read_header', 'Read additional message header fields into `amqp_*` metadata properties.', { default: false, advanced: true }),
    field.int('credit', 'Specifies the maximum number of unacknowledged messages the sender can transmit. Once this limit is reached, no more messages will arrive until messages are acknowledged and settled.', {
      default: 64,
      advanced: true,
    }),
    amqp1TlsField(),
    amqp1SaslField(),
  ]),
  examples: [
    {
      title: 'Consume a RabbitMQ queue over AMQP 1.0',
      config: 'input:\n  amqp_1:\n    urls: [ amqp://guest:guest@localhost:5672/ ]\n    source_address: /queue/orders\n',
    },
  ],
  lint: (conf) => [
    ...lintAmqp1Client(conf),
    ...(conf.credit < 1 ? [`credit must be at least 1, got ${conf.credit}`] : []),
  ],
  build: (conf, ctx) => new Amqp1Input(conf, ctx),
});
