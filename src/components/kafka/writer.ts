/**
 * The Kafka producer behind the `kafka` and `kafka_franz` outputs.
 *
 * `write(batch)` turns each message into a record (topic and key interpolated per message,
 * headers from metadata, partition from the partitioner with the topic's partition count) and
 * resolves once the brokers acknowledged every record (`acks` -1 = all in-sync replicas, 1 = the
 * leader). Writes that arrive while produce requests are outstanding are sent together in the
 * next one, so concurrent single-message writes still travel in large requests; the idempotent
 * producer keeps one request at a time, so its sequence numbers stay consistent.
 *
 * A connection failure rejects with `notConnected()` naming the brokers: the engine reconnects
 * (a fresh client, so an idempotent producer gets a new id) and writes the batch again. Any other
 * failure (a record too large, an unknown topic...) rejects the batch, which nacks it.
 */
import { Admin, Producer, compressionsAlgorithms, type CompressionAlgorithmValue } from '@platformatic/kafka';
import type { Output, ComponentContext } from '../../engine/component.js';
import type { InterpolatedString } from '../../engine/bloblang-api.js';
import type { Batch, Message } from '../../engine/message.js';
import { notConnected, sluiceError } from '../../engine/errors.js';
import { baseClientOptions, brokerError, closeClient, disconnected, errorText, isConnectionError, withTimeout, type ClientOptions } from './config.js';
import type { Partitioner } from './partitioners.js';

export interface WriterOptions extends ClientOptions {
  readonly topic: InterpolatedString;
  /** Undefined: records have no key. An empty rendered key also means no key. */
  readonly key: InterpolatedString | undefined;
  readonly partitioner: Partitioner;
  /** For the manual partitioner: must render to an integer. */
  readonly partition: InterpolatedString | undefined;
  /** Which metadata keys become headers. */
  readonly headerFilter: (key: string) => boolean;
  readonly staticHeaders: Readonly<Record<string, string>>;
  /** -1: all in-sync replicas; 1: the partition leader. */
  readonly acks: -1 | 1;
  readonly idempotent: boolean;
  readonly compression: CompressionAlgorithmValue;
  readonly timeoutMs: number;
  readonly maxMessageBytes: number;
  readonly maxInFlight: number;
  /** Create missing topics with these settings (custom_topic_creation) before writing to them. */
  readonly createTopics: { readonly partitions: number; readonly replicationFactor: number } | undefined;
}

