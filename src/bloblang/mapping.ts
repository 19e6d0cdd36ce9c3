/**
 * Executable mappings: `mapping` / `mutation` processor semantics, `check` queries, the branch
 * processor's result-map execution (`execWith`) and `${! }` interpolations.
 */
import type { InterpolatedString, Mapping } from '../engine/bloblang-api.js';
import { Message, type Batch } from '../engine/message.js';
import { Ctx, ExecState, UNSET, clone, structuredOf, toStr, type MapFn, type MetaTarget, type Q } from './core.js';
import { goJsonSerializer } from './json.js';
import { AssignErr, INLINE_HELPERS, findAssignErr, type MapDef, type RootBox, type Stmt } from './lang.js';
import { parseInterpolation, parseMapping, type ParseOptions, type ParsedMapping } from './parser.js';
import { DELETE, NOTHING, QErr, toQErr } from './value.js';

/** A mapping failed at runtime. The message reads like Benthos' (`failed assignment (line 3): …`). */
export class BloblangError extends Error {
  override name = 'BloblangError';
  constructor(
    message: string,
    /** 1-based line of the failing statement (0 when unknown). */
    readonly line = 0,
  ) {
    super(message);
  }
}

/** How errors are reported: the processors' (`MapPart`) or the blobl CLI's (`ExecOnto`). */
export type ErrorStyle = 'part' | 'onto';

export interface ExecOptions {
  /** Batch read by content(), json(), metadata(), batch_index() (default: one empty message). */
  batch?: Batch;
  index?: number;
  /** Value of `this`; when omitted it is the message at `index`, parsed lazily. */
  this?: unknown;
  /** Initial value of `root` (default: nothing assigned). Mutated in place when it is an object. */
  root?: unknown;
  /** Metadata read by `@` and written by `meta x = …`; null disables metadata. */
  meta?: MetaTarget | null;
  /** Variables (reset per execution unless provided). */
  vars?: Record<string, unknown>;
  errorStyle?: ErrorStyle;
}

export interface ExecResult {
  /** The root value: a value, DELETE, or NOTHING when root was never assigned. */
  root: unknown;
}

const EMPTY_BATCH: Batch = [];
/** Shared (frozen) variables object for mappings without `let` statements. */
const NO_VARS: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

export class CompiledMapping implements Mapping {
  readonly stmts: readonly Stmt[];
  readonly maps: Record<string, MapFn>;
  readonly #hasLet: boolean;
  /** Execution state reused across (non-overlapping) executions to spare allocations. */
  #pool: { st: ExecState; box: RootBox } | null;
  /** The statements as one generated function (monomorphic calls V8 can inline). */
  readonly #prog: Program;

  constructor(readonly parsed: ParsedMapping) {
    this.stmts = parsed.stmts;
    this.#hasLet = parsed.hasLet !== false;
    const maps: Record<string, MapFn> = {};
    for (const [k, v] of Object.entries(parsed.maps)) maps[k] = (v as MapDef).exec;
    this.maps = maps;
    this.#pool = { st: new ExecState(EMPTY_BATCH, 0, null, maps), box: { v: NOTHING } };
    this.#prog = compileProgram(this.stmts);
  }

  /** Runs the statements; throws BloblangError. Returns the final root value. */
  run(st: ExecState, rootInit: unknown, vars: Record<string, unknown>, style: ErrorStyle, box: RootBox = { v: rootInit }): unknown {
    const c = new Ctx(UNSET, UNSET, null, vars, box, st.index, st, 0);
    const prog = this.#prog;
    prog.at = 0;
    try {
      prog.run(c);
    } catch (e) {
      throw this.formatError(toQErr(e), (this.stmts[prog.at] as Stmt).line, st, style);
    }
    return box.v;
  }

