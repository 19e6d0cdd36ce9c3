/**
 * Function and method registry with declared parameters. Arguments may be positional or named
 * (not mixed); literal arguments are validated once at parse time, dynamic ones per execution,
 * with Benthos' error wording ("field low: expected number value, got string (\"a\")").
 */
import { isQ, literal, mkQ, type Ctx, type Q } from './core.js';
import { getBool, getInt, getNumber, getTimestamp } from './core.js';
import { QErr, errFrom, errPlain, isObject, toQErr, typeOf, F64 } from './value.js';

export type ParamType = 'string' | 'int' | 'float' | 'number' | 'bool' | 'array' | 'object' | 'timestamp' | 'query' | 'any';

export interface ParamSpec {
  readonly name: string;
  readonly type: ParamType;
  readonly description?: string;
  /** Default value (makes the parameter optional). */
  readonly default?: unknown;
  /** Optional without a default: the argument is `undefined` when omitted. */
  readonly optional?: boolean;
  /** For query parameters: non-query arguments become literal queries. */
  readonly scalarsToLiteral?: boolean;
  /** Reject dynamic (query) arguments. */
  readonly noDynamic?: boolean;
}

export type Args = Record<string, unknown>;

export type Category =
  | 'general'
  | 'message'
  | 'environment'
  | 'fake'
  | 'deprecated'
  | 'string'
  | 'regexp'
  | 'number'
  | 'timestamp'
  | 'coercion'
  | 'object'
  | 'parsing'
  | 'encoding'
  | 'jwt';

interface BaseSpec {
  readonly name: string;
  readonly category: Category;
  readonly description?: string;
  /** Parameter list, or 'variadic' for any number of positional arguments (`args` key). */
  readonly params: readonly ParamSpec[] | 'variadic';
}

/** Per-value method implementation. Its errors are attributed to the target query. */
export type MethodImpl = (v: unknown, c: Ctx) => unknown;

export interface MethodSpec extends BaseSpec {
  /** Builds the implementation from resolved arguments (called once when all are static). */
  readonly make?: (args: Args) => MethodImpl;
  /** Builds the whole query (methods that control evaluation: catch, or, map_each …). */
  readonly raw?: (target: Q, args: Args) => Q;
}

export interface FunctionSpec extends BaseSpec {
  /** Builds the function body from resolved arguments. */
  readonly make: (args: Args) => (c: Ctx) => unknown;
  /** Annotation override (default `function <name>`); may depend on static arguments. */
  readonly ann?: string | ((args: Args) => string);
}

export const functions = new Map<string, FunctionSpec>();
export const methods = new Map<string, MethodSpec>();

export function registerFunction(spec: FunctionSpec): void {
  functions.set(spec.name, spec);
}

export function registerMethod(spec: MethodSpec): void {
  methods.set(spec.name, spec);
}

/** Shorthand for a method that needs no arguments. */
export function simpleMethod(name: string, category: Category, impl: MethodImpl, description?: string): void {
  registerMethod({ name, category, params: [], make: () => impl, ...(description ? { description } : {}) });
}

// ---------------------------------------------------------------------------------------------
// Argument processing

/** A raw parsed argument: a query, optionally named. */
export interface RawArg {
  readonly name?: string;
  readonly q: Q;
}

const typeNames: Record<ParamType, string> = {
  string: 'string',
  int: 'integer',
  float: 'float',
  number: 'number',
  bool: 'bool',
  array: 'array',
  object: 'object',
  timestamp: 'timestamp',
  query: 'query expression',
  any: 'unknown',
};

/** Validates/converts a concrete argument value for a parameter (parseArgValue). */
export function coerceArg(p: ParamSpec, v: unknown): unknown {
  switch (p.type) {
    case 'int':
      return getInt(v);
    case 'float':
    case 'number':
      return getNumber(v);
    case 'string':
      if (typeof v === 'string') return v;
      if (v instanceof Uint8Array) return new TextDecoder().decode(v);
      break;
    case 'timestamp':
      return getTimestamp(v);
    case 'bool':
      return getBool(v);
    case 'array':
      if (Array.isArray(v)) return v;
      break;
    case 'object':
      if (isObject(v)) return v;
      break;
    case 'query':
      if (isQ(v)) return v;
      if (p.scalarsToLiteral) return literal(v);
      break;
    case 'any':
      return v;
  }
  throw errPlain(`wrong argument type, expected ${typeNames[p.type]}, got ${typeOf(v)}`);
}

