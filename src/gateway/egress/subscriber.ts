/**
 * One connected subscriber (WebSocket, SSE or raw stream) with its own bounded send queue.
 *
 * Fast path: while the socket's buffer is below the high-water mark, a message is written
 * straight to the socket (corked for the rest of the event-loop turn). Once it is backed up, the
 * subscriber queues entries (not bytes) and flushes them on 'drain'; when the queue is full the
 * output's policy decides: `disconnect` (close with a reason), `drop_oldest` (the client is
 * told how many it missed), or `conflate` (keep only the latest message per key).
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { SlowConsumerPolicy } from '../../engine/http-host.js';
import { sseControl, type Entry } from './entry.js';
import { wsFrame, OPCODE_TEXT } from './ws-frame.js';
import { corkForTurn } from './turn-cork.js';

export type Transport = 'ws' | 'sse' | 'raw';

/** Why a subscriber is closed; maps to WebSocket close codes and SSE final events. */
export type CloseReason = 'overload' | 'policy' | 'going_away' | 'rate_limited' | 'quota_exceeded' | 'forbidden' | 'expired';
/** WebSocket close codes: standard ones, and 44xx mirroring the HTTP status for access decisions. */
export const CLOSE_CODES: Record<CloseReason, number> = {
  overload: 1013,
  policy: 1008,
  going_away: 1001,
  rate_limited: 4429,
  quota_exceeded: 4403,
  forbidden: 4403,
  expired: 4401,
};

/** A message limit check for one delivery; a Promise only when the limit state must be asked. */
export type Meter = (count: number, bytes: number) => MeterVerdict | Promise<MeterVerdict>;
export type MeterVerdict = { readonly ok: true } | { readonly ok: false; readonly limit: 'rate' | 'quota'; readonly retryAfterMs?: number; readonly message: string };

/** Bytes buffered on a socket before the subscriber switches to its entry queue. */
const HIGH_WATER = 256 * 1024;

export interface SubscriberOptions {
  readonly transport: Transport;
  readonly socket: Socket;
  readonly res?: ServerResponse;
  readonly ws?: WebSocket;
  readonly wsText: boolean;
  /** Compressed WebSocket: frames go through ws.send (per subscriber) instead of shared frames. */
  readonly wsCompressed: boolean;
  readonly policy: SlowConsumerPolicy;
  readonly maxQueue: number;
  /** Client identity used for per-client limits and revocation (key hash or remote address). */
  readonly client: string;
  /** Per-message limits of the client's key, when it has any. */
  readonly meter?: Meter;
}

export class Subscriber {
  readonly transport: Transport;
  readonly socket: Socket;
  readonly client: string;
  /** Set when the pong for the last ping arrived. */
  alive = true;
  closed = false;
  /** Called once when the subscriber goes away, whatever the reason. */
  onClose: (() => void) | undefined;
  readonly #o: SubscriberOptions;
  #queue: Entry[] | Map<string, Entry> | undefined;
  #dropped = 0;
  /** Entries waiting while the meter asks the limit state (keeps order). */
  #metering: Entry[] | undefined;

  constructor(o: SubscriberOptions) {
    this.#o = o;
    this.transport = o.transport;
    this.socket = o.socket;
    this.client = o.client;
  }

  get queued(): number {
    return this.#queue === undefined ? 0 : Array.isArray(this.#queue) ? this.#queue.length : this.#queue.size;
  }

  send(e: Entry): void {
    if (this.closed) return;
    const meter = this.#o.meter;
    if (meter) {
      if (this.#metering) {
        this.#metering.push(e);
        return;
      }
      const v = meter(1, e.payload.byteLength);
      if (v instanceof Promise) {
        this.#metering = [e];
        void v.then((first) => this.#afterMeter(first), () => this.#afterMeter({ ok: false, limit: 'rate', message: 'message limit state unavailable' }));
        return;
      }
      if (!v.ok) return this.#limitReached(v);
    }
    this.#deliver(e);
  }

  async #afterMeter(first: MeterVerdict): Promise<void> {
    const pending = this.#metering ?? [];
    if (!first.ok) {
      this.#metering = undefined;
      return this.#limitReached(first);
    }
    this.#deliver(pending.shift()!);
    while (pending.length && !this.closed) {
      const v = await this.#o.meter!(1, pending[0]!.payload.byteLength);
      if (!v.ok) {
        this.#metering = undefined;
        return this.#limitReached(v);
      }
      this.#deliver(pending.shift()!);
    }
    this.#metering = undefined;
  }

