/**
 * `redis_streams` input: reads Redis streams as a member (`client_id`) of a consumer group with
 * XREADGROUP.
 *
 * - An entry is XACKed only after it was delivered downstream. Acks are collected and sent
 *   every `commit_period`, and when the input closes or loses its connection.
 * - On start (and after a reconnect) the consumer first reads its own pending entries — read
 *   before but never acked, e.g. by a previous run that stopped or crashed — then new ones.
 *   Entries still being delivered are not read twice.
 * - Entries pending for other consumers of the group for longer than `claim_min_idle` (a Sluice
 *   extension, off by default) are claimed with XAUTOCLAIM: the way to recover the work of a
 *   consumer that is gone for good.
 * - A nacked entry is replayed from memory (`auto_replay_nacks`); with it off, the entry is
 *   dropped (acked), as Benthos does.
 * - The field `body_key` is the payload; every other field becomes metadata, with
 *   `redis_stream` holding the entry ID. Entries without `body_key` are acked and skipped.
 */
import type { AckFn, ComponentContext, Input, ReadResult } from '../../../engine/component.js';
import { defineInput } from '../../../engine/component.js';
import { autoReplayNacks } from '../../../engine/acks.js';
import { Message } from '../../../engine/message.js';
import { field, autoReplayNacksField } from '../../../engine/spec.js';
import { parseDuration } from '../../../engine/backoff.js';
import type { Redis } from 'ioredis';
import { BlockingConnection } from '../../redis-blocking.js';
import { redisAddress, redisError, redisFields, redisReady, type RedisConfig } from '../../redis-common.js';

export interface RedisStreamsInputConfig extends RedisConfig {
  body_key: string;
  streams: string[];
  auto_replay_nacks: boolean;
  limit: number;
  client_id: string;
  consumer_group: string;
  create_streams: boolean;
  start_from_oldest: boolean;
  commit_period: string;
  timeout: string;
  claim_min_idle: string;
}

/** One stream entry as Redis returns it: ID and a flat list of field names and values. */
export type RawEntry = [Buffer, Buffer[] | null];
/** An XREADGROUP reply: per stream, its entries. */
export type ReadGroupReply = [Buffer, RawEntry[]][] | null;

interface Entry {
  readonly stream: string;
  readonly id: string;
  readonly msg: Message;
}

/** Turns a stream entry into a message (exported for unit tests); undefined without `bodyKey`. */
export function entryMessage(id: string, fields: readonly Buffer[], bodyKey: string): Message | undefined {
  let body: Buffer | undefined;
  const meta: [string, string][] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const k = fields[i]!.toString();
    if (k === bodyKey && body === undefined) body = fields[i + 1]!;
    else meta.push([k, fields[i + 1]!.toString()]);
  }
  if (body === undefined) return undefined;
  const msg = new Message(body);
  msg.metaSet('redis_stream', id);
  for (const [k, v] of meta) msg.metaSet(k, v);
  return msg;
}

class RedisStreamsInput implements Input {
  readonly #conf: RedisStreamsInputConfig;
  readonly #ctx: ComponentContext;
  readonly #conn: BlockingConnection<ReadGroupReply>;
  readonly #blockMs: number;
  readonly #commitMs: number;
  readonly #claimMs: number | undefined;
  /** Per stream, where the next read of own pending entries starts; gone once they are read. */
  readonly #backlog = new Map<string, string>();
  readonly #ready: Entry[] = [];
  /** Handed out, not yet acked: `stream id`. */
  readonly #inflight = new Set<string>();
  /** Acked, waiting for the next XACK. */
  #acks = new Map<string, string[]>();
  /** The same, as `stream id` keys: such entries read again (after a reconnect) are not redelivered. */
  readonly #acked = new Set<string>();
  #commitTimer: NodeJS.Timeout | undefined;
  #committing: Promise<void> = Promise.resolve();
  #nextClaim = 0;
  readonly #claimCursor = new Map<string, string>();

  constructor(conf: RedisStreamsInputConfig, ctx: ComponentContext) {
    this.#conf = conf;
    this.#ctx = ctx;
    this.#conn = new BlockingConnection(conf, ctx, 'redis_streams');
    this.#blockMs = Math.max(1, Math.round(parseDuration(conf.timeout) ?? 1000));
    this.#commitMs = Math.max(1, parseDuration(conf.commit_period) ?? 1000);
    this.#claimMs = conf.claim_min_idle ? parseDuration(conf.claim_min_idle) : undefined;
  }

