/**
 * JSON as Go's encoding/json reads and writes it, for byte-identical results with Benthos:
 * - parse keeps int64 vs float64 (and json.Number text, e.g. `1.0` stays `1.0` when passed through)
 *   and reports syntax errors with Go's wording;
 * - stringify sorts object keys, formats floats like Go, optionally escapes `<`, `>`, `&`.
 */
import type { Serializer } from '../engine/message.js';
import {
  DELETE,
  F64,
  NOTHING,
  Timestamp,
  compareStrings,
  formatFloatJSON,
  mkIntBig,
  type BObject,
} from './value.js';
import { formatRFC3339Nano } from './timefmt.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// ---------------------------------------------------------------------------------------------
// Stringify

const NEEDS_ESCAPE_HTML = /["\\\u0000-\u001f\u2028\u2029<>&\ud800-\udfff]/;
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u2028\u2029\ud800-\udfff]/;
const HEX = '0123456789abcdef';

export function quoteJSONString(s: string, escapeHTML: boolean): string {
  if (!(escapeHTML ? NEEDS_ESCAPE_HTML : NEEDS_ESCAPE).test(s)) return '"' + s + '"';
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let rep: string | undefined;
    if (c < 0x20) {
      switch (c) {
        case 0x0a:
          rep = '\\n';
          break;
        case 0x0d:
          rep = '\\r';
          break;
        case 0x09:
          rep = '\\t';
          break;
        case 0x08:
          rep = '\\b';
          break;
        case 0x0c:
          rep = '\\f';
          break;
        default:
          rep = '\\u00' + HEX[c >> 4] + HEX[c & 15];
      }
    } else if (c === 0x22) rep = '\\"';
    else if (c === 0x5c) rep = '\\\\';
    else if (escapeHTML && (c === 0x3c || c === 0x3e || c === 0x26)) rep = '\\u00' + HEX[c >> 4] + HEX[c & 15];
    else if (c === 0x2028) rep = '\\u2028';
    else if (c === 0x2029) rep = '\\u2029';
    else if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      rep = '\ufffd';
    }
    if (rep !== undefined) {
      out += s.slice(start, i) + rep;
      start = i + 1;
    }
  }
  return out + s.slice(start) + '"';
}

export interface StringifyOptions {
  escapeHTML?: boolean;
  indent?: string;
  prefix?: string;
}

/** Thrown for values JSON cannot hold (NaN, ±Inf), like Go's UnsupportedValueError. */
export class JSONUnsupportedValue extends Error {}

function numberJSON(v: number): string {
  if (Number.isInteger(v)) return Object.is(v, -0) ? '0' : String(v);
  if (!Number.isFinite(v)) throw new JSONUnsupportedValue(`json: unsupported value: ${formatNonFinite(v)}`);
  return formatFloatJSON(v);
}

function formatNonFinite(v: number): string {
  return Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf';
}

function bytesBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

function compact(v: unknown, html: boolean): string {
  switch (typeof v) {
    case 'string':
      return quoteJSONString(v, html);
    case 'number':
      return numberJSON(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return v.toString();
    case 'object': {
      if (v === null) return 'null';
      if (Array.isArray(v)) {
        if (v.length === 0) return '[]';
        let s = '[' + compact(v[0], html);
        for (let i = 1; i < v.length; i++) s += ',' + compact(v[i], html);
        return s + ']';
      }
      if (v instanceof F64) {
        if (v.text !== undefined) return v.text;
        if (!Number.isFinite(v.v)) throw new JSONUnsupportedValue(`json: unsupported value: ${formatNonFinite(v.v)}`);
        return formatFloatJSON(v.v, v.bits);
      }
      if (v instanceof Uint8Array) return '"' + bytesBase64(v) + '"';
      if (v instanceof Timestamp) return '"' + formatRFC3339Nano(v) + '"';
      const o = v as BObject;
      const keys = Object.keys(o);
      if (keys.length === 0) return '{}';
      if (keys.length > 1) keys.sort(compareStrings);
      let s = '{';
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i] as string;
        if (i > 0) s += ',';
        s += quoteJSONString(k, html) + ':' + compact(o[k], html);
      }
      return s + '}';
    }
    default:
      return 'null';
  }
}

