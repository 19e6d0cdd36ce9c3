/**
 * Language constructs compiled to closures: field paths, metadata and variable references,
 * lambdas (named contexts), `match`, `if`, literals, statements and named maps.
 */
import {
  Ctx,
  UNSET,
  assignable,
  getPath,
  literal,
  mkQ,
  setKey,
  sliceToDotPath,
  valuesEqual,
  bytesToString,
  type MapFn,
  type NamedValue,
  type Q,
} from './core.js';
import { buildFunction, buildMethod, type RawArg } from './registry.js';
import {
  DELETE,
  NOTHING,
  QErr,
  errPlain,
  goFmtV,
  goTypeName,
  isObject,
  toQErr,
  typeOf,
  type BObject,
} from './value.js';

// ---------------------------------------------------------------------------------------------
// Error helpers

/** Wraps an error with a prefix, keeping the cause chain (for no-context detection). */
export function wrapErr(prefix: string, e: unknown): QErr {
  const inner = toQErr(e);
  return new QErr('plain', `${prefix}${inner.message()}`, { cause: inner });
}

/** `failed assignment (line N): …` errors produced by executors. */
export class AssignErr extends QErr {
  constructor(
    readonly line: number,
    readonly inner: QErr,
  ) {
    super('plain', `failed assignment (line ${line}): ${inner.message()}`, { cause: inner });
  }
}

