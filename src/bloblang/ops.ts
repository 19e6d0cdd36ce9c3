/**
 * Operators with Bloblang's precedence (four passes, left to right within a pass):
 *   1. `*` `/` `%` `|`   2. `+` `-`   3. `==` `!=` `<` `<=` `>` `>=`   4. `&&` `||`
 * Int op int stays int (except `/`), any float makes a float, uint64 is kept for uint op uint.
 * Operations on two literals are folded at parse time (their errors become parse errors).
 */
import { literal, mkQ, valuesEqual, bytesToString, type Ctx, type Q } from './core.js';
import { formatRFC3339Nano } from './timefmt.js';
import {
  F64,
  INT64_MAX,
  QErr,
  Timestamp,
  compareStrings,
  errFrom,
  errPlain,
  errType,
  isNullish,
  mkFloat,
  mkIntBig,
  mkUintBig,
  typeOf,
} from './value.js';

export type Op = '+' | '-' | '*' | '/' | '%' | '==' | '!=' | '>' | '>=' | '<' | '<=' | '&&' | '||' | '|';

const opNames: Record<Op, string> = {
  '+': 'add',
  '-': 'subtract',
  '*': 'multiply',
  '/': 'divide',
  '%': 'modulo',
  '==': 'compare',
  '!=': 'compare',
  '>': 'compare',
  '>=': 'compare',
  '<': 'compare',
  '<=': 'compare',
  '&&': 'boolean and',
  '||': 'boolean or',
  '|': 'coalesce',
};

function mismatch(op: Op, l: Q, r: Q, lv: unknown, rv: unknown): QErr {
  return new QErr(
    'mismatch',
    `cannot ${opNames[op]} types ${typeOf(lv)} (from ${l.ann}) and ${typeOf(rv)} (from ${r.ann})`,
  );
}

// Number classification after sanitising: 0 = int, 1 = uint, 2 = float, -1 = not a number.
function kindOf(v: unknown): number {
  if (typeof v === 'number') return Number.isInteger(v) ? 0 : 2;
  if (typeof v === 'bigint') return v > INT64_MAX ? 1 : 0;
  if (v instanceof F64) {
    // json.Number semantics: integral text is an int.
    if (v.text !== undefined && /^-?\d+$/.test(v.text)) {
      const b = BigInt(v.text);
      return b >= -9223372036854775808n && b <= INT64_MAX ? 0 : 2;
    }
    return 2;
  }
  return -1;
}

function asFloat(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return (v as F64).v;
}

function asBig(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  const f = v as F64;
  if (f.text !== undefined && /^-?\d+$/.test(f.text)) return BigInt(f.text);
  return BigInt(Math.trunc(f.v));
}

type NumFns = {
  i: (a: number, b: number) => unknown;
  big: (a: bigint, b: bigint, uint: boolean) => unknown;
  f: (a: number, b: number) => unknown;
};

/** numberDegradationFunc: float if either is float, else int64, else uint64. */
function numberOp(op: Op, fns: NumFns): (l: Q, r: Q, lv: unknown, rv: unknown) => unknown {
  return (l, r, lv, rv) => {
    const lk = kindOf(lv);
    const rk = kindOf(rv);
    if (lk === 2 || rk === 2) {
      if (lk < 0 || rk < 0) throw mismatch(op, l, r, lv, rv);
      return fns.f(asFloat(lv), asFloat(rv));
    }
    if (lk < 0 || rk < 0) throw mismatch(op, l, r, lv, rv);
    if (lk === 0 || rk === 0) {
      if (typeof lv === 'number' && typeof rv === 'number') return fns.i(lv, rv);
      return fns.big(BigInt.asIntN(64, asBig(lv)), BigInt.asIntN(64, asBig(rv)), false);
    }
    return fns.big(asBig(lv), asBig(rv), true);
  };
}

const wrapInt = (b: bigint, uint: boolean): unknown => (uint ? mkUintBig(b) : mkIntBig(b));

const addNum = numberOp('+', {
  i: (a, b) => {
    const r = a + b;
    return Number.isSafeInteger(r) ? r : mkIntBig(BigInt(a) + BigInt(b));
  },
  big: (a, b, u) => wrapInt(a + b, u),
  f: (a, b) => mkFloat(a + b),
});

const subNum = numberOp('-', {
  i: (a, b) => {
    const r = a - b;
    return Number.isSafeInteger(r) ? r : mkIntBig(BigInt(a) - BigInt(b));
  },
  big: (a, b, u) => wrapInt(a - b, u),
  f: (a, b) => mkFloat(a - b),
});

const mulNum = numberOp('*', {
  i: (a, b) => {
    const r = a * b;
    return Number.isSafeInteger(r) ? (r === 0 ? 0 : r) : mkIntBig(BigInt(a) * BigInt(b));
  },
  big: (a, b, u) => wrapInt(a * b, u),
  f: (a, b) => mkFloat(a * b),
});

function numOrMismatch(op: Op, l: Q, r: Q, lv: unknown, rv: unknown, v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof F64) return v.v;
  throw mismatch(op, l, r, lv, rv);
}

