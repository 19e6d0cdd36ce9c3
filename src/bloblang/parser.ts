/**
 * Bloblang parser. Follows the grammar (and the error reporting model) of Benthos' parser
 * combinators: every rule either succeeds, fails softly (another alternative may be tried; the
 * failure that got furthest is reported, with the merged list of what was expected there), or
 * fails fatally ("required: expected …", or a semantic error such as an unknown function).
 * Queries are compiled to closures while parsing: nothing is interpreted per message.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { literal, mkQ, type Ctx, type Q } from './core.js';
import { buildArith, negate, not, type Op } from './ops.js';
import type { RawArg } from './registry.js';
import * as L from './lang.js';
import { mkFloat, mkIntBig } from './value.js';

// ---------------------------------------------------------------------------------------------
// Errors

export class PErr {
  constructor(
    /** Index in the source where the error occurred. */
    public pos: number,
    public expected: string[],
    /** Set for fatal errors. */
    public err: string | null = null,
    public importErr?: { path: string; content: string; err: PErr },
  ) {}

  fatal(): boolean {
    return this.err !== null;
  }

  add(o: PErr): void {
    this.expected = this.expected.concat(o.expected);
    if (this.err === null) {
      this.err = o.err;
      if (o.importErr) this.importErr = o.importErr;
    }
  }
}

type R<T> = { ok: true; v: T; p: number } | { ok: false; e: PErr; p: number };

function ok<T>(v: T, p: number): R<T> {
  return { ok: true, v, p };
}
function fail<T>(e: PErr, p: number): R<T> {
  return { ok: false, e, p };
}

/** Rune-based column of an index (Benthos counts runes). */
function runeLen(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) n++;
  }
  return n;
}

function errorMsg(e: PErr, src: string, includeGot: boolean): string {
  let msg = e.err ?? '';
  const rest = src.slice(e.pos);
  const snippet = Array.from(rest).slice(0, 5).join('');
  if (e.expected.length === 0) {
    if (msg === '') msg = snippet === '' ? 'encountered unexpected end of input' : 'encountered unexpected input';
    if (includeGot && snippet !== '') msg += `: ${snippet}`;
    return msg;
  }
  if (msg !== '') msg += ': ';
  const exp: string[] = [];
  for (const x of e.expected) if (!exp.includes(x)) exp.push(x);
  if (exp.length === 1) msg += `expected ${exp[0] as string}`;
  else {
    let b = 'expected ';
    exp.forEach((x, i) => {
      if (i === exp.length - 1) {
        if (exp.length > 2) b += ',';
        b += ' or ';
      } else if (i > 0) b += ', ';
      b += x;
    });
    msg += b;
  }
  if (includeGot) msg += snippet !== '' ? `, got: ${snippet}` : ', but reached end of input';
  return msg;
}

function lineAndCol(src: string, pos: number): { line: number; col: number; lineText: string } {
  const before = src.slice(0, pos);
  const lines = before.split('\n');
  const line = lines.length;
  const col = runeLen(lines[lines.length - 1] as string) + 1;
  const lineText = src.split('\n')[line - 1] ?? '';
  return { line, col, lineText };
}

/** A mapping/query parse error with Benthos-style position information. */
export class BloblangParseError extends Error {
  constructor(
    readonly perr: PErr,
    readonly src: string,
    readonly file = '',
  ) {
    super('');
    this.message = this.atPosition();
  }

  get line(): number {
    return lineAndCol(this.src, this.perr.pos).line;
  }

  get column(): number {
    return lineAndCol(this.src, this.perr.pos).col;
  }

  /** `line 1 char 10: expected …` */
  atPosition(): string {
    const { line, col } = lineAndCol(this.src, this.perr.pos);
    const ie = this.perr.importErr;
    const body = ie
      ? `failed to parse import '${ie.path}': ${new BloblangParseError(ie.err, ie.content, ie.path).atPosition()}`
      : errorMsg(this.perr, this.src, false);
    return `line ${line} char ${col}: ${body}`;
  }

  /** `char 10: expected …` (single-line interpolations). */
  atChar(): string {
    const ie = this.perr.importErr;
    const body = ie ? `failed to parse import '${ie.path}'` : errorMsg(this.perr, this.src, false);
    return `char ${runeLen(this.src.slice(0, this.perr.pos)) + 1}: ${body}`;
  }

  /** The message with the source line and a caret under the error. */
  structured(): string {
    const { line, col, lineText } = lineAndCol(this.src, this.perr.pos);
    const ie = this.perr.importErr;
    const body = ie ? `failed to parse import '${ie.path}'` : errorMsg(this.perr, this.src, false);
    const lineStr = String(line);
    const padding = ' '.repeat(lineStr.length);
    const chars = Array.from(lineText);
    const ctxLine = chars.length > col - 1 + 60 ? chars.slice(0, col - 1 + 60).join('') : lineText;
    let s =
      `${this.file !== '' ? this.file + ': ' : ''}line ${line} char ${col}: ${body}\n` +
      `${padding} |\n` +
      `${lineStr} | ${ctxLine}\n` +
      `${padding} | ${' '.repeat(col - 1)}^---`;
    if (ie) s += '\n\n' + new BloblangParseError(ie.err, ie.content, ie.path).structured();
    return s;
  }
}

// ---------------------------------------------------------------------------------------------
// Parse context

/** Reads imported mapping files, relative to a directory. */
export interface Importer {
  read(path: string): string;
  relativeTo(path: string): Importer;
}

export function fsImporter(baseDir: string = process.cwd()): Importer {
  return {
    read(path) {
      const full = isAbsolute(path) ? path : resolve(baseDir, path);
      try {
        return readFileSync(full, 'utf8');
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        const why = code === 'ENOENT' ? 'no such file or directory' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
        throw new Error(`open ${path}: ${why}`);
      }
    },
    relativeTo(path) {
      const full = isAbsolute(path) ? path : resolve(baseDir, path);
      return fsImporter(dirname(full));
    },
  };
}

export const noImporter: Importer = {
  read() {
    throw new Error('imports are disabled in this context');
  },
  relativeTo() {
    return noImporter;
  },
};

