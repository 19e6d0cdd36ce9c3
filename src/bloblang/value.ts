/**
 * Bloblang value model.
 *
 * Bloblang (like Go) distinguishes 64-bit integers from 64-bit floats. Sluice keeps plain JS values
 * wherever it can and marks only what JS cannot express:
 *
 * | Bloblang type | JS representation |
 * |---|---|
 * | null | `null` (also `undefined` when read from foreign values) |
 * | bool | `boolean` |
 * | string | `string` |
 * | bytes | `Uint8Array` |
 * | int64 | a safe-integer `number`; a `bigint` when outside ±2^53 (within int64 range) |
 * | uint64 | a `bigint` above int64 max (only produced by `uint64()` and hashes) |
 * | float64 | a non-integer `number` (incl. NaN/±Inf), or an `F64` box when the float is integral |
 * |  | (e.g. `5.0`, `10 / 2`) or its JSON text must be kept (`1.50`, `1e3`) |
 * | timestamp | `Timestamp` (nanosecond precision + location) |
 * | array | `unknown[]` |
 * | object | plain object `Record<string, unknown>` |
 *
 * So a plain integer-valued `number` is always an int64; a plain fractional `number` always a float64.
 */

/** A float64 whose value is integral, or whose original JSON text must be preserved. */
export class F64 {
  // Declared fields: construction is plain stores (no per-instance field initializer).
  declare readonly v: number;
  /** Original JSON text (json.Number semantics): re-serialised verbatim while untouched. */
  declare readonly text: string | undefined;
  /** 32 when the value came from `float32()` (formats with float32 shortest digits). */
  declare readonly bits: 32 | 64;

  constructor(v: number, text?: string, bits: 32 | 64 = 64) {
    const self = this as { v: number; text: string | undefined; bits: 32 | 64 };
    self.v = v;
    self.text = text;
    self.bits = bits;
  }

  /** For code outside Bloblang that stringifies values (`JSON.stringify`, `String()`). */
  toJSON(): number {
    return this.v;
  }

  toString(): string {
    return this.text !== undefined ? this.text : formatFloatG(this.v, this.bits);
  }
}

let timestampText: (t: Timestamp) => string = (t) => `${t.sec}.${t.nsec}`;
/** Installs the RFC 3339 formatter (timefmt.ts depends on this module, not the reverse). */
export function setTimestampFormatter(f: (t: Timestamp) => string): void {
  timestampText = f;
}

/** Marks a target for deletion (`deleted()`). */
export const DELETE: unique symbol = Symbol('bloblang.delete');
/** Marks a query result to be ignored (`nothing()`, `if` without match). */
export const NOTHING: unique symbol = Symbol('bloblang.nothing');
export type Special = typeof DELETE | typeof NOTHING;

export type BObject = Record<string, unknown>;

export const INT64_MAX = 9223372036854775807n;
export const INT64_MIN = -9223372036854775808n;
export const UINT64_MAX = 18446744073709551615n;

// ---------------------------------------------------------------------------------------------
// Timestamps

/** A time zone: UTC, a fixed offset, or an IANA zone (offset resolved per instant via Intl). */
export interface Loc {
  readonly name: string;
  /** Fixed offset east of UTC in seconds, or null for IANA zones. */
  readonly fixed: number | null;
  readonly iana: string | null;
}

export const UTC: Loc = Object.freeze({ name: 'UTC', fixed: 0, iana: null });

const fixedLocs = new Map<string, Loc>();
export function fixedZone(name: string, offsetSec: number): Loc {
  const key = `${name}|${offsetSec}`;
  let l = fixedLocs.get(key);
  if (!l) {
    l = Object.freeze({ name, fixed: offsetSec, iana: null });
    fixedLocs.set(key, l);
  }
  return l;
}

const ianaLocs = new Map<string, Loc>();
const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

/** Loads an IANA zone ("Local" and "UTC" included). Returns null if unknown. */
export function loadLocation(name: string): Loc | null {
  if (name === '' || name === 'UTC') return UTC;
  if (name === 'Local') return localLoc();
  let l = ianaLocs.get(name);
  if (l) return l;
  try {
    const f = new Intl.DateTimeFormat('en-US', { timeZone: name, timeZoneName: 'longOffset' });
    offsetFormatters.set(name, f);
  } catch {
    return null;
  }
  l = Object.freeze({ name, fixed: null, iana: name });
  ianaLocs.set(name, l);
  return l;
}