  formatError(q: QErr, line: number, st: ExecState, style: ErrorStyle): BloblangError {
    const noCtx = q.noContext();
    const parseErr = st.thisError;
    let msg: string;
    if (noCtx && parseErr !== null) {
      const field = noCtx.detail?.field ?? '';
      const replaced =
        field !== ''
          ? `unable to reference message as structured (with 'this.${field}'): ${parseErr}`
          : `unable to reference message as structured (with 'this'): ${parseErr}`;
      if (style === 'onto') return new BloblangError(replaced, line);
      msg = replaced;
    } else msg = q.message();
    if (style === 'onto') {
      const inner = findAssignErr(q);
      if (inner) return new BloblangError(inner.message(), inner.line);
    }
    return new BloblangError(`failed assignment (line ${line}): ${msg}`, line);
  }

  /** General execution (used by processors needing custom contexts, e.g. branch result maps). */
  execWith(opts: ExecOptions = {}): ExecResult {
    const batch = opts.batch ?? (EMPTY_BATCH as Batch);
    const index = opts.index ?? 0;
    const meta = opts.meta === undefined ? (batch[index] ?? null) : opts.meta;
    const st = new ExecState(batch, index, meta, this.maps, 'this' in opts ? opts.this : UNSET);
    const root = this.run(st, opts.root === undefined ? NOTHING : opts.root, opts.vars ?? {}, opts.errorStyle ?? 'part');
    return { root };
  }

  /** `branch` result_map semantics (see the engine's Mapping interface). */
  mapOnto(target: Message, source: Batch, index: number): Message | null {
    const src = source[index] as Message;
    let self: unknown;
    try {
      self = structuredOf(src);
    } catch {
      self = UNSET;
    }
    let root: unknown;
    try {
      root = structuredOf(target);
      root = clone(root);
    } catch {
      root = NOTHING;
    }
    const r = this.execWith({ batch: source, index, ...(self === UNSET ? {} : { this: self }), root, meta: target });
    return applyRoot(target, r.root);
  }

