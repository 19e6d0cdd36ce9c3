/**
 * The Kafka consumer behind the `kafka` and `kafka_franz` inputs.
 *
 * It drives `@platformatic/kafka`'s low level calls itself (group membership, fetch, commit,
 * list offsets) rather than its message stream, so that it controls exactly what is delivered
 * and committed:
 *
 * - Partitions: with a consumer group and whole topics, the group assigns partitions and
 *   rebalances them across members; otherwise every partition of the topics (or the explicit
 *   `topic:partition` ones) is read directly.
 * - Start: the group's committed offset; without one (or without a group) the oldest or newest
 *   offset per `start_from_oldest`; `topic:partition:offset` starts there.
 * - Delivery: each partition keeps a small buffer; `read` hands out messages (or batches, with
 *   `batching`) round robin over the partitions, never more than `checkpoint_limit`
 *   unacknowledged per partition. With a limit of 1 a partition is processed in lock step.
 * - Commit: every `commit_period` (and on close) the offset after the last message of each
 *   partition that was acked together with every message before it (see checkpoint.ts). Nothing
 *   is committed for messages that were not delivered, so they come back after a restart or to
 *   the next owner of the partition.
 * - Rebalance: partitions this member loses are dropped at once (their pending acks no longer
 *   commit anything: the new owner starts from the last commit); partitions it keeps carry on.
 * - Failure: when the cluster cannot be reached, `read` throws `notConnected()` (naming the
 *   brokers) and the engine reconnects, which builds a fresh client.
 */
import { randomUUID } from 'node:crypto';
import { Admin, ConnectionPool, Consumer } from '@platformatic/kafka';
import type { Input, ReadResult, ComponentContext, AckFn } from '../../engine/component.js';
import { Message, type Batch, type MetaValue } from '../../engine/message.js';
import { notConnected } from '../../engine/errors.js';
import { Backoff, sleep } from '../../engine/backoff.js';
import { rateLimitedLog } from '../../engine/logger.js';
import type { BatchPolicy } from '../../engine/batching.js';
import { Checkpointer, type CheckpointEntry } from './checkpoint.js';
import {
  baseClientOptions,
  brokerError,
  errorText,
  isConnectionError,
  withTimeout,
  closeClient,
  disconnected,
  type ClientOptions,
  type TopicSelection,
} from './config.js';

export interface ReaderOptions extends ClientOptions {
  readonly selection: TopicSelection;
  /** Topics are regular expressions matched against the cluster's topics (kafka_franz). */
  readonly regexpTopics: boolean;
  /** Consumer group: offsets are committed (and resumed) under it. Empty: none. */
  readonly group: string;
  readonly startFromOldest: boolean;
  readonly checkpointLimit: number;
  readonly commitPeriodMs: number;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly fetchMaxBytes: number;
  readonly fetchMaxPartitionBytes: number;
  readonly fetchMaxWaitMs: number;
  /** Messages buffered per partition before it is no longer fetched. */
  readonly bufferCap: number;
  readonly readCommitted: boolean;
  readonly multiHeader: boolean;
  /** Which component's metadata to set (`kafka` adds kafka_lag and kafka_timestamp_unix_ms). */
  readonly flavour: 'kafka' | 'kafka_franz';
  readonly metadataMaxAgeMs: number;
  /** Batching policy (forked per partition); undefined: one message per batch. */
  readonly batching: BatchPolicy | undefined;
}

interface Item {
  readonly msg: Message;
  readonly offset: bigint;
}

/** One assigned partition. Replaced (not reused) when the partition is assigned anew. */
class PartitionState {
  readonly key: string;
  /** Fetch position; undefined until the start offset is known. */
  next: bigint | undefined;
  queue: Item[] = [];
  head = 0;
  inflight = 0;
  readonly tracker = new Checkpointer();
  committed: bigint | undefined;
  highWatermark = -1n;
  active = true;
  readonly policy: BatchPolicy | undefined;
  /** Offset of the last message added to `policy`. */
  batchLast = -1n;

  constructor(
    readonly topic: string,
    readonly partition: number,
    policy: BatchPolicy | undefined,
  ) {
    this.key = `${topic}:${partition}`;
    this.policy = policy;
  }

