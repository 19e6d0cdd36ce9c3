/**
 * `nats_jetstream` input: consumes a JetStream stream through a consumer with explicit acks.
 *
 * - A message is acked only once it was delivered downstream; a nacked message is nak'ed (after
 *   `nak_delay` when set) so JetStream redelivers it; one never acked is redelivered after
 *   `ack_wait`.
 * - `durable` (or else `queue`, as Go's client does) names a durable consumer, created when it
 *   does not exist, shared by every Sluice reading with that name (queue semantics). Without one
 *   an ephemeral consumer is made; it is deleted on close and reused (or resumed from the last
 *   sequence seen) after a reconnect.
 * - `bind: true` uses an existing consumer only (pull or push) and never creates or changes one.
 * - On close, messages received but not acked are left to JetStream: redelivered after
 *   `ack_wait`.
 */
import type { AckFn, ComponentContext, Input, ReadResult } from '../../../engine/component.js';
import { defineInput } from '../../../engine/component.js';
import { Message } from '../../../engine/message.js';
import { field } from '../../../engine/spec.js';
import { parseDuration } from '../../../engine/backoff.js';
import { notConnected } from '../../../engine/errors.js';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  jetstreamManager,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { AsyncQueue } from '../../async-queue.js';
import {
  closeNats,
  connectionNameNote,
  headersToMeta,
  natsAddress,
  natsAuthNote,
  natsTailFields,
  natsUrlsField,
  openNats,
  type NatsConnectionConfig,
} from '../../nats-common.js';

export type DeliverOption = 'all' | 'last' | 'last_per_subject' | 'new';

export interface NatsJetStreamInputConfig extends NatsConnectionConfig {
  queue?: string;
  subject?: string;
  durable?: string;
  stream?: string;
  bind?: boolean;
  deliver: DeliverOption;
  ack_wait: string;
  max_ack_pending: number;
  nak_delay?: string;
}

/** Consumer settings derived from the config (exported for unit tests). */
export function consumerConfig(conf: NatsJetStreamInputConfig, name: string | undefined): Partial<ConsumerConfig> {
  const ackWaitMs = parseDuration(conf.ack_wait) ?? 30_000;
  const cfg: Partial<ConsumerConfig> = {
    ack_policy: AckPolicy.Explicit,
    deliver_policy: deliverPolicy(conf.deliver),
    ack_wait: Math.round(ackWaitMs * 1e6),
  };
  if (conf.max_ack_pending !== 0) cfg.max_ack_pending = conf.max_ack_pending;
  if (conf.subject) cfg.filter_subject = conf.subject;
  if (name) cfg.durable_name = name;
  else cfg.inactive_threshold = EPHEMERAL_IDLE_MS * 1e6;
  return cfg;
}

export function deliverPolicy(d: DeliverOption): ConsumerConfig['deliver_policy'] {
  switch (d) {
    case 'last':
      return DeliverPolicy.Last;
    case 'last_per_subject':
      return DeliverPolicy.LastPerSubject;
    case 'new':
      return DeliverPolicy.New;
    default:
      return DeliverPolicy.All;
  }
}

/** An ephemeral consumer left without a client is removed by the server after this long. */
const EPHEMERAL_IDLE_MS = 30_000;
/** Messages pulled ahead of reads. Their ack_wait runs from delivery, so keep it modest. */
const MAX_PREFETCH = 256;

/** A JetStream message with Benthos' metadata keys (exported for unit tests). */
export function jetStreamMessage(m: Pick<JsMsg, 'subject' | 'data' | 'headers' | 'info' | 'timestampNanos'>): Message {
  const msg = new Message(m.data);
  msg.metaSet('nats_subject', m.subject);
  const info = m.info;
  msg.metaSet('nats_sequence_stream', String(info.streamSequence));
  msg.metaSet('nats_sequence_consumer', String(info.deliverySequence));
  msg.metaSet('nats_num_delivered', String(info.deliveryCount));
  msg.metaSet('nats_num_pending', String(info.pending));
  msg.metaSet('nats_domain', info.domain ?? '');
  msg.metaSet('nats_timestamp_unix_nano', m.timestampNanos.toString());
  headersToMeta(msg, m.headers);
  return msg;
}

interface Session {
  readonly nc: NatsConnection;
  readonly messages: ConsumerMessages;
  readonly queue: AsyncQueue<JsMsg>;
}

class NatsJetStreamInput implements Input {
  readonly #conf: NatsJetStreamInputConfig;
  readonly #ctx: ComponentContext;
  readonly #nakDelayMs: number | undefined;
  #session: Session | undefined;
  /** Received and handed to the engine, not yet acked or nacked. */
  readonly #unacked = new Set<JsMsg>();
  #stream = '';
  #ephemeral: string | undefined;
  #lastSeq = 0;
  #closed = false;

  constructor(conf: NatsJetStreamInputConfig, ctx: ComponentContext) {
    this.#conf = conf;
    this.#ctx = ctx;
    this.#nakDelayMs = conf.nak_delay ? parseDuration(conf.nak_delay) : undefined;
  }