export interface ParseOptions {
  importer?: Importer;
  /** Disable functions reading the environment or message (dynamic `bloblang()` mappings). */
  restricted?: boolean;
}

interface PCtx {
  /** Line where the current executor (mapping or map body) starts; statement lines are relative to it. */
  readonly lineBase: number;
  readonly named: readonly string[];
  readonly importer: Importer;
  readonly restricted: boolean;
}

const RESTRICTED_FUNCTIONS = new Set(['env', 'file', 'file_rel', 'hostname', 'content', 'json', 'metadata', 'meta', 'root_meta', 'batch_index', 'batch_size', 'error', 'errored']);

// ---------------------------------------------------------------------------------------------
// Statements (compiled)

export type Stmt = L.Stmt;

export interface ParsedMapping {
  readonly stmts: Stmt[];
  readonly maps: Record<string, L.MapDef>;
  readonly src: string;
  /** False when the top-level statements never assign variables. */
  readonly hasLet?: boolean;
}

// ---------------------------------------------------------------------------------------------
// The parser

const IDENT_EXPECTED = ['range(a - z)', 'range(A - Z)', 'range(0 - 9)', '_'];

function isIdent(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
}
function isSnake(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95;
}

const utf8 = new TextDecoder();

class Parser {
  constructor(readonly src: string) {}

  // --- primitives -----------------------------------------------------------------------------

  char(p: number, c: string): R<string> {
    return this.src[p] === c ? ok(c, p + 1) : fail(new PErr(p, [c]), p);
  }

  term(p: number, t: string): R<string> {
    return this.src.startsWith(t, p) ? ok(t, p + t.length) : fail(new PErr(p, [t]), p);
  }

  /** Skips spaces and tabs (Discard(SpacesAndTabs)). */
  sp(p: number): number {
    const s = this.src;
    while (p < s.length && (s[p] === ' ' || s[p] === '\t')) p++;
    return p;
  }

  /** SpacesAndTabs: at least one space or tab. */
  sp1(p: number): R<string> {
    const q = this.sp(p);
    return q > p ? ok(this.src.slice(p, q), q) : fail(new PErr(p, ['whitespace']), p);
  }

  /** Comment: `#…` up to and including a mandatory line break (as Benthos requires). */
  comment(p: number): R<string> {
    const s = this.src;
    if (s[p] !== '#') return fail(new PErr(p, ['#']), p);
    let q = p + 1;
    while (q < s.length && s[q] !== '\n') q++;
    if (q >= s.length) return fail(new PErr(q, ['line break']), p);
    return ok(s.slice(p, q + 1), q + 1);
  }

  newline(p: number): R<string> {
    const s = this.src;
    if (s[p] === '\n') return ok('\n', p + 1);
    if (s[p] === '\r' && s[p + 1] === '\n') return ok('\r\n', p + 2);
    return fail(new PErr(s[p] === '\r' ? p + 1 : p, ['line break']), p);
  }

  /** NewlineAllowComment. */
  nlc(p: number): R<string> {
    const c = this.comment(p);
    if (c.ok) return c;
    const n = this.newline(p);
    if (n.ok) return n;
    return fail(new PErr(Math.max(c.e.pos, n.e.pos), ['line break']), p);
  }

  /** DiscardedWhitespaceNewlineComments. */
  wnc(p: number): number {
    for (;;) {
      const q = this.sp(p);
      const c = this.comment(q);
      if (c.ok) {
        p = c.p;
        continue;
      }
      const n = this.newline(q);
      if (n.ok) {
        p = n.p;
        continue;
      }
      return q;
    }
  }

  ident(p: number): R<string> {
    let q = p;
    while (q < this.src.length && isIdent(this.src.charCodeAt(q))) q++;
    return q > p ? ok(this.src.slice(p, q), q) : fail(new PErr(p, IDENT_EXPECTED.slice()), p);
  }

  snake(p: number): R<string> {
    let q = p;
    while (q < this.src.length && isSnake(this.src.charCodeAt(q))) q++;
    return q > p ? ok(this.src.slice(p, q), q) : fail(new PErr(p, ['snake-case']), p);
  }

  quoted(p: number): R<string> {
    const s = this.src;
    if (s[p] !== '"') return fail(new PErr(p, ['quoted string']), p);
    let escaped = false;
    for (let i = p + 1; i < s.length; i++) {
      const c = s[i];
      if (c === '"' && !escaped) {
        const body = s.slice(p + 1, i);
        const v = unquoteGo(body);
        if (v === null) return fail(new PErr(p, [], 'failed to unescape quoted string contents: invalid syntax'), p);
        return ok(v, i + 1);
      }
      if (c === '\\') escaped = !escaped;
      else escaped = false;
    }
    return fail(new PErr(s.length, ['end quote'], 'required'), p);
  }

  tripleQuoted(p: number): R<string> {
    const s = this.src;
    if (!s.startsWith('"""', p)) return fail(new PErr(p, ['quoted string']), p);
    const end = s.indexOf('"""', p + 3);
    if (end < 0) return fail(new PErr(s.length, ['end triple-quote'], 'required'), p);
    return ok(s.slice(p + 3, end), end + 3);
  }

  number(p: number): R<unknown> {
    const s = this.src;
    let q = p;
    let neg = false;
    if (s[q] === '-') {
      neg = true;
      q++;
    }
    const ds = q;
    while (q < s.length && s.charCodeAt(q) >= 48 && s.charCodeAt(q) <= 57) q++;
    if (q === ds) return fail(new PErr(ds, ['number']), p);
    let text = s.slice(ds, q);
    let isFloat = false;
    if (s[q] === '.') {
      let r = q + 1;
      while (r < s.length && s.charCodeAt(r) >= 48 && s.charCodeAt(r) <= 57) r++;
      if (r > q + 1) {
        text += s.slice(q, r);
        q = r;
        isFloat = true;
      }
    }
    if (isFloat) {
      const f = Number(text);
      return ok(mkFloat(neg ? -f : f), q);
    }
    const b = BigInt(text);
    if (b > 9223372036854775807n) {
      return fail(
        new PErr(p, [], `failed to parse '${text}' as integer: strconv.ParseInt: parsing "${text}": value out of range`),
        p,
      );
    }
    return ok(mkIntBig(neg ? -b : b), q);
  }

