/**
 * Validates a config value against component specs and returns it normalised: defaults
 * filled in, scalars coerced, components turned into ComponentNodes. Every problem becomes an
 * Issue naming the config path and, when known, the line; validation never stops at the first.
 */
import type { ComponentKind } from '../engine/component.js';
import type { FieldSpec, FieldType } from '../engine/spec.js';
import type { BloblangEnvironment } from '../engine/bloblang-api.js';
import { isRequired } from '../engine/spec.js';
import { RESOURCE_TYPE, type ComponentNode, type Registry } from '../engine/registry.js';
import { parseDuration } from '../engine/backoff.js';
import { joinPath, type Issue } from './source.js';

export interface ValidatorOptions {
  readonly registry: Registry;
  readonly locate?: (path: string) => number | undefined;
  /** When given, Bloblang fields and interpolated strings are compiled to catch errors early. */
  readonly bloblang?: BloblangEnvironment;
}

const TYPE_WORD: Record<FieldType, string> = {
  string: 'string',
  int: 'integer',
  float: 'number',
  bool: 'boolean',
  duration: 'duration string',
  object: 'object',
  any: 'value',
  bloblang: 'Bloblang mapping string',
  input: 'input',
  output: 'output',
  processor: 'processor',
};

function expected(f: FieldSpec): string {
  const w = TYPE_WORD[f.type];
  if (f.kind === 'array') return `expected an array of ${w}s`;
  if (f.kind === 'map') return `expected an object of ${w}s`;
  return `expected ${/^[aeiou]/.test(w) ? 'an' : 'a'} ${w}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

export class Validator {
  readonly issues: Issue[] = [];
  readonly #registry: Registry;
  readonly #locate: (path: string) => number | undefined;
  readonly #bloblang: BloblangEnvironment | undefined;

  constructor(opts: ValidatorOptions) {
    this.#registry = opts.registry;
    this.#locate = opts.locate ?? (() => undefined);
    this.#bloblang = opts.bloblang;
  }

  issue(path: string, message: string): void {
    this.issues.push({ path, line: this.#locate(path), message });
  }

  /** Validates `value` against `f` at `path`; returns the normalised value. */
  field(f: FieldSpec, value: unknown, path: string): unknown {
    if (value === undefined || (value === null && f.type !== 'any')) {
      if (f.default !== undefined) return this.field(f, structuredClone(f.default), path);
      if (f.type === 'object' && f.kind === 'scalar' && (value === null || !isRequired(f)) && !f.optional) return this.#object(f, {}, path);
      if (!isRequired(f)) return undefined;
      this.issue(path, `field ${f.name || path} is required`);
      return undefined;
    }
    if (f.deprecated) this.issue(path, `field ${f.name} is deprecated`);
    if (f.kind === 'array') {
      // Benthos accepts a single value where a list is expected for string lists.
      if (!Array.isArray(value)) {
        if (f.type === 'string' && typeof value === 'string') value = [value];
        else {
          this.issue(path, expected(f));
          return [];
        }
      }
      return (value as unknown[]).map((v, i) => this.#scalar(f, v, joinPath(path, i)));
    }
    if (f.kind === 'map') {
      if (!isPlainObject(value)) {
        this.issue(path, expected(f));
        return {};
      }
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.#scalar(f, v, joinPath(path, k));
      return out;
    }
    return this.#scalar(f, value, path);
  }

  #scalar(f: FieldSpec, value: unknown, path: string): unknown {
    switch (f.type) {
      case 'string':
      case 'bloblang': {
        if (typeof value === 'number' || typeof value === 'boolean') value = String(value);
        if (typeof value !== 'string') {
          this.issue(path, `${expected({ ...f, kind: 'scalar' })}, got ${describe(value)}`);
          return '';
        }
        if (f.options && !f.options.includes(value) && !(value === '' && f.default === '')) {
          this.issue(path, `value "${value}" is not one of: ${f.options.join(', ')}`);
        }
        if (this.#bloblang) this.#checkBloblang(f, value, path);
        return value;
      }
      case 'int':
      case 'float': {
        const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
        if (typeof n !== 'number' || Number.isNaN(n) || (f.type === 'int' && !Number.isInteger(n))) {
          this.issue(path, `${expected({ ...f, kind: 'scalar' })}, got ${describe(value)}`);
          return f.default ?? 0;
        }
        return n;
      }
      case 'bool': {
        if (value === 'true' || value === 'false') return value === 'true';
        if (typeof value !== 'boolean') {
          this.issue(path, `expected a boolean, got ${describe(value)}`);
          return f.default ?? false;
        }
        return value;
      }
      case 'duration': {
        if (typeof value === 'number') value = `${value}s`;
        if (typeof value !== 'string') {
          this.issue(path, `expected a duration string such as 5s, got ${describe(value)}`);
          return f.default ?? '';
        }
        try {
          parseDuration(value);
        } catch (err) {
          this.issue(path, (err as Error).message);
        }
        return value;
      }
      case 'object':
        if (!isPlainObject(value)) {
          this.issue(path, `expected an object, got ${describe(value)}`);
          return this.#object(f, {}, path);
        }
        return this.#object(f, value, path);
      case 'any':
        return value;
      case 'input':
      case 'output':
      case 'processor':
        return this.component(f.type, value, path);
    }
  }

  #object(f: FieldSpec, value: Record<string, unknown>, path: string): Record<string, unknown> {
    const children = f.children ?? [];
    const out: Record<string, unknown> = f.open ? { ...value } : {};
    const known = new Set(children.map((c) => c.name));
    if (!f.open) {
      for (const k of Object.keys(value)) {
        if (!known.has(k)) this.issue(joinPath(path, k), `field ${k} not recognised${suggest(k, [...known])}`);
      }
    }
    for (const c of children) {
      const v = this.field(c, value[c.name], joinPath(path, c.name));
      if (v !== undefined) out[c.name] = v;
    }
    return out;
  }

  #checkBloblang(f: FieldSpec, value: string, path: string): void {
    try {
      if (f.type === 'bloblang' && value.trim() !== '') this.#bloblang!.compileMapping(value);
      else if (f.interpolated && value.includes('${!')) this.#bloblang!.interpolate(value);
    } catch (err) {
      this.issue(path, (err as Error).message);
    }
  }

  /** Validates `{<type>: config, label?, processors?}` (or `{resource: label}`) of the given kind. */
  component(kind: ComponentKind, value: unknown, path: string): ComponentNode {
    const empty: ComponentNode = { type: '', label: '', config: undefined, processors: [], path };
    if (!isPlainObject(value)) {
      this.issue(path, `expected ${kind === 'input' ? 'an' : 'a'} ${kind} object such as {<type>: {...}}, got ${describe(value)}`);
      return empty;
    }
    const hasProcessors = kind === 'input' || kind === 'output';
    let label = '';
    if (value.label !== undefined) {
      if (typeof value.label !== 'string') this.issue(joinPath(path, 'label'), 'expected a string');
      else label = value.label;
    }
    let processors: ComponentNode[] = [];
    if (hasProcessors && value.processors !== undefined && value.processors !== null) {
      const pp = joinPath(path, 'processors');
      if (!Array.isArray(value.processors)) this.issue(pp, 'expected an array of processors');
      else processors = value.processors.map((p, i) => this.component('processor', p, joinPath(pp, i)));
    }
    const types = Object.keys(value).filter((k) => k !== 'label' && !(hasProcessors && k === 'processors') && k !== 'plugin');
    if (types.length === 0) {
      this.issue(path, `no ${kind} type given; known: ${this.#registry.names(kind).join(', ')}`);
      return empty;
    }
    if (types.length > 1) {
      const unknown = types.filter((t) => t !== RESOURCE_TYPE && !this.#registry.get(kind, t));
      if (unknown.length) for (const t of unknown) this.#unknownType(kind, t, joinPath(path, t));
      else this.issue(path, `more than one ${kind} type given: ${types.join(', ')}`);
      return empty;
    }
    const type = types[0]!;
    const tpath = joinPath(path, type);
    if (type === RESOURCE_TYPE) {
      if (typeof value[type] !== 'string' || value[type] === '') this.issue(tpath, 'expected a resource label');
      return { type, label, config: value[type], processors, path };
    }
    const spec = this.#registry.get(kind, type);
    if (!spec) {
      this.#unknownType(kind, type, tpath);
      return empty;
    }
    const config = this.field(spec.config, value[type], tpath);
    if (spec.lint && config !== undefined) {
      for (const msg of (spec.lint as (c: unknown) => string[])(config)) this.issue(tpath, msg);
    }
    return { type, label, config, processors, path: tpath };
  }

  #unknownType(kind: ComponentKind, type: string, path: string): void {
    const names = this.#registry.names(kind);
    this.issue(path, `unknown ${kind} type "${type}"${suggest(type, names)}; known ${kind}s: ${names.join(', ')}`);
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `string "${v.length > 40 ? v.slice(0, 40) + '…' : v}"`;
  return `${typeof v} ${String(v)}`;
}

/** ` (did you mean "x"?)` for a close match, else ''. */
export function suggest(word: string, candidates: readonly string[]): string {
  let best = '';
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(word, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best && bestD <= Math.max(2, Math.floor(word.length / 3)) ? ` (did you mean "${best}"?)` : '';
}

function distance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}