/** Result of binding arguments: static values plus the dynamic ones to resolve per execution. */
export interface BoundArgs {
  readonly values: Args;
  readonly dynamic: ReadonlyArray<{ readonly p: ParamSpec; readonly q: Q }>;
  /** For variadic specs: positional values (dynamic ones are queries). */
  readonly variadic?: readonly unknown[];
}

/** Binds parsed arguments to a parameter list. Throws Error with Benthos' wording. */
export function bindArgs(params: readonly ParamSpec[] | 'variadic', args: readonly RawArg[]): BoundArgs {
  const named = args.filter((a) => a.name !== undefined);
  const positional = args.filter((a) => a.name === undefined);
  if (named.length > 0 && positional.length > 0) throw new Error('cannot mix named and nameless arguments');
  const seen = new Set<string>();
  for (const a of named) {
    if (seen.has(a.name as string)) throw new Error(`duplicate named arg: ${a.name as string}`);
    seen.add(a.name as string);
  }
  if (params === 'variadic') {
    if (named.length > 0) throw new Error('named arguments are not supported');
    return { values: {}, dynamic: [], variadic: positional.map((a) => (a.q.lit ? a.q.lit.v : a.q)) };
  }
  const values: Args = {};
  const dynamic: Array<{ p: ParamSpec; q: Q }> = [];
  const missing: string[] = [];
  const given = new Map<string, Q>();
  if (named.length > 0) {
    for (const a of named) given.set(a.name as string, a.q);
  } else {
    if (positional.length > params.length) {
      throw new Error(`wrong number of arguments, expected ${params.length}, got ${positional.length}`);
    }
    positional.forEach((a, i) => given.set((params[i] as ParamSpec).name, a.q));
  }
  for (const p of params) {
    const q = given.get(p.name);
    given.delete(p.name);
    let v: unknown;
    if (q === undefined) {
      if (p.optional && p.default === undefined) continue;
      if (p.default === undefined) {
        missing.push(p.name);
        continue;
      }
      v = p.default;
      if (p.type === 'query' && !isQ(v)) v = literal(v);
      values[p.name] = v;
      continue;
    }
    if (p.type === 'query') {
      values[p.name] = coerceArgAt(p, q);
      continue;
    }
    if (q.lit) {
      values[p.name] = coerceArgAt(p, q.lit.v);
      continue;
    }
    if (p.noDynamic) throw new Error(`param ${p.name} must not be dynamic`);
    dynamic.push({ p, q });
  }
  if (given.size > 0) {
    const unexpected = [...given.keys()].sort();
    let opts = '';
    if (missing.length === 1) opts = `, did you mean ${missing[0] as string}?`;
    else if (missing.length > 1) opts = `, expected ${missing.join(', ')}`;
    if (unexpected.length === 1) throw new Error(`unknown parameter ${unexpected[0] as string}${opts}`);
    throw new Error(`unknown parameters ${unexpected.join(', ')}${opts}`);
  }
  if (missing.length === 1) throw new Error(`missing parameter: ${missing[0] as string}`);
  if (missing.length > 1) throw new Error(`missing parameters: ${missing.join(', ')}`);
  return { values, dynamic };
}

function coerceArgAt(p: ParamSpec, v: unknown): unknown {
  try {
    return coerceArg(p, v);
  } catch (e) {
    throw new Error(`field ${p.name}: ${toQErr(e).message()}`);
  }
}

/** Resolves dynamic arguments against a context (ResolveDynamic). */
export function resolveArgs(b: BoundArgs, c: Ctx): Args {
  const out: Args = { ...b.values };
  for (const { p, q } of b.dynamic) {
    let v: unknown;
    try {
      v = coerceArg(p, q.ev(c));
    } catch (e) {
      throw errPlain(`failed to extract input arg '${p.name}': ${toQErr(e).message()}`);
    }
    out[p.name] = v;
  }
  return out;
}

/** Resolves variadic arguments. */
export function resolveVariadic(vals: readonly unknown[], c: Ctx): unknown[] {
  let out: unknown[] | null = null;
  for (let i = 0; i < vals.length; i++) {
    const v = vals[i];
    if (isQ(v)) {
      out ??= vals.slice();
      try {
        out[i] = v.ev(c);
      } catch (e) {
        throw errPlain(`failed to extract input arg '${i}': ${toQErr(e).message()}`);
      }
    }
  }
  return out ?? (vals as unknown[]);
}

