/**
 * The delivery side of an `http_server` output: subscribers over WebSocket, streamed HTTP (SSE or
 * raw lines), one-message GETs and long-poll GETs with a cursor.
 *
 * Hot path (broadcast): each message becomes one Entry whose wire formats are built once and
 * shared by every subscriber; subscribers are grouped by filter, and each distinct filter is
 * evaluated once per message, never once per subscriber. No per-message promise.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { WebSocketServer } from 'ws';
import type { EgressChannel, EgressOptions, MessageFilter } from '../../engine/http-host.js';
import { Message, type Batch } from '../../engine/message.js';
import { sendError, sendJson, rejectUpgrade } from '../respond.js';
import { Entry, ReplayBuffer } from './entry.js';
import { Subscriber, type CloseReason, type Meter, type Transport } from './subscriber.js';

export interface EgressLimits {
  /** WebSocket ping interval when the output sets none. */
  readonly pingIntervalMs: number;
  /** Subscriber queue length when the output sets none. */
  readonly maxQueue: number;
}

export const defaultEgressLimits: EgressLimits = { pingIntervalMs: 54_000, maxQueue: 1024 };

interface Group {
  readonly filter: MessageFilter | undefined;
  readonly subs: Set<Subscriber>;
}

interface Waiter {
  readonly deliver: (batch: Batch, entries: Entry[]) => void;
}

/** Identifies the client of a request for per-client limits (the gateway supplies key or address). */
export type ClientOf = (req: IncomingMessage) => string;

/** What the API around a hub decides: who the client is, and whether one more connection is allowed. */
export interface HubPolicy {
  readonly clientOf: ClientOf;
  /** An error for a connection the API refuses (e.g. its connection limit), else undefined. */
  readonly admit?: () => { status: number; message: string } | undefined;
  /** Per-message limits for a subscriber, when its key has any. */
  readonly meterFor?: (req: IncomingMessage) => Meter | undefined;
  /** When the subscriber's credential expires (ms since the epoch), e.g. a JWT's `exp`. */
  readonly expiryOf?: (req: IncomingMessage) => number | undefined;
}

const defaultPolicy: HubPolicy = { clientOf: (req) => req.socket.remoteAddress ?? '' };

export class EgressHub implements EgressChannel {
  readonly #o: EgressOptions;
  readonly #limits: EgressLimits;
  readonly #policy: HubPolicy;
  readonly #groups = new Map<string, Group>();
  readonly #subs = new Set<Subscriber>();
  readonly #perClient = new Map<string, number>();
  readonly #replay: ReplayBuffer;
  readonly #epoch = Date.now().toString(36);
  readonly #wsText: boolean;
  #seq = 0;
  #waiters: Waiter[] = [];
  #heartbeat: NodeJS.Timeout | undefined;
  #ping: NodeJS.Timeout | undefined;
  #closed = false;
  #rrWaiting: (() => void)[] = [];
  #rrNext = 0;