  /** OneOf semantics: first success or fatal error; otherwise the furthest failure (merged on ties). */
  oneOf<T>(p: number, alts: Array<(p: number) => R<T>>): R<T> {
    let err: PErr | null = null;
    for (const a of alts) {
      const r = a(p);
      if (r.ok || r.e.fatal()) return r;
      if (err === null || err.pos < r.e.pos) err = r.e;
      else if (err.pos === r.e.pos) err.add(r.e);
    }
    return fail(err as PErr, p);
  }

  /** DelimitedPattern. */
  delimited<T>(
    p0: number,
    start: (p: number) => R<unknown>,
    primary: (p: number) => R<T>,
    delim: (p: number) => R<unknown>,
    stop: (p: number) => R<unknown>,
  ): R<T[]> {
    const s = start(p0);
    if (!s.ok) return fail(s.e, p0);
    const out: T[] = [];
    let p = s.p;
    const first = primary(p);
    if (!first.ok) {
      const st = stop(p);
      if (st.ok) return ok(out, st.p);
      return fail(first.e, p0);
    }
    out.push(first.v);
    p = first.p;
    for (;;) {
      const d = delim(p);
      if (!d.ok) {
        const st = stop(p);
        if (st.ok) return ok(out, st.p);
        d.e.add(st.e);
        return fail(d.e, p0);
      }
      p = d.p;
      const r = primary(p);
      if (!r.ok) {
        const st = stop(p);
        if (st.ok) return ok(out, st.p);
        return fail(r.e, p0);
      }
      out.push(r.v);
      p = r.p;
    }
  }

  expect<T>(r: R<T>, ...names: string[]): R<T> {
    if (!r.ok && !r.e.fatal()) r.e.expected = names;
    return r;
  }

  mustBe<T>(r: R<T>): R<T> {
    if (!r.ok && !r.e.fatal()) r.e.err = 'required';
    return r;
  }

  // --- queries ---------------------------------------------------------------------------------

  query(p: number, pc: PCtx): R<Q> {
    return this.arithmetic(this.sp(p), pc);
  }

  arithTerm(p: number, pc: PCtx): R<Q> {
    if (this.src[p] === '-') {
      const q = this.wnc(p + 1);
      const r = this.withTails(q, pc);
      if (!r.ok) return fail(r.e, p);
      try {
        return ok(negate(r.v), r.p);
      } catch (e) {
        return fail(new PErr(p, [], (e as Error).message), p);
      }
    }
    return this.withTails(p, pc);
  }

  opAt(p: number): R<Op> {
    const s = this.src;
    const two = s.slice(p, p + 2);
    if (two === '&&' || two === '||' || two === '==' || two === '!=' || two === '>=' || two === '<=') return ok(two as Op, p + 2);
    const c = s[p];
    if (c === '+' || c === '-' || c === '/' || c === '*' || c === '%' || c === '>' || c === '<' || c === '|') return ok(c as Op, p + 1);
    return fail(new PErr(p, ['+', '-', '/', '*', '%', '&&', '||', '==', '!=', '>=', '<=', '>', '<', '|']), p);
  }

  arithmetic(p0: number, pc: PCtx): R<Q> {
    const first = this.arithTerm(p0, pc);
    if (!first.ok) return fail(first.e, p0);
    const fns: Q[] = [first.v];
    const ops: Op[] = [];
    let p = first.p;
    for (;;) {
      const op = this.opAt(this.sp(p));
      if (!op.ok) break;
      const r = this.arithTerm(this.wnc(op.p), pc);
      if (!r.ok) return fail(r.e, p0);
      ops.push(op.v);
      fns.push(r.v);
      p = r.p;
    }
    try {
      return ok(buildArith(fns, ops), p);
    } catch (e) {
      return fail(new PErr(p0, [], (e as Error).message), p0);
    }
  }

  withTails(p0: number, pc: PCtx): R<Q> {
    let p = p0;
    let isNot = false;
    if (this.src[p] === '!') {
      isNot = true;
      p = this.sp(p + 1);
    }
    const r = this.expect(this.primary(p, pc), 'query');
    if (!r.ok) return fail(r.e, p0);
    let fn = r.v;
    p = r.p;
    while (this.src[p] === '.') {
      const q = this.wnc(p + 1);
      const t = this.mustBe(this.tail(fn, q, pc));
      if (!t.ok) return fail(t.e, p0);
      fn = t.v;
      p = t.p;
    }
    if (isNot) fn = not(fn);
    return ok(fn, p);
  }

  primary(p: number, pc: PCtx): R<Q> {
    return this.oneOf(p, [
      (q) => this.matchExpr(q, pc),
      (q) => this.ifExpr(q, pc),
      (q) => this.lambdaExpr(q, pc),
      (q) => this.brackets(q, pc),
      (q) => this.literalValue(q, pc),
      (q) => this.functionCall(q, pc),
      (q) => this.metaRef(q),
      (q) => this.varRef(q),
      (q) => this.fieldRoot(q, pc),
    ]);
  }

  tail(fn: Q, p: number, pc: PCtx): R<Q> {
    return this.oneOf(p, [
      (q) => this.mapExpr(fn, q, pc),
      (q) => this.method(fn, q, pc),
      (q) => this.fieldTail(fn, q),
    ]);
  }

  mapExpr(fn: Q, p0: number, pc: PCtx): R<Q> {
    const o = this.expect(this.char(p0, '('), 'method');
    if (!o.ok) return fail(o.e, p0);
    const q = this.query(this.wnc(o.p), pc);
    if (!q.ok) return fail(q.e, p0);
    const c = this.char(this.wnc(q.p), ')');
    if (!c.ok) return fail(c.e, p0);
    return ok(L.mapMethod(fn, q.v), c.p);
  }

  method(fn: Q, p0: number, pc: PCtx): R<Q> {
    const name = this.expect(this.snake(p0), 'method');
    if (!name.ok) return fail(name.e, p0);
    const args = this.functionArgs(name.p, pc);
    if (!args.ok) return fail(args.e, p0);
    try {
      return ok(L.method(name.v, fn, args.v), args.p);
    } catch (e) {
      return fail(new PErr(args.p, [], (e as Error).message), p0);
    }
  }

