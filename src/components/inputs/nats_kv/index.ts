/**
 * `nats_kv` input: watches a NATS KV bucket and emits one message per entry (a put, a delete
 * marker or a purge), first the current value of every matching key, then each change.
 *
 * What an ack means: a KV watch is an ordered push consumer without acknowledgements, so an ack
 * changes nothing at the server. Delivery is made at-least-once on this side instead:
 * - a message rejected downstream is replayed from memory until delivered
 *   (`auto_replay_nacks: true`, the default; with false it is dropped, as Benthos does);
 * - when the connection is lost, the engine reconnects and the watch resumes after the last
 *   revision read, so no change made in between is skipped (changes superseded while
 *   disconnected are delivered too, in revision order).
 * The position lives in memory only: a restarted stream starts a new watch from the bucket's
 * current values (as Benthos does), so it may repeat values but never misses the latest one.
 */
import type { ComponentContext, Input, ReadResult } from '../../../engine/component.js';
import { defineInput } from '../../../engine/component.js';
import { autoReplayNacks, noopAck } from '../../../engine/acks.js';
import { Message } from '../../../engine/message.js';
import { autoReplayNacksField, field } from '../../../engine/spec.js';
import { notConnected } from '../../../engine/errors.js';
import type { NatsConnection } from '@nats-io/transport-node';
import { KvWatchInclude, type KvWatchEntry, type KvWatchOptions } from '@nats-io/kv';
import { AsyncQueue } from '../../async-queue.js';
import {
  closeNats,
  connectionNameNote,
  natsAddress,
  natsAuthNote,
  natsKvBucketField,
  natsTailFields,
  natsUrlsField,
  openKvBucket,
  openNats,
  setKvEntryMeta,
  type NatsConnectionConfig,
} from '../../nats-common.js';

export interface NatsKvInputConfig extends NatsConnectionConfig {
  bucket: string;
  key: string;
  auto_replay_nacks: boolean;
  ignore_deletes: boolean;
  include_history: boolean;
  meta_only: boolean;
}

/** How long each JetStream API request (bucket lookup, consumer creation) may take. */
const API_TIMEOUT_MS = 10_000;

/** The watch options of a config; `after` > 0 resumes after that revision (exported for unit tests). */
export function watchOptions(conf: NatsKvInputConfig, after: number): KvWatchOptions {
  const opts: KvWatchOptions = {
    key: conf.key,
    include: conf.include_history ? KvWatchInclude.AllHistory : KvWatchInclude.LastValue,
    ignoreDeletes: conf.ignore_deletes,
    headers_only: conf.meta_only,
  };
  if (after > 0) opts.resumeFromRevision = after + 1;
  return opts;
}

/** Whether a watched entry is emitted: `ignore_deletes` drops delete markers and purges (exported for unit tests). */
export function keepEntry(conf: Pick<NatsKvInputConfig, 'ignore_deletes'>, e: Pick<KvWatchEntry, 'operation'>): boolean {
  return !(conf.ignore_deletes && (e.operation === 'DEL' || e.operation === 'PURGE'));
}

/** A watched entry as a message with Benthos' `nats_kv_*` metadata (exported for unit tests). */
export function kvEntryMessage(e: Pick<KvWatchEntry, 'bucket' | 'key' | 'value' | 'revision' | 'delta' | 'operation' | 'created'>): Message {
  return setKvEntryMeta(new Message(e.value), e);
}

interface Session {
  readonly nc: NatsConnection;
  readonly stop: () => void;
  readonly queue: AsyncQueue<KvWatchEntry>;
}

class NatsKvInput implements Input {
  readonly #conf: NatsKvInputConfig;
  readonly #ctx: ComponentContext;
  #session: Session | undefined;
  /** The highest revision read: a new watch after a lost connection resumes after it. */
  #lastRevision = 0;
  #closed = false;

  constructor(conf: NatsKvInputConfig, ctx: ComponentContext) {
    this.#conf = conf;
    this.#ctx = ctx;
  }