  /** `mapping` processor semantics. */
  map(batch: Batch, index: number): Message | null {
    const ref = batch[index] as Message;
    const out = ref.copy();
    const pool = this.#pool;
    if (pool === null) {
      // Re-entrant call (a mapping running itself): use fresh state.
      const st = new ExecState(batch, index, out, this.maps);
      return applyRoot(out, this.run(st, NOTHING, this.#hasLet ? {} : NO_VARS, 'part'));
    }
    this.#pool = null;
    const { st, box } = pool;
    st.reset(batch, index, out);
    box.v = NOTHING;
    box.rootOwned = false;
    box.own = null;
    let root: unknown;
    try {
      root = this.run(st, NOTHING, this.#hasLet ? {} : NO_VARS, 'part', box);
    } finally {
      st.reset(EMPTY_BATCH, 0, null);
      box.v = NOTHING;
      box.own = null;
      this.#pool = pool;
    }
    return applyRoot(out, root);
  }

  /**
   * `mutation` processor semantics: root starts as the message document and `this` reads the
   * document as it is being modified (root and this alias, as in Benthos).
   */
  mutate(batch: Batch, index: number): Message | null {
    const msg = batch[index] as Message;
    const box: RootBox = { v: NOTHING };
    let st: ExecState;
    try {
      box.v = structuredOf(msg);
      st = new ExecState(batch, index, msg, this.maps, UNSET, box);
    } catch {
      st = new ExecState(batch, index, msg, this.maps);
    }
    const untouched = box.v;
    let root: unknown;
    try {
      root = this.run(st, box.v, {}, 'part', box);
    } catch (e) {
      if (box.v !== untouched && box.v !== NOTHING) applyRoot(msg, box.v);
      throw e;
    }
    if (root === untouched) return msg;
    return applyRoot(msg, root);
  }

  /** Evaluates the mapping and returns the value assigned to root. */
  query(batch: Batch, index: number): unknown {
    const ref = batch[index] as Message;
    const out = ref.copy();
    const st = new ExecState(batch, index, out, this.maps);
    const root = this.run(st, NOTHING, {}, 'part');
    if (root === DELETE) throw new BloblangError('query mapping resulted in deleted message, expected a boolean value');
    if (root === NOTHING) {
      try {
        return structuredOf(ref);
      } catch {
        return null;
      }
    }
    return root;
  }
}

interface Program {
  /** Index of the statement being executed (for error lines). */
  at: number;
  run(c: Ctx): void;
}

/**
 * Generates one function running every statement in order. Statements that provide their source
 * (`root.key = …`) are spliced in, so consecutive assignments share one frame and the message
 * value is looked up once per execution (when `this` cannot change underneath, i.e. outside
 * mutations); the others are called (each call site sees one function, which V8 can inline).
 */
function compileProgram(stmts: readonly Stmt[]): Program {
  const names: string[] = [];
  const values: unknown[] = [];
  let body = '';
  stmts.forEach((s, i) => {
    body += `p.at = ${i};\n`;
    if (s.inline) {
      let src = s.inline.body.replace(/\$L\b/g, `L${i}`).replace(/\$A(\d+)\b/g, (_m, j: string) => `a${i}_${j}`);
      src = src.replace(/readThis\(("(?:[^"\\]|\\.)*")\)/g, (_m, n: string) => `(cacheThis ? (t !== UNSET ? t : (t = c.st.thisValue(${n}))) : c.st.thisValue(${n}))`);
      s.inline.args.forEach((a, j) => {
        names.push(`a${i}_${j}`);
        values.push(a);
      });
      body += `L${i}: {\n${src}\n}\n`;
    } else {
      names.push(`s${i}`);
      values.push(s);
      body += `s${i}.exec(c);\n`;
    }
  });
  const helperNames = Object.keys(INLINE_HELPERS);
  const factory = new Function(
    ...helperNames,
    ...names,
    `const p = { at: 0, run(c) {
      const box = c.rt;
      const cacheThis = c.st.thisBox === null;
      let t = UNSET;
      ${body}
    } };
    return p;`,
  ) as (...a: unknown[]) => Program;
  return factory(...helperNames.map((n) => INLINE_HELPERS[n]), ...values);
}

/** Writes a mapping result into a message: string/bytes raw, other values structured. */
export function applyRoot(msg: Message, root: unknown): Message | null {
  if (root === DELETE) return null;
  if (root === NOTHING) return msg;
  if (typeof root === 'string') msg.setBytes(root);
  else if (root instanceof Uint8Array) msg.setBytes(root);
  else msg.setStructured(root === undefined ? null : root, goJsonSerializer);
  return msg;
}

export function compileMapping(src: string, opts: ParseOptions = {}): CompiledMapping {
  return new CompiledMapping(parseMapping(src, opts));
}

// ---------------------------------------------------------------------------------------------
// Interpolation

export class Interpolation implements InterpolatedString {
  readonly isStatic: boolean;
  readonly parts: ReadonlyArray<string | Q>;

  constructor(readonly src: string, opts: ParseOptions = {}) {
    this.parts = parseInterpolation(src, opts);
    this.isStatic = this.parts.every((p) => typeof p === 'string');
  }

  render(batch: Batch, index: number): string {
    if (this.isStatic) return this.parts.length === 0 ? '' : (this.parts as string[]).join('');
    const msg = batch[index] ?? new Message('');
    const st = new ExecState(batch.length > 0 ? batch : [msg], batch.length > 0 ? index : 0, msg, {});
    let lazyOk = true;
    let out = '';
    for (const p of this.parts) {
      if (typeof p === 'string') {
        out += p;
        continue;
      }
      const c = new Ctx(UNSET, UNSET, null, null, null, st.index, st, 0);
      let v: unknown;
      try {
        v = p.ev(c);
      } catch (e) {
        const q = toQErr(e);
        if (lazyOk && q.noContext() && st.thisError !== null) lazyOk = false;
        throw new BloblangError(q.message());
      }
      out += v === DELETE || v === NOTHING ? 'null' : toStr(v);
    }
    return out;
  }
}

export { AssignErr };
