/**
 * Runtime core: compiled queries (closures over a context), the execution context, path access
 * and the value coercions shared by the language and the library.
 */
import type { Batch, Message } from '../engine/message.js';
import { goDecodeMessage, JSONSyntaxError } from './json.js';
import { formatRFC3339Nano, parseRFC3339 } from './timefmt.js';
import {
  DELETE,
  F64,
  NOTHING,
  NumKind,
  QErr,
  QUERY_BRAND,
  Timestamp,
  errPlain,
  errType,
  formatFloatG,
  isObject,
  localLoc,
  mkIntBig,
  numKind,
  numValue,
  typeOf,
  type BObject,
} from './value.js';
import { goJSONStringify } from './json.js';

// ---------------------------------------------------------------------------------------------
// Compiled queries

/** A compiled query: a closure evaluated against a context. Throws QErr on failure. */
export interface Q {
  readonly [QUERY_BRAND]: true;
  ev: (c: Ctx) => unknown;
  /** Annotation used in error messages (e.g. "field `this.foo`"). */
  readonly ann: string;
  /** Set when the query is a literal value (enables folding). */
  readonly lit?: { readonly v: unknown };
  /** Set when the query reads a path of `this`, `root` or a named context (enables path merging). */
  readonly field?: { readonly base: 'this' | 'root' | string; readonly path: readonly string[] };
  /** Set for `name -> query` lambdas (the context is captured under name; "_" discards it). */
  readonly lambda?: string;
  /** Evaluates the query with `v` as its context (what map_each, filter… do per element). */
  evWith(c: Ctx, v: unknown): unknown;
  /**
   * Returns a function evaluating the query for successive context values, reusing one context
   * (evaluation is synchronous and never retains contexts).
   */
  bindEach(c: Ctx): (v: unknown) => unknown;
}

class QImpl implements Q {
  readonly [QUERY_BRAND] = true as const;
  readonly lit?: { readonly v: unknown };
  readonly field?: { readonly base: 'this' | 'root' | string; readonly path: readonly string[] };
  readonly lambda?: string;
  readonly evWith: (c: Ctx, v: unknown) => unknown;
  readonly bindEach: (c: Ctx) => (v: unknown) => unknown;
  constructor(
    readonly ev: (c: Ctx) => unknown,
    readonly ann: string,
    extra?: QExtra,
  ) {
    if (extra?.lit) this.lit = extra.lit;
    if (extra?.field) this.field = extra.field;
    if (extra?.lambda !== undefined) this.lambda = extra.lambda;
    this.evWith = extra?.evWith ?? ((c, v) => ev(c.withValue(v)));
    this.bindEach =
      extra?.bindEach ??
      ((c) => {
        const cc = c.withValue(null);
        return (v) => {
          cc.v = v;
          return ev(cc);
        };
      });
  }
}

export type QExtra = Partial<Pick<Q, 'lit' | 'field' | 'lambda'>> & {
  evWith?: (c: Ctx, v: unknown) => unknown;
  bindEach?: (c: Ctx) => (v: unknown) => unknown;
};

export function mkQ(ev: (c: Ctx) => unknown, ann: string, extra?: QExtra): Q {
  return new QImpl(ev, ann, extra);
}

export function literal(v: unknown, ann?: string): Q {
  return mkQ(() => v, ann ?? `${typeOf(v)} literal`, { lit: { v } });
}

export function isQ(v: unknown): v is Q {
  return typeof v === 'object' && v !== null && (v as { [QUERY_BRAND]?: boolean })[QUERY_BRAND] === true;
}

// ---------------------------------------------------------------------------------------------
// Execution context

/** Marks "no current value" (the message itself is the context). */
export const UNSET: unique symbol = Symbol('bloblang.unset');

export interface NamedValue {
  readonly name: string;
  value: unknown;
  readonly next: NamedValue | null;
}

/** Metadata of the message being built. */
export interface MetaTarget {
  metaGet(key: string): unknown;
  metaSet(key: string, value: unknown): unknown;
  metaDelete(key: string): unknown;
  metaClear(): unknown;
  metaEntries(): ReadonlyMap<string, unknown>;
}

export type MapFn = (c: Ctx) => unknown;

/** State shared by one execution of a mapping. */
export class ExecState {
  /** Lazily resolved message value (`this` at the root). */
  private tv: unknown = UNSET;
  private terr: string | null = null;
  private tresolved = false;

