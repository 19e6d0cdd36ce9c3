/**
 * `nats` input: a core NATS subscription (optionally in a queue group).
 *
 * Core NATS keeps nothing for absent subscribers and has no acknowledgements, so delivery is
 * at-most-once: messages published while Sluice is disconnected, or still queued here when it
 * stops, are lost. A nacked message is replayed from memory (`auto_replay_nacks`). When a
 * message carries a reply subject (e.g. it was delivered by a JetStream push consumer), the
 * acknowledgement is answered on it as Benthos does: `+ACK` once delivered and, with
 * `auto_replay_nacks: false`, `-NAK` (after `nak_delay`) when delivery failed.
 */
import type { AckFn, ComponentContext, Input, ReadResult } from '../../../engine/component.js';
import { defineInput } from '../../../engine/component.js';
import { autoReplayNacks } from '../../../engine/acks.js';
import { Message } from '../../../engine/message.js';
import { field, autoReplayNacksField } from '../../../engine/spec.js';
import { parseDuration } from '../../../engine/backoff.js';
import { notConnected } from '../../../engine/errors.js';
import { rateLimitedLog } from '../../../engine/logger.js';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { AsyncQueue } from '../../async-queue.js';
import {
  closeNats,
  connectionNameNote,
  headersToMeta,
  natsAuthNote,
  natsTailFields,
  natsUrlsField,
  openNats,
  type NatsConnectionConfig,
} from '../../nats-common.js';

export interface NatsInputConfig extends NatsConnectionConfig {
  subject: string;
  queue?: string;
  auto_replay_nacks: boolean;
  nak_delay?: string;
  prefetch_count: number;
}

const ACK = new TextEncoder().encode('+ACK');

/** The `-NAK` payload, with a delay when one is configured (JetStream's nak format). */
export function nakPayload(delayMs: number | undefined): Uint8Array {
  if (!delayMs) return new TextEncoder().encode('-NAK');
  return new TextEncoder().encode(`-NAK ${JSON.stringify({ delay: Math.round(delayMs * 1e6) })}`);
}

/** Turns a received NATS message into a Sluice message with Benthos' metadata keys. */
export function natsMessage(m: Pick<Msg, 'subject' | 'reply' | 'data' | 'headers'>): Message {
  const msg = new Message(m.data);
  msg.metaSet('nats_subject', m.subject);
  msg.metaSet('nats_reply_subject', m.reply ?? '');
  headersToMeta(msg, m.headers);
  return msg;
}

class NatsInput implements Input {
  readonly #conf: NatsInputConfig;
  readonly #ctx: ComponentContext;
  readonly #nakDelayMs: number | undefined;
  readonly #log = rateLimitedLog();
  #nc: NatsConnection | undefined;
  #sub: Subscription | undefined;
  #queue = new AsyncQueue<Msg>();
  #closed = false;

  constructor(conf: NatsInputConfig, ctx: ComponentContext) {
    this.#conf = conf;
    this.#ctx = ctx;
    this.#nakDelayMs = conf.nak_delay ? parseDuration(conf.nak_delay) : undefined;
  }

  async connect(signal: AbortSignal): Promise<void> {
    if (this.#nc && !this.#nc.isClosed()) return;
    const nc = await openNats(this.#conf, this.#ctx, signal);
    const queue = new AsyncQueue<Msg>();
    const limit = this.#conf.prefetch_count;
    let sub: Subscription;
    try {
      sub = nc.subscribe(this.#conf.subject, {
        ...(this.#conf.queue ? { queue: this.#conf.queue } : {}),
        callback: (err, m) => {
          if (err) return;
          if (limit > 0 && queue.size >= limit) {
            this.#log('slow-consumer', () =>
              this.#ctx.logger.warn('nats input is falling behind: messages dropped (prefetch_count reached)', { subject: this.#conf.subject, prefetch_count: limit }),
            );
            return;
          }
          queue.push(m);
        },
      });
      // A subscription is live once the server has seen it: flush makes that a round trip.
      await nc.flush();
    } catch (err) {
      await closeNats(nc);
      throw new Error(`cannot subscribe to NATS subject ${this.#conf.subject}: ${(err as Error).message}`, { cause: err });
    }
    this.#nc = nc;
    this.#sub = sub;
    this.#queue = queue;
    void nc.closed().then((err) => {
      if (!this.#closed && err) this.#ctx.logger.warn('nats connection closed', { error: err.message });
      queue.end();
    });
  }

  async read(signal: AbortSignal): Promise<ReadResult> {
    const queue = this.#queue;
    if (!this.#nc) throw notConnected();
    const m = await queue.take(signal);
    if (m === undefined) {
      if (signal.aborted) throw signal.reason ?? new Error('aborted');
      this.#nc = undefined;
      throw notConnected(new Error('NATS connection closed'));
    }
    return { batch: [natsMessage(m)], ack: this.#ack(m) };
  }

  #ack(m: Msg): AckFn {
    return (err) => {
      if (!m.reply) return;
      try {
        m.respond(err ? nakPayload(this.#nakDelayMs) : ACK);
      } catch {
        // The connection is gone: the sender (if any) redelivers by itself.
      }
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    const dropped = this.#queue.drain().length;
    if (dropped) this.#ctx.logger.debug('nats input closed with unread messages (core NATS is at-most-once)', { dropped });
    try {
      this.#sub?.unsubscribe();
    } catch {
      // connection already closed
    }
    this.#queue.end();
    await closeNats(this.#nc);
    this.#nc = undefined;
  }
}

export const spec = defineInput<NatsInputConfig>({
  name: 'nats',
  summary: 'Subscribes to a NATS subject.',
  description: [
    'Core NATS delivers to the subscribers present when a message is published and has no acknowledgements: delivery is **at-most-once**. Messages published while Sluice is not connected are not received, and messages still queued when it stops are lost. Use `nats_jetstream` for at-least-once delivery.',
    'With `auto_replay_nacks` (the default) a message rejected downstream is replayed from memory until it is delivered.',
    'Metadata: `nats_subject`, `nats_reply_subject` and every message header.',
    connectionNameNote,
    natsAuthNote,
  ].join('\n\n'),
  categories: ['Services'],
  config: field.object('', '', [
    natsUrlsField(),
    field.string('subject', 'A subject to consume from. Supports wildcards (`*`, `>`).', { examples: ['foo.bar.baz', 'foo.*.baz', 'foo.bar.*', 'foo.>'] }),
    field.string('queue', 'An optional queue group to consume as.', { optional: true }),
    autoReplayNacksField(),
    field.duration('nak_delay', 'With `auto_replay_nacks: false`, the delay asked of a JetStream server before it redelivers a rejected message (messages with a reply subject only).', { optional: true, advanced: true, examples: ['1m'] }),
    field.int('prefetch_count', 'How many received messages may wait to be read; beyond it new messages are dropped (a slow consumer).', { default: 524288, advanced: true }),
    ...natsTailFields(),
    field.string('extract_tracing_map', 'Accepted for compatibility; tracing is not extracted yet.', { optional: true, advanced: true }),
  ]),
  lint: (conf) => (conf.prefetch_count < 0 ? ['prefetch_count must be greater than or equal to zero'] : []),
  examples: [
    {
      title: 'Subscribe in a queue group',
      config: 'input:\n  nats:\n    urls: [nats://127.0.0.1:4222]\n    subject: orders.>\n    queue: sluice\n',
    },
  ],
  build: (conf, ctx) => {
    const input = new NatsInput(conf, ctx);
    return conf.auto_replay_nacks ? autoReplayNacks(input, true) : input;
  },
});