let cachedLocal: Loc | undefined;
/** The process' local zone (TZ env var, else the system zone), like Go's time.Local. */
export function localLoc(): Loc {
  if (cachedLocal) return cachedLocal;
  const tz = process.env.TZ;
  let zone = tz !== undefined && tz !== '' ? tz : Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone === 'UTC' || zone === 'Etc/UTC' || zone === undefined || tz === '') {
    cachedLocal = Object.freeze({ name: 'UTC', fixed: 0, iana: null });
  } else {
    const l = loadLocation(zone);
    cachedLocal = l ? Object.freeze({ name: 'Local', fixed: null, iana: l.iana }) : UTC;
  }
  return cachedLocal;
}

/** Offset (seconds east of UTC) of a zone at a unix instant (seconds). */
export function zoneOffset(loc: Loc, unixSec: number): number {
  if (loc.fixed !== null) return loc.fixed;
  const zone = loc.iana as string;
  let f = offsetFormatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
    offsetFormatters.set(zone, f);
  }
  const ms = Math.max(-8.64e15, Math.min(8.64e15, unixSec * 1000));
  const part = f.formatToParts(ms).find((p) => p.type === 'timeZoneName');
  const s = part?.value ?? 'GMT';
  const m = /GMT([+-])(\d{2}):?(\d{2})?(?::?(\d{2}))?/.exec(s);
  if (!m) return 0;
  const sign = m[1] === '-' ? -1 : 1;
  return sign * (Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0));
}

const abbrFormatters = new Map<string, Intl.DateTimeFormat>();
/** Zone abbreviation at an instant ("UTC", "CET", "EST"); "" when unknown (Go prints the offset). */
export function zoneAbbr(loc: Loc, unixSec: number): string {
  if (loc.fixed !== null) return loc.name === 'UTC' && loc.fixed === 0 ? 'UTC' : loc.name;
  const zone = loc.iana as string;
  let f = abbrFormatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'short' });
    abbrFormatters.set(zone, f);
  }
  const part = f.formatToParts(unixSec * 1000).find((p) => p.type === 'timeZoneName');
  const s = part?.value ?? '';
  if (s === 'GMT') return zoneOffset(loc, unixSec) === 0 ? 'UTC' : '';
  if (/^GMT[+-]/.test(s)) return '';
  return s;
}

/** A point in time with nanosecond precision and a display location (Go's time.Time). */
export class Timestamp {
  /** Unix seconds (integer) and nanoseconds within the second (0..999999999). */
  constructor(
    readonly sec: number,
    readonly nsec: number,
    readonly loc: Loc,
  ) {}

  /** RFC 3339 with nanoseconds, for code outside Bloblang (`JSON.stringify`, `String()`). */
  toJSON(): string {
    return timestampText(this);
  }

  toString(): string {
    return timestampText(this);
  }

  static fromUnixNano(ns: bigint, loc: Loc = localLoc()): Timestamp {
    let sec = ns / 1000000000n;
    let nsec = ns % 1000000000n;
    if (nsec < 0n) {
      nsec += 1000000000n;
      sec -= 1n;
    }
    return new Timestamp(Number(sec), Number(nsec), loc);
  }

  static fromMillis(ms: number, loc: Loc = localLoc()): Timestamp {
    const sec = Math.floor(ms / 1000);
    const nsec = Math.round((ms - sec * 1000) * 1e6);
    return new Timestamp(sec, nsec, loc);
  }

  static now(): Timestamp {
    const ms = Date.now();
    const hr = process.hrtime.bigint() % 1000000n;
    const sec = Math.floor(ms / 1000);
    return new Timestamp(sec, (ms - sec * 1000) * 1e6 + Number(hr % 1000000n), localLoc());
  }

  unixNano(): bigint {
    return BigInt(this.sec) * 1000000000n + BigInt(this.nsec);
  }