  constructor(
    /** The batch read by content(), json(), metadata() … */
    public batch: Batch,
    /** Index of the message `this` refers to. */
    public index: number,
    /** Metadata of the message being built (`@`, `meta x = …`), or null where unavailable. */
    public meta: MetaTarget | null,
    readonly maps: Record<string, MapFn>,
    /** Overrides the message value (e.g. branch `this`, blobl raw mode). UNSET → parse message. */
    thisOverride: unknown = UNSET,
    /** When set, `this` is the value currently held here (mutation: this aliases root). */
    public thisBox: { v: unknown } | null = null,
  ) {
    if (thisOverride !== UNSET) {
      this.tv = thisOverride;
      this.tresolved = true;
    }
  }

  /** Reuses this state for another execution (pooled by CompiledMapping). */
  reset(batch: Batch, index: number, meta: MetaTarget | null): void {
    this.batch = batch;
    this.index = index;
    this.meta = meta;
    this.thisBox = null;
    this.tv = UNSET;
    this.terr = null;
    this.tresolved = false;
  }

  /** The structured message value, or throws a no-context error. */
  thisValue(fieldName: string): unknown {
    if (this.thisBox !== null) return this.thisBox.v;
    if (!this.tresolved) {
      this.tresolved = true;
      const msg = this.batch[this.index];
      if (!msg) this.terr = 'message is empty';
      else {
        try {
          this.tv = structuredOf(msg);
        } catch (e) {
          this.terr = e instanceof QErr ? e.message() : (e as Error).message;
        }
      }
    }
    if (this.terr !== null) {
      throw new QErr(
        'nocontext',
        fieldName !== '' ? `context was undefined, unable to reference \`${fieldName}\`` : 'context was undefined',
        { field: fieldName },
      );
    }
    return this.tv;
  }

  /** Why the message could not be read as structured (after a failed thisValue). */
  get thisError(): string | null {
    return this.terr;
  }
}

export class Ctx {
  // Fields are declared (not class fields) so construction is plain stores: no field
  // initializer call per instance, which matters as contexts are created per message.
  /** Current context value (`this`); UNSET means the message itself. */
  declare v: unknown;
  /** Context below the current one (restored when a lambda captures the current one). */
  declare readonly pv: unknown;
  declare readonly named: NamedValue | null;
  /** Variables; null where variables are unavailable. */
  declare readonly vars: Record<string, unknown> | null;
  /** The value being built (`root`); null where `root` cannot be referenced. */
  declare readonly rt: { v: unknown } | null;
  /** Message index for content(), json(), metadata() (changed by `.from(i)`). */
  declare readonly index: number;
  declare readonly st: ExecState;
  declare readonly depth: number;

  constructor(
    v: unknown,
    pv: unknown,
    named: NamedValue | null,
    vars: Record<string, unknown> | null,
    rt: { v: unknown } | null,
    index: number,
    st: ExecState,
    depth: number,
  ) {
    this.v = v;
    (this as { pv: unknown }).pv = pv;
    (this as { named: NamedValue | null }).named = named;
    (this as { vars: Record<string, unknown> | null }).vars = vars;
    (this as { rt: { v: unknown } | null }).rt = rt;
    (this as { index: number }).index = index;
    (this as { st: ExecState }).st = st;
    (this as { depth: number }).depth = depth;
  }

  withValue(v: unknown): Ctx {
    return new Ctx(v, this.v, this.named, this.vars, this.rt, this.index, this.st, this.depth);
  }

  withIndex(index: number): Ctx {
    return new Ctx(this.v, this.pv, this.named, this.vars, this.rt, index, this.st, this.depth);
  }

  /** Current value (resolving the message lazily); throws when there is none. */
  thisValue(fieldName = ''): unknown {
    return this.v !== UNSET ? this.v : this.st.thisValue(fieldName);
  }
}

// ---------------------------------------------------------------------------------------------
// Messages

const structuredCache = new WeakMap<Uint8Array, unknown>();