  constructor(opts: EgressOptions, limits: EgressLimits = defaultEgressLimits, policy: HubPolicy = defaultPolicy) {
    this.#o = opts;
    this.#limits = limits;
    this.#policy = policy;
    this.#wsText = opts.wsMessageType === 'text';
    this.#replay = new ReplayBuffer(opts.replay?.size ?? 0, opts.replay?.maxAgeMs ?? 0);
    if (opts.streamFormat === 'event_source' && opts.heartbeatMs > 0) {
      const beat = Buffer.from(': heartbeat\n\n');
      this.#heartbeat = setInterval(() => {
        for (const s of this.#subs) if (s.transport === 'sse') s.writeRaw(beat);
      }, opts.heartbeatMs);
      this.#heartbeat.unref();
    }
    this.#ping = setInterval(() => this.#pingAll(), opts.pingIntervalMs ?? limits.pingIntervalMs);
    this.#ping.unref();
  }

  get subscriberCount(): number {
    return this.#subs.size + this.#waiters.length;
  }

  #id(seq: number): string {
    return `${this.#epoch}.${seq}`;
  }

  /** Parses an event id / cursor of this hub; -1 when it belongs to another run or is invalid. */
  #seqOf(id: string): number {
    const dot = id.lastIndexOf('.');
    if (dot < 0 || id.slice(0, dot) !== this.#epoch) return -1;
    const n = Number(id.slice(dot + 1));
    return Number.isInteger(n) && n >= 0 ? n : -1;
  }

  #entry(batch: Batch, i: number): Entry {
    const seq = ++this.#seq;
    const o = this.#o;
    return new Entry(seq, this.#id(seq), batch[i]!.bytes(), o.slowConsumer?.conflateKey?.(batch, i), o.sseEvent?.(batch, i) || undefined);
  }

  publish(batch: Batch): void | Promise<void> {
    if (this.#o.delivery === 'round_robin') return this.#publishOne(batch);
    const live = this.#subs.size > 0;
    const waiting = this.#waiters.length > 0;
    if (!live && !waiting && !this.#replay.enabled) return;
    const entries: Entry[] = [];
    for (let i = 0; i < batch.length; i++) {
      const e = this.#entry(batch, i);
      entries.push(e);
      this.#replay.push(e);
      if (!live) continue;
      for (const g of this.#groups.values()) {
        if (g.subs.size === 0) continue;
        if (g.filter) {
          let keep = false;
          try {
            keep = g.filter(batch, i);
          } catch {
            keep = false;
          }
          if (!keep) continue;
        }
        for (const s of g.subs) s.send(e);
      }
    }
    if (waiting) {
      const ws = this.#waiters;
      this.#waiters = [];
      for (const w of ws) w.deliver(batch, entries);
    }
  }

  #publishOne(batch: Batch): void | Promise<void> {
    const subs = [...this.#subs];
    const total = subs.length + this.#waiters.length;
    if (total === 0) {
      if (this.#closed) return;
      return new Promise<void>((resolve) => this.#rrWaiting.push(resolve)).then(() => this.#publishOne(batch));
    }
    const pick = this.#rrNext++ % total;
    const entries = batch.map((_, i) => this.#entry(batch, i));
    if (pick >= subs.length) {
      const w = this.#waiters.splice(pick - subs.length, 1)[0]!;
      w.deliver(batch, entries);
      return;
    }
    for (const e of entries) subs[pick]!.send(e);
  }

  #pingAll(): void {
    for (const s of this.#subs) {
      if (s.transport !== 'ws') continue;
      if (!s.alive) {
        s.close('going_away', 'no pong received');
        s.socket.destroy();
        continue;
      }
      s.alive = false;
      s.socket.write(PING_FRAME);
    }
  }

  #subscribed(): void {
    for (const f of this.#rrWaiting.splice(0)) f();
  }

  /** Admission: connection limits, and the subscriber's filter group. Returns an error or the group key. */
  #admit(
    req: IncomingMessage,
  ): { status: number; message: string } | { client: string; groupKey: string; filter: MessageFilter | undefined; meter: Meter | undefined; expiresAt: number | undefined } {
    if (this.#closed) return { status: 503, message: 'stream is shutting down' };
    const o = this.#o;
    if (o.maxConnections && this.#subs.size >= o.maxConnections) return { status: 503, message: 'too many connections to this stream' };
    const refused = this.#policy.admit?.();
    if (refused) return refused;
    const client = this.#policy.clientOf(req);
    if (o.maxConnectionsPerClient && (this.#perClient.get(client) ?? 0) >= o.maxConnectionsPerClient) {
      return { status: 429, message: 'too many connections from this client' };
    }
    const f = this.#filterOf(req);
    if ('status' in f) return f;
    return { client, ...f, meter: this.#policy.meterFor?.(req), expiresAt: this.#policy.expiryOf?.(req) };
  }

  #filterOf(req: IncomingMessage): { status: number; message: string } | { groupKey: string; filter: MessageFilter | undefined } {
    const allowed = this.#o.filters;
    if (!allowed) return { groupKey: '', filter: undefined };
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    const query = q.get('filter');
    const pairs = allowed.fields.filter((f) => q.has(f)).map((f) => [f, q.get(f)!] as const).sort();
    if (!query && !pairs.length) return { groupKey: '', filter: undefined };
    if (query && !allowed.compileQuery) return { status: 400, message: 'this stream does not accept filter queries' };
    const groupKey = JSON.stringify([query ?? '', pairs]);
    const existing = this.#groups.get(groupKey);
    if (existing) return { groupKey, filter: existing.filter };
    let q1: MessageFilter | undefined;
    try {
      q1 = query ? allowed.compileQuery!(query) : undefined;
    } catch (err) {
      return { status: 400, message: `invalid filter: ${(err as Error).message}` };
    }
    const fieldTest: MessageFilter | undefined = pairs.length
      ? (batch, i) => {
          const v = batch[i]!.structured() as Record<string, unknown> | null;
          return pairs.every(([k, want]) => v !== null && typeof v === 'object' && String(getPath(v, k)) === want);
        }
      : undefined;
    const filter: MessageFilter = q1 && fieldTest ? (b, i) => fieldTest(b, i) && q1(b, i) : (q1 ?? fieldTest)!;
    return { groupKey, filter };
  }

  #add(s: Subscriber, groupKey: string, filter: MessageFilter | undefined, expiresAt?: number): void {
    // A credential that expires (a JWT) ends its connections when it does, not at the next request.
    if (expiresAt !== undefined) {
      const t = setTimeout(() => s.close('expired', 'Key has expired, please renew'), Math.max(0, expiresAt - Date.now()));
      t.unref();
      s.socket.once('close', () => clearTimeout(t));
    }
    let g = this.#groups.get(groupKey);
    if (!g) this.#groups.set(groupKey, (g = { filter, subs: new Set() }));
    g.subs.add(s);
    this.#subs.add(s);
    this.#perClient.set(s.client, (this.#perClient.get(s.client) ?? 0) + 1);
    s.onClose = () => {
      this.#subs.delete(s);
      g.subs.delete(s);
      if (g.subs.size === 0 && groupKey !== '') this.#groups.delete(groupKey);
      const n = (this.#perClient.get(s.client) ?? 1) - 1;
      if (n <= 0) this.#perClient.delete(s.client);
      else this.#perClient.set(s.client, n);
    };
    this.#subscribed();
  }

  #subscriber(transport: Transport, socket: Socket, client: string, meter: Meter | undefined, extra: { res?: ServerResponse; ws?: import('ws').WebSocket }): Subscriber {
    const sc = this.#o.slowConsumer;
    return new Subscriber({
      transport,
      socket,
      client,
      ...(meter ? { meter } : {}),
      ...extra,
      wsText: this.#wsText,
      wsCompressed: this.#o.wsCompression === true,
      policy: sc?.policy ?? 'disconnect',
      maxQueue: sc?.maxQueue ?? this.#limits.maxQueue,
    });
  }

  /** GET on `stream_path`: a long-lived response (SSE or raw lines), resumable with Last-Event-ID. */
  handleStream(req: IncomingMessage, res: ServerResponse): void {
    const adm = this.#admit(req);
    if ('status' in adm) return sendError(res, adm.status, adm.message);
    const sse = this.#o.streamFormat === 'event_source';
    const socket = req.socket;
    socket.setNoDelay(true);
    res.writeHead(200, {
      'Content-Type': sse ? 'text/event-stream' : 'application/octet-stream',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    // Flush headers at once (and, for SSE, a comment) so clients and proxies see the stream open.
    // `retry:` makes browsers reconnect after 2 s (and resume with Last-Event-ID).
    if (sse) res.write(': connected\nretry: 2000\n\n');
    else res.flushHeaders();
    const sub = this.#subscriber(sse ? 'sse' : 'raw', socket, adm.client, adm.meter, { res });
    if (sse) this.#resume(req, sub, adm.filter);
    res.on('close', () => sub.gone());
    this.#add(sub, adm.groupKey, adm.filter, adm.expiresAt);
  }

  /** Replays what a reconnecting SSE client missed, or tells it that it is gone. */
  #resume(req: IncomingMessage, sub: Subscriber, filter: MessageFilter | undefined): void {
    const q = req.url?.includes('?') ? new URL(req.url, 'http://x').searchParams : undefined;
    const last = (req.headers['last-event-id'] as string | undefined) ?? q?.get('last_event_id') ?? q?.get('lastEventId') ?? undefined;
    if (last === undefined || last === '') return;
    if (!this.#replay.enabled) {
      sub.control('gap', { last_event_id: last, message: 'this stream keeps no history; messages since that id are not available' });
      return;
    }
    const seq = this.#seqOf(last);
    const { entries, gap } = seq < 0 ? { entries: this.#replay.after(0).entries, gap: true } : this.#replay.after(seq);
    if (gap) sub.control('gap', { last_event_id: last, message: 'messages after this id are no longer available' });
    // Filters apply to replayed messages too; they were evaluated on the batch, so re-check by payload.
    for (const e of entries) if (!filter || filterEntry(filter, e)) sub.send(e);
  }

  /** GET on `path`: the next message (408 after the timeout); with `?cursor=` a long-poll over the replay buffer. */
  handleGet(req: IncomingMessage, res: ServerResponse): void {
    if (this.#closed) return sendError(res, 503, 'stream is shutting down');
    const q = req.url?.includes('?') ? new URL(req.url, 'http://x').searchParams : undefined;
    const cursor = q?.get('cursor');
    if (cursor !== undefined && cursor !== null) return this.#longPoll(res, cursor);
    this.#wait(res, (batch) => writeBatchResponse(res, batch), () => sendError(res, 408, 'Timed out waiting for message'));
  }

  #longPoll(res: ServerResponse, cursor: string): void {
    if (!this.#replay.enabled) return sendError(res, 400, 'this stream keeps no history: cursors are not available');
    const reply = (entries: Entry[], gap: boolean) => {
      const last = entries.length ? entries[entries.length - 1]!.id : cursor || this.#id(this.#seq);
      sendJson(res, 200, {
        cursor: last,
        gap,
        messages: entries.map((e) => ({ id: e.id, data: Buffer.from(e.payload).toString('utf8') })),
      });
    };
    if (cursor !== '' && cursor !== 'latest') {
      const seq = this.#seqOf(cursor);
      const r = seq < 0 ? { entries: this.#replay.after(0).entries, gap: true } : this.#replay.after(seq);
      if (r.entries.length || r.gap) return reply(r.entries, r.gap);
    }
    this.#wait(res, (_b, entries) => reply(entries, false), () => reply([], false));
  }

  #wait(res: ServerResponse, deliver: (batch: Batch, entries: Entry[]) => void, timeout: () => void): void {
    let done = false;
    const finish = () => {
      done = true;
      clearTimeout(timer);
      const i = this.#waiters.indexOf(waiter);
      if (i >= 0) this.#waiters.splice(i, 1);
    };
    const waiter: Waiter = {
      deliver: (batch, entries) => {
        if (done) return;
        finish();
        deliver(batch, entries);
      },
    };
    const timer = setTimeout(() => {
      if (done) return;
      finish();
      timeout();
    }, this.#o.timeoutMs);
    res.on('close', () => {
      if (!done) finish();
    });
    this.#waiters.push(waiter);
    this.#subscribed();
  }

  /** Upgrade on `ws_path`. */
  handleUpgrade(wss: WebSocketServer, req: IncomingMessage, socket: Socket, head: Buffer): void {
    const adm = this.#admit(req);
    if ('status' in adm) return rejectUpgrade(socket, adm.status, adm.message);
    wss.handleUpgrade(req, socket, head, (ws) => {
      socket.setNoDelay(true);
      const sub = this.#subscriber('ws', socket, adm.client, adm.meter, { ws });
      ws.on('pong', () => (sub.alive = true));
      ws.on('close', () => sub.gone());
      ws.on('error', () => sub.gone());
      this.#add(sub, adm.groupKey, adm.filter, adm.expiresAt);
    });
  }

  /** Closes the subscribers for which `match` is true (e.g. a revoked key's connections). */
  closeWhere(match: (client: string) => boolean, reason: CloseReason, message: string): number {
    let n = 0;
    for (const s of [...this.#subs]) {
      if (match(s.client)) {
        s.close(reason, message);
        n++;
      }
    }
    return n;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    clearInterval(this.#ping);
    for (const s of [...this.#subs]) s.close('going_away', 'stream stopped');
    for (const w of this.#waiters.splice(0)) w.deliver([], []);
    for (const f of this.#rrWaiting.splice(0)) f();
  }
}

const PING_FRAME = Buffer.from([0x89, 0x00]);

function filterEntry(filter: MessageFilter, e: Entry): boolean {
  // Replayed entries no longer have their batch: rebuild a one-message batch from the payload.
  try {
    return filter([messageOf(e)], 0);
  } catch {
    return false;
  }
}

function messageOf(e: Entry): Message {
  return new Message(e.payload);
}

function getPath(v: Record<string, unknown>, path: string): unknown {
  let cur: unknown = v;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function writeBatchResponse(res: ServerResponse, batch: Batch): void {
  if (batch.length === 0) return sendError(res, 503, 'stream is shutting down');
  if (batch.length === 1) {
    const body = batch[0]!.bytes();
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.byteLength });
    res.end(body);
    return;
  }
  const boundary = `sluice${Math.random().toString(16).slice(2)}`;
  const parts: Buffer[] = [];
  for (const m of batch) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Type: application/octet-stream\r\n\r\n`), Buffer.from(m.bytes()), Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  const body = Buffer.concat(parts);
  res.writeHead(200, { 'Content-Type': `multipart/mixed; boundary=${boundary}`, 'Content-Length': body.length });
  res.end(body);
}