  in(loc: Loc): Timestamp {
    return new Timestamp(this.sec, this.nsec, loc);
  }

  offset(): number {
    return zoneOffset(this.loc, this.sec);
  }
}

// ---------------------------------------------------------------------------------------------
// Type inspection

export type TypeName =
  | 'string'
  | 'bytes'
  | 'number'
  | 'bool'
  | 'timestamp'
  | 'array'
  | 'object'
  | 'null'
  | 'delete'
  | 'nothing'
  | 'query expression'
  | 'unknown';

export function typeOf(v: unknown): TypeName {
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'number':
    case 'bigint':
      return 'number';
    case 'boolean':
      return 'bool';
    case 'undefined':
      return 'null';
    case 'symbol':
      return v === DELETE ? 'delete' : v === NOTHING ? 'nothing' : 'unknown';
    case 'function':
      return 'query expression';
    case 'object':
      if (v === null) return 'null';
      if (Array.isArray(v)) return 'array';
      if (v instanceof F64) return 'number';
      if (v instanceof Uint8Array) return 'bytes';
      if (v instanceof Timestamp) return 'timestamp';
      if (isQueryLike(v)) return 'query expression';
      return isObject(v) ? 'object' : 'unknown';
  }
  return 'unknown';
}

/** Query objects handed to methods carry this brand (see compile.ts). */
export const QUERY_BRAND: unique symbol = Symbol('bloblang.query');
function isQueryLike(v: object): boolean {
  return (v as { [QUERY_BRAND]?: boolean })[QUERY_BRAND] === true;
}

/** A plain object (JSON object). Other values with an object type have their own prototypes. */
export function isObject(v: unknown): v is BObject {
  if (typeof v !== 'object' || v === null) return false;
  const p = Object.getPrototypeOf(v) as unknown;
  return p === Object.prototype || p === null;
}

export function isNumber(v: unknown): v is number | bigint | F64 {
  return typeof v === 'number' || typeof v === 'bigint' || v instanceof F64;
}

export function isNullish(v: unknown): boolean {
  return v === null || v === undefined || v === DELETE || v === NOTHING;
}

/** Number kinds, as Go's sanitised types: int64, uint64, float64. */
export const enum NumKind {
  Int = 0,
  Uint = 1,
  Float = 2,
}

export function numKind(v: number | bigint | F64): NumKind {
  if (typeof v === 'number') return Number.isInteger(v) ? NumKind.Int : NumKind.Float;
  if (typeof v === 'bigint') return v > INT64_MAX ? NumKind.Uint : NumKind.Int;
  return NumKind.Float;
}

export function numValue(v: number | bigint | F64): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return v.v;
}

/** Builds a float64 value (boxing integral results so they stay floats). */
export function mkFloat(n: number): number | F64 {
  return Number.isInteger(n) ? new F64(n) : n;
}

/** Builds an int64 value from a bigint, wrapping like Go on overflow. */
export function mkIntBig(b: bigint): number | bigint {
  if (b > INT64_MAX || b < INT64_MIN) b = BigInt.asIntN(64, b);
  if (b >= -9007199254740991n && b <= 9007199254740991n) return Number(b);
  return b;
}

/** Builds a uint64 value from a bigint (wrapping). */
export function mkUintBig(b: bigint): number | bigint {
  b = BigInt.asUintN(64, b);
  if (b <= 9007199254740991n) return Number(b);
  return b;
}

/** An integer number (safe) → int64 value; larger magnitudes go through bigint. */
export function mkInt(n: number): number | bigint {
  if (Number.isSafeInteger(n)) return n;
  return mkIntBig(BigInt(Math.trunc(n)));
}

export function toBigInt(v: number | bigint | F64): bigint {
  if (typeof v === 'bigint') return v;
  return BigInt(Math.trunc(typeof v === 'number' ? v : v.v));
}

// ---------------------------------------------------------------------------------------------
// Errors raised while evaluating queries

/** Annotated query failure. Not an Error subclass: cheap to create (no stack capture). */
export class QErr {
  /** Annotation of the query that produced a type error (TypeError.From in Benthos). */
  from = '';
  constructor(
    readonly kind: 'plain' | 'type' | 'mismatch' | 'wrapped' | 'nocontext' | 'stack',
    public msg: string,
    readonly detail?: {
      expected?: readonly string[];
      actual?: string;
      value?: string;
      field?: string;
      cause?: QErr;
    },
  ) {}