function indented(v: unknown, html: boolean, prefix: string, indent: string, depth: string): string {
  if (typeof v === 'object' && v !== null && !(v instanceof F64) && !(v instanceof Uint8Array) && !(v instanceof Timestamp)) {
    const inner = depth + indent;
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      let s = '[';
      for (let i = 0; i < v.length; i++) {
        s += (i > 0 ? ',' : '') + '\n' + prefix + inner + indented(v[i], html, prefix, indent, inner);
      }
      return s + '\n' + prefix + depth + ']';
    }
    const o = v as BObject;
    const keys = Object.keys(o).sort(compareStrings);
    if (keys.length === 0) return '{}';
    let s = '{';
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as string;
      s += (i > 0 ? ',' : '') + '\n' + prefix + inner + quoteJSONString(k, html) + ': ' + indented(o[k], html, prefix, indent, inner);
    }
    return s + '\n' + prefix + depth + '}';
  }
  return compact(v, html);
}

/** json.Marshal-like encoding. `escapeHTML` defaults to false (message payload semantics). */
export function goJSONStringify(v: unknown, opts: StringifyOptions = {}): string {
  if (v === DELETE || v === NOTHING || v === undefined) v = null;
  const html = opts.escapeHTML ?? false;
  if (opts.indent !== undefined || opts.prefix !== undefined) {
    return indented(v, html, opts.prefix ?? '', opts.indent ?? '', '');
  }
  return compact(v, html);
}

/** Serializer for Message.setStructured: Go-compatible JSON bytes (no HTML escaping). */
export const goJsonSerializer: Serializer = (value) => {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return encoder.encode(value);
  return encoder.encode(goJSONStringify(value));
};

// ---------------------------------------------------------------------------------------------
// Parse

export class JSONSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

function quoteChar(c: string): string {
  if (c === "'") return "'\\''";
  if (c === '"') return `'"'`;
  const code = c.codePointAt(0) ?? 0;
  if (code < 0x20 || code === 0x7f) {
    const esc: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r' };
    return "'" + (esc[code] ?? '\\x' + HEX[code >> 4] + HEX[code & 15]) + "'";
  }
  return "'" + c + "'";
}

export type NumberMode = 'go' | 'float';

class Parser {
  i = 0;
  constructor(
    readonly s: string,
    readonly mode: NumberMode,
  ) {}

  fail(context: string): never {
    if (this.i >= this.s.length) throw new JSONSyntaxError('unexpected end of JSON input', this.i);
    const ch = String.fromCodePoint(this.s.codePointAt(this.i) ?? 0);
    throw new JSONSyntaxError(`invalid character ${quoteChar(ch)} ${context}`, this.i);
  }