  async connect(signal: AbortSignal): Promise<void> {
    if (this.#conn.connected) return;
    await this.#conn.connect(signal);
    // Entries read but not handed out come back with the pending ones.
    this.#ready.length = 0;
    const ctl = this.#conn.control as Redis;
    const offset = this.#conf.start_from_oldest ? '0' : '$';
    for (const s of this.#conf.streams) {
      try {
        if (this.#conf.create_streams) await ctl.xgroup('CREATE', s, this.#conf.consumer_group, offset, 'MKSTREAM');
        else await ctl.xgroup('CREATE', s, this.#conf.consumer_group, offset);
      } catch (err) {
        if (!String((err as Error).message).includes('BUSYGROUP')) {
          await this.#conn.close();
          throw new Error(`redis_streams at ${redisAddress(this.#conf)}: cannot create group ${this.#conf.consumer_group} for stream ${s}: ${(err as Error).message}`, { cause: err });
        }
      }
      // Own pending entries first (those still in flight are skipped when they come back).
      this.#backlog.set(s, '0');
    }
    this.#commitTimer ??= setInterval(() => void this.#commit(), this.#commitMs);
    this.#commitTimer.unref();
    // Acks collected while the connection was down go out now.
    void this.#commit();
  }

  async read(signal: AbortSignal): Promise<ReadResult> {
    for (;;) {
      const next = this.#ready.shift();
      if (next) {
        const key = `${next.stream} ${next.id}`;
        this.#inflight.add(key);
        return { batch: [next.msg], ack: this.#ack(next.stream, next.id, key) };
      }
      if (signal.aborted) throw signal.reason ?? new Error('aborted');
      if (this.#claimMs !== undefined && Date.now() >= this.#nextClaim) {
        this.#nextClaim = Date.now() + Math.max(this.#claimMs / 2, 200);
        await this.#claim();
        if (this.#ready.length) continue;
      }
      const streams = this.#conf.streams;
      const ids = streams.map((s) => this.#backlog.get(s) ?? '>');
      const { group, consumer, limit } = { group: this.#conf.consumer_group, consumer: this.#conf.client_id, limit: Math.max(1, this.#conf.limit) };
      const blockMs = this.#blockMs;
      const res = await this.#conn.blocking(signal, (c) =>
        c.xreadgroupBuffer('GROUP', group, consumer, 'COUNT', limit, 'BLOCK', blockMs, 'STREAMS', ...streams, ...ids) as Promise<ReadGroupReply>,
      );
      if (res.aborted) throw signal.reason ?? new Error('aborted');
      this.#take(res.value ?? null);
    }
  }

  /** Queues the entries of a reply; moves each backlog cursor on (or ends it when drained). */
  #take(reply: ReadGroupReply): void {
    for (const [streamBuf, entries] of reply ?? []) {
      const stream = streamBuf.toString();
      if (this.#backlog.has(stream)) {
        if (entries.length) this.#backlog.set(stream, entries[entries.length - 1]![0].toString());
        else this.#backlog.delete(stream);
      }
      this.#queueEntries(stream, entries);
    }
  }

  #queueEntries(stream: string, entries: readonly RawEntry[]): void {
    for (const [idBuf, fields] of entries) {
      const id = idBuf.toString();
      const key = `${stream} ${id}`;
      if (this.#inflight.has(key) || this.#acked.has(key)) continue;
      const msg = fields ? entryMessage(id, fields, this.#conf.body_key) : undefined;
      if (!msg) {
        // Deleted from the stream, or without a body: nothing to deliver, so no reason to keep it pending.
        this.#addAck(stream, id);
        continue;
      }
      this.#ready.push({ stream, id, msg });
    }
  }

  async #claim(): Promise<void> {
    const ctl = this.#conn.control as Redis | undefined;
    if (!ctl || !redisReady(ctl)) return;
    for (const s of this.#conf.streams) {
      try {
        const cursor = this.#claimCursor.get(s) ?? '0-0';
        const r = (await ctl.callBuffer('XAUTOCLAIM', [s, this.#conf.consumer_group, this.#conf.client_id, Math.round(this.#claimMs!), cursor, 'COUNT', Math.max(1, this.#conf.limit)])) as [Buffer, RawEntry[], Buffer[]?];
        this.#claimCursor.set(s, r[0].toString());
        if (r[1].length) this.#ctx.logger.info('claimed entries pending too long for another consumer', { stream: s, count: r[1].length });
        this.#queueEntries(s, r[1]);
      } catch (err) {
        this.#ctx.logger.warn('XAUTOCLAIM failed', { stream: s, error: (err as Error).message });
      }
    }
  }

  #ack(stream: string, id: string, key: string): AckFn {
    return () => {
      if (!this.#inflight.delete(key)) return;
      this.#addAck(stream, id);
    };
  }

  #addAck(stream: string, id: string): void {
    this.#acked.add(`${stream} ${id}`);
    let ids = this.#acks.get(stream);
    if (!ids) this.#acks.set(stream, (ids = []));
    ids.push(id);
  }

  /** Sends the collected acks (one XACK per stream); failed ones are kept for the next commit. */
  #commit(): Promise<void> {
    this.#committing = this.#committing.then(async () => {
      if (this.#acks.size === 0) return;
      const ctl = this.#conn.control as Redis | undefined;
      if (!ctl || !redisReady(ctl)) return;
      const acks = this.#acks;
      this.#acks = new Map();
      for (const [stream, ids] of acks) {
        try {
          await ctl.xack(stream, this.#conf.consumer_group, ...ids);
          for (const id of ids) this.#acked.delete(`${stream} ${id}`);
        } catch (err) {
          this.#ctx.logger.warn('XACK failed; retrying at the next commit', { stream, count: ids.length, error: redisError(err).message });
          for (const id of ids) this.#addAck(stream, id);
        }
      }
    });
    return this.#committing;
  }

  async close(): Promise<void> {
    if (this.#commitTimer) clearInterval(this.#commitTimer);
    this.#commitTimer = undefined;
    await this.#conn.stop();
    await this.#commit();
    if (this.#acks.size) this.#ctx.logger.warn('closing with acknowledgements not sent: those entries stay pending and are read again', { streams: [...this.#acks.keys()].join(',') });
    this.#ready.length = 0;
    this.#inflight.clear();
    this.#acked.clear();
    await this.#conn.close();
  }
}

export const spec = defineInput<RedisStreamsInputConfig>({
  name: 'redis_streams',
  summary: 'Pulls messages from Redis (v5.0+) streams with the XREADGROUP command. The `client_id` should be unique for each consumer of a group.',
  description: [
    'Redis stream entries are key/value pairs: `body_key` names the field holding the message; every other field becomes metadata, and `redis_stream` holds the entry ID.',
    'Entries are acknowledged (XACK) only after delivery, in batches every `commit_period` and when the stream stops. A consumer first reads its own pending entries (read before but never acknowledged), so restarting with the same `client_id` resumes without loss. With `claim_min_idle` (a Sluice extension) entries left pending by other consumers of the group for that long are claimed, which recovers the work of a consumer that is gone for good.',
  ].join('\n\n'),
  categories: ['Services'],
  config: field.object('', '', [
    ...redisFields(),
    field.string('body_key', 'The field holding the message body; all other fields become metadata.', { default: 'body' }),
    field.stringList('streams', 'A list of streams to consume from.'),
    autoReplayNacksField(),
    field.int('limit', 'The most entries read by one request.', { default: 10 }),
    field.string('client_id', 'The consumer name within the group.', { default: '' }),
    field.string('consumer_group', 'The consumer group.', { default: '' }),
    field.bool('create_streams', 'Create the streams when they do not exist (MKSTREAM).', { default: true, advanced: true }),
    field.bool('start_from_oldest', 'When the group is created: start from the oldest entry, else from new ones only.', { default: true, advanced: true }),
    field.duration('commit_period', 'How often acknowledgements are sent. They are always sent on shutdown.', { default: '1s', advanced: true }),
    field.duration('timeout', 'How long a read waits for new entries before trying again.', { default: '1s', advanced: true }),
    field.duration('claim_min_idle', 'Sluice extension: claim (XAUTOCLAIM) entries pending for other consumers of the group for at least this long. Empty: never.', { default: '', advanced: true, examples: ['5m'] }),
  ]),
  examples: [
    {
      title: 'A consumer group member',
      config: 'input:\n  redis_streams:\n    url: redis://localhost:6379\n    streams: [audit]\n    consumer_group: sluice\n    client_id: sluice-1\n',
    },
  ],
  build: (conf, ctx) => autoReplayNacks(new RedisStreamsInput(conf, ctx), conf.auto_replay_nacks),
});