  /** The client is told, never left to stall: an SSE `limit` event, a WebSocket 4429/4403 close. */
  #limitReached(v: Exclude<MeterVerdict, { ok: true }>): void {
    this.control('limit', { limit: v.limit, message: v.message, ...(v.retryAfterMs !== undefined ? { retry_after_ms: v.retryAfterMs } : {}) });
    this.close(v.limit === 'rate' ? 'rate_limited' : 'quota_exceeded', v.message);
  }

  #deliver(e: Entry): void {
    if (this.#queue === undefined) {
      if (this.socket.writableLength <= HIGH_WATER) {
        this.#write(e);
        return;
      }
      this.#queue = this.#o.policy === 'conflate' ? new Map() : [];
      this.socket.once('drain', () => this.#flush());
    }
    this.#enqueue(e);
  }

  #write(e: Entry): void {
    const o = this.#o;
    if (o.transport === 'ws') {
      if (o.wsCompressed) {
        o.ws!.send(e.payload, { binary: !o.wsText });
        return;
      }
      corkForTurn(this.socket);
      this.socket.write(e.ws(o.wsText));
      return;
    }
    corkForTurn(this.socket);
    o.res!.write(o.transport === 'sse' ? e.sse() : e.raw());
  }

  #enqueue(e: Entry): void {
    const q = this.#queue!;
    const max = this.#o.maxQueue;
    if (q instanceof Map) {
      const key = e.key ?? e.id;
      q.delete(key);
      q.set(key, e);
      if (q.size > max) {
        q.delete(q.keys().next().value!);
        this.#dropped++;
      }
      return;
    }
    q.push(e);
    if (q.length <= max) return;
    if (this.#o.policy === 'disconnect') {
      this.close('overload', 'slow consumer: send queue full');
      return;
    }
    q.shift();
    this.#dropped++;
  }

  #flush(): void {
    if (this.closed || this.#queue === undefined) return;
    if (this.#dropped) {
      this.control('dropped', { dropped: this.#dropped });
      this.#dropped = 0;
    }
    const q = this.#queue;
    const items = q instanceof Map ? [...q.values()] : q;
    let i = 0;
    while (i < items.length && this.socket.writableLength <= HIGH_WATER) this.#write(items[i++]!);
    if (i === items.length) {
      this.#queue = undefined;
      return;
    }
    const rest = items.slice(i);
    this.#queue = q instanceof Map ? new Map(rest.map((e) => [e.key ?? e.id, e])) : rest;
    this.socket.once('drain', () => this.#flush());
  }

  /** A Sluice control message: SSE `event: <name>`, or a JSON text frame `{"sluice": name, ...}`. */
  control(event: string, data: Record<string, unknown>): void {
    if (this.closed) return;
    if (this.transport === 'sse') this.#o.res!.write(sseControl(event, data));
    else if (this.transport === 'ws' && event !== 'limit') this.socket.write(wsFrame(Buffer.from(JSON.stringify({ sluice: event, ...data })), OPCODE_TEXT));
  }

  /** Writes raw bytes on a stream subscriber (comments, replay). */
  writeRaw(buf: Buffer): void {
    if (this.closed || this.transport === 'ws') return;
    this.#o.res!.write(buf);
  }

  close(reason: CloseReason, message: string): void {
    if (this.closed) return;
    this.closed = true;
    this.#queue = undefined;
    if (this.transport === 'ws') {
      this.#o.ws!.close(CLOSE_CODES[reason], message.slice(0, 120));
    } else {
      if (this.transport === 'sse') this.#o.res!.write(sseControl('close', { reason, message }));
      this.#o.res!.end();
    }
    // A client that stopped reading will not read the close either.
    if (reason === 'overload') setTimeout(() => this.socket.destroy(), 1000).unref();
    this.onClose?.();
  }

  /** The connection ended from the client's side. */
  gone(): void {
    if (this.closed) return;
    this.closed = true;
    this.#queue = undefined;
    this.onClose?.();
  }
}