/** A message's payload as a Bloblang value (Go JSON semantics), cached per payload. */
export function structuredOf(msg: Message): unknown {
  if (msg.hasStructured) return msg.structured();
  const bytes = msg.bytes();
  const cached = structuredCache.get(bytes);
  if (cached !== undefined) return cached;
  if (bytes.byteLength === 0) throw errPlain('message is empty');
  try {
    const v = goDecodeMessage(textDecoder.decode(bytes));
    structuredCache.set(bytes, v);
    return v;
  } catch (e) {
    if (e instanceof JSONSyntaxError) throw errPlain(`parse as json: ${e.message}`);
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// Paths (gabs semantics)

/** Splits a dot path ("a.b~1c" → ["a", "b.c"]). */
export function dotPathToSlice(path: string): string[] {
  return path.split('.').map((s) => (s.includes('~') ? s.replace(/~1/g, '.').replace(/~0/g, '~') : s));
}

/** Joins path segments into a dot path, escaping dots and tildes. */
export function sliceToDotPath(path: readonly string[]): string {
  return path.map((s) => s.replace(/~/g, '~0').replace(/\./g, '~1')).join('.');
}

function arrayIndex(seg: string): number {
  if (!/^[+-]?\d+$/.test(seg)) return -1;
  const n = Number(seg);
  return n < 0 ? -1 : n;
}

/** gabs Search: objects by key, arrays by index or "*" wildcard; misses yield undefined. */
export function getPath(v: unknown, path: readonly string[], from = 0): unknown {
  for (let i = from; i < path.length; i++) {
    const seg = path[i] as string;
    if (v === null || typeof v !== 'object') return undefined;
    if (Array.isArray(v)) {
      if (seg === '*') {
        if (i + 1 >= path.length) return v.length === 0 ? undefined : v;
        const out: unknown[] = [];
        for (const el of v) {
          const r = getPath(el, path, i + 1);
          if (r !== undefined) out.push(r);
        }
        return out.length === 0 ? undefined : out;
      }
      const idx = arrayIndex(seg);
      if (idx < 0 || idx >= v.length) return undefined;
      v = v[idx];
      continue;
    }
    if (!isObject(v)) return undefined;
    v = Object.hasOwn(v, seg) ? v[seg] : undefined;
  }
  return v;
}

export function setKey(o: BObject, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

export class PathCollision extends Error {}

/** gabs Set: creates objects along the path; returns the (possibly replaced) root. */
export function setPath(root: unknown, path: readonly string[], val: unknown): unknown {
  if (path.length === 0) return val;
  if (root === null || root === undefined) root = {};
  let obj: unknown = root;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i] as string;
    const last = i === path.length - 1;
    if (Array.isArray(obj)) {
      if (seg === '-') {
        if (i < 1) throw new Error('unable to append new array index at root of path');
        const el = last ? val : {};
        obj.push(el);
        obj = el;
        continue;
      }
      if (!/^[+-]?\d+$/.test(seg)) {
        throw new Error(
          `failed to resolve path segment '${i}': found array but segment value '${seg}' could not be parsed into array index: strconv.Atoi: parsing ${JSON.stringify(seg)}: invalid syntax`,
        );
      }
      const idx = Number(seg);
      if (idx < 0) throw new Error(`failed to resolve path segment '${i}': found array but index '${seg}' is invalid`);
      if (idx >= obj.length) {
        throw new Error(
          `failed to resolve path segment '${i}': found array but index '${seg}' exceeded target array size of '${obj.length}'`,
        );
      }
      if (last) obj[idx] = val;
      else {
        const next = obj[idx];
        if (next === null || next === undefined) throw new Error(`failed to resolve path segment '${i}': field '${seg}' was not found`);
        obj = next;
      }
      continue;
    }
    if (!isObject(obj)) throw new PathCollision();
    if (last) setKey(obj, seg, val);
    else {
      let next = Object.hasOwn(obj, seg) ? obj[seg] : undefined;
      if (next === undefined || next === null) {
        next = {};
        setKey(obj, seg, next);
      }
      obj = next;
    }
  }
  return root;
}

/** gabs Delete: removes a key (or array element) if the path exists. */
export function deletePath(root: unknown, path: readonly string[]): void {
  let obj: unknown = root;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i] as string;
    const last = i === path.length - 1;
    if (Array.isArray(obj)) {
      const idx = arrayIndex(seg);
      if (idx < 0 || idx >= obj.length) return;
      if (last) {
        obj.splice(idx, 1);
        return;
      }
      obj = obj[idx];
      continue;
    }
    if (!isObject(obj)) return;
    if (!Object.hasOwn(obj, seg)) return;
    if (last) {
      delete obj[seg];
      return;
    }
    obj = obj[seg];
  }
}

// ---------------------------------------------------------------------------------------------
// Cloning and comparison

/** Deep copy of arrays and objects (IClone). Scalars and immutable values are shared. */
export function clone(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = clone(v[i]);
    return out;
  }
  if (!isObject(v)) return v;
  const out: BObject = {};
  for (const k of Object.keys(v)) setKey(out, k, clone(v[k]));
  return out;
}

/** RestrictForComparison: numbers → float, bytes → string, timestamps → RFC 3339 strings. */
function restrict(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof F64) return v.v;
  if (v instanceof Uint8Array) return bytesToString(v);
  if (v instanceof Timestamp) return formatRFC3339Nano(v);
  if (v === undefined) return null;
  return v;
}