interface Pending {
  readonly records: OutRecord[];
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

interface OutRecord {
  topic: string;
  key: Buffer | undefined;
  value: Buffer;
  headers: Map<Buffer, Buffer>;
  partition: number;
  /** Approximate encoded size. */
  size: number;
}

/** Most records one produce request carries before the rest wait for the next one. */
const MAX_REQUEST_RECORDS = 10_000;
/**
 * Bytes one produce request carries. Records of a partition travel as one record batch, which
 * the broker rejects above its `message.max.bytes` (1 MiB by default), so requests stay below.
 */
const MAX_REQUEST_BYTES = 900_000;
/** Bytes a record takes besides its key, value and headers (lengths, offsets, attributes). */
const RECORD_OVERHEAD = 24;
/** Produce requests outstanding at once (non-idempotent producer). */
const MAX_CONCURRENT_REQUESTS = 4;
/** How long a topic's partition count is trusted before it is read again. */
const COUNTS_TTL_MS = 30_000;

function buf(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/** Throws a clear error for a compression this Node.js cannot do (zstd before Node 22.15). */
export function checkCompression(c: CompressionAlgorithmValue): void {
  if (!compressionsAlgorithms[c]?.available) {
    throw new Error(`${c} compression is not available in Node.js ${process.versions.node} (zstd needs Node.js 22.15 or later); choose another compression`);
  }
}

export class KafkaWriter implements Output {
  readonly maxInFlight: number;
  readonly #o: WriterOptions;
  readonly #ctx: ComponentContext;
  #producer: Producer | undefined;
  #healthy = false;
  #queue: Pending[] = [];
  #sending = 0;
  readonly #concurrency: number;
  /** Partition count per topic, until when it is trusted. */
  readonly #counts = new Map<string, { count: number; until: number }>();
  #closed = false;
  readonly #created = new Set<string>();
  readonly #staticHeaders: [Buffer, Buffer][];

  constructor(o: WriterOptions, ctx: ComponentContext) {
    checkCompression(o.compression);
    this.#o = o;
    this.#ctx = ctx;
    this.maxInFlight = Math.max(1, o.maxInFlight);
    this.#concurrency = o.idempotent ? 1 : Math.min(MAX_CONCURRENT_REQUESTS, this.maxInFlight);
    this.#staticHeaders = Object.entries(o.staticHeaders).map(([k, v]) => [Buffer.from(k), Buffer.from(v)]);
  }

  async connect(): Promise<void> {
    if (this.#closed) throw notConnected();
    if (this.#producer && this.#healthy) return;
    const old = this.#producer;
    this.#producer = undefined;
    if (old) void closeClient(old, 'closing').catch(() => {});
    const o = this.#o;
    const producer = new Producer({
      ...(await baseClientOptions(o)),
      idempotent: o.idempotent,
      acks: o.idempotent ? -1 : o.acks,
      compression: o.compression,
      autocreateTopics: true,
      timeout: o.timeoutMs,
    });
    producer.on('error', () => {}); // failures surface through send()
    try {
      await withTimeout(producer.metadata({ topics: [] }), o.connectTimeoutMs * 2, 'reading cluster metadata');
    } catch (err) {
      await closeClient(producer, 'closing').catch(() => {});
      throw brokerError('cannot connect to', o.brokers, err);
    }
    this.#producer = producer;
    this.#healthy = true;
  }

  write(batch: Batch): Promise<void> {
    const producer = this.#producer;
    if (!producer || !this.#healthy) return Promise.reject(disconnected(new Error(`no connection to Kafka at ${this.#o.brokers.join(',')}`)));
    const o = this.#o;
    const records: OutRecord[] = [];
    const topics = new Set<string>();
    for (let i = 0; i < batch.length; i++) {
      const msg = batch[i]!;
      const topic = o.topic.render(batch, i);
      if (!topic) return Promise.reject(new Error('kafka output: the topic rendered empty'));
      const keyText = o.key?.render(batch, i);
      const value = buf(msg.bytes());
      const key = keyText ? Buffer.from(keyText) : undefined;
      const headers = this.#headers(msg);
      let size = value.byteLength + (key?.byteLength ?? 0);
      for (const [k, v] of headers) size += k.byteLength + v.byteLength;
      if (size > o.maxMessageBytes) return Promise.reject(sluiceError('SLU_ERR_MESSAGE_TOO_LARGE', size, o.maxMessageBytes));
      let partition = -1;
      if (o.partitioner.manual) {
        const text = o.partition?.render(batch, i).trim() ?? '';
        partition = /^\d+$/.test(text) ? Number(text) : NaN;
        if (!Number.isInteger(partition) || partition > 0x7fffffff) return Promise.reject(new Error(`kafka output: partition "${text}" is not a valid partition number`));
      }
      topics.add(topic);
      records.push({ topic, key, value, headers, partition, size: size + RECORD_OVERHEAD });
    }
    // Partition counts are cached, so the usual write queues its records without waiting.
    const now = Date.now();
    let known = !o.createTopics;
    if (known) for (const t of topics) if ((this.#counts.get(t)?.until ?? 0) < now) known = false;
    if (known) return this.#enqueue(records);
    return this.#refresh(producer, [...topics]).then(() => this.#enqueue(records), (err: unknown) => Promise.reject(this.#failure(err)));
  }

  /** Reads (and caches) the partition counts of `topics`, creating them first if configured. */
  async #refresh(producer: Producer, topics: string[]): Promise<void> {
    if (this.#o.createTopics) await this.#ensureTopics(topics);
    const metadata = await withTimeout(producer.metadata({ topics, autocreateTopics: true }), this.#o.timeoutMs, 'reading topic metadata');
    const until = Date.now() + COUNTS_TTL_MS;
    for (const t of topics) {
      const count = metadata.topics.get(t)?.partitionsCount ?? 0;
      if (count === 0) throw new Error(`kafka output: topic ${t} has no partitions`);
      this.#counts.set(t, { count, until });
    }
  }

  #enqueue(records: OutRecord[]): Promise<void> {
    const choose = this.#o.partitioner.forBatch();
    for (const r of records) {
      const count = this.#counts.get(r.topic)!.count;
      if (r.partition >= 0) {
        if (r.partition >= count) return Promise.reject(new Error(`kafka output: topic ${r.topic} has ${count} partition(s), partition ${r.partition} does not exist`));
      } else {
        r.partition = choose(r.topic, r.key, count);
      }
    }
    return new Promise<void>((resolve, reject) => {
      // Large writes are split over several requests; the write settles when all did.
      let parts = 0;
      let failed = false;
      const done = () => {
        if (--parts === 0 && !failed) resolve();
      };
      const fail = (err: unknown) => {
        if (failed) return;
        failed = true;
        reject(err);
      };
      let chunk: OutRecord[] = [];
      let bytes = 0;
      const flush = () => {
        parts++;
        this.#queue.push({ records: chunk, bytes, resolve: done, reject: fail });
        chunk = [];
        bytes = 0;
      };
      for (const r of records) {
        if (chunk.length && (bytes + r.size > MAX_REQUEST_BYTES || chunk.length >= MAX_REQUEST_RECORDS)) flush();
        chunk.push(r);
        bytes += r.size;
      }
      if (chunk.length) flush();
      this.#pump();
    });
  }

  #headers(msg: Message): Map<Buffer, Buffer> {
    const h = new Map<Buffer, Buffer>();
    for (const [k, v] of Object.entries(msg.metaStrings())) {
      if (this.#o.headerFilter(k)) h.set(Buffer.from(k), Buffer.from(v));
    }
    for (const [k, v] of this.#staticHeaders) h.set(k, v);
    return h;
  }

  /**
   * Starts produce requests for the queued writes, each carrying as many as fit, with at most
   * `#concurrency` requests outstanding (1 for the idempotent producer, whose sequence numbers
   * need one request at a time).
   */
  #pump(): void {
    while (this.#queue.length && this.#sending < this.#concurrency) {
      const take: Pending[] = [];
      let n = 0;
      let bytes = 0;
      while (this.#queue.length) {
        const next = this.#queue[0]!;
        if (take.length && (n + next.records.length > MAX_REQUEST_RECORDS || bytes + next.bytes > MAX_REQUEST_BYTES)) break;
        take.push(this.#queue.shift()!);
        n += next.records.length;
        bytes += next.bytes;
      }
      this.#sending++;
      void this.#send(take).finally(() => {
        this.#sending--;
        this.#pump();
      });
    }
  }

  async #send(take: Pending[]): Promise<void> {
    const messages = take.length === 1 ? take[0]!.records : take.flatMap((p) => p.records);
    try {
      const producer = this.#producer;
      if (!producer || !this.#healthy) throw disconnected(new Error(`no connection to Kafka at ${this.#o.brokers.join(',')}`));
      await withTimeout(producer.send({ messages }), this.#o.timeoutMs, 'producing to Kafka');
      for (const p of take) p.resolve();
    } catch (err) {
      const e = this.#failure(err);
      for (const p of take) p.reject(e);
    }
  }

  /** Maps a client error to what the engine expects: notConnected() for connection trouble. */
  #failure(err: unknown): Error {
    if (err instanceof Error && (err as { code?: unknown }).code === 'SLU_ERR_NOT_CONNECTED') return err;
    this.#counts.clear(); // a topic may have changed (deleted, more partitions)
    if (isConnectionError(err)) {
      this.#healthy = false;
      return disconnected(brokerError('lost the connection to', this.#o.brokers, err));
    }
    return new Error(`kafka write failed: ${errorText(err)}`, { cause: err });
  }

  async #ensureTopics(topics: string[]): Promise<void> {
    const missing = topics.filter((t) => !this.#created.has(t));
    if (!missing.length || !this.#o.createTopics) return;
    const admin = new Admin(await baseClientOptions(this.#o));
    try {
      const existing = new Set(await withTimeout(admin.listTopics(), this.#o.timeoutMs, 'listing topics'));
      const create = missing.filter((t) => !existing.has(t));
      if (create.length) {
        await withTimeout(
          admin.createTopics({ topics: create, partitions: this.#o.createTopics.partitions, replicas: this.#o.createTopics.replicationFactor }),
          this.#o.timeoutMs,
          'creating topics',
        ).catch((err: unknown) => {
          if (!/already exists/i.test(errorText(err))) throw err;
        });
        this.#ctx.logger.info('kafka topics created', { topics: create.join(',') });
      }
      for (const t of missing) this.#created.add(t);
    } finally {
      await closeClient(admin, 'closing', false).catch(() => {});
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    const p = this.#producer;
    this.#producer = undefined;
    this.#healthy = false;
    if (p) await closeClient(p, 'closing the Kafka producer').catch(() => {});
  }
}
