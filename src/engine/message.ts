/**
 * A Message is the unit that flows through a stream: raw bytes, metadata, a lazily parsed
 * structured (JSON) view, and an error flag.
 *
 * Contract:
 * - Bytes and structured value are two views of one payload. Whichever was set last is the
 *   source of truth; the other view is derived on first use and cached. Processors that only
 *   look at structured data (mappings) therefore never pay for serialising in between.
 * - A structured value handed to `setStructured` belongs to the message from then on and must
 *   not be mutated by the caller; `copy()` shares it, so mutators take `structuredMut()`.
 * - Metadata values set by inputs are strings; mappings may store any value. Outputs stringify.
 * - The error flag (`error`) marks a message that a processor failed on. The message still
 *   continues down the pipeline (Benthos semantics) until `catch` clears it.
 */

export type MetaValue = unknown;

/** Turns a structured value into payload bytes. Swappable so Bloblang can keep Go-compatible JSON. */
export type Serializer = (value: unknown) => Uint8Array;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const jsonSerializer: Serializer = (value) => {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return encoder.encode(value);
  return encoder.encode(JSON.stringify(value) ?? 'null');
};

const UNPARSED: unique symbol = Symbol('unparsed');

/** Per-transaction context that survives copies (sync responses, tracing). */
export interface MessageContext {
  /** Set by request/response inputs; `sync_response` stores the processed message here. */
  syncResponse?: SyncResponseStore;
  /** Where the message came from, e.g. `input.kafka`. For error_source_* and logs. */
  readonly [key: string]: unknown;
}

export interface SyncResponseStore {
  add(message: Message): void;
}

export class Message {
  #raw: Uint8Array | undefined;
  #structured: unknown = UNPARSED;
  #serializer: Serializer = jsonSerializer;
  #meta: Map<string, MetaValue> | undefined;
  #metaShared = false;
  /** Set when a processor failed on this message. */
  error: Error | undefined;
  /** Label or path of the component that set `error`. */
  errorSource: string | undefined;
  context: MessageContext | undefined;

  constructor(raw?: Uint8Array | string, meta?: Map<string, MetaValue> | Record<string, MetaValue>) {
    if (raw !== undefined) this.#raw = typeof raw === 'string' ? encoder.encode(raw) : raw;
    if (meta) this.#meta = meta instanceof Map ? meta : new Map(Object.entries(meta));
  }

  static fromStructured(value: unknown, meta?: Map<string, MetaValue> | Record<string, MetaValue>): Message {
    const m = new Message(undefined, meta);
    m.#structured = value;
    return m;
  }

  /** The payload as bytes; serialises the structured value once if that is what was set last. */
  bytes(): Uint8Array {
    if (this.#raw === undefined) {
      this.#raw = this.#structured === UNPARSED ? new Uint8Array(0) : this.#serializer(this.#structured);
    }
    return this.#raw;
  }

  text(): string {
    return decoder.decode(this.bytes());
  }

  /** True when a structured value is already at hand (no parse needed). */
  get hasStructured(): boolean {
    return this.#structured !== UNPARSED;
  }

  /** The payload parsed as JSON (cached). Throws a SyntaxError when it is not JSON. */
  structured(): unknown {
    if (this.#structured === UNPARSED) this.#structured = JSON.parse(this.text());
    return this.#structured;
  }

  /** A structured value the caller may mutate: detached from any copy that shares it. */
  structuredMut(): unknown {
    const v = this.structured();
    const own = v !== null && typeof v === 'object' ? structuredClone(v) : v;
    this.#structured = own;
    this.#raw = undefined;
    return own;
  }

  setBytes(raw: Uint8Array | string): this {
    this.#raw = typeof raw === 'string' ? encoder.encode(raw) : raw;
    this.#structured = UNPARSED;
    return this;
  }

  setStructured(value: unknown, serializer: Serializer = jsonSerializer): this {
    this.#structured = value;
    this.#serializer = serializer;
    this.#raw = undefined;
    return this;
  }

  // Metadata is copy-on-write: copies share the map until one of them writes.
  #ownMeta(): Map<string, MetaValue> {
    if (!this.#meta) this.#meta = new Map();
    else if (this.#metaShared) {
      this.#meta = new Map(this.#meta);
      this.#metaShared = false;
    }
    return this.#meta;
  }

  metaGet(key: string): MetaValue | undefined {
    return this.#meta?.get(key);
  }

  metaGetString(key: string): string | undefined {
    const v = this.#meta?.get(key);
    return v === undefined ? undefined : metaToString(v);
  }

  metaSet(key: string, value: MetaValue): this {
    this.#ownMeta().set(key, value);
    return this;
  }

  metaDelete(key: string): this {
    if (this.#meta?.has(key)) this.#ownMeta().delete(key);
    return this;
  }

  metaClear(): this {
    this.#meta = undefined;
    this.#metaShared = false;
    return this;
  }

  /** A read-only view; do not mutate (use metaSet). */
  metaEntries(): ReadonlyMap<string, MetaValue> {
    return this.#meta ?? EMPTY_META;
  }

  /** Metadata as a plain object of strings, as outputs send it. */
  metaStrings(): Record<string, string> {
    const out: Record<string, string> = {};
    if (this.#meta) for (const [k, v] of this.#meta) out[k] = metaToString(v);
    return out;
  }

  /** A shallow copy: payload and structured value shared (immutable), metadata copy-on-write. */
  copy(): Message {
    const m = new Message();
    m.#raw = this.#raw;
    m.#structured = this.#structured;
    m.#serializer = this.#serializer;
    if (this.#meta) {
      m.#meta = this.#meta;
      m.#metaShared = true;
      this.#metaShared = true;
    }
    m.error = this.error;
    m.errorSource = this.errorSource;
    m.context = this.context;
    return m;
  }

  setError(err: unknown, source?: string): this {
    this.error = err instanceof Error ? err : new Error(String(err));
    this.errorSource = source;
    return this;
  }

  clearError(): this {
    this.error = undefined;
    this.errorSource = undefined;
    return this;
  }
}

const EMPTY_META: ReadonlyMap<string, MetaValue> = new Map();

export function metaToString(v: MetaValue): string {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return decoder.decode(v);
  if (v === null || v === undefined) return 'null';
  // Plain objects and arrays as JSON; value types with their own text form (timestamps, exact
  // floats) through their toString.
  if (typeof v === 'object') return Array.isArray(v) || Object.getPrototypeOf(v) === Object.prototype ? JSON.stringify(v) : String(v);
  return String(v);
}

/** A batch is the unit of transport and of acknowledgement. */
export type Batch = Message[];

export function batchBytes(batch: Batch): number {
  let n = 0;
  for (const m of batch) n += m.bytes().byteLength;
  return n;
}