  get buffered(): number {
    return this.queue.length - this.head;
  }

  shift(): Item | undefined {
    if (this.head >= this.queue.length) return undefined;
    const it = this.queue[this.head]!;
    this.head++;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    }
    return it;
  }
}

/** Wakes whoever waits for news (new records, freed capacity, assignment, failure). */
class Notifier {
  #waiters: (() => void)[] = [];

  notify(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  wait(signal: AbortSignal | undefined, ms?: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      if (signal?.aborted) return resolve();
      this.#waiters.push(done);
      signal?.addEventListener('abort', done, { once: true });
      if (ms !== undefined) timer = setTimeout(done, ms);
    });
  }
}

interface Session {
  readonly consumer: Consumer;
  /** Fetches use their own connections, so long polls never delay heartbeats, commits or leaving. */
  readonly fetchPool: ConnectionPool;
  readonly states: Map<string, PartitionState>;
  /** Joined a group that assigns partitions (vs. reading them directly). */
  readonly member: boolean;
  /** A rebalance is under way: commits wait for the new assignment. */
  rebalancing: boolean;
  committing: Promise<void> | undefined;
  closed: boolean;
  commitTimer: NodeJS.Timeout | undefined;
  assigning: Promise<void>;
  /** Why the last assignment could not be applied (reported by connect while connecting). */
  assignError: unknown;
  topics: string[];
}

interface FetchRecord {
  readonly offsetDelta: number;
  readonly timestampDelta: bigint;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: [Buffer | null, Buffer | null][];
}
interface FetchBatch {
  readonly firstOffset: bigint;
  readonly lastOffsetDelta: number;
  readonly firstTimestamp: bigint;
  readonly attributes: number;
  readonly records: FetchRecord[];
}
interface FetchPartition {
  readonly partitionIndex: number;
  readonly errorCode: number;
  readonly highWatermark: bigint;
  readonly records?: FetchBatch[];
}
interface FetchResult {
  readonly responses: { readonly topicId: string; readonly partitions: FetchPartition[] }[];
}

const IS_CONTROL = 0x20;
const EMPTY = new Uint8Array(0);
const decoder = new TextDecoder();

/** Kafka error codes the reader handles itself. */
const OFFSET_OUT_OF_RANGE = 1;
const STALE_METADATA = new Set([3, 5, 6, 9, 74, 75, 100]);

export class KafkaReader implements Input {
  readonly #o: ReaderOptions;
  readonly #ctx: ComponentContext;
  readonly #log = rateLimitedLog();
  /** Wakes readers: records arrived, a partition got room under checkpoint_limit, a failure. */
  readonly #news = new Notifier();
  /** Wakes the fetch loop: a partition's buffer went below bufferCap, or an assignment. */
  readonly #room = new Notifier();
  #session: Session | undefined;
  #failure: Error | undefined;
  /** Member id of a session that failed without leaving its group: rejoining as it is fast. */
  #lastMemberId: string | undefined;
  #closed = false;
  #rr = 0;

  constructor(o: ReaderOptions, ctx: ComponentContext) {
    this.#o = o;
    this.#ctx = ctx;
  }