  fieldTail(fn: Q, p0: number): R<Q> {
    let r: R<string> = this.ident(p0);
    if (!r.ok) {
      const qs = this.quoted(p0);
      if (qs.ok || qs.e.fatal()) r = qs;
    }
    if (!r.ok) return fail(r.e.fatal() ? r.e : new PErr(p0, ['field path']), p0);
    return ok(L.getField(fn, [r.v]), r.p);
  }

  functionArgs(p0: number, pc: PCtx): R<RawArg[]> {
    return this.delimited<RawArg>(
      p0,
      (p) => {
        const o = this.char(p, '(');
        if (!o.ok) return fail(new PErr(o.e.pos, ['function arguments']), p);
        return ok(null, this.wnc(o.p));
      },
      (p) =>
        this.mustBe(
          this.expect(
            this.oneOf<RawArg>(p, [(q) => this.namedArg(q, pc), (q) => {
              const r = this.query(q, pc);
              return r.ok ? ok({ q: r.v }, r.p) : fail(r.e, q);
            }]),
            'function argument',
          ),
        ),
      (p) => {
        const q = this.sp(p);
        if (this.src[q] !== ',') return this.mustBe(fail(new PErr(q, ['comma']), p));
        return ok(null, this.wnc(q + 1));
      },
      (p) => {
        const q = this.wnc(p);
        if (this.src[q] !== ')') return this.mustBe(fail(new PErr(q, ['closing bracket']), p));
        return ok(null, q + 1);
      },
    );
  }

  namedArg(p0: number, pc: PCtx): R<RawArg> {
    const n = this.snake(p0);
    if (!n.ok) return fail(n.e, p0);
    const c = this.char(n.p, ':');
    if (!c.ok) return fail(c.e, p0);
    const v = this.mustBe(this.expect(this.query(this.sp(c.p), pc), 'argument value'));
    if (!v.ok) return fail(v.e, p0);
    return ok({ name: n.v, q: v.v }, v.p);
  }

  brackets(p0: number, pc: PCtx): R<Q> {
    const o = this.expect(this.char(p0, '('), 'function');
    if (!o.ok) return fail(o.e, p0);
    const q = this.query(this.wnc(o.p), pc);
    if (!q.ok) return fail(q.e, p0);
    const c = this.mustBe(this.expect(this.char(this.wnc(q.p), ')'), 'closing bracket'));
    if (!c.ok) return fail(c.e, p0);
    return ok(q.v, c.p);
  }

  literalValue(p: number, pc: PCtx): R<Q> {
    return this.oneOf<Q>(p, [
      (q) => {
        const r = this.oneOf<string>(q, [(x) => this.term(x, 'true'), (x) => this.term(x, 'false')]);
        if (!r.ok) return fail(new PErr(r.e.pos, ['boolean']), q);
        return ok(literal(r.v === 'true'), r.p);
      },
      (q) => {
        const r = this.number(q);
        return r.ok ? ok(literal(r.v), r.p) : fail(r.e, q);
      },
      (q) => {
        const r = this.tripleQuoted(q);
        return r.ok ? ok(literal(r.v), r.p) : fail(r.e, q);
      },
      (q) => {
        const r = this.quoted(q);
        return r.ok ? ok(literal(r.v), r.p) : fail(r.e, q);
      },
      (q) => {
        const r = this.term(q, 'null');
        return r.ok ? ok(literal(null), r.p) : fail(r.e, q);
      },
      (q) => this.arrayLit(q, pc),
      (q) => this.objectLit(q, pc),
    ]);
  }

  arrayLit(p0: number, pc: PCtx): R<Q> {
    const r = this.delimited<Q>(
      p0,
      (p) => {
        const o = this.char(p, '[');
        if (!o.ok) return fail(new PErr(o.e.pos, ['array']), p);
        return ok(null, this.wnc(o.p));
      },
      (p) => this.expect(this.query(p, pc), 'object'),
      (p) => {
        const q = this.sp(p);
        if (this.src[q] !== ',') return fail(new PErr(q, [',']), p);
        return ok(null, this.wnc(q + 1));
      },
      (p) => {
        const q = this.wnc(p);
        if (this.src[q] !== ']') return fail(new PErr(q, [']']), p);
        return ok(null, q + 1);
      },
    );
    if (!r.ok) return fail(r.e, p0);
    return ok(L.arrayLiteral(r.v), r.p);
  }

  objectLit(p0: number, pc: PCtx): R<Q> {
    const r = this.delimited<[string | Q, Q]>(
      p0,
      (p) => {
        const o = this.char(p, '{');
        if (!o.ok) return fail(new PErr(o.e.pos, ['object']), p);
        return ok(null, this.wnc(o.p));
      },
      (p) => {
        const k = this.oneOf<string | Q>(p, [
          (q) => this.quoted(q),
          (q) => this.expect(this.query(q, pc), 'object'),
        ]);
        if (!k.ok) return fail(k.e, p);
        const c = this.char(this.sp(k.p), ':');
        if (!c.ok) return fail(c.e, p);
        const v = this.expect(this.query(this.wnc(c.p), pc), 'object');
        if (!v.ok) return fail(v.e, p);
        return ok<[string | Q, Q]>([k.v, v.v], v.p);
      },
      (p) => {
        const q = this.sp(p);
        if (this.src[q] !== ',') return fail(new PErr(q, [',']), p);
        return ok(null, this.wnc(q + 1));
      },
      (p) => {
        const q = this.wnc(p);
        if (this.src[q] !== '}') return fail(new PErr(q, ['}']), p);
        return ok(null, q + 1);
      },
    );
    if (!r.ok) return fail(r.e, p0);
    try {
      return ok(L.objectLiteral(r.v), r.p);
    } catch (e) {
      return fail(new PErr(p0, [], (e as Error).message), p0);
    }
  }

  functionCall(p0: number, pc: PCtx): R<Q> {
    const name = this.expect(this.snake(p0), 'function');
    if (!name.ok) return fail(name.e, p0);
    const args = this.functionArgs(name.p, pc);
    if (!args.ok) return fail(args.e, p0);
    if (pc.restricted && RESTRICTED_FUNCTIONS.has(name.v)) {
      return fail(new PErr(args.p, [], `unrecognised function '${name.v}'`), p0);
    }
    try {
      return ok(L.functionCall(name.v, args.v), args.p);
    } catch (e) {
      return fail(new PErr(args.p, [], (e as Error).message), p0);
    }
  }

