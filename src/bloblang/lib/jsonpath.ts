/**
 * JSONPath (Goessner syntax) for the `json_path` method, following the behaviour of the Go
 * library Benthos uses: definite paths return a single value and fail on missing keys; paths with
 * wildcards, recursive descent, unions, slices or filters return an array of matches (object
 * members in sorted key order), skipping what does not exist.
 *
 * Filters (`[?( … )]`) support comparisons (`== != < <= > >= =~`), `&& || !`, arithmetic
 * (`+ - * /`), parentheses, `@`/`$` paths and string, number, bool and null literals.
 */
import { valuesEqual } from '../core.js';
import { F64, compareStrings, isNumber, isObject, numValue } from '../value.js';
import { GoRegexp } from './regex.js';

type Step =
  | { k: 'key'; name: string }
  | { k: 'index'; i: number }
  | { k: 'wild' }
  | { k: 'recurse' }
  | { k: 'union'; items: Array<string | number> }
  | { k: 'slice'; start: number | null; end: number | null; step: number | null }
  | { k: 'filter'; e: Expr };

type Expr =
  | { k: 'lit'; v: unknown }
  | { k: 'path'; root: '@' | '$'; steps: Step[] }
  | { k: 'not'; e: Expr }
  | { k: 'neg'; e: Expr }
  | { k: 'bin'; op: string; l: Expr; r: Expr };

export interface CompiledPath {
  readonly ambiguous: boolean;
  eval(root: unknown): unknown;
}

export function compileJSONPath(src: string): CompiledPath {
  const p = new PathParser(src);
  p.ws();
  if (p.src[p.i] !== '$' && p.src[p.i] !== '@') throw new Error(`parsing error: ${src}\t:1:1 - 1:2 unexpected ${describe(p.src[p.i])} while scanning JSON path`);
  p.i++;
  const steps = p.steps();
  p.ws();
  if (p.i < src.length) throw new Error(`parsing error: ${src}\t:1:${p.i + 1} - unexpected ${describe(src[p.i])}`);
  const ambiguous = steps.some((s) => s.k !== 'key' && s.k !== 'index');
  return {
    ambiguous,
    eval(root: unknown): unknown {
      if (!ambiguous) return definite(root, steps);
      const out: unknown[] = [];
      select(root, steps, 0, root, out);
      return out;
    },
  };
}

function describe(c: string | undefined): string {
  return c === undefined ? 'EOF' : JSON.stringify(c);
}

function definite(root: unknown, steps: Step[]): unknown {
  let cur = root;
  for (const s of steps) {
    if (s.k === 'key') {
      if (isObject(cur) && Object.hasOwn(cur, s.name)) cur = cur[s.name];
      else if (Array.isArray(cur) && /^-?\d+$/.test(s.name)) cur = indexOf(cur, Number(s.name));
      else throw new Error(`unknown key ${s.name}`);
    } else if (s.k === 'index') {
      if (!Array.isArray(cur)) throw new Error(`unknown key ${s.i}`);
      cur = indexOf(cur, s.i);
    }
  }
  return cur;
}

function indexOf(a: unknown[], i: number): unknown {
  const j = i < 0 ? a.length + i : i;
  if (j < 0 || j >= a.length) throw new Error(`index ${i} out of bounds`);
  return a[j];
}

function children(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (isObject(v)) return Object.keys(v).sort(compareStrings).map((k) => v[k]);
  return [];
}

function select(cur: unknown, steps: Step[], at: number, root: unknown, out: unknown[]): void {
  if (at === steps.length) {
    out.push(cur);
    return;
  }
  const s = steps[at] as Step;
  const next = (v: unknown): void => select(v, steps, at + 1, root, out);
  switch (s.k) {
    case 'key':
      if (isObject(cur) && Object.hasOwn(cur, s.name)) next(cur[s.name]);
      else if (Array.isArray(cur) && /^-?\d+$/.test(s.name)) {
        const j = Number(s.name) < 0 ? cur.length + Number(s.name) : Number(s.name);
        if (j >= 0 && j < cur.length) next(cur[j]);
      }
      return;
    case 'index':
      if (Array.isArray(cur)) {
        const j = s.i < 0 ? cur.length + s.i : s.i;
        if (j >= 0 && j < cur.length) next(cur[j]);
      }
      return;
    case 'wild':
      for (const c of children(cur)) next(c);
      return;
    case 'recurse': {
      const walk = (v: unknown): void => {
        next(v);
        for (const c of children(v)) walk(c);
      };
      walk(cur);
      return;
    }
    case 'union':
      for (const it of s.items) {
        if (typeof it === 'number') {
          if (Array.isArray(cur)) {
            const j = it < 0 ? cur.length + it : it;
            if (j >= 0 && j < cur.length) next(cur[j]);
          }
        } else if (isObject(cur) && Object.hasOwn(cur, it)) next(cur[it]);
      }
      return;
    case 'slice': {
      if (!Array.isArray(cur)) return;
      const n = cur.length;
      const step = s.step ?? 1;
      if (step === 0) return;
      const norm = (x: number): number => (x < 0 ? Math.max(0, n + x) : Math.min(n, x));
      if (step > 0) {
        const a = s.start === null ? 0 : norm(s.start);
        const b = s.end === null ? n : norm(s.end);
        for (let k = a; k < b; k += step) next(cur[k]);
      } else {
        const a = s.start === null ? n - 1 : Math.min(n - 1, norm(s.start));
        const b = s.end === null ? -1 : norm(s.end);
        for (let k = a; k > b; k += step) next(cur[k]);
      }
      return;
    }
    case 'filter': {
      const items = Array.isArray(cur) ? cur : isObject(cur) ? children(cur) : [];
      for (const it of items) if (truthy(evalExpr(s.e, it, root))) next(it);
      return;
    }
  }
}