  get #usesGroupMembership(): boolean {
    return this.#o.group !== '' && this.#o.selection.partitions.size === 0;
  }

  // -------------------------------------------------------------------------------------------
  // Connection

  async connect(): Promise<void> {
    if (this.#closed) throw notConnected();
    if (this.#session && !this.#failure) return;
    if (this.#session) {
      const old = this.#session;
      this.#session = undefined;
      if (old.member && old.consumer.memberId) this.#lastMemberId = old.consumer.memberId;
      await this.#teardown(old, false);
    }
    this.#failure = undefined;
    const o = this.#o;
    const base = await baseClientOptions({ ...o, requestTimeoutMs: Math.max(o.requestTimeoutMs, o.fetchMaxWaitMs + 5_000) });
    const consumer = new Consumer({
      ...base,
      groupId: o.group || `sluice-${randomUUID()}`,
      autocommit: false,
      sessionTimeout: o.sessionTimeoutMs,
      heartbeatInterval: o.heartbeatIntervalMs,
      rebalanceTimeout: o.rebalanceTimeoutMs,
      maxWaitTime: o.fetchMaxWaitMs,
      minBytes: 1,
      maxBytes: o.fetchMaxBytes,
      maxBytesPerPartition: o.fetchMaxPartitionBytes,
      isolationLevel: o.readCommitted ? 1 : 0,
      metadataMaxAge: o.metadataMaxAgeMs,
    });
    const session: Session = {
      consumer,
      fetchPool: new ConnectionPool(base.clientId, {
        connectTimeout: base.connectTimeout,
        requestTimeout: base.requestTimeout,
        ...(base.tls ? { tls: base.tls } : {}),
        ...(base.sasl ? { sasl: base.sasl } : {}),
      }),
      states: new Map(),
      member: this.#usesGroupMembership,
      rebalancing: false,
      committing: undefined,
      closed: false,
      commitTimer: undefined,
      assigning: Promise.resolve(),
      assignError: undefined,
      topics: [],
    };
    // The client emits `error` when it gave up on something in the background (a failed rejoin).
    consumer.on('error', (err: Error) => this.#fail(session, err));
    try {
      const topics = o.regexpTopics ? await this.#matchTopics(base) : [...o.selection.topics, ...o.selection.partitions.keys()];
      if (topics.length === 0) throw new Error('no topic of the cluster matches the topics patterns');
      session.topics = topics;
      consumer.topics.trackAll(...topics);
      const metadata = await withTimeout(consumer.metadata({ topics, autocreateTopics: true }), o.connectTimeoutMs * 2, 'reading topic metadata');
      if (session.member) {
        consumer.on('consumer:group:rebalance', () => {
          session.rebalancing = true;
        });
        consumer.on('consumer:group:join', (p) => {
          session.rebalancing = false;
          const assignments = p.assignments ?? consumer.assignments ?? [];
          session.assigning = session.assigning
            .then(() => this.#assign(session, assignments))
            .catch((err: unknown) => {
              session.assignError = err;
              this.#fail(session, err);
            });
        });
        consumer.on('consumer:heartbeat:error', (p) => {
          this.#log('heartbeat', () => this.#ctx.logger.warn('kafka group heartbeat failed', { group: o.group, error: errorText(p.error) }));
        });
        // After a failure, rejoin under the old member id: the group does not then wait for the
        // lost member's session to expire before rebalancing.
        if (this.#lastMemberId) consumer.memberId = this.#lastMemberId;
        this.#lastMemberId = undefined;
        await withTimeout(
          consumer.joinGroup({ sessionTimeout: o.sessionTimeoutMs, rebalanceTimeout: o.rebalanceTimeoutMs, heartbeatInterval: o.heartbeatIntervalMs }),
          o.rebalanceTimeoutMs + o.connectTimeoutMs * 2,
          `joining consumer group ${o.group}`,
        );
        await session.assigning;
        if (session.assignError !== undefined) throw session.assignError;
      } else {
        if (o.group) {
          // Explicit partitions with a group: commit as a "simple" consumer (no membership).
          consumer.generationId = -1;
          consumer.memberId = '';
        }
        const assignments: { topic: string; partitions: number[] }[] = [];
        for (const topic of topics) {
          const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
          const explicit = o.selection.partitions.get(topic);
          if (explicit) {
            for (const p of explicit.keys()) {
              if (p >= count) throw new Error(`topic ${topic} has ${count} partition(s): partition ${p} does not exist`);
            }
            assignments.push({ topic, partitions: [...explicit.keys()] });
          } else {
            assignments.push({ topic, partitions: Array.from({ length: count }, (_, i) => i) });
          }
        }
        await this.#assign(session, assignments);
      }
    } catch (err) {
      session.closed = true;
      await Promise.allSettled([closeClient(consumer, 'closing'), withTimeout(session.fetchPool.close(), 3_000, 'closing')]);
      throw brokerError('cannot connect to', o.brokers, err);
    }
    this.#session = session;
    if (o.group) {
      session.commitTimer = setInterval(() => void this.#commit(session), Math.max(10, o.commitPeriodMs));
      session.commitTimer.unref?.();
    }
    void this.#fetchLoop(session).catch((err: unknown) => this.#fail(session, err));
  }

  async #matchTopics(base: Awaited<ReturnType<typeof baseClientOptions>>): Promise<string[]> {
    const patterns = this.#o.selection.topics.map((t) => new RegExp(t));
    const admin = new Admin(base);
    try {
      const all = await withTimeout(admin.listTopics(), this.#o.connectTimeoutMs * 2, 'listing topics');
      return all.filter((t) => !t.startsWith('__') && patterns.some((r) => r.test(t)));
    } finally {
      await closeClient(admin, 'closing', false).catch(() => {});
    }
  }

  #fail(session: Session, err: unknown): void {
    if (session !== this.#session || session.closed || this.#closed) return;
    this.#failure = brokerError('lost the connection to', this.#o.brokers, err);
    this.#ctx.logger.debug('kafka consumer failed', { error: this.#failure.message });
    this.#news.notify();
  }

  /** Applies a (new) assignment: keeps partitions still assigned, drops lost ones, starts new ones. */
  async #assign(session: Session, assignments: readonly { topic: string; partitions: readonly number[] }[]): Promise<void> {
    if (session.closed) return;
    const wanted = new Set<string>();
    for (const a of assignments) for (const p of a.partitions) wanted.add(`${a.topic}:${p}`);
    for (const [key, st] of session.states) {
      if (!wanted.has(key)) {
        st.active = false;
        session.states.delete(key);
      }
    }
    const fresh: PartitionState[] = [];
    for (const a of assignments) {
      for (const p of a.partitions) {
        if (session.states.has(`${a.topic}:${p}`)) continue;
        const st = new PartitionState(a.topic, p, this.#o.batching?.fork());
        session.states.set(st.key, st);
        fresh.push(st);
      }
    }
    if (fresh.length) {
      this.#ctx.logger.debug('kafka partitions assigned', { partitions: fresh.map((s) => s.key).join(',') });
      await this.#resolveStarts(session, fresh);
    }
    this.#news.notify();
    this.#room.notify();
  }

  /** Finds where each new partition starts: explicit offset, committed offset, or oldest/newest. */
  async #resolveStarts(session: Session, states: PartitionState[]): Promise<void> {
    const { consumer } = session;
    const o = this.#o;
    const byTopic = (list: PartitionState[]) => {
      const m = new Map<string, PartitionState[]>();
      for (const s of list) {
        let arr = m.get(s.topic);
        if (!arr) m.set(s.topic, (arr = []));
        arr.push(s);
      }
      return m;
    };
    let rest: PartitionState[] = [];
    for (const st of states) {
      const explicit = o.selection.partitions.get(st.topic)?.get(st.partition);
      if (explicit !== undefined && explicit >= 0n) st.next = explicit;
      else rest.push(st);
    }
    if (o.group && rest.length) {
      const topics = [...byTopic(rest)].map(([topic, list]) => ({ topic, partitions: list.map((s) => s.partition) }));
      const committed = await withTimeout(consumer.listCommittedOffsets({ topics }), o.requestTimeoutMs * 2, 'reading committed offsets');
      const left: PartitionState[] = [];
      for (const st of rest) {
        const off = committed.get(st.topic)?.[st.partition];
        if (off !== undefined && off >= 0n) {
          st.next = off;
          st.committed = off;
        } else left.push(st);
      }
      rest = left;
    }
    if (rest.length) {
      for (const [topic, list] of byTopic(rest)) {
        const offsets = await withTimeout(
          consumer.listOffsets({ topics: [topic], partitions: { [topic]: list.map((s) => s.partition) }, timestamp: o.startFromOldest ? -2n : -1n }),
          o.requestTimeoutMs * 2,
          'reading partition offsets',
        );
        for (const st of list) st.next = offsets.get(topic)?.[st.partition] ?? 0n;
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Fetching

  async #fetchLoop(session: Session): Promise<void> {
    const o = this.#o;
    const { consumer } = session;
    const backoff = new Backoff({ initialMs: 100, maxMs: 5_000 });
    while (!session.closed) {
      const wanted: PartitionState[] = [];
      for (const st of session.states.values()) {
        if (st.active && st.next !== undefined && st.buffered < o.bufferCap) wanted.push(st);
      }
      if (wanted.length === 0) {
        await this.#room.wait(undefined, 1_000);
        continue;
      }
      try {
        const metadata = await consumer.metadata({ topics: session.topics });
        const byLeader = new Map<number, Map<string, PartitionState[]>>();
        const ids = new Map<string, string>();
        for (const st of wanted) {
          const t = metadata.topics.get(st.topic);
          const leader = t?.partitions[st.partition]?.leader;
          if (!t || leader === undefined || leader < 0) continue;
          ids.set(t.id, st.topic);
          let m = byLeader.get(leader);
          if (!m) byLeader.set(leader, (m = new Map()));
          let arr = m.get(t.id);
          if (!arr) m.set(t.id, (arr = []));
          arr.push(st);
        }
        if (byLeader.size === 0) {
          consumer.clearMetadata();
          await sleep(backoff.next());
          continue;
        }
        await Promise.all([...byLeader].map(([node, topics]) => this.#fetchFrom(session, node, topics, ids)));
        backoff.reset();
      } catch (err) {
        if (session.closed) return;
        if (isConnectionError(err)) throw err;
        const wait = backoff.next();
        this.#log('fetch', () => this.#ctx.logger.warn('kafka fetch failed, retrying', { brokers: o.brokers.join(','), error: errorText(err), retry_in_ms: wait }));
        consumer.clearMetadata();
        await sleep(wait);
      }
    }
  }

  async #fetchFrom(session: Session, node: number, topics: Map<string, PartitionState[]>, ids: Map<string, string>): Promise<void> {
    const o = this.#o;
    const requested = new Map<string, { st: PartitionState; offset: bigint }>();
    const request = [...topics].map(([topicId, states]) => ({
      topicId,
      partitions: states.map((st) => {
        requested.set(st.key, { st, offset: st.next! });
        return { partition: st.partition, fetchOffset: st.next!, partitionMaxBytes: o.fetchMaxPartitionBytes, currentLeaderEpoch: -1, lastFetchedEpoch: -1 };
      }),
    }));
    let result: FetchResult;
    try {
      result = (await session.consumer.fetch({
        node,
        topics: request,
        maxWaitTime: o.fetchMaxWaitMs,
        minBytes: 1,
        maxBytes: o.fetchMaxBytes,
        isolationLevel: o.readCommitted ? 1 : 0,
        connectionPool: session.fetchPool,
      })) as unknown as FetchResult;
    } catch (err) {
      // Per-partition errors come as one error holding the whole response.
      const response = (err as { response?: unknown }).response as FetchResult | undefined;
      if (!response?.responses) throw err;
      result = response;
    }
    if (session.closed) return;
    let got = false;
    for (const t of result.responses) {
      const topic = ids.get(t.topicId);
      if (topic === undefined) continue;
      for (const p of t.partitions) {
        const req = requested.get(`${topic}:${p.partitionIndex}`);
        if (!req || !req.st.active || session.states.get(req.st.key) !== req.st || req.st.next !== req.offset) continue;
        if (p.errorCode !== 0) {
          await this.#partitionError(session, req.st, p.errorCode);
          continue;
        }
        if (this.#append(req.st, p, req.offset)) got = true;
      }
    }
    if (got) this.#news.notify();
  }

  async #partitionError(session: Session, st: PartitionState, code: number): Promise<void> {
    if (code === OFFSET_OUT_OF_RANGE) {
      const from = st.next;
      const offsets = await session.consumer.listOffsets({
        topics: [st.topic],
        partitions: { [st.topic]: [st.partition] },
        timestamp: this.#o.startFromOldest ? -2n : -1n,
      });
      st.next = offsets.get(st.topic)?.[st.partition] ?? 0n;
      this.#ctx.logger.warn('kafka offset out of range, resetting', { partition: st.key, from: String(from), to: String(st.next) });
      return;
    }
    if (STALE_METADATA.has(code)) {
      session.consumer.clearMetadata();
      await sleep(200);
      return;
    }
    this.#log(`fetch-${code}`, () => this.#ctx.logger.warn('kafka fetch error on a partition', { partition: st.key, code }));
    await sleep(500);
  }

  /** Turns fetched records into messages on the partition's queue; true when any was added. */
  #append(st: PartitionState, p: FetchPartition, from: bigint): boolean {
    st.highWatermark = p.highWatermark;
    let added = false;
    for (const batch of p.records ?? []) {
      const last = batch.firstOffset + BigInt(batch.lastOffsetDelta);
      if (!(batch.attributes & IS_CONTROL)) {
        for (const r of batch.records) {
          const offset = batch.firstOffset + BigInt(r.offsetDelta);
          if (offset < from) continue;
          st.queue.push({ msg: this.#toMessage(st, r, offset, batch.firstTimestamp + r.timestampDelta), offset });
          added = true;
        }
      }
      if (st.next === undefined || last + 1n > st.next) st.next = last + 1n;
    }
    return added;
  }

  #toMessage(st: PartitionState, r: FetchRecord, offset: bigint, tsMs: bigint): Message {
    const meta = new Map<string, MetaValue>();
    const key = r.key ? decoder.decode(r.key) : '';
    const tsSec = Number(tsMs / 1000n);
    const setHeaders = () => {
      if (this.#o.multiHeader) {
        const multi = new Map<string, string[]>();
        for (const [k, v] of r.headers) {
          const name = k ? decoder.decode(k) : '';
          let arr = multi.get(name);
          if (!arr) multi.set(name, (arr = []));
          arr.push(v ? decoder.decode(v) : '');
        }
        for (const [k, v] of multi) meta.set(k, v);
      } else {
        for (const [k, v] of r.headers) meta.set(k ? decoder.decode(k) : '', v ? decoder.decode(v) : '');
      }
    };
    if (this.#o.flavour === 'kafka') {
      setHeaders();
      meta.set('kafka_key', key);
      meta.set('kafka_partition', st.partition);
      meta.set('kafka_topic', st.topic);
      meta.set('kafka_offset', Number(offset));
      const lag = st.highWatermark - offset - 1n;
      meta.set('kafka_lag', lag > 0n ? Number(lag) : 0);
      meta.set('kafka_timestamp_unix', tsSec);
      meta.set('kafka_timestamp_unix_ms', Number(tsMs));
      meta.set('kafka_tombstone_message', r.value === null);
    } else {
      meta.set('kafka_key', key);
      meta.set('kafka_topic', st.topic);
      meta.set('kafka_partition', st.partition);
      meta.set('kafka_offset', Number(offset));
      meta.set('kafka_timestamp_unix', tsSec);
      meta.set('kafka_tombstone_message', r.value === null);
      setHeaders();
    }
    return new Message(r.value ?? EMPTY, meta);
  }

  // -------------------------------------------------------------------------------------------
  // Reading

  async read(signal: AbortSignal): Promise<ReadResult> {
    for (;;) {
      if (this.#failure) throw disconnected(this.#failure);
      const session = this.#session;
      if (!session || this.#closed) throw disconnected(new Error(this.#closed ? 'the input is closed' : 'no Kafka session'));
      const r = await this.#take(session);
      if (r) return r;
      if (signal.aborted) throw notConnected();
      await this.#news.wait(signal, this.#nextBatchDue(session));
    }
  }

  /** Milliseconds until a pending input batch is due by its period, if any. */
  #nextBatchDue(session: Session): number | undefined {
    let min: number | undefined;
    for (const st of session.states.values()) {
      if (!st.policy || st.policy.size === 0) continue;
      const t = st.policy.untilNext();
      if (t !== undefined && (min === undefined || t < min)) min = t;
    }
    return min === undefined ? undefined : Math.max(1, min);
  }

  async #take(session: Session): Promise<ReadResult | undefined> {
    const states = [...session.states.values()];
    const n = states.length;
    const limit = Math.max(1, this.#o.checkpointLimit);
    for (let i = 0; i < n; i++) {
      const st = states[(this.#rr + i) % n]!;
      if (!st.active || st.inflight >= limit) continue;
      if (!st.policy) {
        const it = st.shift();
        if (!it) continue;
        this.#rr = (this.#rr + i + 1) % n;
        if (st.buffered === this.#o.bufferCap - 1) this.#room.notify();
        return this.#deliver(session, st, [it.msg], it.offset, 1);
      }
      let flush = false;
      for (let it = st.shift(); it; it = st.shift()) {
        st.batchLast = it.offset;
        if (st.policy.add(it.msg)) {
          flush = true;
          break;
        }
      }
      if (!flush && st.policy.size > 0 && st.policy.untilNext() === 0) flush = true;
      if (!flush) continue;
      const count = st.policy.size;
      const last = st.batchLast;
      const batch = await st.policy.flush();
      this.#rr = (this.#rr + i + 1) % n;
      this.#room.notify();
      return this.#deliver(session, st, batch, last, count);
    }
    return undefined;
  }

  #deliver(session: Session, st: PartitionState, batch: Batch, last: bigint, count: number): ReadResult {
    const limit = Math.max(1, this.#o.checkpointLimit);
    st.inflight += count;
    const entry: CheckpointEntry = st.tracker.track(last + 1n, count);
    let settled = false;
    const ack: AckFn = (err) => {
      if (settled) return;
      settled = true;
      const wasFull = st.inflight >= limit;
      st.inflight -= count;
      if (err) {
        // A nack that reached the reader (auto_replay_nacks handles them before): the offset
        // stays uncommitted, so the message is delivered again after a restart.
        this.#log('nack', () => this.#ctx.logger.warn('kafka message rejected; its offset will not be committed', { partition: st.key, error: err.message }));
      } else if (st.active && session.states.get(st.key) === st) {
        st.tracker.release(entry);
      }
      // Readers only wait on acks when the partition was at its checkpoint_limit.
      if (wasFull && st.inflight < limit) this.#news.notify();
    };
    return { batch, ack };
  }

  // -------------------------------------------------------------------------------------------
  // Committing and closing

  #commit(session: Session): Promise<void> {
    if (session.committing) return session.committing;
    const o = this.#o;
    if (!o.group || (session.member && session.rebalancing)) return Promise.resolve();
    const offsets: { topic: string; partition: number; offset: bigint; leaderEpoch: number }[] = [];
    const states: [PartitionState, bigint][] = [];
    for (const st of session.states.values()) {
      const c = st.tracker.committable;
      if (!st.active || c === undefined || (st.committed !== undefined && c <= st.committed)) continue;
      offsets.push({ topic: st.topic, partition: st.partition, offset: c, leaderEpoch: -1 });
      states.push([st, c]);
    }
    if (offsets.length === 0) return Promise.resolve();
    const p = withTimeout(session.consumer.commit({ offsets }), o.requestTimeoutMs * 2, 'committing offsets')
      .then(() => {
        for (const [st, c] of states) if (st.committed === undefined || c > st.committed) st.committed = c;
      })
      .catch((err: unknown) => {
        this.#log('commit', () => this.#ctx.logger.warn('kafka offset commit failed; it is retried next period', { group: o.group, error: errorText(err) }));
      })
      .finally(() => {
        session.committing = undefined;
      });
    session.committing = p;
    return p;
  }

  async #teardown(session: Session, commit: boolean): Promise<void> {
    if (session.commitTimer) clearInterval(session.commitTimer);
    if (commit && !session.closed) {
      await session.committing;
      await this.#commit(session);
    }
    session.closed = true;
    for (const st of session.states.values()) st.active = false;
    this.#news.notify();
    this.#room.notify();
    await withTimeout(session.fetchPool.close(), 3_000, 'closing fetch connections').catch(() => {});
    await closeClient(session.consumer, 'closing the Kafka consumer').catch((err: unknown) => {
      this.#ctx.logger.debug('kafka consumer close failed', { error: errorText(err) });
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const s = this.#session;
    this.#session = undefined;
    this.#news.notify();
    this.#room.notify();
    if (s) await this.#teardown(s, !this.#failure);
  }
}