/** ICompare: value equality across int/float and string/bytes, deep for arrays and objects. */
export function valuesEqual(left: unknown, right: unknown): boolean {
  if ((left === null || left === undefined) && (right === null || right === undefined)) return true;
  const l = restrict(left);
  switch (typeof l) {
    case 'string': {
      if (typeof right === 'string') return l === right;
      if (right instanceof Uint8Array) return l === bytesToString(right);
      if (right instanceof Timestamp) return l === formatRFC3339Nano(right);
      return false;
    }
    case 'number': {
      if (typeof right === 'number') return l === right;
      if (typeof right === 'bigint') return typeof left === 'bigint' ? left === right : l === Number(right);
      if (right instanceof F64) return l === right.v;
      return false;
    }
    case 'boolean': {
      const r = getBoolLoose(right);
      return r !== undefined && r === l;
    }
    case 'object': {
      if (Array.isArray(l)) {
        if (!Array.isArray(right) || right.length !== l.length) return false;
        for (let i = 0; i < l.length; i++) if (!valuesEqual(l[i], right[i])) return false;
        return true;
      }
      if (isObject(l)) {
        if (!isObject(right)) return false;
        const lk = Object.keys(l);
        if (lk.length !== Object.keys(right).length) return false;
        for (const k of lk) {
          if (!valuesEqual(l[k], Object.hasOwn(right, k) ? right[k] : undefined)) return false;
        }
        return true;
      }
      return false;
    }
  }
  return false;
}

/** IGetBool: bools, and numbers (non-zero is true). */
function getBoolLoose(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'bigint') return v !== 0n;
  if (v instanceof F64) return v.v !== 0;
  return undefined;
}

export function getBool(v: unknown): boolean {
  const b = getBoolLoose(v);
  if (b === undefined) throw errType(v, 'bool');
  return b;
}

// ---------------------------------------------------------------------------------------------
// Coercions (value package helpers)

const textDecoder = new TextDecoder();
const textEncoder = new TextEncoder();

export function bytesToString(b: Uint8Array): string {
  return textDecoder.decode(b);
}

export function stringToBytes(s: string): Uint8Array {
  return textEncoder.encode(s);
}

/** IGetString: strings, bytes and timestamps; anything else is a type error. */
export function getString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return bytesToString(v);
  if (v instanceof Timestamp) return formatRFC3339Nano(v);
  throw errType(v, 'string');
}

/** IGetBytes. */
export function getBytes(v: unknown): Uint8Array {
  if (typeof v === 'string') return stringToBytes(v);
  if (v instanceof Uint8Array) return v;
  if (v instanceof Timestamp) return stringToBytes(formatRFC3339Nano(v));
  throw errType(v, 'bytes');
}

/** IGetNumber: any number as a float64. */
export function getNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof F64) return v.v;
  throw errType(v, 'number');
}

/** IGetInt: any number truncated to int64 (as number, or bigint when large). */
export function getInt(v: unknown): number | bigint {
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return v;
    if (!Number.isFinite(v)) return v > 0 ? 9223372036854775807n : -9223372036854775808n;
    return Math.trunc(v);
  }
  if (typeof v === 'bigint') return mkIntBig(v);
  if (v instanceof F64) {
    if (v.text !== undefined && /^-?\d+$/.test(v.text)) return mkIntBig(BigInt(v.text));
    if (!Number.isFinite(v.v)) return v.v > 0 ? 9223372036854775807n : -9223372036854775808n;
    const t = Math.trunc(v.v);
    return Number.isSafeInteger(t) ? t : mkIntBig(BigInt(t));
  }
  throw errType(v, 'number');
}

/** getInt as a JS number (for indexes, lengths). */
export function getIntNum(v: unknown): number {
  const i = getInt(v);
  return typeof i === 'bigint' ? Number(i) : i;
}

/** IToString: any value rendered as a string (JSON for structures, HTML-escaped like gabs). */
export function toStr(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
      return Number.isInteger(v) ? (Object.is(v, -0) ? '0' : String(v)) : formatFloatG(v);
    case 'bigint':
      return v.toString();
    case 'boolean':
      return v ? 'true' : 'false';
    case 'undefined':
      return 'null';
    case 'symbol':
      return 'null';
  }
  if (v === null) return 'null';
  if (v instanceof Uint8Array) return bytesToString(v);
  if (v instanceof F64) return v.text !== undefined ? v.text : formatFloatG(v.v, v.bits);
  if (v instanceof Timestamp) return formatRFC3339Nano(v);
  return goJSONStringify(v, { escapeHTML: true });
}