  ws(): void {
    const s = this.s;
    let i = this.i;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 32 || c === 10 || c === 13 || c === 9) i++;
      else break;
    }
    this.i = i;
  }

  value(): unknown {
    this.ws();
    const c = this.s.charCodeAt(this.i);
    switch (c) {
      case 0x7b:
        return this.object();
      case 0x5b:
        return this.array();
      case 0x22:
        return this.string();
      case 0x74:
        this.literal('true');
        return true;
      case 0x66:
        this.literal('false');
        return false;
      case 0x6e:
        this.literal('null');
        return null;
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
        return this.fail('looking for beginning of value');
    }
  }

  literal(word: string): void {
    for (let k = 0; k < word.length; k++) {
      if (this.s[this.i] !== word[k]) {
        if (k === 0) this.fail('looking for beginning of value');
        this.fail(`in literal ${word} (expecting '${word[k]}')`);
      }
      this.i++;
    }
  }

  object(): BObject {
    this.i++;
    const o: BObject = {};
    this.ws();
    if (this.s.charCodeAt(this.i) === 0x7d) {
      this.i++;
      return o;
    }
    for (;;) {
      this.ws();
      if (this.s.charCodeAt(this.i) !== 0x22) this.fail('looking for beginning of object key string');
      const k = this.string();
      this.ws();
      if (this.s.charCodeAt(this.i) !== 0x3a) this.fail('after object key');
      this.i++;
      const v = this.value();
      if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
      else o[k] = v;
      this.ws();
      const c = this.s.charCodeAt(this.i);
      if (c === 0x2c) {
        this.i++;
        continue;
      }
      if (c === 0x7d) {
        this.i++;
        return o;
      }
      this.fail('after object key:value pair');
    }
  }

  array(): unknown[] {
    this.i++;
    const a: unknown[] = [];
    this.ws();
    if (this.s.charCodeAt(this.i) === 0x5d) {
      this.i++;
      return a;
    }
    for (;;) {
      a.push(this.value());
      this.ws();
      const c = this.s.charCodeAt(this.i);
      if (c === 0x2c) {
        this.i++;
        continue;
      }
      if (c === 0x5d) {
        this.i++;
        return a;
      }
      this.fail('after array element');
    }
  }

  string(): string {
    const s = this.s;
    let i = this.i + 1;
    const start = i;
    // Fast scan for strings without escapes.
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        this.i = i + 1;
        return s.slice(start, i);
      }
      if (c === 0x5c || c < 0x20 || Number.isNaN(c)) break;
      i++;
    }
    let out = s.slice(start, i);
    for (;;) {
      if (i >= s.length) {
        this.i = i;
        this.fail('');
      }
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        this.i = i + 1;
        return out;
      }
      if (c < 0x20) {
        this.i = i;
        this.fail('in string literal');
      }
      if (c === 0x5c) {
        const e = s[i + 1];
        i += 2;
        switch (e) {
          case '"':
            out += '"';
            break;
          case '\\':
            out += '\\';
            break;
          case '/':
            out += '/';
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case 'u': {
            let code = 0;
            for (let k = 0; k < 4; k++) {
              const h = s.charCodeAt(i + k);
              const d = h >= 48 && h <= 57 ? h - 48 : h >= 97 && h <= 102 ? h - 87 : h >= 65 && h <= 70 ? h - 55 : -1;
              if (d < 0) {
                this.i = i + k;
                this.fail('in \\u hexadecimal character escape');
              }
              code = code * 16 + d;
            }
            i += 4;
            if (code >= 0xd800 && code <= 0xdbff) {
              // Needs a following low surrogate escape, otherwise U+FFFD (Go semantics).
              if (s[i] === '\\' && s[i + 1] === 'u') {
                const lo = parseInt(s.slice(i + 2, i + 6), 16);
                if (lo >= 0xdc00 && lo <= 0xdfff && /^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) {
                  out += String.fromCharCode(code, lo);
                  i += 6;
                  break;
                }
              }
              out += '\ufffd';
            } else if (code >= 0xdc00 && code <= 0xdfff) out += '\ufffd';
            else out += String.fromCharCode(code);
            break;
          }
          default:
            this.i = i - 1;
            this.fail('in string escape code');
        }
        continue;
      }
      const startRun = i;
      while (i < s.length) {
        const d = s.charCodeAt(i);
        if (d === 0x22 || d === 0x5c || d < 0x20) break;
        i++;
      }
      out += s.slice(startRun, i);
    }
  }

  number(): unknown {
    const s = this.s;
    const start = this.i;
    let i = start;
    let isFloat = false;
    if (s.charCodeAt(i) === 0x2d) i++;
    const d0 = s.charCodeAt(i);
    if (d0 === 0x30) i++;
    else if (d0 >= 0x31 && d0 <= 0x39) {
      while (isDigit(s.charCodeAt(i))) i++;
    } else {
      this.i = i;
      this.fail('in numeric literal');
    }
    if (s.charCodeAt(i) === 0x2e) {
      isFloat = true;
      i++;
      if (!isDigit(s.charCodeAt(i))) {
        this.i = i;
        this.fail('after decimal point in numeric literal');
      }
      while (isDigit(s.charCodeAt(i))) i++;
    }
    const e = s.charCodeAt(i);
    if (e === 0x65 || e === 0x45) {
      isFloat = true;
      i++;
      const sign = s.charCodeAt(i);
      if (sign === 0x2b || sign === 0x2d) i++;
      if (!isDigit(s.charCodeAt(i))) {
        this.i = i;
        this.fail('in exponent of numeric literal');
      }
      while (isDigit(s.charCodeAt(i))) i++;
    }
    this.i = i;
    const text = s.slice(start, i);
    return numberFromText(text, isFloat, this.mode);
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Converts a JSON number token into a Bloblang number (see value.ts for the representation). */
export function numberFromText(text: string, isFloat: boolean, mode: NumberMode): unknown {
  if (mode === 'float') {
    const n = Number(text);
    return Number.isInteger(n) ? new F64(n) : n;
  }
  if (!isFloat) {
    if (text.length <= 15) {
      const n = Number(text);
      return n === 0 ? 0 : n;
    }
    const b = BigInt(text);
    if (b <= 9223372036854775807n && b >= -9223372036854775808n) return mkIntBig(b);
    return new F64(Number(text), text);
  }
  const n = Number(text);
  if (Number.isInteger(n) || !Number.isFinite(n)) return new F64(n, text);
  return formatFloatJSON(n) === text ? n : new F64(n, text);
}

/** Numbers whose value JSON.parse would change (floats, long integers) force the exact parser. */
const INEXACT_NUMBERS = /[0-9][.eE]|[0-9]{16}/;

/**
 * Parses JSON text with Go semantics. Throws JSONSyntaxError with Go's messages
 * (`invalid character 'h' looking for beginning of value`, `unexpected end of JSON input`).
 */
export function goJSONParse(text: string, mode: NumberMode = 'go'): unknown {
  if (mode === 'go' && !INEXACT_NUMBERS.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      // fall through for a Go-worded error
    }
  }
  const p = new Parser(text, mode);
  const v = p.value();
  p.ws();
  if (p.i < text.length) p.fail('after top-level value');
  return v;
}