  metaRef(p0: number): R<Q> {
    if (this.src[p0] !== '@') return fail(new PErr(p0, ['metadata path']), p0);
    const p = p0 + 1;
    const id = this.ident(p);
    if (id.ok) return ok(L.metaRef(id.v), id.p);
    const qs = this.quoted(p);
    if (qs.ok) return ok(L.metaRef(qs.v), qs.p);
    if (qs.e.fatal()) return fail(qs.e, p0);
    return ok(L.metaRef(null), p);
  }

  varRef(p0: number): R<Q> {
    if (this.src[p0] !== '$') return fail(new PErr(p0, ['variable path']), p0);
    const id = this.ident(p0 + 1);
    if (!id.ok) return fail(new PErr(id.e.pos, ['variable path']), p0);
    return ok(L.varRef(id.v), id.p);
  }

  fieldRoot(p0: number, pc: PCtx): R<Q> {
    const id = this.ident(p0);
    if (!id.ok) return fail(new PErr(id.e.pos, ['field path']), p0);
    const name = id.v;
    if (name === 'this') return ok(L.thisField([]), id.p);
    if (name === 'root') return ok(L.rootField([]), id.p);
    if (pc.named.includes(name)) return ok(L.namedField(name, []), id.p);
    return ok(L.thisField([name]), id.p);
  }

  lambdaExpr(p0: number, pc: PCtx): R<Q> {
    const name = this.ident(p0);
    if (!name.ok) return fail(new PErr(name.e.pos, ['function']), p0);
    const s1 = this.sp1(name.p);
    if (!s1.ok) return fail(new PErr(s1.e.pos, ['function']), p0);
    const arrow = this.term(s1.p, '->');
    if (!arrow.ok) return fail(new PErr(arrow.e.pos, ['function']), p0);
    const s2 = this.sp1(arrow.p);
    if (!s2.ok) return fail(new PErr(s2.e.pos, ['function']), p0);
    let inner = pc;
    if (name.v !== '_') {
      if (pc.named.includes(name.v)) {
        return fail(new PErr(p0, [], `context label \`${name.v}\` would shadow a parent context`), p0);
      }
      if (name.v === 'root' || name.v === 'this') {
        return fail(new PErr(p0, [], `context label \`${name.v}\` is not allowed`), p0);
      }
      inner = { ...pc, named: [...pc.named, name.v] };
    }
    const body = this.mustBe(this.query(s2.p, inner));
    if (!body.ok) return body;
    if (body.v.lambda !== undefined) {
      return fail(
        new PErr(p0, [], `it would be in poor taste to capture the same context under both '${name.v}' and '${body.v.lambda}'`),
        p0,
      );
    }
    return ok(L.lambda(name.v, body.v), body.p);
  }

  matchExpr(p0: number, pc: PCtx): R<Q> {
    const t = this.term(p0, 'match');
    if (!t.ok) return fail(t.e, p0);
    const s = this.sp1(t.p);
    if (!s.ok) return fail(s.e, p0);
    let p = s.p;
    let subject: Q | null = null;
    const subj = this.query(p, pc);
    if (subj.ok) {
      subject = subj.v;
      p = subj.p;
    } else if (subj.e.fatal()) return fail(subj.e, p0);
    p = this.wnc(p);
    const cases = this.mustBe(
      this.delimited<L.MatchCase>(
        p,
        (q) => {
          const o = this.char(q, '{');
          if (!o.ok) return o;
          return ok(null, this.wnc(o.p));
        },
        (q) => this.matchCase(q, pc),
        (q) => {
          const x = this.sp(q);
          const sep = this.oneOf<string>(x, [(y) => this.char(y, ','), (y) => this.nlc(y)]);
          if (!sep.ok) return fail(sep.e, q);
          return ok(null, this.wnc(sep.p));
        },
        (q) => {
          const x = this.wnc(q);
          if (this.src[x] !== '}') return fail(new PErr(x, ['}']), q);
          return ok(null, x + 1);
        },
      ),
    );
    if (!cases.ok) return fail(cases.e, p0);
    return ok(L.matchExpr(subject, cases.v), cases.p);
  }

  matchCase(p0: number, pc: PCtx): R<L.MatchCase> {
    const head = this.oneOf<Q | null>(p0, [
      (p) => {
        if (this.src[p] !== '_') return fail(new PErr(p, ['match case']), p);
        const a = this.term(this.sp(p + 1), '=>');
        if (!a.ok) return fail(a.e, p);
        return ok(null, a.p);
      },
      (p) => {
        const q = this.expect(this.query(p, pc), 'match case');
        if (!q.ok) return fail(q.e, p);
        const a = this.term(this.sp(q.p), '=>');
        if (!a.ok) return fail(a.e, p);
        return ok(q.v, a.p);
      },
    ]);
    if (!head.ok) return fail(head.e, p0);
    const body = this.query(this.sp(head.p), pc);
    if (!body.ok) return fail(body.e, p0);
    return ok({ cond: head.v, body: body.v }, body.p);
  }

  /** `{ query }` block of an if expression. */
  ifBlock(p: number, pc: PCtx): R<Q> {
    const o = this.mustBe(this.char(this.wnc(p), '{'));
    if (!o.ok) return fail(o.e, p);
    const q = this.mustBe(this.query(this.wnc(o.p), pc));
    if (!q.ok) return fail(q.e, p);
    const c = this.mustBe(this.char(this.wnc(q.p), '}'));
    if (!c.ok) return fail(c.e, p);
    return ok(q.v, c.p);
  }