  async connect(signal: AbortSignal): Promise<void> {
    if (this.#session && !this.#session.nc.isClosed()) return;
    const nc = await openNats(this.#conf, this.#ctx, signal);
    try {
      const jsm = await jetstreamManager(nc);
      this.#stream = this.#conf.stream || (await findStream(jsm, this.#conf.subject ?? ''));
      const queue = new AsyncQueue<JsMsg>();
      const messages = await this.#consume(jsm, queue);
      void messages.closed().then(() => queue.end());
      void nc.closed().then((err) => {
        if (!this.#closed && err) this.#ctx.logger.warn('nats_jetstream connection closed', { error: err.message });
        queue.end();
      });
      this.#session = { nc, messages, queue };
    } catch (err) {
      await closeNats(nc);
      throw new Error(`nats_jetstream at ${natsAddress(this.#conf)}: ${(err as Error).message}`, { cause: err });
    }
  }

  async #consume(jsm: JetStreamManager, queue: AsyncQueue<JsMsg>): Promise<ConsumerMessages> {
    const js = jsm.jetstream();
    const conf = this.#conf;
    const stream = this.#stream;
    const name = conf.durable || conf.queue || undefined;
    const prefetch = Math.max(1, Math.min(conf.max_ack_pending > 0 ? conf.max_ack_pending : MAX_PREFETCH, MAX_PREFETCH));
    const callback = (m: JsMsg) => queue.push(m);

    if (conf.bind && name) {
      const info = await jsm.consumers.info(stream, name).catch((err: unknown) => {
        throw new Error(`consumer ${name} of stream ${stream} cannot be bound: ${(err as Error).message}`);
      });
      if (info.config.deliver_subject) return (await js.consumers.getPushConsumer(stream, name)).consume({ callback });
      return (await js.consumers.get(stream, name)).consume({ callback, max_messages: prefetch });
    }

    if (name) {
      const info = await jsm.consumers.info(stream, name).catch(() => undefined);
      if (info?.config.deliver_subject) {
        // A durable push consumer (e.g. made by Benthos): consume it as it is.
        return (await js.consumers.getPushConsumer(stream, name)).consume({ callback });
      }
      if (!info) await jsm.consumers.add(stream, consumerConfig(conf, name));
      else await this.#alignDurable(jsm, info.config, name);
      return (await js.consumers.get(stream, name)).consume({ callback, max_messages: prefetch });
    }

    // Ephemeral (also `bind` with a stream but no durable): reuse the one of a previous
    // connection while the server still has it.
    if (this.#ephemeral) {
      const still = await jsm.consumers.info(stream, this.#ephemeral).catch(() => undefined);
      if (!still) this.#ephemeral = undefined;
    }
    if (!this.#ephemeral) {
      const cfg = consumerConfig(conf, undefined);
      const resume = this.#resumeSeq();
      if (resume > 0) {
        cfg.deliver_policy = DeliverPolicy.StartSequence;
        cfg.opt_start_seq = resume;
      }
      this.#ephemeral = (await jsm.consumers.add(stream, cfg)).name;
    }
    return (await js.consumers.get(stream, this.#ephemeral)).consume({ callback, max_messages: prefetch });
  }

  /** An existing durable takes this config's ack_wait and max_ack_pending (the updatable ones). */
  async #alignDurable(jsm: JetStreamManager, current: ConsumerConfig, name: string): Promise<void> {
    const want = consumerConfig(this.#conf, name);
    const update: Partial<ConsumerConfig> = {};
    if (want.ack_wait !== undefined && want.ack_wait !== current.ack_wait) update.ack_wait = want.ack_wait;
    if (want.max_ack_pending !== undefined && want.max_ack_pending !== current.max_ack_pending) update.max_ack_pending = want.max_ack_pending;
    if (Object.keys(update).length === 0) return;
    try {
      await jsm.consumers.update(this.#stream, name, update);
    } catch (err) {
      this.#ctx.logger.warn('could not update the durable consumer to the configured ack_wait/max_ack_pending', { consumer: name, error: (err as Error).message });
    }
  }

  /** Where a new ephemeral consumer resumes: the oldest message not acked, else after the last one seen. */
  #resumeSeq(): number {
    let min = 0;
    for (const m of this.#unacked) if (min === 0 || m.info.streamSequence < min) min = m.info.streamSequence;
    if (min > 0) return min;
    return this.#lastSeq > 0 ? this.#lastSeq + 1 : 0;
  }

  async read(signal: AbortSignal): Promise<ReadResult> {
    const s = this.#session;
    if (!s) throw notConnected();
    const m = await s.queue.take(signal);
    if (m === undefined) {
      if (signal.aborted) throw signal.reason ?? new Error('aborted');
      this.#session = undefined;
      await closeNats(s.nc);
      throw notConnected(new Error('NATS connection closed'));
    }
    this.#unacked.add(m);
    if (m.info.streamSequence > this.#lastSeq) this.#lastSeq = m.info.streamSequence;
    return { batch: [jetStreamMessage(m)], ack: this.#ack(m) };
  }

  #ack(m: JsMsg): AckFn {
    return (err) => {
      if (!this.#unacked.delete(m)) return;
      try {
        if (!err) m.ack();
        else if (this.#nakDelayMs) m.nak(this.#nakDelayMs);
        else m.nak();
      } catch {
        // Connection gone: JetStream redelivers after ack_wait.
      }
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    const s = this.#session;
    this.#session = undefined;
    if (!s) return;
    // Messages received but not acked are left to JetStream, which redelivers them after
    // ack_wait. (Nak'ing them here would be faster, but nats-server 2.9 mishandles naks that
    // arrive while the consumer has no pull request waiting: one message is lost until ack_wait
    // and another delivered twice.)
    s.queue.end();
    try {
      await s.messages.close();
    } catch {
      // already stopped
    }
    s.queue.drain();
    this.#unacked.clear();
    if (this.#ephemeral && !s.nc.isClosed()) {
      try {
        const jsm = await jetstreamManager(s.nc);
        await jsm.consumers.delete(this.#stream, this.#ephemeral);
      } catch {
        // it expires by itself
      }
      this.#ephemeral = undefined;
    }
    await closeNats(s.nc);
  }
}

async function findStream(jsm: JetStreamManager, subject: string): Promise<string> {
  if (!subject) throw new Error('either subject or stream must be set');
  try {
    return await jsm.streams.find(subject);
  } catch (err) {
    throw new Error(`no JetStream stream captures subject ${subject} (create the stream, or set stream): ${(err as Error).message}`);
  }
}

export const spec = defineInput<NatsJetStreamInputConfig>({
  name: 'nats_jetstream',
  summary: 'Reads messages from NATS JetStream subjects.',
  description: [
    'Messages are acknowledged to JetStream once delivered downstream (at-least-once); a message rejected downstream is nak\'ed and redelivered by JetStream, after `nak_delay` when set. A message that is neither is redelivered after `ack_wait`.',
    'With `durable` (or `queue`) a durable consumer of that name is used, created when missing; several Sluice streams with the same name share its messages. Without it an ephemeral consumer is created, and deleted when the stream stops. With `bind: true` the consumer must already exist and is used as it is (pull or push).',
    '### Consuming mirrored streams\n\nWhen the stream is mirrored from another JetStream domain it cannot be found from the subject alone: set `stream` as well as `subject`.',
    '### Metadata\n\n`nats_subject`, `nats_sequence_stream`, `nats_sequence_consumer`, `nats_num_delivered`, `nats_num_pending`, `nats_domain`, `nats_timestamp_unix_nano`, and every message header.',
    connectionNameNote,
    natsAuthNote,
  ].join('\n\n'),
  categories: ['Services'],
  config: field.object('', '', [
    natsUrlsField(),
    field.string('queue', 'An optional queue group to consume as (used as the durable name when `durable` is not set).', { optional: true }),
    field.string('subject', 'A subject to consume from; supports wildcards. Either a subject or a stream must be given.', { optional: true, examples: ['foo.bar.baz', 'foo.*.baz', 'foo.bar.*', 'foo.>'] }),
    field.string('durable', 'Preserve the state of your consumer under a durable name.', { optional: true }),
    field.string('stream', 'A stream to consume from. Either a subject or a stream must be given.', { optional: true }),
    field.bool('bind', 'Use an existing consumer (named by `durable`) rather than creating one.', { optional: true }),
    field.string('deliver', 'Which messages a new consumer starts with.', { default: 'all', options: ['all', 'last', 'last_per_subject', 'new'] }),
    field.duration('ack_wait', 'How long JetStream waits for an acknowledgement before redelivering.', { default: '30s', advanced: true, examples: ['100ms', '5m'] }),
    field.int('max_ack_pending', 'The most messages awaiting acknowledgement before JetStream pauses delivery.', { default: 1024, advanced: true }),
    field.duration('nak_delay', 'Delay before JetStream redelivers a message rejected downstream (empty: at once).', { optional: true, advanced: true, examples: ['1m'] }),
    ...natsTailFields(),
    field.string('extract_tracing_map', 'Accepted for compatibility; tracing is not extracted yet.', { optional: true, advanced: true }),
  ]),
  lint: (conf) => {
    const out: string[] = [];
    if (conf.bind) {
      if (!conf.durable && !conf.stream) out.push('stream or durable is required when bind is true');
    } else if (!conf.subject) out.push('subject is empty (set subject, or bind to an existing consumer)');
    return out;
  },
  examples: [
    {
      title: 'A durable consumer',
      config: 'input:\n  nats_jetstream:\n    urls: [nats://127.0.0.1:4222]\n    subject: orders.>\n    durable: sluice-orders\n    deliver: all\n',
    },
  ],
  build: (conf, ctx) => new NatsJetStreamInput(conf, ctx),
});