// ---------------------------------------------------------------------------------------------
// Construction

/**
 * The evaluation closure of a method call. Generated per call site so that V8 sees
 * monomorphic calls to the target and implementation (and can inline them).
 */
function methodSite(tev: (c: Ctx) => unknown, impl: MethodImpl, tann: string): (c: Ctx) => unknown {
  const factory = new Function(
    'tev',
    'impl',
    'errFrom',
    'tann',
    `return function method(c) {
      const v = tev(c);
      try {
        return impl(v, c);
      } catch (e) {
        throw errFrom(e, tann);
      }
    };`,
  ) as (...a: unknown[]) => (c: Ctx) => unknown;
  return factory(tev, impl, errFrom, tann);
}

/** Builds a method query on a target. Throws Error (becomes a parse error). */
export function buildMethod(name: string, target: Q, rawArgs: readonly RawArg[]): Q {
  const spec = methods.get(name);
  if (!spec) throw new Error(`unrecognised method '${name}'`);
  const b = bindArgs(spec.params, rawArgs);
  const args: Args = b.variadic ? { args: b.variadic } : b.values;
  if (spec.raw) {
    if (b.dynamic.length > 0 || (b.variadic && b.variadic.some(isQ))) {
      // Raw methods with dynamic arguments: rebuild per execution (rare).
      const variadic = b.variadic;
      return mkQ((c) => {
        const resolved = variadic ? { args: resolveVariadic(variadic, c) } : resolveArgs(b, c);
        return (spec.raw as (t: Q, a: Args) => Q)(target, resolved).ev(c);
      }, `method ${name}`);
    }
    try {
      return spec.raw(target, args);
    } catch (e) {
      throw e instanceof QErr ? new Error(e.message()) : e;
    }
  }
  const make = spec.make as (a: Args) => MethodImpl;
  const ann = `method ${name}`;
  const tev = target.ev;
  const tann = target.ann;
  if (b.dynamic.length === 0 && !(b.variadic && b.variadic.some(isQ))) {
    let impl: MethodImpl;
    try {
      impl = make(args);
    } catch (e) {
      throw e instanceof QErr ? new Error(e.message()) : e;
    }
    return mkQ(methodSite(tev, impl, tann), ann);
  }
  const variadic = b.variadic;
  return mkQ((c) => {
    const v = tev(c);
    const resolved = variadic ? { args: resolveVariadic(variadic, c) } : resolveArgs(b, c);
    try {
      return make(resolved)(v, c);
    } catch (e) {
      throw errFrom(e, tann);
    }
  }, ann);
}

/** Builds a function query. Throws Error (becomes a parse error). */
export function buildFunction(name: string, rawArgs: readonly RawArg[]): Q {
  const spec = functions.get(name);
  if (!spec) throw new Error(`unrecognised function '${name}'`);
  const b = bindArgs(spec.params, rawArgs);
  const annSpec = spec.ann ?? `function ${name}`;
  const ann = typeof annSpec === 'string' ? annSpec : `function ${name}`;
  if (b.dynamic.length === 0 && !(b.variadic && b.variadic.some(isQ))) {
    const args: Args = b.variadic ? { args: b.variadic } : b.values;
    const staticAnn = typeof annSpec === 'string' ? annSpec : annSpec(args);
    let fn: (c: Ctx) => unknown;
    try {
      fn = spec.make(args);
    } catch (e) {
      throw e instanceof QErr ? new Error(e.message()) : e;
    }
    return mkQ(fn, staticAnn);
  }
  const variadic = b.variadic;
  return mkQ((c) => {
    const resolved = variadic ? { args: resolveVariadic(variadic, c) } : resolveArgs(b, c);
    return spec.make(resolved)(c);
  }, ann);
}

/** Helpers for implementations. */
export function argStr(a: Args, k: string): string {
  return a[k] as string;
}
export function argOptStr(a: Args, k: string): string | undefined {
  return a[k] as string | undefined;
}
export function argNum(a: Args, k: string): number {
  const v = a[k];
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : v instanceof F64 ? v.v : Number(v);
}
export function argInt(a: Args, k: string): number {
  const v = a[k];
  return typeof v === 'bigint' ? Number(v) : (v as number);
}
export function argBool(a: Args, k: string): boolean {
  return a[k] as boolean;
}
export function argQ(a: Args, k: string): Q {
  return a[k] as Q;
}
