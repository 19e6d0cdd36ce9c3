/**
 * A message prepared for delivery: its id, payload, and each wire format built at most once,
 * on first use, then shared by every subscriber (and kept in the replay buffer).
 */
import { wsFrame, OPCODE_BINARY, OPCODE_TEXT } from './ws-frame.js';

const NL = Buffer.from('\n');

export class Entry {
  readonly seq: number;
  readonly id: string;
  readonly time: number;
  readonly payload: Uint8Array;
  /** Conflation key, when the output conflates. */
  readonly key: string | undefined;
  readonly event: string | undefined;
  #sse: Buffer | undefined;
  #ws: [Buffer | undefined, Buffer | undefined] = [undefined, undefined];
  #raw: Buffer | undefined;

  constructor(seq: number, id: string, payload: Uint8Array, key?: string, event?: string) {
    this.seq = seq;
    this.id = id;
    this.time = Date.now();
    this.payload = payload;
    this.key = key;
    this.event = event;
  }

  sse(): Buffer {
    return (this.#sse ??= sseEvent(this.payload, this.id, this.event));
  }

  ws(text: boolean): Buffer {
    const i = text ? 0 : 1;
    return (this.#ws[i] ??= wsFrame(this.payload, text ? OPCODE_TEXT : OPCODE_BINARY));
  }

  raw(): Buffer {
    return (this.#raw ??= Buffer.concat([this.payload, NL]));
  }
}

/** One SSE event: optional `id:` and `event:`, then each payload line prefixed with `data: `. */
export function sseEvent(payload: Uint8Array, id?: string, event?: string): Buffer {
  const head = `${id ? `id: ${id}\n` : ''}${event ? `event: ${event}\n` : ''}data: `;
  if (!payload.includes(10) && !payload.includes(13)) return Buffer.concat([Buffer.from(head), payload, Buffer.from('\n\n')]);
  const text = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8');
  return Buffer.from(`${head}${text.replace(/\r\n|\r|\n/g, '\ndata: ')}\n\n`);
}

/** A control event of Sluice's own (SSE `event:` + JSON data). */
export function sseControl(event: string, data: unknown): Buffer {
  return Buffer.from(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/**
 * The last N entries (and at most maxAgeMs old), for SSE `Last-Event-ID` resume and long-poll
 * cursors. A fixed ring: no allocation per message beyond the entry itself.
 */
export class ReplayBuffer {
  readonly #ring: (Entry | undefined)[];
  readonly #maxAgeMs: number;
  #next = 0;
  #count = 0;

  constructor(size: number, maxAgeMs: number) {
    this.#ring = new Array<Entry | undefined>(Math.max(0, size));
    this.#maxAgeMs = maxAgeMs;
  }

  get enabled(): boolean {
    return this.#ring.length > 0;
  }

  push(e: Entry): void {
    if (!this.#ring.length) return;
    this.#ring[this.#next] = e;
    this.#next = (this.#next + 1) % this.#ring.length;
    if (this.#count < this.#ring.length) this.#count++;
  }

  /** Oldest first. */
  #entries(): Entry[] {
    const out: Entry[] = [];
    const len = this.#ring.length;
    const cutoff = this.#maxAgeMs > 0 ? Date.now() - this.#maxAgeMs : -Infinity;
    for (let i = 0; i < this.#count; i++) {
      const e = this.#ring[(this.#next - this.#count + i + len) % len]!;
      if (e.time >= cutoff) out.push(e);
    }
    return out;
  }

  /**
   * Entries after `seq`. `gap` is true when entries after `seq` were already evicted (or the
   * id belongs to an earlier run): the client missed messages it cannot get back.
   */
  after(seq: number): { entries: Entry[]; gap: boolean } {
    const all = this.#entries();
    const oldest = all[0];
    if (!oldest) return { entries: [], gap: false };
    if (seq < oldest.seq - 1) return { entries: all, gap: true };
    return { entries: all.filter((e) => e.seq > seq), gap: false };
  }

  get lastSeq(): number {
    const e = this.#ring[(this.#next - 1 + this.#ring.length) % (this.#ring.length || 1)];
    return e?.seq ?? 0;
  }
}