function add(l: Q, r: Q, lv: unknown, rv: unknown): unknown {
  if (typeof lv === 'string') {
    if (typeof rv === 'string') return lv + rv;
    if (rv instanceof Uint8Array) return lv + bytesToString(rv);
    if (rv instanceof Timestamp) return lv + formatRFC3339Nano(rv);
    throw mismatch('+', l, r, lv, rv);
  }
  if (lv instanceof Uint8Array) {
    const ls = bytesToString(lv);
    if (typeof rv === 'string') return ls + rv;
    if (rv instanceof Uint8Array) return ls + bytesToString(rv);
    if (rv instanceof Timestamp) return ls + formatRFC3339Nano(rv);
    throw mismatch('+', l, r, lv, rv);
  }
  if (typeof lv === 'number' || typeof lv === 'bigint' || lv instanceof F64) return addNum(l, r, lv, rv);
  throw mismatch('+', l, r, lv, rv);
}

function div(l: Q, r: Q, lv: unknown, rv: unknown): unknown {
  const a = numOrMismatch('/', l, r, lv, rv, lv);
  const b = numOrMismatch('/', l, r, lv, rv, rv);
  if (b === 0) throw errFrom(errPlain('attempted to divide by zero'), r.ann);
  return mkFloat(a / b);
}

function mod(l: Q, r: Q, lv: unknown, rv: unknown): unknown {
  if (kindOf(lv) < 0 || kindOf(rv) < 0) throw mismatch('%', l, r, lv, rv);
  if (typeof lv === 'number' && typeof rv === 'number' && Number.isSafeInteger(Math.trunc(lv)) && Number.isSafeInteger(Math.trunc(rv))) {
    const a = Math.trunc(lv);
    const b = Math.trunc(rv);
    if (b === 0) throw errFrom(errPlain('attempted to divide by zero'), r.ann);
    const m = a % b;
    return m === 0 ? 0 : m;
  }
  const a = BigInt.asIntN(64, asBig(lv));
  const b = BigInt.asIntN(64, asBig(rv));
  if (b === 0n) throw errFrom(errPlain('attempted to divide by zero'), r.ann);
  return mkIntBig(a % b);
}

function cmpResult(op: Op, c: number): boolean {
  switch (op) {
    case '==':
      return c === 0;
    case '!=':
      return c !== 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
    case '<':
      return c < 0;
    default:
      return c <= 0;
  }
}

function cmpNum(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : a === b ? 0 : NaN;
}

function compareValues(op: Op, l: Q, r: Q, lv: unknown, rv: unknown): boolean {
  if (typeof lv === 'number' && typeof rv === 'number') return cmpResult(op, cmpNum(lv, rv));
  const eqOp = op === '==' || op === '!=';
  // Strings (bytes and timestamps compare as their string forms).
  let ls: string | undefined;
  if (typeof lv === 'string') ls = lv;
  else if (lv instanceof Uint8Array) ls = bytesToString(lv);
  else if (lv instanceof Timestamp) ls = formatRFC3339Nano(lv);
  if (ls !== undefined) {
    let rs: string | undefined;
    if (typeof rv === 'string') rs = rv;
    else if (rv instanceof Uint8Array) rs = bytesToString(rv);
    else if (rv instanceof Timestamp) rs = formatRFC3339Nano(rv);
    if (rs === undefined) {
      if (eqOp) return op === '!=';
      throw mismatch(op, l, r, lv, rv);
    }
    return cmpResult(op, compareStrings(ls, rs));
  }
  const lk = kindOf(lv);
  if (lk >= 0) {
    const rk = kindOf(rv);
    if (rk < 0) {
      if (eqOp) return (op === '==') === valuesEqual(lv, rv);
      throw mismatch(op, l, r, lv, rv);
    }
    if (lk === 2 || rk === 2) return cmpResult(op, cmpNum(asFloat(lv), asFloat(rv)));
    if (typeof lv === 'number' && typeof rv === 'number') return cmpResult(op, cmpNum(lv, rv));
    const uint = lk === 1 && rk === 1;
    const a = uint ? asBig(lv) : BigInt.asIntN(64, asBig(lv));
    const b = uint ? asBig(rv) : BigInt.asIntN(64, asBig(rv));
    return cmpResult(op, a < b ? -1 : a > b ? 1 : 0);
  }
  if (typeof lv === 'boolean') {
    if (!eqOp) throw mismatch(op, l, r, lv, rv);
    return (op === '==') === valuesEqual(lv, rv);
  }
  if (!eqOp) throw mismatch(op, l, r, lv, rv);
  return (op === '==') === valuesEqual(lv, rv);
}

/** IGetBool for && and || operands. */
function boolOperand(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'bigint') return v !== 0n;
  if (v instanceof F64) return v.v !== 0;
  throw errType(v, 'bool');
}

type BinFn = (l: Q, r: Q, lv: unknown, rv: unknown) => unknown;