const MISSING = Symbol('missing');

function evalExpr(e: Expr, cur: unknown, root: unknown): unknown {
  switch (e.k) {
    case 'lit':
      return e.v;
    case 'path': {
      const base = e.root === '@' ? cur : root;
      if (e.steps.every((s) => s.k === 'key' || s.k === 'index')) {
        try {
          return definite(base, e.steps);
        } catch {
          return MISSING;
        }
      }
      const out: unknown[] = [];
      select(base, e.steps, 0, root, out);
      return out;
    }
    case 'not':
      return !truthy(evalExpr(e.e, cur, root));
    case 'neg':
      return -num(evalExpr(e.e, cur, root));
    case 'bin': {
      if (e.op === '&&') return truthy(evalExpr(e.l, cur, root)) && truthy(evalExpr(e.r, cur, root));
      if (e.op === '||') return truthy(evalExpr(e.l, cur, root)) || truthy(evalExpr(e.r, cur, root));
      const l = evalExpr(e.l, cur, root);
      const r = evalExpr(e.r, cur, root);
      switch (e.op) {
        case '==':
          return l !== MISSING && r !== MISSING && eq(l, r);
        case '!=':
          return !(l !== MISSING && r !== MISSING && eq(l, r));
        case '<':
        case '<=':
        case '>':
        case '>=': {
          if (l === MISSING || r === MISSING) return false;
          let c: number;
          if (typeof l === 'string' && typeof r === 'string') c = compareStrings(l, r);
          else if (isNumber(l) && isNumber(r)) c = numValue(l) - numValue(r);
          else return false;
          return e.op === '<' ? c < 0 : e.op === '<=' ? c <= 0 : e.op === '>' ? c > 0 : c >= 0;
        }
        case '=~':
          if (typeof l !== 'string' || typeof r !== 'string') return false;
          return new GoRegexp(r).find(l) !== null;
        case '+':
          if (typeof l === 'string' || typeof r === 'string') return String(l) + String(r);
          return num(l) + num(r);
        case '-':
          return num(l) - num(r);
        case '*':
          return num(l) * num(r);
        case '/':
          return num(l) / num(r);
        case '%':
          return num(l) % num(r);
      }
      return false;
    }
  }
}

function eq(l: unknown, r: unknown): boolean {
  if (isNumber(l) && isNumber(r)) return numValue(l) === numValue(r);
  return valuesEqual(l, r);
}

function num(v: unknown): number {
  if (isNumber(v)) return numValue(v);
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  return NaN;
}

function truthy(v: unknown): boolean {
  if (v === MISSING || v === null || v === undefined || v === false) return false;
  if (typeof v === 'number') return v !== 0;
  if (v instanceof F64) return v.v !== 0;
  if (typeof v === 'string') return v !== '';
  if (Array.isArray(v)) return v.length > 0;
  return true;
}

class PathParser {
  i = 0;
  constructor(readonly src: string) {}

  ws(): void {
    while (this.i < this.src.length && /\s/.test(this.src[this.i] as string)) this.i++;
  }

  fail(what: string): never {
    throw new Error(`parsing error: ${this.src}\t:1:${this.i + 1} - unexpected ${describe(this.src[this.i])} ${what}`);
  }

  ident(): string {
    const m = /^[A-Za-z0-9_\-$]+/.exec(this.src.slice(this.i));
    if (!m) this.fail('while scanning JSON path');
    this.i += m[0].length;
    return m[0];
  }

  steps(): Step[] {
    const steps: Step[] = [];
    for (;;) {
      const c = this.src[this.i];
      if (c === '.' && this.src[this.i + 1] === '.') {
        this.i += 2;
        steps.push({ k: 'recurse' });
        if (this.src[this.i] === '*') {
          this.i++;
          steps.push({ k: 'wild' });
        } else if (this.src[this.i] !== '[') steps.push({ k: 'key', name: this.ident() });
      } else if (c === '.') {
        this.i++;
        if (this.src[this.i] === '*') {
          this.i++;
          steps.push({ k: 'wild' });
        } else steps.push({ k: 'key', name: this.ident() });
      } else if (c === '[') {
        this.i++;
        this.ws();
        steps.push(this.bracket());
        this.ws();
        if (this.src[this.i] !== ']') this.fail('while scanning JSON path');
        this.i++;
      } else return steps;
    }
  }