  message(): string {
    if (this.kind !== 'type') return this.msg;
    const d = this.detail ?? {};
    let s: string;
    const exp = d.expected ?? [];
    if (exp.length > 0) {
      s = 'expected ';
      for (let i = 0; i < exp.length; i++) {
        if (i > 0) s += exp.length > 2 && i < exp.length - 1 ? ', ' : ' or ';
        s += exp[i];
      }
      s += ' value';
    } else s = 'unexpected value';
    s += `, got ${d.actual ?? 'unknown'}`;
    if (this.from !== '') s += ` from ${this.from}`;
    if (d.value) s += ` (${d.value})`;
    return s;
  }

  /** True when this error (or one it wraps) is a missing-context error. */
  noContext(): QErr | undefined {
    let e: QErr | undefined = this;
    while (e) {
      if (e.kind === 'nocontext') return e;
      e = e.detail?.cause;
    }
    return undefined;
  }
}

export function errPlain(msg: string): QErr {
  return new QErr('plain', msg);
}

/** A type error: `expected number value, got string ("abc")`. */
export function errType(v: unknown, ...expected: string[]): QErr {
  const actual = typeOf(v);
  let value = '';
  if (actual === 'string') value = `"${v as string}"`;
  else if (actual === 'bool' || actual === 'number') value = goFmtV(v);
  return new QErr('type', '', { expected, actual, value });
}

export function errTypeFrom(from: string, v: unknown, ...expected: string[]): QErr {
  const e = errType(v, ...expected);
  e.from = from;
  return e;
}

/** Benthos' ErrFrom: attribute an error to the query that produced the offending value. */
export function errFrom(e: unknown, ann: string): QErr {
  const q = toQErr(e);
  if (q.kind === 'type') {
    if (q.from === '') q.from = ann;
    return q;
  }
  if (q.kind === 'mismatch') return q;
  for (let c: QErr | undefined = q; c; c = c.detail?.cause) if (c.kind === 'wrapped') return q;
  return new QErr('wrapped', `${ann}: ${q.message()}`, { cause: q });
}

export function toQErr(e: unknown): QErr {
  if (e instanceof QErr) return e;
  if (e instanceof RangeError && /call stack/i.test(e.message)) {
    return new QErr('stack', 'maximum call stack exceeded, this could be due to unbounded recursion');
  }
  if (e instanceof Error) return new QErr('plain', e.message);
  return new QErr('plain', String(e));
}

// ---------------------------------------------------------------------------------------------
// Go fmt-style rendering (%v) used in error messages and by `format`

export function goFmtV(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
      return Number.isInteger(v) ? String(v) : formatFloatG(v);
    case 'bigint':
      return v.toString();
    case 'boolean':
      return v ? 'true' : 'false';
    case 'undefined':
      return '<nil>';
    case 'symbol':
      return '<nil>';
  }
  if (v === null) return '<nil>';
  if (v instanceof F64) return v.text !== undefined ? v.text : formatFloatG(v.v, v.bits);
  if (v instanceof Uint8Array) return '[' + Array.from(v).join(' ') + ']';
  if (v instanceof Timestamp) return goTimeString(v);
  if (Array.isArray(v)) return '[' + v.map(goFmtV).join(' ') + ']';
  if (typeof v === 'object') {
    const o = v as BObject;
    const keys = Object.keys(o).sort(compareStrings);
    return 'map[' + keys.map((k) => `${k}:${goFmtV(o[k])}`).join(' ') + ']';
  }
  return String(v);
}

/** Go's %T names for sanitised values. */
export function goTypeName(v: unknown): string {
  switch (typeOf(v)) {
    case 'string':
      return 'string';
    case 'bytes':
      return '[]uint8';
    case 'number': {
      const k = numKind(v as number);
      return k === NumKind.Float ? 'float64' : k === NumKind.Uint ? 'uint64' : 'int64';
    }
    case 'bool':
      return 'bool';
    case 'timestamp':
      return 'time.Time';
    case 'array':
      return '[]interface {}';
    case 'object':
      return 'map[string]interface {}';
    case 'null':
      return '<nil>';
    default:
      return 'unknown';
  }
}