  ifExpr(p0: number, pc: PCtx): R<Q> {
    const t = this.term(p0, 'if');
    if (!t.ok) return fail(t.e, p0);
    const s = this.sp1(t.p);
    if (!s.ok) return fail(s.e, p0);
    const cond = this.mustBe(this.query(s.p, pc));
    if (!cond.ok) return fail(cond.e, p0);
    const first = this.ifBlock(cond.p, pc);
    if (!first.ok) return fail(first.e, p0);
    const branches: Array<[Q, Q]> = [[cond.v, first.v]];
    let p = first.p;
    let elseQ: Q | null = null;
    for (;;) {
      const q = this.wnc(p);
      const ei = this.term(q, 'else if');
      if (ei.ok) {
        const s2 = this.sp1(ei.p);
        if (!s2.ok) break;
        const c2 = this.mustBe(this.query(s2.p, pc));
        if (!c2.ok) return fail(c2.e, p0);
        const b2 = this.ifBlock(c2.p, pc);
        if (!b2.ok) return fail(b2.e, p0);
        branches.push([c2.v, b2.v]);
        p = b2.p;
        continue;
      }
      const el = this.term(q, 'else');
      if (el.ok) {
        const b3 = this.ifBlock(el.p, pc);
        if (!b3.ok) return fail(b3.e, p0);
        elseQ = b3.v;
        p = b3.p;
      }
      break;
    }
    return ok(L.ifExpr(branches, elseQ), p);
  }

  // --- statements ------------------------------------------------------------------------------

  statement(p: number, pc: PCtx, enableMeta: boolean, maps: Record<string, L.MapDef> | null): R<Stmt | null> {
    const alts: Array<(p: number) => R<Stmt | null>> = [];
    if (maps) {
      alts.push((q) => this.importStmt(q, pc, maps));
      alts.push((q) => this.mapStmt(q, pc, maps));
    }
    alts.push((q) => this.letStmt(q, pc));
    alts.push((q) => this.metaStmt(q, pc, enableMeta));
    alts.push((q) => this.plainStmt(q, pc));
    alts.push((q) => this.rootIfStmt(q, pc));
    return this.oneOf(p, alts);
  }

  importStmt(p0: number, pc: PCtx, maps: Record<string, L.MapDef>): R<Stmt | null> {
    const t = this.term(p0, 'import');
    if (!t.ok) return fail(t.e, p0);
    const s = this.sp1(t.p);
    if (!s.ok) return fail(s.e, p0);
    const path = this.mustBe(this.expect(this.quoted(s.p), 'filepath'));
    if (!path.ok) return fail(path.e, p0);
    let content: string;
    try {
      content = pc.importer.read(path.v);
    } catch (e) {
      return fail(new PErr(p0, [], `failed to read import: ${(e as Error).message}`), p0);
    }
    const sub = new Parser(content);
    const res = sub.executor(0, { ...pc, lineBase: 1, importer: pc.importer.relativeTo(path.v), named: [] });
    if (!res.ok) {
      return fail(new PErr(p0, [], 'import', { path: path.v, content, err: res.e }), p0);
    }
    const imported = res.v.maps;
    if (Object.keys(imported).length === 0) return fail(new PErr(p0, [], `no maps to import from '${path.v}'`), p0);
    const collisions: string[] = [];
    for (const [k, v] of Object.entries(imported)) {
      if (Object.hasOwn(maps, k)) collisions.push(k);
      else maps[k] = v;
    }
    if (collisions.length > 0) {
      return fail(new PErr(p0, [], `map name collisions from import '${path.v}': [${collisions.join(' ')}]`), p0);
    }
    return ok(null, path.p);
  }

  mapStmt(p0: number, pc: PCtx, maps: Record<string, L.MapDef>): R<Stmt | null> {
    const t = this.term(p0, 'map');
    if (!t.ok) return fail(t.e, p0);
    const s = this.sp1(t.p);
    if (!s.ok) return fail(s.e, p0);
    const nameR = this.mustBe(
      this.expect(
        this.oneOf<string>(s.p, [(q) => this.quoted(q), (q) => this.ident(q)]),
        'map name',
      ),
    );
    if (!nameR.ok) return fail(nameR.e, p0);
    const s2 = this.sp1(nameR.p);
    if (!s2.ok) return fail(s2.e, p0);
    const body = this.block(s2.p, { ...pc, lineBase: this.lineOf(p0) }, false);
    if (!body.ok) return fail(body.e, p0);
    if (Object.hasOwn(maps, nameR.v)) return fail(new PErr(p0, [], `map name collision: ${nameR.v}`), p0);
    maps[nameR.v] = L.mapDef(nameR.v, body.v, maps);
    return ok(null, body.p);
  }

  /** `{ statement \n statement }` */
  block(p0: number, pc: PCtx, enableMeta: boolean): R<Stmt[]> {
    const r = this.delimited<Stmt | null>(
      p0,
      (p) => {
        const o = this.char(p, '{');
        if (!o.ok) return o;
        return ok(null, this.wnc(o.p));
      },
      (p) => this.statement(p, pc, enableMeta, null),
      (p) => {
        const n = this.nlc(this.sp(p));
        if (!n.ok) return fail(n.e, p);
        return ok(null, this.wnc(n.p));
      },
      (p) => {
        const q = this.wnc(p);
        if (this.src[q] !== '}') return fail(new PErr(q, ['}']), p);
        return ok(null, q + 1);
      },
    );
    if (!r.ok) return fail(r.e, p0);
    return ok(r.v.filter((x): x is Stmt => x !== null), r.p);
  }

  letStmt(p0: number, pc: PCtx): R<Stmt | null> {
    const t = this.term(p0, 'let');
    if (!t.ok) return fail(new PErr(p0, ['assignment']), p0);
    const s = this.sp1(t.p);
    if (!s.ok) return fail(s.e, p0);
    const name = this.mustBe(
      this.expect(
        this.oneOf<string>(s.p, [(q) => this.quoted(q), (q) => this.ident(q)]),
        'variable name',
      ),
    );
    if (!name.ok) return fail(name.e, p0);
    const s2 = this.sp1(name.p);
    if (!s2.ok) return fail(s2.e, p0);
    const eq = this.char(s2.p, '=');
    if (!eq.ok) return fail(eq.e, p0);
    const s3 = this.sp1(eq.p);
    if (!s3.ok) return fail(s3.e, p0);
    const q = this.query(s3.p, pc);
    if (!q.ok) return fail(q.e, p0);
    return ok(L.letStmt(name.v, q.v, this.relLine(p0, pc)), q.p);
  }

