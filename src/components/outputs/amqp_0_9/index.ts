/**
 * `amqp_0_9` output: publishes to an exchange on a channel in confirm mode, so a write resolves
 * only once the broker acked every message of the batch (a broker nack, or a `mandatory` message
 * returned as unroutable, fails the write and nacks it back to the input). Metadata goes out as
 * headers, `_` written as `-`, minus `metadata.exclude_prefixes`.
 */
import type { ChannelModel, ConfirmChannel, Options } from 'amqplib';
import type { ComponentContext, Output } from '../../../engine/component.js';
import { defineOutput } from '../../../engine/component.js';
import type { InterpolatedString } from '../../../engine/bloblang-api.js';
import type { Batch } from '../../../engine/message.js';
import { field, maxInFlightField, tlsFields } from '../../../engine/spec.js';
import { parseDuration } from '../../../engine/backoff.js';
import { notConnected, sluiceError } from '../../../engine/errors.js';
import type { TlsConfig } from '../../tls-common.js';
import { amqpHeaders, amqpUrlsField, dialAmqp, DIAL_TIMEOUT_MS, expandAmqpUrls, redactAmqpUrl, withTimeout } from '../../amqp-common.js';

export interface AmqpOutputConfig {
  urls: string[];
  exchange: string;
  exchange_declare: { enabled: boolean; type: string; durable: boolean };
  key: string;
  type: string;
  content_type: string;
  content_encoding: string;
  correlation_id: string;
  reply_to: string;
  expiration: string;
  message_id: string;
  user_id: string;
  app_id: string;
  metadata: { exclude_prefixes: string[] };
  priority: string;
  max_in_flight: number;
  persistent: boolean;
  mandatory: boolean;
  immediate: boolean;
  timeout: string;
  tls: TlsConfig;
}

interface Conn {
  readonly model: ChannelModel;
  readonly channel: ConfirmChannel;
  readonly url: string;
  /** Exchanges declared on this connection. */
  readonly declared: Map<string, Promise<void>>;
  /** Messages returned as unroutable and not yet matched to their confirm. */
  returned: number;
  readonly pending: Set<(err: Error) => void>;
  closed: boolean;
}

/** Parses `priority` as Benthos does: an integer 0..9, empty meaning none. */
export function parsePriority(text: string): number | undefined {
  if (text === '') return undefined;
  if (!/^[+-]?\d+$/.test(text)) throw new Error(`failed to parse valid integer from priority expression: "${text}"`);
  const n = Number(text);
  if (n < 0 || n > 9) throw new Error(`invalid priority parsed from expression, must be <= 9 and >= 0, got ${n}`);
  return n;
}

const PROPS = ['key', 'type', 'content_type', 'content_encoding', 'correlation_id', 'reply_to', 'expiration', 'message_id', 'user_id', 'app_id', 'priority', 'exchange'] as const;
type Prop = (typeof PROPS)[number];

class AmqpOutput implements Output {
  readonly maxInFlight: number;
  readonly #conf: AmqpOutputConfig;
  readonly #ctx: ComponentContext;
  readonly #fields: Record<Prop, InterpolatedString>;
  readonly #timeoutMs: number | undefined;
  #conn: Conn | undefined;
  #connecting: Promise<void> | undefined;

  constructor(conf: AmqpOutputConfig, ctx: ComponentContext) {
    this.#conf = conf;
    this.#ctx = ctx;
    this.maxInFlight = Math.max(1, conf.max_in_flight);
    this.#fields = Object.fromEntries(PROPS.map((p) => [p, ctx.bloblang.interpolate(conf[p])])) as Record<Prop, InterpolatedString>;
    this.#timeoutMs = parseDuration(conf.timeout);
    if (conf.immediate) ctx.logger.warn('immediate is not supported by RabbitMQ (removed in 3.0) and is ignored');
  }

