/**
 * Number methods and fixed-width conversions (int8…uint64, float32/64).
 */
import { bytesToString, getNumber, parseGoFloat, parseGoInt } from '../core.js';
import { argNum, registerMethod, simpleMethod, type MethodImpl } from '../registry.js';
import {
  F64,
  INT64_MAX,
  INT64_MIN,
  UINT64_MAX,
  errPlain,
  errType,
  mkFloat,
  mkIntBig,
  mkUintBig,
  numKind,
  NumKind,
  toQErr,
} from '../value.js';

type Num = number | bigint | F64;

function isNum(v: unknown): v is Num {
  return typeof v === 'number' || typeof v === 'bigint' || v instanceof F64;
}

function requireNum(v: unknown): Num {
  if (!isNum(v)) throw errType(v, 'number');
  return v;
}

/** Result of rounding: an int when it fits int64, else a float. */
function intOrFloat(f: number): unknown {
  if (!Number.isFinite(f)) return f;
  if (f >= -9.223372036854776e18 && f < 9.223372036854776e18) {
    return Number.isSafeInteger(f) ? (f === 0 ? 0 : f) : mkIntBig(BigInt(f));
  }
  return new F64(f);
}

function roundingMethod(name: string, fn: (f: number) => number): void {
  simpleMethod(name, 'number', (v) => {
    const n = requireNum(v);
    if (numKind(n) !== NumKind.Float) return n;
    return intOrFloat(fn(n instanceof F64 ? n.v : (n as number)));
  });
}

/** math.Round: half away from zero. */
function goRound(f: number): number {
  const r = Math.round(Math.abs(f));
  const res = Math.abs(f) - Math.trunc(Math.abs(f)) === 0.5 ? Math.trunc(Math.abs(f)) + 1 : r;
  return f < 0 ? -res : res;
}

roundingMethod('ceil', Math.ceil);
roundingMethod('floor', Math.floor);
roundingMethod('round', goRound);

simpleMethod('abs', 'number', (v) => {
  const n = requireNum(v);
  if (numKind(n) === NumKind.Float) return mkFloat(Math.abs(n instanceof F64 ? n.v : (n as number)));
  if (typeof n === 'number') return Math.abs(n);
  const b = n as bigint;
  if (b === INT64_MIN) return mkIntBig(INT64_MAX);
  return mkIntBig(b < 0n ? -b : b);
});

function floatMethod(name: string, fn: (f: number) => number): void {
  simpleMethod(name, 'number', (v) => mkFloat(fn(getNumber(requireNum(v)))));
}
floatMethod('log', Math.log);
floatMethod('log10', Math.log10);
floatMethod('sin', Math.sin);
floatMethod('cos', Math.cos);
floatMethod('tan', Math.tan);

registerMethod({
  name: 'pow',
  category: 'number',
  params: [{ name: 'exponent', type: 'float' }],
  make: (a) => {
    const e = argNum(a, 'exponent');
    return (v) => mkFloat(Math.pow(getNumber(requireNum(v)), e));
  },
});

function minMax(name: string, better: (a: number, b: number) => boolean): void {
  simpleMethod(name, 'number', (v) => {
    if (!Array.isArray(v)) throw errType(v, 'array');
    if (v.length === 0) throw errPlain('the array was empty');
    let best = 0;
    let bestIdx = -1;
    v.forEach((e, i) => {
      let n: number;
      try {
        n = getNumber(e);
      } catch (x) {
        throw errPlain(`index ${i} of array: ${toQErr(x).message()}`);
      }
      if (bestIdx < 0 || better(n, best)) {
        best = n;
        bestIdx = i;
      }
    });
    return mkFloat(best);
  });
}
minMax('max', (a, b) => a > b);
minMax('min', (a, b) => a < b);

function bitwise(name: string, op: (a: bigint, b: bigint) => bigint): void {
  registerMethod({
    name,
    category: 'number',
    params: [{ name: 'value', type: 'int' }],
    make: (a) => {
      const rhs = BigInt(a['value'] as number | bigint);
      return (v) => {
        const n = requireNum(v);
        if (numKind(n) === NumKind.Float) throw errType(v, 'number');
        return mkIntBig(op(BigInt.asIntN(64, typeof n === 'bigint' ? n : BigInt(n as number)), rhs));
      };
    },
  });
}
bitwise('bitwise_and', (a, b) => a & b);
bitwise('bitwise_or', (a, b) => a | b);
bitwise('bitwise_xor', (a, b) => a ^ b);

// ---------------------------------------------------------------------------------------------
// Fixed-width conversions (value.IToInt & friends)