  bracket(): Step {
    const c = this.src[this.i];
    if (c === '*') {
      this.i++;
      return { k: 'wild' };
    }
    if (c === '?') {
      this.i++;
      this.ws();
      if (this.src[this.i] !== '(') this.fail('expected (');
      this.i++;
      const e = this.expr();
      this.ws();
      if (this.src[this.i] !== ')') this.fail('expected )');
      this.i++;
      return { k: 'filter', e };
    }
    const items: Array<string | number | null> = [];
    let sliceParts: Array<number | null> | null = null;
    for (;;) {
      this.ws();
      const ch = this.src[this.i];
      let item: string | number | null = null;
      if (ch === "'" || ch === '"') item = this.str();
      else if (ch !== undefined && /[-\d]/.test(ch)) item = this.int();
      if (this.src[this.i] === ':' || sliceParts !== null) {
        sliceParts ??= [];
        if (typeof item === 'string') this.fail('in slice');
        sliceParts.push(item);
        this.ws();
        if (this.src[this.i] === ':') {
          this.i++;
          continue;
        }
        break;
      }
      if (item === null) this.fail('while scanning JSON path');
      items.push(item);
      this.ws();
      if (this.src[this.i] === ',') {
        this.i++;
        continue;
      }
      break;
    }
    if (sliceParts !== null) {
      return { k: 'slice', start: sliceParts[0] ?? null, end: sliceParts[1] ?? null, step: sliceParts[2] ?? null };
    }
    if (items.length === 1) {
      const it = items[0] as string | number;
      return typeof it === 'number' ? { k: 'index', i: it } : { k: 'key', name: it };
    }
    return { k: 'union', items: items as Array<string | number> };
  }

  str(): string {
    const q = this.src[this.i] as string;
    this.i++;
    let out = '';
    while (this.i < this.src.length && this.src[this.i] !== q) {
      if (this.src[this.i] === '\\' && this.i + 1 < this.src.length) {
        this.i++;
        const e = this.src[this.i] as string;
        out += e === 'n' ? '\n' : e === 't' ? '\t' : e;
      } else out += this.src[this.i];
      this.i++;
    }
    if (this.src[this.i] !== q) this.fail('while scanning string');
    this.i++;
    return out;
  }

  int(): number {
    const m = /^-?\d+/.exec(this.src.slice(this.i));
    if (!m) this.fail('while scanning number');
    this.i += m[0].length;
    return Number(m[0]);
  }

  // Filter expressions, by precedence: || ; && ; comparisons ; + - ; * / % ; unary
  expr(): Expr {
    let l = this.and();
    for (;;) {
      this.ws();
      if (this.src.startsWith('||', this.i)) {
        this.i += 2;
        l = { k: 'bin', op: '||', l, r: this.and() };
      } else return l;
    }
  }

  and(): Expr {
    let l = this.cmp();
    for (;;) {
      this.ws();
      if (this.src.startsWith('&&', this.i)) {
        this.i += 2;
        l = { k: 'bin', op: '&&', l, r: this.cmp() };
      } else return l;
    }
  }

  cmp(): Expr {
    const l = this.add();
    this.ws();
    for (const op of ['==', '!=', '<=', '>=', '=~', '<', '>']) {
      if (this.src.startsWith(op, this.i)) {
        this.i += op.length;
        return { k: 'bin', op, l, r: this.add() };
      }
    }
    return l;
  }

  add(): Expr {
    let l = this.mul();
    for (;;) {
      this.ws();
      const c = this.src[this.i];
      if (c === '+' || c === '-') {
        this.i++;
        l = { k: 'bin', op: c, l, r: this.mul() };
      } else return l;
    }
  }

  mul(): Expr {
    let l = this.unary();
    for (;;) {
      this.ws();
      const c = this.src[this.i];
      if (c === '*' || c === '/' || c === '%') {
        this.i++;
        l = { k: 'bin', op: c, l, r: this.unary() };
      } else return l;
    }
  }

  unary(): Expr {
    this.ws();
    const c = this.src[this.i];
    if (c === '!' && this.src[this.i + 1] !== '=') {
      this.i++;
      return { k: 'not', e: this.unary() };
    }
    if (c === '-' && !/\d/.test(this.src[this.i + 1] ?? '')) {
      this.i++;
      return { k: 'neg', e: this.unary() };
    }
    if (c === '(') {
      this.i++;
      const e = this.expr();
      this.ws();
      if (this.src[this.i] !== ')') this.fail('expected )');
      this.i++;
      return e;
    }
    if (c === '@' || c === '$') {
      this.i++;
      return { k: 'path', root: c, steps: this.steps() };
    }
    if (c === "'" || c === '"') return { k: 'lit', v: this.str() };
    const m = /^-?\d+(\.\d+)?([eE][-+]?\d+)?/.exec(this.src.slice(this.i));
    if (m) {
      this.i += m[0].length;
      return { k: 'lit', v: Number(m[0]) };
    }
    for (const [w, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (this.src.startsWith(w, this.i)) {
        this.i += w.length;
        return { k: 'lit', v };
      }
    }
    return this.fail('in filter expression');
  }
}