  async connect(signal: AbortSignal): Promise<void> {
    if (this.#session && !this.#session.nc.isClosed()) return;
    const nc = await openNats(this.#conf, this.#ctx, signal);
    try {
      const kv = await openKvBucket(nc, this.#conf.bucket, API_TIMEOUT_MS);
      const watch = await kv.watch(watchOptions(this.#conf, this.#lastRevision));
      const queue = new AsyncQueue<KvWatchEntry>();
      void (async () => {
        try {
          for await (const e of watch) if (keepEntry(this.#conf, e)) queue.push(e);
        } catch (err) {
          if (!this.#closed) this.#ctx.logger.warn('nats_kv watch failed', { error: (err as Error).message });
        } finally {
          queue.end();
        }
      })();
      void nc.closed().then((err) => {
        if (!this.#closed && err) this.#ctx.logger.warn('nats_kv connection closed', { error: err.message });
        queue.end();
      });
      this.#session = { nc, stop: () => watch.stop(), queue };
    } catch (err) {
      await closeNats(nc);
      throw new Error(`nats_kv at ${natsAddress(this.#conf)}: ${(err as Error).message}`, { cause: err });
    }
  }

  async read(signal: AbortSignal): Promise<ReadResult> {
    const s = this.#session;
    if (!s) throw notConnected();
    const e = await s.queue.take(signal);
    if (e === undefined) {
      if (signal.aborted) throw signal.reason ?? new Error('aborted');
      this.#session = undefined;
      s.stop();
      await closeNats(s.nc);
      throw notConnected(new Error(`the watch of bucket ${this.#conf.bucket} ended (NATS connection lost)`));
    }
    if (e.revision > this.#lastRevision) this.#lastRevision = e.revision;
    // The watch consumer takes no acks: see the comment at the top of this file.
    return { batch: [kvEntryMessage(e)], ack: noopAck };
  }

  async close(): Promise<void> {
    this.#closed = true;
    const s = this.#session;
    this.#session = undefined;
    if (!s) return;
    s.queue.end();
    try {
      s.stop();
    } catch {
      // already stopped
    }
    s.queue.drain();
    await closeNats(s.nc);
  }
}

export const spec = defineInput<NatsKvInputConfig>({
  name: 'nats_kv',
  summary: 'Watches for updates in a NATS key-value bucket.',
  description: [
    'Emits the current value of every key matching `key`, then every change to them (puts, deletes and purges) as it happens. With `include_history` every value still kept by the bucket is emitted first, not only the last one per key; with `meta_only` the messages are empty and only the metadata is set.',
    '### Delivery\n\nA KV watch takes no acknowledgements, so acknowledging changes nothing at the server. A message rejected downstream is redelivered from memory (`auto_replay_nacks`), and after a lost connection the watch resumes after the last revision read, so no change is skipped while the stream runs. A restarted stream starts again from the current values of the bucket.',
    '### Metadata\n\n`nats_kv_key`, `nats_kv_bucket`, `nats_kv_revision` (a number), `nats_kv_delta` (a number: how many entries of the watch were still pending), `nats_kv_operation` (`KeyValuePutOp`, `KeyValueDeleteOp` or `KeyValuePurgeOp`) and `nats_kv_created` (RFC 3339 time of the entry).',
    connectionNameNote,
    natsAuthNote,
  ].join('\n\n'),
  categories: ['Services'],
  status: 'beta',
  config: field.object('', '', [
    natsUrlsField(),
    natsKvBucketField(),
    field.string('key', 'Key to watch for updates, can include wildcards.', { default: '>', examples: ['foo.bar.baz', 'foo.*.baz', 'foo.bar.*', 'foo.>'] }),
    autoReplayNacksField(),
    field.bool('ignore_deletes', 'Do not send delete markers (and purges) as messages.', { default: false, advanced: true }),
    field.bool('include_history', 'Include all the history per key, not just the last one.', { default: false, advanced: true }),
    field.bool('meta_only', 'Retrieve only the metadata of the entry (the message is empty).', { default: false, advanced: true }),
    ...natsTailFields(),
  ]),
  lint: (conf) => (conf.bucket === '' ? ['bucket must not be empty'] : []),
  examples: [
    {
      title: 'Stream the changes of a configuration bucket',
      config: 'input:\n  nats_kv:\n    urls: [nats://127.0.0.1:4222]\n    bucket: config\n    key: services.>\n',
    },
  ],
  build: (conf, ctx) => autoReplayNacks(new NatsKvInput(conf, ctx), conf.auto_replay_nacks),
});