/** IToInt: numbers (no decimals), numeric strings (base prefixes allowed). */
export function toInt64(v: unknown): bigint {
  if (typeof v === 'string' || v instanceof Uint8Array) {
    const s = typeof v === 'string' ? v : bytesToString(v);
    const b = parseGoInt(s);
    if (b > INT64_MAX || b < INT64_MIN) throw errPlain(`strconv.ParseInt: parsing ${JSON.stringify(s)}: value out of range`);
    return b;
  }
  if (typeof v === 'bigint') {
    if (v > INT64_MAX) throw errPlain('unsigned integer value is too large to be cast as a signed integer');
    return v;
  }
  if (typeof v === 'number' || v instanceof F64) {
    if (v instanceof F64 && v.text !== undefined && /^-?\d+$/.test(v.text)) return BigInt(v.text);
    const f = typeof v === 'number' ? v : v.v;
    if (Number.isInteger(f) && typeof v === 'number') return BigInt(f);
    if (!Number.isFinite(f)) {
      if (Number.isNaN(f)) throw errPlain('cannot convert NAN to an integer');
      throw errPlain('cannot convert +/-INF to an integer');
    }
    if (f > 9.223372036854776e18) throw errPlain('float value is too large to be cast as a signed integer');
    if (f < -9.223372036854776e18) throw errPlain('float value is too small to be cast as a signed integer');
    if (!Number.isInteger(f)) {
      throw errPlain(
        'float value contains decimals and therefore cannot be cast as a signed integer, if you intend to round the value then call `.round()` explicitly before this cast',
      );
    }
    return BigInt(f);
  }
  throw errType(v, 'number');
}

/** IToUint. */
export function toUint64(v: unknown): bigint {
  if (typeof v === 'string' || v instanceof Uint8Array) {
    const s = typeof v === 'string' ? v : bytesToString(v);
    if (s.startsWith('-')) throw errPlain(`strconv.ParseUint: parsing ${JSON.stringify(s)}: invalid syntax`);
    const b = parseGoInt(s, 'ParseUint');
    if (b > UINT64_MAX) throw errPlain(`strconv.ParseUint: parsing ${JSON.stringify(s)}: value out of range`);
    return b;
  }
  if (typeof v === 'bigint') {
    if (v < 0n) throw errPlain('signed integer value is negative and cannot be cast as an unsigned integer');
    return v;
  }
  if (typeof v === 'number' || v instanceof F64) {
    const f = typeof v === 'number' ? v : v.v;
    if (Number.isInteger(f) && typeof v === 'number') {
      if (f < 0) throw errPlain('signed integer value is negative and cannot be cast as an unsigned integer');
      return BigInt(f);
    }
    if (f < 0) throw errPlain('float value is negative and cannot be cast as an unsigned integer');
    if (!Number.isFinite(f)) {
      if (Number.isNaN(f)) throw errPlain('cannot convert NAN to an unsigned integer');
      throw errPlain('cannot convert +/-INF to an unsigned integer');
    }
    if (f > 1.8446744073709552e19) throw errPlain('float value is too large to be cast as an unsigned integer');
    if (!Number.isInteger(f)) {
      throw errPlain(
        'float value contains decimals and therefore cannot be cast as an unsigned integer, if you intend to round the value then call `.round()` explicitly before this cast',
      );
    }
    return BigInt(f);
  }
  throw errType(v, 'number');
}

function sizedInt(name: string, bits: number, signed: boolean): void {
  const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
  const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
  const article = bits === 8 ? 'an' : 'a';
  const desc = signed ? `${article} ${bits}-bit signed integer` : `${article} ${bits}-bit unsigned integer`;
  const impl: MethodImpl = (v) => {
    const b = signed ? toInt64(v) : toUint64(v);
    if (bits < 64) {
      if (b > max) throw errPlain(`value is too large to be cast as ${desc}`);
      if (b < min) throw errPlain(`value is too small to be cast as ${desc}`);
    }
    return signed ? mkIntBig(b) : mkUintBig(b);
  };
  simpleMethod(name, 'number', impl);
}
sizedInt('int8', 8, true);
sizedInt('int16', 16, true);
sizedInt('int32', 32, true);
sizedInt('int64', 64, true);
sizedInt('uint8', 8, false);
sizedInt('uint16', 16, false);
sizedInt('uint32', 32, false);
sizedInt('uint64', 64, false);

function toFloatNum(v: unknown): number {
  if (typeof v === 'string') return parseGoFloat(v);
  if (v instanceof Uint8Array) return parseGoFloat(bytesToString(v));
  return getNumber(requireNum(v));
}

simpleMethod('float64', 'number', (v) => mkFloat(toFloatNum(v)));
simpleMethod('float32', 'number', (v) => new F64(Math.fround(toFloatNum(v)), undefined, 32));