export function goJSONParseBytes(b: Uint8Array, mode: NumberMode = 'go'): unknown {
  return goJSONParse(decoder.decode(b), mode);
}

/**
 * Decodes a message payload like Benthos (json.Decoder with UseNumber): the first document is
 * read; trailing whitespace is fine, a second document is an error.
 */
export function goDecodeMessage(text: string): unknown {
  try {
    return goJSONParse(text, 'go');
  } catch (e) {
    if (!(e instanceof JSONSyntaxError)) throw e;
    if (e.message === 'unexpected end of JSON input') {
      throw new JSONSyntaxError(text.trim() === '' ? 'EOF' : 'unexpected EOF', e.offset);
    }
    if (!e.message.endsWith('after top-level value')) throw e;
    const first = goJSONParse(text.slice(0, e.offset), 'go');
    const rest = text.slice(e.offset);
    try {
      goJSONParse(rest, 'go');
    } catch (e2) {
      if (e2 instanceof JSONSyntaxError && !e2.message.endsWith('after top-level value')) {
        throw new JSONSyntaxError(e2.message === 'unexpected end of JSON input' ? 'unexpected EOF' : e2.message, e.offset + e2.offset);
      }
    }
    void first;
    throw new JSONSyntaxError('message contains multiple valid documents', e.offset);
  }
}