function binary(l: Q, r: Q, fn: BinFn): Q {
  if (l.lit && r.lit) {
    let v: unknown;
    try {
      v = fn(l, r, l.lit.v, r.lit.v);
    } catch (e) {
      throw new Error(e instanceof QErr ? e.message() : (e as Error).message);
    }
    return literal(v, r.ann);
  }
  const le = l.ev;
  const re = r.ev;
  return mkQ((c: Ctx) => {
    const lv = le(c);
    return fn(l, r, lv, re(c));
  }, r.ann);
}

/** Generated comparison with a number fast path (one function per site keeps type feedback local). */
function comparison(op: Op, l: Q, r: Q): Q {
  const generic = (lq: Q, rq: Q, lv: unknown, rv: unknown): boolean => compareValues(op, lq, rq, lv, rv);
  if (l.lit && r.lit) return binary(l, r, generic);
  const jsOp = op === '==' ? '===' : op === '!=' ? '!==' : op;
  const rightLit = r.lit !== undefined;
  // A fresh function per site: V8 keeps type feedback per closure instance of generated code.
  {
    const factory = new Function(
      'le',
      're',
      'rv0',
      'generic',
      'l',
      'r',
      `return function cmp(c) {
        const a = le(c);
        const b = ${rightLit ? 'rv0' : 're(c)'};
        if (typeof a === 'number' && typeof b === 'number') return a ${jsOp} b;
        return generic(l, r, a, b);
      };`,
    ) as (...a: unknown[]) => (c: Ctx) => unknown;
    return mkQ(factory(l.ev, r.ev, r.lit?.v, generic, l, r), r.ann);
  }
}

function prodOp(op: Op): BinFn | undefined {
  switch (op) {
    case '*':
      return mulNum;
    case '/':
      return div;
    case '%':
      return mod;
  }
  return undefined;
}

function sumOp(op: Op): BinFn | undefined {
  if (op === '+') return add;
  if (op === '-') return subNum;
  return undefined;
}

function coalesce(l: Q, r: Q): Q {
  const le = l.ev;
  const re = r.ev;
  return mkQ((c) => {
    let v: unknown;
    try {
      v = le(c);
    } catch {
      return re(c);
    }
    return isNullish(v) ? re(c) : v;
  }, r.ann);
}

function boolAnd(l: Q, r: Q): Q {
  const le = l.ev;
  const re = r.ev;
  return mkQ((c) => {
    if (!boolOperand(le(c))) return false;
    return boolOperand(re(c));
  }, r.ann);
}

function boolOr(l: Q, r: Q): Q {
  const le = l.ev;
  const re = r.ev;
  return mkQ((c) => {
    if (boolOperand(le(c))) return true;
    return boolOperand(re(c));
  }, r.ann);
}

/** NewArithmeticExpression. Throws Error when folding literals fails. */
export function buildArith(fns: Q[], ops: Op[]): Q {
  if (fns.length === 1) return fns[0] as Q;
  // Pass 1: * / % |
  let f: Q[] = [fns[0] as Q];
  let o: Op[] = [];
  ops.forEach((op, i) => {
    const left = f[f.length - 1] as Q;
    const right = fns[i + 1] as Q;
    const p = prodOp(op);
    if (p) f[f.length - 1] = binary(left, right, p);
    else if (op === '|') f[f.length - 1] = coalesce(left, right);
    else {
      f.push(right);
      o.push(op);
    }
  });
  // Pass 2: + -
  let nf: Q[] = [f[0] as Q];
  let no: Op[] = [];
  o.forEach((op, i) => {
    const left = nf[nf.length - 1] as Q;
    const right = f[i + 1] as Q;
    const s = sumOp(op);
    if (s) nf[nf.length - 1] = binary(left, right, s);
    else {
      nf.push(right);
      no.push(op);
    }
  });
  f = nf;
  o = no;
  // Pass 3: comparisons
  nf = [f[0] as Q];
  no = [];
  o.forEach((op, i) => {
    const left = nf[nf.length - 1] as Q;
    const right = f[i + 1] as Q;
    if (op === '==' || op === '!=' || op === '<' || op === '<=' || op === '>' || op === '>=') {
      nf[nf.length - 1] = comparison(op, left, right);
    } else {
      nf.push(right);
      no.push(op);
    }
  });
  f = nf;
  o = no;
  // Pass 4: && ||
  nf = [f[0] as Q];
  no = [];
  o.forEach((op, i) => {
    const left = nf[nf.length - 1] as Q;
    const right = f[i + 1] as Q;
    if (op === '&&') nf[nf.length - 1] = boolAnd(left, right);
    else if (op === '||') nf[nf.length - 1] = boolOr(left, right);
    else {
      nf.push(right);
      no.push(op);
    }
  });
  if (nf.length !== 1) throw new Error(`unresolved arithmetic operators (${no.join(' ')})`);
  return nf[0] as Q;
}

/** Unary minus: `0 - x`. */
export function negate(q: Q): Q {
  return buildArith([literal(0), q], ['-']);
}

/** `!x`: requires a boolean. */
export function not(q: Q): Q {
  const e = q.ev;
  return mkQ((c) => {
    const v = e(c);
    if (typeof v !== 'boolean') {
      const err = errType(v, 'bool');
      err.from = q.ann;
      throw err;
    }
    return !v;
  }, `not ${q.ann}`);
}