/** Finds the innermost failed-assignment error in a chain (formatExecErr's errors.As). */
export function findAssignErr(e: QErr): AssignErr | undefined {
  let cur: QErr | undefined = e;
  while (cur) {
    if (cur instanceof AssignErr) return cur;
    cur = cur.detail?.cause;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Field access

const nullify = (v: unknown): unknown => (v === undefined ? null : v);

function readThis(c: Ctx, fieldName: string): unknown {
  return c.v !== UNSET ? c.v : c.st.thisValue(fieldName);
}

function objGet(v: unknown, k: string): unknown {
  if (typeof v !== 'object' || v === null) return null;
  const p = Object.getPrototypeOf(v) as unknown;
  if (p === Object.prototype || p === null) {
    const r = (v as BObject)[k];
    return r === undefined || !Object.hasOwn(v, k) ? null : r;
  }
  if (Array.isArray(v)) return nullify(getPath(v, [k]));
  return null;
}

/** Keys that exist on Object.prototype: reading them needs an own-property check. */
const PROTO_KEYS = new Set(Object.getOwnPropertyNames(Object.prototype));

/**
 * Generates a reader for a fixed path. Each generated function has its own inline caches, so
 * property reads stay monomorphic per field (a shared closure would go megamorphic). Keys are
 * embedded as JSON string literals. Arrays, wildcards and unusual keys take the generic path.
 */
function genReader(path: readonly string[]): (v: unknown) => unknown {
  let body = '';
  for (const k of path) {
    if (k === '*' || /^[+-]?\d+$/.test(k) || PROTO_KEYS.has(k)) return (v) => nullify(getPath(v, path));
    const key = JSON.stringify(k);
    body +=
      `if (typeof v !== 'object' || v === null) return null;\n` +
      `r = v[${key}];\n` +
      `if (r === undefined) return null;\n` +
      (RISKY_KEYS.has(k) ? `if (!plain(v)) return slow(v, ${key});\n` : `if (typeof r === 'function') return null;\n`) +
      `v = r;\n`;
  }
  const factory = new Function('plain', 'slow', `return function readPath(v) { let r;\n${body}return v; };`) as (
    plain: (v: object) => boolean,
    slow: (v: unknown, k: string) => unknown,
  ) => (v: unknown) => unknown;
  return factory(isPlainForRead, objGet);
}

function isPlainForRead(v: object): boolean {
  return !Array.isArray(v) && !(v instanceof Uint8Array) && isObject(v);
}

const readerCache = new Map<string, (v: unknown) => unknown>();

function pathReader(path: readonly string[]): (v: unknown) => unknown {
  if (path.length === 0) return (v) => v;
  const key = path.join('\u0000');
  let r = readerCache.get(key);
  if (!r) {
    r = genReader(path);
    if (readerCache.size < 10000) readerCache.set(key, r);
  }
  return r;
}

export function thisField(path: readonly string[]): Q {
  const name = path.length > 0 ? sliceToDotPath(path) : '';
  const ann = 'field `this' + (name !== '' ? '.' + name : '') + '`';
  const read = pathReader(path);
  if (path.length === 0) return mkQ((c) => readThis(c, ''), ann, { field: { base: 'this', path } });
  return mkQ((c) => read(readThis(c, name)), ann, { field: { base: 'this', path } });
}

export function rootField(path: readonly string[]): Q {
  const name = path.length > 0 ? sliceToDotPath(path) : '';
  const ann = 'field `root' + (name !== '' ? '.' + name : '') + '`';
  const read = pathReader(path);
  return mkQ(
    (c) => {
      if (!c.rt) throw errPlain('unable to reference `root` from this context');
      const v = c.rt.v;
      return path.length === 0 ? v : read(v);
    },
    ann,
    { field: { base: 'root', path } },
  );
}

export function namedField(name: string, path: readonly string[]): Q {
  const p = path.length > 0 ? sliceToDotPath(path) : '';
  const ann = 'field `' + name + (p !== '' ? '.' + p : '') + '`';
  const read = pathReader(path);
  return mkQ(
    (c) => {
      let n = c.named;
      while (n) {
        if (n.name === name) return read(n.value);
        n = n.next;
      }
      throw errPlain(`named context ${name} was not found`);
    },
    ann,
    { field: { base: name, path } },
  );
}

const getTargets = new WeakMap<Q, { target: Q; path: readonly string[] }>();

/** `<query>.field` (NewGetMethod): extends field paths, otherwise reads a path of the result. */
export function getField(fn: Q, path: readonly string[]): Q {
  if (fn.field) {
    const full = [...fn.field.path, ...path];
    if (fn.field.base === 'this') return thisField(full);
    if (fn.field.base === 'root') return rootField(full);
    return namedField(fn.field.base, full);
  }
  const prev = getTargets.get(fn);
  const target = prev ? prev.target : fn;
  const full = prev ? [...prev.path, ...path] : [...path];
  const read = pathReader(full);
  const tev = target.ev;
  const q = mkQ((c) => read(tev(c)), 'path `' + sliceToDotPath(full) + '`');
  getTargets.set(q, { target, path: full });
  return q;
}

export function metaRef(key: string | null): Q {
  if (key !== null) {
    return mkQ((c) => {
      const m = c.st.meta;
      if (!m) throw errPlain('metadata cannot be queried in this context');
      const v = m.metaGet(key);
      return v === undefined ? null : v;
    }, `meta field ${key}`);
  }
  return mkQ((c) => {
    const m = c.st.meta;
    if (!m) throw errPlain('metadata cannot be queried in this context');
    const out: BObject = {};
    for (const [k, v] of m.metaEntries()) setKey(out, k, v);
    return out;
  }, 'meta object');
}

export function varRef(name: string): Q {
  return mkQ((c) => {
    const vars = c.vars;
    if (!vars) throw errPlain('variables were undefined');
    if (!Object.hasOwn(vars, name)) throw errPlain(`variable '${name}' undefined`);
    return vars[name];
  }, `variable ${name}`);
}

// ---------------------------------------------------------------------------------------------
// Lambdas, maps over values, match, if

/** `name -> query`: captures the current context under `name` and restores the previous one. */
export function lambda(name: string, body: Q): Q {
  const bev = body.ev;
  return mkQ(
    (c) => {
      let v: unknown;
      if (c.v !== UNSET) v = c.v;
      else {
        try {
          v = c.st.thisValue('');
        } catch {
          throw errPlain(`failed to capture context ${name}: context was undefined`);
        }
      }
      const named = name === '_' ? c.named : { name, value: v, next: c.named };
      return bev(new Ctx(c.pv, UNSET, named, c.vars, c.rt, c.index, c.st, c.depth));
    },
    body.ann,
    {
      lambda: name,
      // Capturing a value directly: the outer context stays `this`.
      evWith: (c, v) =>
        bev(new Ctx(c.v, UNSET, name === '_' ? c.named : { name, value: v, next: c.named }, c.vars, c.rt, c.index, c.st, c.depth)),
      bindEach: (c) => {
        if (name === '_') {
          const cc = new Ctx(c.v, UNSET, c.named, c.vars, c.rt, c.index, c.st, c.depth);
          return () => bev(cc);
        }
        const node: NamedValue = { name, value: null, next: c.named };
        const cc = new Ctx(c.v, UNSET, node, c.vars, c.rt, c.index, c.st, c.depth);
        return (v) => {
          node.value = v;
          return bev(cc);
        };
      },
    },
  );
}

/** `<query>.(<query>)`: evaluates the inner query with the target as context. */
export function mapMethod(target: Q, inner: Q): Q {
  const tev = target.ev;
  const iev = inner.ev;
  return mkQ((c) => iev(c.withValue(tev(c))), inner.ann);
}

export interface MatchCase {
  /** null for `_`. */
  readonly cond: Q | null;
  readonly body: Q;
}

export function matchExpr(subject: Q | null, cases: readonly MatchCase[]): Q {
  const compiled = cases.map(({ cond, body }) => {
    let test: (c: Ctx, v: unknown) => boolean;
    if (cond === null) test = () => true;
    else if (cond.lit) {
      const lit = cond.lit.v;
      test = (_c, v) => valuesEqual(v, lit);
    } else {
      const cev = cond.ev;
      test = (c) => cev(c) === true;
    }
    return { test, lit: cond?.lit !== undefined, body: body.ev };
  });
  const sev = subject?.ev;
  return mkQ((c) => {
    let v: unknown;
    if (sev) v = sev(c);
    else if (c.v !== UNSET) v = c.v;
    else {
      try {
        v = c.st.thisValue('');
      } catch {
        v = null;
      }
    }
    const cc = c.withValue(v);
    for (let i = 0; i < compiled.length; i++) {
      const k = compiled[i] as (typeof compiled)[number];
      let hit: boolean;
      try {
        hit = k.test(cc, v);
      } catch (e) {
        throw wrapErr(`failed to check match case ${i}: `, e);
      }
      if (hit) return k.body(cc);
    }
    return NOTHING;
  }, 'match expression');
}

function nonBool(q: Q, v: unknown): QErr {
  return errPlain(`${q.ann} resolved to a non-boolean value ${goFmtV(v)} (${goTypeName(v)})`);
}

export function ifExpr(branches: ReadonlyArray<readonly [Q, Q]>, elseQ: Q | null): Q {
  const bs = branches.map(([cond, body]) => ({ cond, cev: cond.ev, bev: body.ev }));
  const eev = elseQ?.ev;
  return mkQ((c) => {
    for (let i = 0; i < bs.length; i++) {
      const b = bs[i] as (typeof bs)[number];
      let v: unknown;
      try {
        v = b.cev(c);
      } catch (e) {
        throw wrapErr(i === 0 ? 'failed to check if condition: ' : `failed to check if condition ${i}: `, e);
      }
      if (v === true) return b.bev(c);
      if (v !== false && v !== null && v !== undefined) throw nonBool(b.cond, v);
    }
    return eev ? eev(c) : NOTHING;
  }, 'if expression');
}

// ---------------------------------------------------------------------------------------------
// Literals

export function arrayLiteral(items: readonly Q[]): Q {
  if (items.every((q) => q.lit)) {
    const vals = items.map((q) => (q.lit as { v: unknown }).v).filter((v) => v !== DELETE && v !== NOTHING);
    return literal(vals);
  }
  const evs = items.map((q) => (q.lit ? { v: q.lit.v, ev: null } : { v: undefined, ev: q.ev }));
  return mkQ((c) => {
    const out: unknown[] = [];
    for (const it of evs) {
      const v = it.ev ? it.ev(c) : it.v;
      if (v !== DELETE && v !== NOTHING) out.push(v);
    }
    return out;
  }, 'array literal');
}

export function objectLiteral(entries: ReadonlyArray<readonly [string | Q, Q]>): Q {
  let dynamic = false;
  const norm: Array<{ key: string | Q; val: Q }> = [];
  for (const [k, v] of entries) {
    let key: string | Q = k;
    if (typeof k !== 'string') {
      if (k.lit) {
        if (typeof k.lit.v !== 'string') throw new Error(`object keys must be strings, received: ${goTypeName(k.lit.v)}`);
        key = k.lit.v;
      } else dynamic = true;
    }
    if (!v.lit) dynamic = true;
    norm.push({ key, val: v });
  }
  if (!dynamic) {
    const o: BObject = {};
    for (const { key, val } of norm) {
      const v = (val.lit as { v: unknown }).v;
      if (v !== DELETE && v !== NOTHING) setKey(o, key as string, v);
    }
    return literal(o);
  }
  const compiled = norm.map(({ key, val }) => ({
    key: typeof key === 'string' ? key : null,
    kev: typeof key === 'string' ? null : key.ev,
    lit: val.lit ? { v: val.lit.v } : null,
    vev: val.ev,
  }));
  return mkQ((c) => {
    const o: BObject = {};
    for (const e of compiled) {
      let key: string;
      if (e.key !== null) key = e.key;
      else {
        let kv: unknown;
        try {
          kv = (e.kev as (c: Ctx) => unknown)(c);
        } catch (err) {
          throw wrapErr('failed to resolve key: ', err);
        }
        if (typeof kv === 'string') key = kv;
        else if (kv instanceof Uint8Array) key = bytesToString(kv);
        else throw errPlain(`mapping returned invalid key type: ${goTypeName(kv)}`);
      }
      let v: unknown;
      if (e.lit) v = e.lit.v;
      else {
        try {
          v = e.vev(c);
        } catch (err) {
          throw wrapErr(`failed to resolve '${key}' value: `, err);
        }
      }
      if (v !== DELETE && v !== NOTHING) setKey(o, key, v);
    }
    return o;
  }, 'object literal');
}

// ---------------------------------------------------------------------------------------------
// Functions and methods

export function functionCall(name: string, args: readonly RawArg[]): Q {
  return buildFunction(name, args);
}

export function method(name: string, target: Q, args: readonly RawArg[]): Q {
  return buildMethod(name, target, args);
}

// ---------------------------------------------------------------------------------------------
// Statements

export interface Stmt {
  /** Line of the statement relative to its executor (mapping or map body). */
  readonly line: number;
  exec(c: Ctx): void;
  /**
   * The statement as JS source a program generator may splice into one function: `body` uses
   * `c` (the Ctx), `box` (c.rt), `readThis(name)` for the message value, ends early with
   * `break $L;` (the generator replaces `$L` with a label) and refers to `args` as `$A0…`.
   */
  readonly inline?: { readonly body: string; readonly args: readonly unknown[] };
}

function collisionError(root: unknown, path: readonly string[]): QErr {
  const dot = sliceToDotPath(path);
  if (!isObject(root)) {
    return errPlain(`unable to set target path ${dot} as the value of the root was a non-object type (${typeOf(root)})`);
  }
  let cur: unknown = root;
  const culprit: string[] = [];
  for (const seg of path) {
    culprit.push(seg);
    cur = isObject(cur) ? (cur as BObject)[seg] : undefined;
    if (!isObject(cur)) break;
  }
  return errPlain(
    `unable to set target path ${dot} as the value of ${sliceToDotPath(culprit)} was a non-object type (${typeOf(cur === undefined ? null : cur)})`,
  );
}

/**
 * The value being built (`root`). Containers are copied on write: an assignment never clones
 * the value it stores (which may alias the input), instead the containers along a written path
 * are shallow-copied the first time they are written to. `own` remembers copies made (or
 * created) during this execution so they are written in place afterwards.
 */
export interface RootBox {
  v: unknown;
  /** True when the root container itself was created or copied by this execution. */
  rootOwned?: boolean;
  own?: Set<object> | null;
}

function shallowCopy(v: unknown): unknown {
  if (Array.isArray(v)) return v.slice();
  if (isObject(v)) {
    const out: BObject = {};
    for (const k of Object.keys(v)) setKey(out, k, v[k]);
    return out;
  }
  return v;
}

function owned(box: RootBox, v: object): boolean {
  return box.own !== undefined && box.own !== null && box.own.has(v);
}

function own(box: RootBox, v: object): void {
  (box.own ??= new Set()).add(v);
}

function isIndex(seg: string): boolean {
  return /^[+-]?\d+$/.test(seg);
}

/** Applies a value to a path of the value being built (JSONAssignment, gabs Set/Delete rules). */
export function assignTo(box: RootBox, path: readonly string[], val: unknown): void {
  if (path.length === 0) {
    box.v = val;
    box.rootOwned = false;
    return;
  }
  if (box.v === NOTHING || box.v === null || box.v === undefined) {
    box.v = {};
    box.rootOwned = true;
  } else if (!box.rootOwned) {
    if (!isObject(box.v) && !Array.isArray(box.v)) {
      if (val === DELETE) return;
      throw collisionError(box.v, path);
    }
    box.v = shallowCopy(box.v);
    box.rootOwned = true;
  }
  let cur = box.v as BObject | unknown[];
  const last = path.length - 1;
  for (let i = 0; i <= last; i++) {
    const seg = path[i] as string;
    if (Array.isArray(cur)) {
      if (seg === '-' && val !== DELETE) {
        // At the root Benthos retries the append with an explicit index, so it behaves the same.
        const el = i === last ? val : {};
        if (i !== last) own(box, el as object);
        cur.push(el);
        cur = el as BObject;
        continue;
      }
      if (!isIndex(seg)) {
        if (val === DELETE) return;
        throw errPlain(
          `unable to set target path ${sliceToDotPath(path)}: failed to resolve path segment '${i}': found array but segment value '${seg}' could not be parsed into array index: strconv.Atoi: parsing ${JSON.stringify(seg)}: invalid syntax`,
        );
      }
      const idx = Number(seg);
      if (idx < 0 || idx >= cur.length) {
        if (val === DELETE) return;
        if (idx < 0) throw errPlain(`unable to set target path ${sliceToDotPath(path)}: failed to resolve path segment '${i}': found array but index '${seg}' is invalid`);
        throw errPlain(
          `unable to set target path ${sliceToDotPath(path)}: failed to resolve path segment '${i}': found array but index '${seg}' exceeded target array size of '${cur.length}'`,
        );
      }
      if (i === last) {
        if (val === DELETE) cur.splice(idx, 1);
        else cur[idx] = val;
        return;
      }
      let next = cur[idx];
      if (next === null || next === undefined) {
        if (val === DELETE) return;
        throw errPlain(`unable to set target path ${sliceToDotPath(path)}: failed to resolve path segment '${i}': field '${seg}' was not found`);
      }
      if (typeof next === 'object' && !owned(box, next as object) && (isObject(next) || Array.isArray(next))) {
        next = shallowCopy(next);
        own(box, next as object);
        cur[idx] = next;
      }
      cur = next as BObject;
      continue;
    }
    if (!isObject(cur)) {
      if (val === DELETE) return;
      throw collisionError(box.v, path);
    }
    if (i === last) {
      if (val === DELETE) delete cur[seg];
      else setKey(cur, seg, val);
      return;
    }
    let next = Object.hasOwn(cur, seg) ? cur[seg] : undefined;
    if (next === undefined || next === null) {
      if (val === DELETE) return;
      next = {};
      own(box, next as object);
      setKey(cur, seg, next);
    } else if (typeof next === 'object' && !owned(box, next as object) && (isObject(next) || Array.isArray(next))) {
      next = shallowCopy(next);
      own(box, next as object);
      setKey(cur, seg, next);
    }
    cur = next as BObject;
  }
}

export function assignStmt(path: readonly string[], q: Q, line: number): Stmt {
  const ev = q.ev;
  if (path.length === 0) {
    return {
      line,
      exec(c) {
        const v = ev(c);
        if (v === NOTHING) return;
        const box = c.rt as RootBox;
        box.v = v;
        box.rootOwned = false;
      },
    };
  }
  if (path.length === 1 && path[0] !== '__proto__') {
    return genKeyAssign(path[0] as string, q, path, line);
  }
  return {
    line,
    exec(c) {
      const v = ev(c);
      if (v === NOTHING) return;
      assignTo(c.rt as RootBox, path, v);
    },
  };
}

/**
 * Keys that non-JSON values (arrays, typed arrays, F64, Timestamp) carry as own or inherited
 * non-function properties: reading them needs a plain-object check.
 */
const RISKY_KEYS = new Set(['length', 'v', 'text', 'bits', 'sec', 'nsec', 'loc', 'buffer', 'byteLength', 'byteOffset', 'BYTES_PER_ELEMENT']);

/** JS source reading a fixed path of `v` into `v` (null when missing), or null if unsupported. */
function inlineReadSource(path: readonly string[]): string | null {
  let body = '';
  for (const k of path) {
    if (k === '*' || /^[+-]?\d+$/.test(k) || PROTO_KEYS.has(k)) return null;
    const key = JSON.stringify(k);
    body += RISKY_KEYS.has(k)
      ? `if (typeof v !== 'object' || v === null) { v = null; } else { const r = v[${key}]; v = r === undefined ? null : plain(v) ? r : slow(v, ${key}); }\n`
      : `if (typeof v !== 'object' || v === null) { v = null; } else { const r = v[${key}]; v = r === undefined || typeof r === 'function' ? null : r; }\n`;
  }
  return body;
}

/**
 * Generated `root.<key> = <query>` statement. Each statement is its own function so property
 * loads and stores keep their own inline caches; `root.x = this.a.b` reads the path inline.
 */
function genKeyAssign(k: string, q: Q, path: readonly string[], line: number): Stmt {
  const field = q.field;
  const read = field && field.base === 'this' && field.path.length > 0 ? inlineReadSource(field.path) : null;
  const name = field ? sliceToDotPath(field.path) : '';
  const key = JSON.stringify(k);
  // $A0 = ev, $A1 = path, $A2 = Root constructor.
  const compute = read
    ? `let v = c.v !== UNSET ? c.v : readThis(${JSON.stringify(name)});\n${read}`
    : 'const v = $A0(c);\nif (v === NOTHING) break $L;\n';
  const body = `${compute}
      if (v !== DELETE) {
        if (box.rootOwned === true) {
          const cur = box.v;
          if (!Array.isArray(cur)) { cur[${key}] = v; break $L; }
        } else if (box.v === NOTHING) {
          const o = new $A2();
          o[${key}] = v;
          box.v = o;
          box.rootOwned = true;
          break $L;
        }
      }
      assignTo(box, $A1, v);`;
  // Objects built with a constructor get in-object slack tracking (room for all root keys);
  // their prototype is Object.prototype so they are ordinary JSON objects.
  const Root = function Root(this: object) {} as unknown as new () => object;
  Root.prototype = Object.prototype;
  const args = [q.ev, path, Root];
  const fn = new Function(
    'NOTHING',
    'DELETE',
    'UNSET',
    'plain',
    'slow',
    'assignTo',
    '$A0',
    '$A1',
    '$A2',
    `return function exec(c) {
      const box = c.rt;
      $L: { ${body.replace(/readThis\(/g, 'c.st.thisValue(')} }
    };`,
  ) as (...a: unknown[]) => (c: Ctx) => void;
  return { line, exec: fn(NOTHING, DELETE, UNSET, isPlainForRead, objGet, assignTo, ...args), inline: { body, args } };
}

/** Helpers the generated statement code refers to by name. */
export const INLINE_HELPERS: Readonly<Record<string, unknown>> = {
  NOTHING,
  DELETE,
  UNSET,
  plain: isPlainForRead,
  slow: objGet,
  assignTo,
};

let letStatements = 0;
/** Number of `let` statements compiled so far (lets mappings without variables skip allocating them). */
export function letCount(): number {
  return letStatements;
}

export function letStmt(name: string, q: Q, line: number): Stmt {
  letStatements++;
  const ev = q.ev;
  return {
    line,
    exec(c) {
      const v = ev(c);
      if (v === NOTHING) return;
      const vars = c.vars as Record<string, unknown>;
      if (v === DELETE) delete vars[name];
      else vars[name] = v;
    },
  };
}

export function metaStmt(key: string | null, q: Q, line: number): Stmt {
  const ev = q.ev;
  return {
    line,
    exec(c) {
      const meta = c.st.meta;
      const v = ev(c);
      if (v === NOTHING) return;
      if (!meta) throw errPlain('unable to assign metadata in the current context');
      if (key === null) {
        if (v === DELETE) {
          meta.metaClear();
          return;
        }
        if (!isObject(v)) {
          throw errPlain(`setting root meta object requires object value, received: ${goTypeName(v)}`);
        }
        const copy = assignable(v) as BObject;
        meta.metaClear();
        for (const k of Object.keys(copy)) meta.metaSet(k, copy[k]);
        return;
      }
      if (v === DELETE) meta.metaDelete(key);
      else meta.metaSet(key, assignable(v));
    },
  };
}

export function ifStmt(pairs: ReadonlyArray<readonly [Q | null, readonly Stmt[]]>, line: number): Stmt {
  return {
    line,
    exec(c) {
      for (let i = 0; i < pairs.length; i++) {
        const [cond, stmts] = pairs[i] as readonly [Q | null, readonly Stmt[]];
        if (cond) {
          let v: unknown;
          try {
            v = cond.ev(c);
          } catch (e) {
            throw wrapErr(`failed to check if condition ${i + 1}: `, e);
          }
          if (typeof v !== 'boolean') throw nonBool(cond, v);
          if (!v) continue;
        }
        for (const s of stmts) s.exec(c);
        return;
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Named maps

export const MAX_MAP_STACKS = 5000;

export interface MapDef {
  readonly name: string;
  readonly stmts: readonly Stmt[];
  exec: MapFn;
}

/** Runs statements onto a fresh value (Executor.Exec) and returns the value built. */
export function runStatements(name: string, stmts: readonly Stmt[], c: Ctx): unknown {
  if (c.depth > MAX_MAP_STACKS) {
    throw errPlain(`entering ${name} exceeded maximum allowed stacks of ${MAX_MAP_STACKS}, this could be due to unbounded recursion`);
  }
  const box: RootBox = { v: NOTHING };
  const inner = new Ctx(c.v, c.pv, c.named, c.vars, box, c.index, c.st, c.depth + 1);
  for (const s of stmts) {
    try {
      s.exec(inner);
    } catch (e) {
      const q = toQErr(e);
      const existing = findAssignErr(q);
      throw existing ?? new AssignErr(s.line, q);
    }
  }
  return box.v;
}

export function mapDef(name: string, stmts: readonly Stmt[], _maps: Record<string, MapDef>): MapDef {
  const annotation = `map ${name}`;
  return { name, stmts, exec: (c) => runStatements(annotation, stmts, c) };
}
