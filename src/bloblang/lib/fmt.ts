/**
 * A subset of Go's fmt.Sprintf sufficient for Bloblang's `format` method: verbs v s d f F e E g G
 * x X o b c q t T U and %%, with flags (+ - # 0 space), width and precision (including `*`).
 */
import { bytesToString } from '../core.js';
import { formatRFC3339Nano, goTimeString } from '../timefmt.js';
import { F64, Timestamp, formatFloatG, goFmtV, goTypeName, isObject, compareStrings, type BObject } from '../value.js';

interface Spec {
  plus: boolean;
  minus: boolean;
  sharp: boolean;
  zero: boolean;
  space: boolean;
  width: number | null;
  prec: number | null;
}

function isIntVal(v: unknown): v is number | bigint {
  return (typeof v === 'number' && Number.isInteger(v)) || typeof v === 'bigint' || (v instanceof F64 && v.text !== undefined && /^-?\d+$/.test(v.text));
}

function isFloatVal(v: unknown): boolean {
  return (typeof v === 'number' && !Number.isInteger(v)) || (v instanceof F64 && !(v.text !== undefined && /^-?\d+$/.test(v.text)));
}

function floatOf(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return (v as F64).v;
}

function bigOf(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v);
  return BigInt((v as F64).text as string);
}

function pad(s: string, sp: Spec, numeric = false): string {
  if (sp.width === null || s.length >= sp.width) return s;
  const n = sp.width - s.length;
  if (sp.minus) return s + ' '.repeat(n);
  if (sp.zero && numeric) {
    const sign = s[0] === '-' || s[0] === '+' || s[0] === ' ' ? (s[0] as string) : '';
    return sign + '0'.repeat(n) + s.slice(sign.length);
  }
  return ' '.repeat(n) + s;
}

function signed(s: string, neg: boolean, sp: Spec): string {
  if (neg) return '-' + s;
  if (sp.plus) return '+' + s;
  if (sp.space) return ' ' + s;
  return s;
}