  metaStmt(p0: number, pc: PCtx, enabled: boolean): R<Stmt | null> {
    const t = this.term(p0, 'meta');
    if (!t.ok) return fail(new PErr(p0, ['assignment']), p0);
    const s = this.sp1(t.p);
    if (!s.ok) return fail(s.e, p0);
    let p = s.p;
    let key: string | null = null;
    const k = this.oneOf<string>(p, [(q) => this.quoted(q), (q) => this.ident(q)]);
    if (k.ok) {
      key = k.v;
      p = k.p;
    } else if (k.e.fatal()) return fail(k.e, p0);
    p = this.sp(p);
    const eq = this.char(p, '=');
    if (!eq.ok) return fail(eq.e, p0);
    const s3 = this.sp1(eq.p);
    if (!s3.ok) return fail(s3.e, p0);
    const q = this.query(s3.p, pc);
    if (!q.ok) return fail(q.e, p0);
    if (!enabled) return fail(new PErr(p0, [], 'setting meta fields is not allowed within this block'), p0);
    return ok(L.metaStmt(key, q.v, this.relLine(p0, pc)), q.p);
  }

  pathSegments(p0: number): R<string[]> {
    const first = this.ident(p0);
    if (!first.ok) return fail(new PErr(first.e.pos, ['assignment']), p0);
    const path = [first.v];
    let p = first.p;
    if (this.src[p] === '.') {
      // Delimited(segment, '.'): once a dot is consumed a segment is required.
      let q = p + 1;
      const segs: string[] = [];
      let good = true;
      for (;;) {
        let seg: R<string> = this.quoted(q);
        if (!seg.ok && !seg.e.fatal()) seg = this.ident(q);
        if (!seg.ok) {
          good = false;
          break;
        }
        segs.push(seg.v);
        q = seg.p;
        if (this.src[q] !== '.') break;
        q++;
      }
      if (good) {
        path.push(...segs);
        p = q;
      }
    }
    return ok(path, p);
  }

  plainStmt(p0: number, pc: PCtx): R<Stmt | null> {
    const path = this.pathSegments(p0);
    if (!path.ok) return fail(path.e, p0);
    const s = this.sp1(path.p);
    if (!s.ok) return fail(s.e, p0);
    const eq = this.char(s.p, '=');
    if (!eq.ok) return fail(eq.e, p0);
    const s2 = this.sp1(eq.p);
    if (!s2.ok) return fail(s2.e, p0);
    const q = this.query(s2.p, pc);
    if (!q.ok) return fail(q.e, p0);
    let segs = path.v;
    if (segs[0] === 'root') segs = segs.slice(1);
    return ok(L.assignStmt(segs, q.v, this.relLine(p0, pc)), q.p);
  }

  rootIfStmt(p0: number, pc: PCtx): R<Stmt | null> {
    const t = this.term(p0, 'if');
    if (!t.ok) return fail(new PErr(p0, ['assignment']), p0);
    const s = this.sp1(t.p);
    if (!s.ok) return fail(s.e, p0);
    const cond = this.mustBe(this.query(s.p, pc));
    if (!cond.ok) return fail(cond.e, p0);
    const body = this.block(this.wnc(cond.p), pc, true);
    if (!body.ok) return fail(body.e, p0);
    const pairs: Array<[Q | null, Stmt[]]> = [[cond.v, body.v]];
    let p = body.p;
    for (;;) {
      const q = this.wnc(p);
      const ei = this.term(q, 'else if');
      if (ei.ok) {
        const s2 = this.sp1(ei.p);
        if (!s2.ok) break;
        const c2 = this.mustBe(this.query(s2.p, pc));
        if (!c2.ok) return fail(c2.e, p0);
        const b2 = this.block(this.wnc(c2.p), pc, true);
        if (!b2.ok) return fail(b2.e, p0);
        pairs.push([c2.v, b2.v]);
        p = b2.p;
        continue;
      }
      const el = this.term(q, 'else');
      if (el.ok) {
        const b3 = this.block(this.wnc(el.p), pc, true);
        if (!b3.ok) return fail(b3.e, p0);
        pairs.push([null, b3.v]);
        p = b3.p;
      }
      break;
    }
    return ok(L.ifStmt(pairs, this.relLine(p0, pc)), p);
  }

  relLine(p: number, pc: PCtx): number {
    return this.lineOf(p) - pc.lineBase + 1;
  }

  lineOf(p: number): number {
    let n = 1;
    for (let i = 0; i < p; i++) if (this.src.charCodeAt(i) === 10) n++;
    return n;
  }

  executor(p0: number, pc: PCtx): R<ParsedMapping> {
    const maps: Record<string, L.MapDef> = {};
    const stmts: Stmt[] = [];
    let p = this.wnc(p0);
    let r = this.statement(p, pc, true, maps);
    if (!r.ok) return fail(r.e, p0);
    if (r.v) stmts.push(r.v);
    p = r.p;
    for (;;) {
      p = this.sp(p);
      if (p >= this.src.length) break;
      const nl = this.nlc(p);
      if (!nl.ok) return fail(nl.e, p0);
      p = this.wnc(nl.p);
      if (p >= this.src.length) break;
      r = this.statement(p, pc, true, maps);
      if (!r.ok) return fail(r.e, p0);
      if (r.v) stmts.push(r.v);
      p = r.p;
    }
    return ok({ stmts, maps, src: this.src }, p);
  }
}

// ---------------------------------------------------------------------------------------------
// Go string unquoting