/** Go time.Time String(): "2006-01-02 15:04:05.999999999 -0700 MST". */
function goTimeString(t: Timestamp): string {
  // Implemented in time formatting module; a lightweight fallback avoids a cycle.
  return timeStringHook(t);
}
let timeStringHook: (t: Timestamp) => string = (t) => new Date(t.sec * 1000).toISOString();
export function setTimeStringHook(f: (t: Timestamp) => string): void {
  timeStringHook = f;
}

export function compareStrings(a: string, b: string): number {
  // Go compares strings bytewise (UTF-8); UTF-16 code unit order differs only for astral vs
  // U+E000..U+FFFF, which we handle by comparing code points.
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca !== cb) {
      if (ca >= 0xd800 && ca <= 0xdfff && cb >= 0xe000) return 1;
      if (cb >= 0xd800 && cb <= 0xdfff && ca >= 0xe000) return -1;
      return ca < cb ? -1 : 1;
    }
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Go float formatting

/** Shortest decimal digits and exponent of a finite non-zero float (d.ddd × 10^exp). */
function shortestDigits(n: number, bits: 32 | 64): { digits: string; exp: number } {
  let s: string;
  if (bits === 32) {
    const f = Math.fround(n);
    s = f.toExponential();
    for (let p = 1; p <= 9; p++) {
      const cand = f.toExponential(p - 1);
      if (Math.fround(Number(cand)) === f) {
        s = cand;
        break;
      }
    }
  } else s = n.toExponential();
  const m = /^-?(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return { digits: '0', exp: 0 };
  let digits = m[1] + (m[2] ?? '');
  digits = digits.replace(/0+$/, '') || '0';
  return { digits, exp: Number(m[3]) };
}

function expSuffix(exp: number): string {
  const a = Math.abs(exp);
  return (exp < 0 ? 'e-' : 'e+') + (a < 10 ? '0' + a : String(a));
}

/** strconv.FormatFloat(f, 'g', -1, bits): used by `.string()`, interpolation and `%v`. */
export function formatFloatG(n: number, bits: 32 | 64 = 64): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const neg = n < 0;
  const { digits, exp } = shortestDigits(Math.abs(n), bits);
  let out: string;
  // Go uses %e when exp < -4 || exp >= 6 for the shortest representation (fmt.Println(1e6) = 1e+06).
  if (exp < -4 || exp >= 6) {
    out = digits[0] + (digits.length > 1 ? '.' + digits.slice(1) : '') + expSuffix(exp);
  } else if (exp < 0) {
    out = '0.' + '0'.repeat(-exp - 1) + digits;
  } else if (digits.length <= exp + 1) {
    out = digits + '0'.repeat(exp + 1 - digits.length);
  } else {
    out = digits.slice(0, exp + 1) + '.' + digits.slice(exp + 1);
  }
  return neg ? '-' + out : out;
}

/** encoding/json float formatting ('f' unless |f| < 1e-6 or >= 1e21, then 'e' with e-7 cleanup). */
export function formatFloatJSON(n: number, bits: 32 | 64 = 64): string {
  if (!Number.isFinite(n)) return formatFloatG(n, bits);
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const abs = Math.abs(n);
  const { digits, exp } = shortestDigits(abs, bits);
  const neg = n < 0 ? '-' : '';
  const useE = abs < 1e-6 || abs >= 1e21;
  if (useE) {
    let e = expSuffix(exp);
    if (e.length === 4 && e[1] === '-' && e[2] === '0') e = 'e-' + e[3];
    return neg + digits[0] + (digits.length > 1 ? '.' + digits.slice(1) : '') + e;
  }
  if (exp < 0) return neg + '0.' + '0'.repeat(-exp - 1) + digits;
  if (digits.length <= exp + 1) return neg + digits + '0'.repeat(exp + 1 - digits.length);
  return neg + digits.slice(0, exp + 1) + '.' + digits.slice(exp + 1);
}
