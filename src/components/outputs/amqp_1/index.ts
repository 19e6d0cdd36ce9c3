/**
 * `amqp_1` output: sends each message to an AMQP 1.0 target address, unsettled, so a write
 * resolves only once the broker accepted it (rejected, released or modified outcomes fail the
 * write, which nacks it back to the input). Metadata goes out as string message annotations
 * (minus `metadata.exclude_prefixes`); `application_properties_map` sets application properties.
 */
import rhea from 'rhea';
import type { Connection, Delivery, EventContext, Message as AmqpMessage, Sender } from 'rhea';
import type { ComponentContext, Output } from '../../../engine/component.js';
import { defineOutput } from '../../../engine/component.js';
import type { Mapping } from '../../../engine/bloblang-api.js';
import { metaToString, type Batch } from '../../../engine/message.js';
import { field, maxInFlightField } from '../../../engine/spec.js';
import { notConnected } from '../../../engine/errors.js';
import { redactAmqpUrl } from '../../amqp-common.js';
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

export interface Amqp1OutputConfig extends Amqp1ClientConfig {
  target_address: string;
  max_in_flight: number;
  application_properties_map?: string;
  metadata: { exclude_prefixes: string[] };
  content_type: string;
  persistent: boolean;
}

interface Conn {
  readonly connection: Connection;
  readonly sender: Sender;
  readonly url: string;
  /** Outcome handlers of unsettled deliveries, by delivery. */
  readonly pending: Map<Delivery, (err?: Error) => void>;
  closed: boolean;
}

class Amqp1Output implements Output {
  readonly maxInFlight: number;
  readonly #conf: Amqp1OutputConfig;
  readonly #ctx: ComponentContext;
  readonly #props: Mapping | undefined;
  #conn: Conn | undefined;
  #connecting: Promise<void> | undefined;

  constructor(conf: Amqp1OutputConfig, ctx: ComponentContext) {
    this.#conf = conf;
    this.#ctx = ctx;
    this.maxInFlight = Math.max(1, conf.max_in_flight);
    this.#props = conf.application_properties_map ? ctx.bloblang.compileMapping(conf.application_properties_map) : undefined;
  }