function unquoteGo(body: string): string | null {
  if (!body.includes('\\')) return body.includes('\n') ? null : body;
  let out = '';
  let bytes: number[] = [];
  const flush = (): void => {
    if (bytes.length > 0) {
      out += utf8.decode(new Uint8Array(bytes));
      bytes = [];
    }
  };
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c === '\n') return null;
    if (c !== '\\') {
      flush();
      out += c;
      continue;
    }
    const e = body[++i];
    const hex = (n: number): number | null => {
      const h = body.slice(i + 1, i + 1 + n);
      if (h.length !== n || !/^[0-9a-fA-F]+$/.test(h)) return null;
      i += n;
      return parseInt(h, 16);
    };
    switch (e) {
      case 'a':
        flush();
        out += '\x07';
        break;
      case 'b':
        flush();
        out += '\b';
        break;
      case 'f':
        flush();
        out += '\f';
        break;
      case 'n':
        flush();
        out += '\n';
        break;
      case 'r':
        flush();
        out += '\r';
        break;
      case 't':
        flush();
        out += '\t';
        break;
      case 'v':
        flush();
        out += '\v';
        break;
      case '\\':
        flush();
        out += '\\';
        break;
      case '"':
        flush();
        out += '"';
        break;
      case 'x': {
        const v = hex(2);
        if (v === null) return null;
        bytes.push(v);
        break;
      }
      case 'u':
      case 'U': {
        const v = hex(e === 'u' ? 4 : 8);
        if (v === null || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return null;
        flush();
        out += String.fromCodePoint(v);
        break;
      }
      default: {
        if (e !== undefined && e >= '0' && e <= '7') {
          const o = body.slice(i, i + 3);
          if (!/^[0-7]{3}$/.test(o)) return null;
          const v = parseInt(o, 8);
          if (v > 255) return null;
          bytes.push(v);
          i += 2;
          break;
        }
        return null;
      }
    }
  }
  flush();
  return out;
}

// ---------------------------------------------------------------------------------------------
// Entry points

function bestMatch<T>(left: R<T>, right: R<T>): R<T> {
  const rl = left.ok ? -left.p : -left.e.pos;
  const rr = right.ok ? -right.p : -right.e.pos;
  if (rl === rr) {
    if (left.ok) return left;
    if (right.ok) return right;
  }
  return rr < rl ? right : left;
}

function pctxOf(opts: ParseOptions): PCtx {
  return { lineBase: 1, named: [], importer: opts.importer ?? fsImporter(), restricted: opts.restricted ?? false };
}

/** Parses a mapping. Throws BloblangParseError. */
export function parseMapping(src: string, opts: ParseOptions = {}): ParsedMapping {
  const before = L.letCount();
  const parsed = parseMappingInner(src, opts);
  return { ...parsed, hasLet: L.letCount() > before };
}

function parseMappingInner(src: string, opts: ParseOptions): ParsedMapping {
  const pc = pctxOf(opts);
  const P = new Parser(src);
  // `from "file"`: the whole mapping comes from a file.
  {
    let p = P.wnc(0);
    const t = P.term(p, 'from');
    if (t.ok) {
      const s = P.sp1(t.p);
      if (s.ok) {
        const path = P.quoted(s.p);
        if (path.ok || path.e.fatal()) {
          if (!path.ok) throw new BloblangParseError(path.e, src);
          p = P.wnc(path.p);
          let content: string;
          try {
            content = pc.importer.read(path.v);
          } catch (e) {
            throw new BloblangParseError(new PErr(0, [], `failed to read import: ${(e as Error).message}`), src);
          }
          const sub = new Parser(content);
          const res = sub.executor(0, { ...pc, lineBase: 1, importer: pc.importer.relativeTo(path.v) });
          if (!res.ok) throw new BloblangParseError(new PErr(0, [], 'import', { path: path.v, content, err: res.e }), src);
          if (p < src.length) {
            throw new BloblangParseError(
              new PErr(0, [], `unexpected content after single root import: ${src.slice(p)}`),
              src,
            );
          }
          return res.v;
        }
      }
    }
  }
  const exe = P.executor(0, pc);
  if (!exe.ok && exe.e.fatal()) throw new BloblangParseError(exe.e, src);
  const single = singleRoot(P, src, pc);
  const best = bestMatch(exe, single);
  if (!best.ok) throw new BloblangParseError(best.e, src);
  return best.v;
}

function singleRoot(P: Parser, src: string, pc: PCtx): R<ParsedMapping> {
  const start = P.wnc(0);
  const q = P.query(start, pc);
  if (!q.ok) return fail(q.e, 0);
  const end = P.wnc(q.p);
  if (end < src.length) {
    let assignment = src.slice(start, q.p);
    const chars = Array.from(assignment);
    assignment = chars.length > 12 ? chars.slice(0, 12).join('') + '...' : assignment;
    return fail(
      new PErr(end, [
        `the mapping to end here as the beginning is shorthand for \`root = ${assignment}\`, but this shorthand form cannot be followed with more assignments`,
      ]),
      0,
    );
  }
  return ok({ stmts: [L.assignStmt([], q.v, 1)], maps: {}, src }, src.length);
}

/** Parses a single query (interpolations, `check` fields). Throws BloblangParseError. */
export function parseQuery(src: string, opts: ParseOptions = {}): Q {
  const P = new Parser(src);
  const r = P.query(0, pctxOf(opts));
  if (!r.ok) throw new BloblangParseError(r.e, src);
  const end = P.sp(r.p);
  if (end < src.length) throw new BloblangParseError(new PErr(end, ['end of input']), src);
  return r.v;
}

/** Parses an interpolated string into static parts and queries. */
export function parseInterpolation(src: string, opts: ParseOptions = {}): Array<string | Q> {
  const pc = pctxOf(opts);
  const P = new Parser(src);
  const parts: Array<string | Q> = [];
  let p = 0;
  let lit = '';
  while (p < src.length) {
    if (src.startsWith('${{!', p)) {
      const end = src.indexOf('}}', p + 4);
      if (end < 0) throw new BloblangParseError(new PErr(src.length, ['end of escaped expression'], 'required'), src);
      lit += '${!' + src.slice(p + 4, end) + '}';
      p = end + 2;
      continue;
    }
    if (src.startsWith('${!', p)) {
      const q = P.mustBe(P.query(P.sp(p + 3), pc));
      if (!q.ok) throw new BloblangParseError(q.e, src);
      const e = P.sp(q.v ? q.p : p);
      if (src[e] !== '}') throw new BloblangParseError(new PErr(e, ['end of expression'], 'required'), src);
      if (lit !== '') parts.push(lit);
      lit = '';
      parts.push(q.v);
      p = e + 1;
      continue;
    }
    lit += src[p];
    p++;
  }
  if (lit !== '') parts.push(lit);
  return parts;
}

export type { Ctx };
export { mkQ };