function expGo(s: string): string {
  // JS toExponential gives e+5; Go uses at least two exponent digits.
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

function fmtFloatVerb(f: number, verb: string, sp: Spec): string {
  if (!Number.isFinite(f)) {
    const s = Number.isNaN(f) ? 'NaN' : f > 0 ? (sp.plus ? '+Inf' : 'Inf') : '-Inf';
    return pad(s, { ...sp, zero: false });
  }
  const neg = f < 0 || Object.is(f, -0);
  const a = Math.abs(f);
  let s: string;
  switch (verb) {
    case 'f':
    case 'F':
      s = a.toFixed(sp.prec ?? 6);
      if (a >= 1e21) s = bigFixed(a, sp.prec ?? 6);
      break;
    case 'e':
    case 'E':
      s = expGo(a.toExponential(sp.prec ?? 6));
      if (verb === 'E') s = s.toUpperCase();
      break;
    default: {
      if (sp.prec === null) s = formatFloatG(a);
      else {
        const p = sp.prec === 0 ? 1 : sp.prec;
        const exp = a === 0 ? 0 : Math.floor(Math.log10(a));
        const r = Number(a.toPrecision(p));
        const e2 = r === 0 ? 0 : Math.floor(Math.log10(r));
        if (e2 < -4 || e2 >= p) {
          s = expGo(r.toExponential(p - 1)).replace(/\.?0+e/, 'e');
        } else {
          s = r.toFixed(Math.max(0, p - 1 - e2));
          if (s.includes('.')) s = s.replace(/\.?0+$/, '');
        }
        void exp;
      }
      if (verb === 'G') s = s.toUpperCase();
    }
  }
  return pad(signed(s, neg, sp), sp, true);
}

function bigFixed(a: number, prec: number): string {
  const int = BigInt(Math.trunc(a)).toString();
  return prec > 0 ? int + '.' + '0'.repeat(prec) : int;
}

function quoteGo(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (c === 7) out += '\\a';
    else if (c === 8) out += '\\b';
    else if (c === 12) out += '\\f';
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c === 9) out += '\\t';
    else if (c === 11) out += '\\v';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else if (c === 0xfffd && ch !== '\ufffd') out += '\\ufffd';
    else if ((c >= 0x80 && c < 0xa0) || c === 0xad) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

/** strconv.Quote. */
export function goQuote(s: string): string {
  return quoteGo(s);
}

function badVerb(verb: string, v: unknown): string {
  if (v === null || v === undefined) return `%!${verb}(<nil>)`;
  return `%!${verb}(${goTypeName(v)}=${goFmtV(v)})`;
}

function fmtInt(b: bigint, verb: string, sp: Spec): string {
  const neg = b < 0n;
  let a = neg ? -b : b;
  let s: string;
  switch (verb) {
    case 'd':
    case 'v':
      s = a.toString();
      break;
    case 'x':
      s = a.toString(16);
      if (sp.sharp) s = '0x' + s;
      break;
    case 'X':
      s = a.toString(16).toUpperCase();
      if (sp.sharp) s = '0X' + s;
      break;
    case 'o':
      s = a.toString(8);
      if (sp.sharp) s = '0' + s;
      break;
    case 'O':
      s = '0o' + a.toString(8);
      break;
    case 'b':
      s = a.toString(2);
      break;
    case 'c':
      return pad(String.fromCodePoint(Number(a)), sp);
    case 'q':
      return pad("'" + String.fromCodePoint(Number(a)) + "'", sp);
    case 'U':
      s = 'U+' + a.toString(16).toUpperCase().padStart(4, '0');
      return pad(s, sp);
    default:
      a = 0n;
      s = '';
  }
  if (sp.prec !== null && s.length < sp.prec) s = '0'.repeat(sp.prec - s.length) + s;
  return pad(signed(s, neg, sp), sp, sp.prec === null);
}

function fmtString(s: string, verb: string, sp: Spec): string {
  switch (verb) {
    case 'v':
    case 's': {
      let t = s;
      if (sp.prec !== null) t = Array.from(t).slice(0, sp.prec).join('');
      return pad(t, sp);
    }
    case 'q':
      return pad(sp.sharp && !s.includes('`') ? '`' + s + '`' : quoteGo(s), sp);
    case 'x':
    case 'X': {
      let h = Buffer.from(s, 'utf8').toString('hex');
      if (verb === 'X') h = h.toUpperCase();
      return pad(h, sp);
    }
  }
  return badVerb(verb, s);
}

function fmtValue(v: unknown, verb: string, sp: Spec): string {
  if (verb === 'T') return pad(v === null || v === undefined ? '<nil>' : goTypeName(v), sp);
  if (v === null || v === undefined) {
    if (verb === 'v') return pad('<nil>', sp);
    return badVerb(verb, v);
  }
  if (typeof v === 'string') return fmtString(v, verb, sp);
  if (v instanceof Uint8Array) {
    if (verb === 's' || verb === 'q' || verb === 'x' || verb === 'X') return fmtString(bytesToString(v), verb, sp);
    return '[' + Array.from(v, (b) => fmtInt(BigInt(b), verb, { ...sp, width: null })).join(' ') + ']';
  }
  if (typeof v === 'boolean') {
    if (verb === 'v' || verb === 't') return pad(v ? 'true' : 'false', sp);
    return badVerb(verb, v);
  }
  if (isIntVal(v)) {
    if ('dvxXobcqUO'.includes(verb)) return fmtInt(bigOf(v), verb, sp);
    return badVerb(verb, v);
  }
  if (isFloatVal(v)) {
    const f = floatOf(v);
    if (verb === 'v') {
      if (v instanceof F64 && v.text !== undefined) return pad(v.text, sp);
      return fmtFloatVerb(f, 'g', sp);
    }
    if ('eEfFgG'.includes(verb)) return fmtFloatVerb(f, verb, sp);
    return badVerb(verb, v);
  }
  if (v instanceof Timestamp) {
    if (verb === 'v' || verb === 's') return pad(goTimeString(v), sp);
    return badVerb(verb, formatRFC3339Nano(v));
  }
  if (Array.isArray(v)) {
    return pad('[' + v.map((x) => fmtValue(x, verb, { ...sp, width: null })).join(' ') + ']', sp);
  }
  if (isObject(v)) {
    const o = v as BObject;
    const keys = Object.keys(o).sort(compareStrings);
    return pad(
      'map[' + keys.map((k) => `${fmtValue(k, verb, { ...sp, width: null })}:${fmtValue(o[k], verb, { ...sp, width: null })}`).join(' ') + ']',
      sp,
    );
  }
  return pad(goFmtV(v), sp);
}

/** fmt.Sprintf. */
export function sprintf(format: string, args: readonly unknown[]): string {
  let out = '';
  let argi = 0;
  let i = 0;
  const n = format.length;
  while (i < n) {
    const ch = format[i] as string;
    if (ch !== '%') {
      out += ch;
      i++;
      continue;
    }
    i++;
    if (i >= n) {
      out += '%!(NOVERB)';
      break;
    }
    const sp: Spec = { plus: false, minus: false, sharp: false, zero: false, space: false, width: null, prec: null };
    for (; i < n; i++) {
      const f = format[i];
      if (f === '+') sp.plus = true;
      else if (f === '-') sp.minus = true;
      else if (f === '#') sp.sharp = true;
      else if (f === '0') sp.zero = !sp.minus;
      else if (f === ' ') sp.space = true;
      else break;
    }
    if (format[i] === '*') {
      const a = args[argi++];
      sp.width = typeof a === 'number' ? a : Number(a ?? 0);
      if (sp.width < 0) {
        sp.minus = true;
        sp.width = -sp.width;
      }
      i++;
    } else {
      let w = '';
      while (i < n && (format[i] as string) >= '0' && (format[i] as string) <= '9') w += format[i++];
      if (w !== '') sp.width = Number(w);
    }
    if (format[i] === '.') {
      i++;
      if (format[i] === '*') {
        const a = args[argi++];
        sp.prec = typeof a === 'number' ? a : Number(a ?? 0);
        i++;
      } else {
        let p = '';
        while (i < n && (format[i] as string) >= '0' && (format[i] as string) <= '9') p += format[i++];
        sp.prec = p === '' ? 0 : Number(p);
      }
    }
    if (i >= n) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i) as number);
    i += verb.length;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (argi >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const arg = args[argi++];
    // As in Go, `+` and `#` with %v select struct-field / Go syntax instead of acting as flags.
    if (verb === 'v') sp.plus = false;
    out += fmtValue(arg, verb, sp);
  }
  if (argi < args.length) {
    out +=
      '%!(EXTRA ' +
      args
        .slice(argi)
        .map((a) => (a === null || a === undefined ? '<nil>' : `${goTypeName(a)}=${fmtValue(a, 'v', { plus: false, minus: false, sharp: false, zero: false, space: false, width: null, prec: null })}`))
        .join(', ') +
      ')';
  }
  return out;
}