/**
 * A metadata value as the string Benthos gives it (`meta("k")`, outputs): IToString, except that
 * structured values are JSON without HTML escaping.
 */
export function goMetaString(v: unknown): string {
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array) && !(v instanceof F64) && !(v instanceof Timestamp)) {
    return goJSONStringify(v, { escapeHTML: false });
  }
  return toStr(v);
}

/** IToBytes. */
export function toBytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  return stringToBytes(toStr(v));
}

/** Go strconv.ParseFloat (decimal, hex floats, inf/nan, underscores not allowed). */
export function parseGoFloat(s: string): number {
  const t = s.trim() === s ? s : '';
  if (/^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)$/.test(t)) return Number(t);
  if (/^[+-]?(inf|infinity)$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(t)) return NaN;
  if (/^[+-]?0[xX][0-9a-fA-F]+$/.test(t)) return Number(t.replace(/^([+-]?)0[xX]/, '$10x').replace('+', ''));
  throw errPlain(`strconv.ParseFloat: parsing ${JSON.stringify(s)}: invalid syntax`);
}

/** Go strconv.ParseInt(s, 0, 64): base prefixes 0x, 0o, 0b, leading 0 = octal, underscores. */
export function parseGoInt(s: string, fn = 'ParseInt'): bigint {
  const syntax = (): never => {
    throw errPlain(`strconv.${fn}: parsing ${JSON.stringify(s)}: invalid syntax`);
  };
  let t = s;
  let neg = false;
  if (t.startsWith('+') || t.startsWith('-')) {
    neg = t[0] === '-';
    t = t.slice(1);
  }
  if (t === '') syntax();
  let base = 10;
  let underscores = false;
  if (t[0] === '0' && t.length > 1) {
    const p = t[1]?.toLowerCase();
    if (p === 'x') {
      base = 16;
      t = t.slice(2);
    } else if (p === 'o') {
      base = 8;
      t = t.slice(2);
    } else if (p === 'b') {
      base = 2;
      t = t.slice(2);
    } else {
      base = 8;
      t = t.slice(1);
    }
    underscores = true;
  }
  if (underscores) t = t.replace(/_/g, '');
  const digits = base === 16 ? /^[0-9a-fA-F]+$/ : base === 8 ? /^[0-7]+$/ : base === 2 ? /^[01]+$/ : /^[0-9]+$/;
  if (!digits.test(t)) syntax();
  const prefix = base === 16 ? '0x' : base === 8 ? '0o' : base === 2 ? '0b' : '';
  const b = BigInt(prefix + t);
  return neg ? -b : b;
}

/** IToNumber: numbers as float64, strings parsed. */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof F64) return v.v;
  if (typeof v === 'string') return parseGoFloat(v);
  if (v instanceof Uint8Array) return parseGoFloat(bytesToString(v));
  throw errType(v, 'number');
}

/** IToBool. */
export function toBool(v: unknown): boolean {
  const b = getBoolLoose(v);
  if (b !== undefined) return b;
  if (typeof v === 'string' || v instanceof Uint8Array) {
    const s = typeof v === 'string' ? v : bytesToString(v);
    if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
    if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  }
  throw errType(v, 'bool');
}

/** IGetTimestamp: timestamps, unix seconds (with fractional nanoseconds) or RFC 3339 strings. */
export function getTimestamp(v: unknown): Timestamp {
  if (v instanceof Timestamp) return v;
  if (typeof v === 'number' || typeof v === 'bigint' || v instanceof F64) {
    if (typeof v === 'bigint') return new Timestamp(Number(v), 0, localLoc());
    const n = typeof v === 'number' ? v : v.v;
    if (Number.isInteger(n)) return new Timestamp(n, 0, localLoc());
    const whole = Math.trunc(n);
    let nsec = Math.trunc((n - whole) * 1e9);
    let sec = whole;
    if (nsec < 0) {
      nsec += 1e9;
      sec -= 1;
    }
    return new Timestamp(sec, nsec, localLoc());
  }
  if (typeof v === 'string' || v instanceof Uint8Array) {
    const s = typeof v === 'string' ? v : bytesToString(v);
    try {
      return parseRFC3339(s);
    } catch (e) {
      throw errPlain((e as Error).message);
    }
  }
  throw errType(v, 'number', 'string');
}

/** Number kind helpers re-exported for the library. */
export { numKind, numValue, NumKind };

/** Values assigned into documents are deep-copied so later writes never alias inputs. */
export function assignable(v: unknown): unknown {
  return typeof v === 'object' && v !== null ? clone(v) : v;
}

export const SPECIALS = { DELETE, NOTHING } as const;