  connect(signal: AbortSignal): Promise<void> {
    if (this.#conn && !this.#conn.closed) return Promise.resolve();
    this.#connecting ??= this.#connect(signal).finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  async #connect(signal: AbortSignal): Promise<void> {
    const { model, url } = await dialAmqp(this.#conf.urls, this.#conf.tls, signal);
    try {
      const channel = await withTimeout(model.createConfirmChannel(), DIAL_TIMEOUT_MS, 'opening a confirm channel');
      const conn: Conn = { model, channel, url, declared: new Map(), returned: 0, pending: new Set(), closed: false };
      const lost = (reason: string) => {
        if (conn.closed) return;
        conn.closed = true;
        if (this.#conn === conn) this.#ctx.logger.warn('amqp_0_9 output lost its connection', { url: redactAmqpUrl(url), reason });
        const err = notConnected(new Error(`amqp connection to ${redactAmqpUrl(url)} closed: ${reason}`));
        for (const reject of [...conn.pending]) reject(err);
        void model.close().catch(() => {});
      };
      channel.on('error', (err: Error) => lost(err.message));
      channel.on('close', () => lost('channel closed'));
      channel.on('return', () => conn.returned++);
      model.on('close', (err?: Error) => lost(err?.message ?? 'connection closed'));
      if (this.#fields.exchange.isStatic) await withTimeout(this.#declare(conn, this.#conf.exchange), DIAL_TIMEOUT_MS, 'declaring the exchange');
      this.#conn = conn;
      this.#ctx.logger.debug('amqp_0_9 output connected', { url: redactAmqpUrl(url) });
    } catch (err) {
      void model.close().catch(() => {});
      throw new Error(`amqp_0_9: setting up the channel at ${redactAmqpUrl(url)} failed: ${(err as Error).message}`);
    }
  }

  /** Declares an exchange once per connection when `exchange_declare.enabled`. */
  #declare(conn: Conn, exchange: string): Promise<void> {
    const d = this.#conf.exchange_declare;
    if (!d.enabled) return Promise.resolve();
    let p = conn.declared.get(exchange);
    if (!p) {
      p = conn.channel
        .assertExchange(exchange, d.type, { durable: d.durable, autoDelete: false, internal: false })
        .then(
          () => undefined,
          (err: unknown) => {
            conn.declared.delete(exchange);
            throw new Error(`amqp failed to declare exchange ${exchange}: ${(err as Error).message}`);
          },
        );
      conn.declared.set(exchange, p);
    }
    return p;
  }

  write(batch: Batch): Promise<void> {
    const conn = this.#conn;
    if (!conn || conn.closed) {
      this.#conn = undefined;
      throw notConnected();
    }
    if (batch.length === 1) return this.#publish(conn, batch, 0);
    return Promise.all(batch.map((_, i) => this.#publish(conn, batch, i))).then(() => undefined);
  }

  #render(p: Prop, batch: Batch, i: number): string {
    return this.#fields[p].render(batch, i);
  }

  async #publish(conn: Conn, batch: Batch, i: number): Promise<void> {
    const f = (p: Prop) => this.#render(p, batch, i);
    const exchange = f('exchange');
    const opts: Options.Publish = {
      deliveryMode: this.#conf.persistent ? 2 : 1,
      mandatory: this.#conf.mandatory,
    };
    const props: [keyof Options.Publish, string][] = [
      ['type', f('type').replaceAll('/', '.')],
      ['contentType', f('content_type')],
      ['contentEncoding', f('content_encoding')],
      ['correlationId', f('correlation_id')],
      ['replyTo', f('reply_to')],
      ['expiration', f('expiration')],
      ['messageId', f('message_id')],
      ['userId', f('user_id')],
      ['appId', f('app_id')],
    ];
    for (const [k, v] of props) if (v !== '') (opts as Record<string, unknown>)[k] = v;
    const priority = parsePriority(f('priority'));
    if (priority) opts.priority = priority;
    const headers = amqpHeaders(batch[i]!, this.#conf.metadata.exclude_prefixes);
    if (headers) opts.headers = headers;
    const key = f('key').replaceAll('/', '.');
    const content = Buffer.from(batch[i]!.bytes());
    if (!conn.declared.has(exchange) && this.#conf.exchange_declare.enabled) await this.#declare(conn, exchange);
    if (conn.closed) throw notConnected();

    await new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const settle = (err?: Error) => {
        if (!conn.pending.delete(fail)) return;
        if (timer) clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      const fail = (err: Error) => settle(err);
      conn.pending.add(fail);
      if (this.#timeoutMs) {
        timer = setTimeout(() => settle(sluiceError('SLU_ERR_TIMEOUT', `amqp publish to exchange "${exchange}" at ${redactAmqpUrl(conn.url)} after ${this.#conf.timeout}`)), this.#timeoutMs);
      }
      try {
        conn.channel.publish(exchange, key, content, opts, (err: unknown) => {
          if (err) {
            // amqplib fails every unconfirmed publish with "channel closed" when the channel goes
            // (before its 'close' event): that is a lost connection, not a broker nack.
            const closed = conn.closed || (err instanceof Error && err.message === 'channel closed');
            settle(closed ? notConnected(err) : new Error(`amqp_0_9: the broker nacked the message (exchange "${exchange}", key "${key}")`));
            return;
          }
          // The broker sends basic.return right before the confirm of the returned message.
          if (conn.returned > 0) {
            conn.returned--;
            settle(new Error(`amqp_0_9: message returned as unroutable (exchange "${exchange}", key "${key}", mandatory)`));
            return;
          }
          settle();
        });
      } catch (err) {
        // Publishing on a closed channel throws at once; anything else (e.g. headers too large) is the message's fault.
        settle(conn.closed || /closed/i.test((err as Error).message) ? notConnected(err) : (err as Error));
      }
    });
  }

  async close(): Promise<void> {
    const conn = this.#conn;
    this.#conn = undefined;
    if (!conn || conn.closed) return;
    conn.closed = true;
    await Promise.race([conn.model.close().catch(() => {}), new Promise((r) => setTimeout(r, 2000).unref())]);
  }
}

export const spec = defineOutput<AmqpOutputConfig>({
  name: 'amqp_0_9',
  summary: 'Sends messages to an AMQP (0.91) exchange. AMQP is a messaging protocol used by various message brokers, including RabbitMQ.',
  description:
    'The metadata from each message are delivered as headers (`_` in keys is sent as `-`). ' +
    "It's possible for this output type to create the target exchange by setting `exchange_declare.enabled` to `true`, if the exchange already exists then the declaration passively verifies that the settings match. " +
    'TLS is automatic when connecting to an `amqps` URL, but custom settings can be enabled in the `tls` section. ' +
    'The fields `exchange`, `key`, `type` and the message properties can be dynamically set using function interpolations. ' +
    'The channel is in confirm mode: a write completes once the broker acknowledged it.',
  categories: ['Services'],
  config: field.object('', '', [
    amqpUrlsField(),
    field.interp('exchange', 'An AMQP exchange to publish to.'),
    field.object('exchange_declare', 'Optionally declare the target exchange (passive).', [
      field.bool('enabled', 'Whether to declare the exchange.', { default: false }),
      field.string('type', 'The type of the exchange.', { default: 'direct', options: ['direct', 'fanout', 'topic', 'headers', 'x-custom'] }),
      field.bool('durable', 'Whether the exchange should be durable.', { default: true }),
    ], { advanced: true }),
    field.interp('key', 'The binding key to set for each message.', { default: '' }),
    field.interp('type', 'The type property to set for each message.', { default: '' }),
    field.interp('content_type', 'The content type attribute to set for each message.', { default: 'application/octet-stream', advanced: true }),
    field.interp('content_encoding', 'The content encoding attribute to set for each message.', { default: '', advanced: true }),
    field.interp('correlation_id', 'Set the correlation ID of each message with a dynamic interpolated expression.', { default: '', advanced: true }),
    field.interp('reply_to', 'Carries response queue name - set with a dynamic interpolated expression.', { default: '', advanced: true }),
    field.interp('expiration', 'Set the per-message TTL', { default: '', advanced: true }),
    field.interp('message_id', 'Set the message ID of each message with a dynamic interpolated expression.', { default: '', advanced: true }),
    field.interp('user_id', 'Set the user ID to the name of the publisher. If this property is set by a publisher, its value must be equal to the name of the user used to open the connection.', { default: '', advanced: true }),
    field.interp('app_id', 'Set the application ID of each message with a dynamic interpolated expression.', { default: '', advanced: true }),
    field.object('metadata', 'Specify criteria for which metadata values are attached to messages as headers.', [
      field.stringList('exclude_prefixes', 'Provide a list of explicit metadata key prefixes to be excluded when adding metadata to sent messages.', { default: [] }),
    ]),
    field.interp('priority', 'Set the priority of each message with a dynamic interpolated expression.', {
      default: '',
      advanced: true,
      examples: ['0', '${! meta("amqp_priority") }', '${! json("doc.priority") }'],
    }),
    maxInFlightField(64),
    field.bool('persistent', 'Whether message delivery should be persistent (transient by default).', { default: false, advanced: true }),
    field.bool('mandatory', 'Whether to set the mandatory flag on published messages. When set if a published message is routed to zero queues it is returned.', { default: false, advanced: true }),
    field.bool('immediate', 'Whether to set the immediate flag on published messages. When set if there are no ready consumers of a queue then the message is dropped instead of waiting (not supported by RabbitMQ: ignored).', { default: false, advanced: true }),
    field.duration('timeout', 'The maximum period to wait before abandoning it and reattempting. If not set, wait indefinitely.', { default: '', advanced: true }),
    tlsFields(),
  ]),
  examples: [
    {
      title: 'Publish to a topic exchange',
      config: 'output:\n  amqp_0_9:\n    urls: [ amqp://guest:guest@localhost:5672/ ]\n    exchange: events\n    exchange_declare: { enabled: true, type: topic }\n    key: orders.${! json("type") }\n    persistent: true\n',
    },
  ],
  lint: (conf) => {
    const out: string[] = [];
    if (expandAmqpUrls(conf.urls ?? []).length === 0) out.push('field urls must contain at least one URL');
    if (conf.max_in_flight < 1) out.push(`max_in_flight must be at least 1, got ${conf.max_in_flight}`);
    if (typeof conf.priority === 'string' && !conf.priority.includes('${!')) {
      try {
        parsePriority(conf.priority);
      } catch (err) {
        out.push((err as Error).message);
      }
    }
    return out;
  },
  build: (conf, ctx) => new AmqpOutput(conf, ctx),
});