  connect(signal: AbortSignal): Promise<void> {
    if (this.#conn && !this.#conn.closed) return Promise.resolve();
    this.#connecting ??= this.#connect(signal).finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  async #connect(signal: AbortSignal): Promise<void> {
    const { connection, url } = await connectAmqp1(this.#conf, signal);
    const sender = connection.open_sender({ target: { address: this.#conf.target_address }, autosettle: true });
    const conn: Conn = { connection, sender, url, pending: new Map(), closed: false };
    try {
      await awaitLink(connection, sender, 'sender');
    } catch (err) {
      conn.closed = true;
      void closeConnection(connection, 500);
      throw new Error(`amqp_1: attaching to target ${this.#conf.target_address} at ${redactAmqpUrl(url)} failed: ${(err as Error).message}`);
    }
    const outcome = (kind: string) => (ctx: EventContext) => {
      const d = ctx.delivery;
      const done = d ? conn.pending.get(d) : undefined;
      if (!d || !done) return;
      conn.pending.delete(d);
      if (kind === 'accepted') done();
      else done(new Error(`amqp_1: the broker ${kind} the message${kind === 'rejected' ? `: ${amqp1ErrorText({ error: (d.remote_state as { error?: unknown } | undefined)?.error } as EventContext)}` : ''}`));
    };
    for (const kind of ['accepted', 'rejected', 'released', 'modified']) sender.on(kind, outcome(kind));
    const lost = (reason: string) => {
      if (conn.closed) return;
      conn.closed = true;
      if (this.#conn === conn) this.#ctx.logger.warn('amqp_1 output lost its connection', { url: redactAmqpUrl(url), reason });
      const err = notConnected(new Error(`amqp_1 connection to ${redactAmqpUrl(url)} closed: ${reason}`));
      for (const done of [...conn.pending.values()]) done(err);
      conn.pending.clear();
      void closeConnection(connection, 500);
    };
    sender.on('sender_error', (ctx: EventContext) => lost(amqp1ErrorText(ctx)));
    sender.on('sender_close', () => lost('sender closed'));
    connection.on('disconnected', (ctx: EventContext) => lost(amqp1ErrorText(ctx)));
    connection.on('connection_close', () => lost('connection closed'));
    this.#conn = conn;
    this.#ctx.logger.debug('amqp_1 output connected', { url: redactAmqpUrl(url), target: this.#conf.target_address });
  }

  write(batch: Batch): Promise<void> {
    const conn = this.#conn;
    if (!conn || conn.closed) {
      this.#conn = undefined;
      throw notConnected();
    }
    if (batch.length === 1) return this.#send(conn, batch, 0);
    return Promise.all(batch.map((_, i) => this.#send(conn, batch, i))).then(() => undefined);
  }

  #message(batch: Batch, i: number): AmqpMessage {
    const m = batch[i]!;
    const annotations: Record<string, string> = {};
    let any = false;
    for (const [k, v] of m.metaEntries()) {
      if (this.#conf.metadata.exclude_prefixes.some((p) => k.startsWith(p))) continue;
      annotations[k] = metaToString(v);
      any = true;
    }
    const bytes = Buffer.from(m.bytes());
    const out: AmqpMessage = { body: this.#conf.content_type === 'string' ? bytes.toString('utf8') : rhea.message.data_section(bytes) } as AmqpMessage;
    if (any) out.message_annotations = annotations;
    if (this.#conf.persistent) out.durable = true;
    if (this.#props) {
      const v = this.#props.query(batch, i);
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) out.application_properties = v as Record<string, unknown>;
      else if (v !== undefined && v !== null) throw new Error('application_properties_map must result in an object');
    }
    return out;
  }

  #send(conn: Conn, batch: Batch, i: number): Promise<void> {
    const msg = this.#message(batch, i);
    return new Promise<void>((resolve, reject) => {
      let delivery: Delivery;
      try {
        delivery = conn.sender.send(msg);
      } catch (err) {
        reject(conn.closed ? notConnected(err) : (err as Error));
        return;
      }
      conn.pending.set(delivery, (err) => (err ? reject(err) : resolve()));
    });
  }

  async close(): Promise<void> {
    const conn = this.#conn;
    this.#conn = undefined;
    if (!conn || conn.closed) return;
    conn.closed = true;
    await closeConnection(conn.connection, 2000);
  }
}

export const spec = defineOutput<Amqp1OutputConfig>({
  name: 'amqp_1',
  summary: 'Sends messages to an AMQP (1.0) server.',
  description:
    'Message metadata is added to each AMQP message as string annotations. In order to control which metadata keys are added use the `metadata` config field. ' +
    'A write completes once the broker accepted the message. This output benefits from sending multiple messages in flight in parallel: tune `max_in_flight`. With RabbitMQ 3.x enable the `rabbitmq_amqp1_0` plugin; targets are addresses such as `/queue/orders` or `/exchange/events/key`.',
  categories: ['Services'],
  config: field.object('', '', [
    amqp1UrlsField(),
    field.string('target_address', 'The target address to write to.', { examples: ['/foo', 'queue:/bar', 'topic:/baz'] }),
    maxInFlightField(64),
    amqp1TlsField(),
    field.bloblang('application_properties_map', 'An optional Bloblang mapping that can be defined in order to set the `application-properties` on output messages.', { optional: true, advanced: true }),
    amqp1SaslField(),
    field.object('metadata', 'Specify criteria for which metadata values are attached to messages as headers.', [
      field.stringList('exclude_prefixes', 'Provide a list of explicit metadata key prefixes to be excluded when adding metadata to sent messages.', { default: [] }),
    ]),
    field.string('content_type', 'Specify the message body content type. `opaque_binary`: a data section; `string`: an AMQP string value.', { default: 'opaque_binary', options: ['opaque_binary', 'string'], advanced: true }),
    field.bool('persistent', 'Whether message delivery should be persistent (transient by default).', { default: false, advanced: true }),
  ]),
  examples: [
    {
      title: 'Send to a RabbitMQ queue over AMQP 1.0',
      config: 'output:\n  amqp_1:\n    urls: [ amqp://guest:guest@localhost:5672/ ]\n    target_address: /queue/orders\n',
    },
  ],
  lint: (conf) => [
    ...lintAmqp1Client(conf),
    ...(conf.max_in_flight < 1 ? [`max_in_flight must be at least 1, got ${conf.max_in_flight}`] : []),
  ],
  build: (conf, ctx) => new Amqp1Output(conf, ctx),
});
