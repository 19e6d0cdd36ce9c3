/**
 * Object and array methods.
 */
import {
  clone,
  dotPathToSlice,
  getNumber,
  getPath,
  getString,
  mkQ,
  setKey,
  setPath,
  stringToBytes,
  valuesEqual,
  bytesToString,
  toStr,
  type Ctx,
  type Q,
} from '../core.js';
import { argBool, argInt, argQ, registerMethod, simpleMethod } from '../registry.js';
import {
  DELETE,
  F64,
  NOTHING,
  Timestamp,
  compareStrings,
  errFrom,
  errPlain,
  errType,
  errTypeFrom,
  isObject,
  mkFloat,
  toQErr,
  type BObject,
} from '../value.js';
import { wrapErr } from '../lang.js';
import { compileJSONPath } from './jsonpath.js';
import { JSONSchema } from './jsonschema.js';

function requireArray(v: unknown): unknown[] {
  if (!Array.isArray(v)) throw errType(v, 'array');
  return v;
}

function kv(k: string, v: unknown): BObject {
  return { key: k, value: v };
}

registerMethod({
  name: 'all',
  category: 'object',
  params: [{ name: 'test', type: 'query' }],
  make: (a) => {
    const q = argQ(a, 'test');
    return (v, c) => {
      const arr = requireArray(v);
      if (arr.length === 0) return false;
      for (let i = 0; i < arr.length; i++) {
        let r: unknown;
        try {
          r = q.evWith(c, (arr[i]));
        } catch (e) {
          throw wrapErr(`element ${i}: `, e);
        }
        if (typeof r !== 'boolean') throw wrapErr(`element ${i}: `, errType(r, 'bool'));
        if (!r) return false;
      }
      return true;
    };
  },
});

registerMethod({
  name: 'any',
  category: 'object',
  params: [{ name: 'test', type: 'query' }],
  make: (a) => {
    const q = argQ(a, 'test');
    return (v, c) => {
      const arr = requireArray(v);
      for (let i = 0; i < arr.length; i++) {
        let r: unknown;
        try {
          r = q.evWith(c, (arr[i]));
        } catch (e) {
          throw wrapErr(`element ${i}: `, e);
        }
        if (typeof r !== 'boolean') throw wrapErr(`element ${i}: `, errType(r, 'bool'));
        if (r) return true;
      }
      return false;
    };
  },
});

registerMethod({
  name: 'append',
  category: 'object',
  params: 'variadic',
  make: (a) => {
    const args = a['args'] as unknown[];
    return (v) => requireArray(v).concat(args);
  },
});

registerMethod({
  name: 'concat',
  category: 'object',
  params: 'variadic',
  make: (a) => {
    const args = a['args'] as unknown[];
    return (v) => {
      let out = requireArray(v).slice();
      for (let i = 0; i < args.length; i++) {
        const x = args[i];
        if (!Array.isArray(x)) throw errPlain(`argument ${i}: ${errType(x, 'array').message()}`);
        out = out.concat(x);
      }
      return out;
    };
  },
});

function flatten(v: unknown, includeEmpty: boolean): BObject {
  const out: BObject = {};
  const join = (p: string, k: string): string => (p === '' ? k : p + '.' + k);
  const iter = (x: unknown, p: string): void => {
    if (Array.isArray(x)) {
      if (x.length === 0 && includeEmpty) setKey(out, p, x);
      x.forEach((e, i) => iter(e, join(p, String(i))));
    } else if (isObject(x)) {
      const keys = Object.keys(x);
      if (keys.length === 0 && includeEmpty) setKey(out, p, x);
      for (const k of keys) iter(x[k], join(p, k));
    } else setKey(out, p, x);
  };
  iter(v, '');
  return out;
}

registerMethod({
  name: 'collapse',
  category: 'object',
  params: [{ name: 'include_empty', type: 'bool', default: false }],
  make: (a) => {
    const inc = argBool(a, 'include_empty');
    return (v) => {
      if (!Array.isArray(v) && !isObject(v)) throw errType(v, 'object', 'array');
      return flatten(v, inc);
    };
  },
});

registerMethod({
  name: 'contains',
  category: 'object',
  params: [{ name: 'value', type: 'any' }],
  make: (a) => {
    const needle = a['value'];
    let sub: string | undefined;
    const str = (): string => (sub ??= needle instanceof Uint8Array ? bytesToString(needle) : toStr(needle));
    return (v) => {
      if (typeof v === 'string') return v.includes(str());
      if (v instanceof Uint8Array) return bytesToString(v).includes(str());
      if (Array.isArray(v)) {
        for (const e of v) if (valuesEqual(needle, e)) return true;
        return false;
      }
      if (isObject(v)) {
        for (const k of Object.keys(v)) if (valuesEqual(needle, v[k])) return true;
        return false;
      }
      throw errType(v, 'string', 'array', 'object');
    };
  },
});


simpleMethod('enumerated', 'object', (v) => requireArray(v).map((e, i) => ({ index: i, value: e })));

function mapWithout(m: BObject, paths: string[][]): BObject {
  const out: BObject = {};
  for (const k of Object.keys(m)) {
    let excluded = false;
    const nested: string[][] = [];
    for (const p of paths) {
      if (p[0] === k) {
        if (p.length > 1) nested.push(p.slice(1));
        else excluded = true;
      }
    }
    if (excluded) continue;
    const v = m[k];
    setKey(out, k, nested.length > 0 && isObject(v) ? mapWithout(v, nested) : v);
  }
  return out;
}

function mapWith(m: BObject, paths: string[][]): BObject {
  const out: BObject = {};
  for (const k of Object.keys(m)) {
    let whole = false;
    const nested: string[][] = [];
    for (const p of paths) {
      if (p[0] === k) {
        if (p.length > 1) nested.push(p.slice(1));
        else whole = true;
      }
    }
    const v = m[k];
    if (whole) setKey(out, k, v);
    else if (nested.length > 0 && isObject(v)) setKey(out, k, mapWith(v, nested));
  }
  return out;
}

function pathArgs(args: unknown[]): string[][] {
  return args.map((x, i) => {
    try {
      return dotPathToSlice(getString(x));
    } catch (e) {
      throw errPlain(`argument ${i}: ${toQErr(e).message()}`);
    }
  });
}

registerMethod({
  name: 'without',
  category: 'object',
  params: 'variadic',
  make: (a) => {
    const paths = pathArgs(a['args'] as unknown[]);
    return (v) => {
      if (!isObject(v)) throw errType(v, 'object');
      return mapWithout(v, paths);
    };
  },
});

registerMethod({
  name: 'with',
  category: 'object',
  params: 'variadic',
  make: (a) => {
    const paths = pathArgs(a['args'] as unknown[]);
    return (v) => {
      if (!isObject(v)) throw errType(v, 'object');
      return mapWith(v, paths);
    };
  },
});

registerMethod({
  name: 'explode',
  category: 'object',
  params: [{ name: 'path', type: 'string' }],
  make: (a) => {
    const raw = a['path'] as string;
    const path = dotPathToSlice(raw);
    return (v) => {
      if (!isObject(v)) throw errType(v, 'object');
      const target = getPath(v, path);
      const base = mapWithout(v, [path]);
      if (Array.isArray(target)) return target.map((e) => setPath(clone(base), path, e));
      if (isObject(target)) {
        const out: BObject = {};
        for (const k of Object.keys(target)) setKey(out, k, setPath(clone(base), path, target[k]));
        return out;
      }
      throw errPlain(`expected array or object value at path '${raw}', found: ${target === undefined ? 'null' : errType(target).detail?.actual}`);
    };
  },
});

registerMethod({
  name: 'filter',
  category: 'object',
  params: [{ name: 'test', type: 'query' }],
  make: (a) => {
    const q = argQ(a, 'test');
    return (v, c) => {
      if (Array.isArray(v)) {
        const f = q.bindEach(c);
        const out: unknown[] = [];
        for (const e of v) if (f(e) === true) out.push(e);
        return out;
      }
      if (isObject(v)) {
        const f = q.bindEach(c);
        const out: BObject = {};
        for (const k of Object.keys(v)) if (f(kv(k, v[k])) === true) setKey(out, k, v[k]);
        return out;
      }
      throw errType(v, 'array', 'object');
    };
  },
});

registerMethod({
  name: 'find',
  category: 'object',
  params: [{ name: 'value', type: 'any' }],
  make: (a) => {
    const needle = a['value'];
    return (v) => requireArray(v).findIndex((e) => valuesEqual(needle, e));
  },
});

registerMethod({
  name: 'find_all',
  category: 'object',
  params: [{ name: 'value', type: 'any' }],
  make: (a) => {
    const needle = a['value'];
    return (v) => {
      const out: number[] = [];
      requireArray(v).forEach((e, i) => {
        if (valuesEqual(needle, e)) out.push(i);
      });
      return out;
    };
  },
});

function findBy(q: Q, arr: unknown[], c: Ctx, all: boolean): number | number[] {
  const out: number[] = [];
  for (let i = 0; i < arr.length; i++) {
    let r: unknown;
    try {
      r = q.evWith(c, (arr[i]));
    } catch (e) {
      throw wrapErr(`query returned an error for index ${i}: `, e);
    }
    if (typeof r !== 'boolean') throw wrapErr(`query returned a non-boolean value for index ${i}: `, errType(r, 'bool'));
    if (r) {
      if (!all) return i;
      out.push(i);
    }
  }
  return all ? out : -1;
}

registerMethod({
  name: 'find_by',
  category: 'object',
  params: [{ name: 'query', type: 'query' }],
  make: (a) => {
    const q = argQ(a, 'query');
    return (v, c) => findBy(q, requireArray(v), c, false);
  },
});

registerMethod({
  name: 'find_all_by',
  category: 'object',
  params: [{ name: 'query', type: 'query' }],
  make: (a) => {
    const q = argQ(a, 'query');
    return (v, c) => findBy(q, requireArray(v), c, true);
  },
});

simpleMethod('flatten', 'object', (v) => {
  const out: unknown[] = [];
  for (const e of requireArray(v)) {
    if (Array.isArray(e)) out.push(...e);
    else out.push(e);
  }
  return out;
});

registerMethod({
  name: 'fold',
  category: 'object',
  params: [
    { name: 'initial', type: 'any' },
    { name: 'query', type: 'query' },
  ],
  make: (a) => {
    const init = a['initial'];
    const q = argQ(a, 'query');
    return (v, c) => {
      const arr = requireArray(v);
      let tally = clone(init);
      for (const e of arr) tally = q.evWith(c, ({ tally, value: e }));
      return tally;
    };
  },
});

registerMethod({
  name: 'index',
  category: 'object',
  params: [{ name: 'index', type: 'int' }],
  make: (a) => {
    const index = argInt(a, 'index');
    return (v) => {
      if (Array.isArray(v) || v instanceof Uint8Array) {
        let i = index;
        if (i < 0) i = v.length + i;
        if (i < 0 || i >= v.length) throw errPlain(`index '${i}' was out of bounds for array size: ${v.length}`);
        return v[i];
      }
      throw errType(v, 'array');
    };
  },
});

simpleMethod('keys', 'object', (v) => {
  if (!isObject(v)) throw errType(v, 'object');
  return Object.keys(v).sort(compareStrings);
});

simpleMethod('values', 'object', (v) => {
  if (!isObject(v)) throw errType(v, 'object');
  return Object.keys(v).map((k) => v[k]);
});

simpleMethod('key_values', 'object', (v) => {
  if (!isObject(v)) throw errType(v, 'object');
  return Object.keys(v).map((k) => kv(k, v[k]));
});

function utf8Len(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

simpleMethod('length', 'object', (v) => {
  if (typeof v === 'string') return utf8Len(v);
  if (v instanceof Uint8Array) return v.length;
  if (Array.isArray(v)) return v.length;
  if (isObject(v)) return Object.keys(v).length;
  throw errType(v, 'string', 'array', 'object');
});

registerMethod({
  name: 'map_each',
  category: 'object',
  params: [{ name: 'query', type: 'query' }],
  make: (a) => {
    const q = argQ(a, 'query');
    return (v, c) => {
      if (Array.isArray(v)) {
        const f = q.bindEach(c);
        const out: unknown[] = [];
        for (let i = 0; i < v.length; i++) {
          let r: unknown;
          try {
            r = f(v[i]);
          } catch (e) {
            throw wrapErr(`failed to process element ${i}: `, errFrom(e, q.ann));
          }
          if (r === DELETE) continue;
          out.push(r === NOTHING ? v[i] : r);
        }
        return out;
      }
      if (isObject(v)) {
        const f = q.bindEach(c);
        const out: BObject = {};
        for (const k of Object.keys(v)) {
          let r: unknown;
          try {
            r = f(kv(k, v[k]));
          } catch (e) {
            throw wrapErr(`failed to process element ${k}: `, errFrom(e, q.ann));
          }
          if (r === DELETE) continue;
          setKey(out, k, r === NOTHING ? v[k] : r);
        }
        return out;
      }
      throw errType(v, 'array');
    };
  },
});

registerMethod({
  name: 'map_each_key',
  category: 'object',
  params: [{ name: 'query', type: 'query' }],
  make: (a) => {
    const q = argQ(a, 'query');
    return (v, c) => {
      if (!isObject(v)) throw errType(v, 'object');
      const out: BObject = {};
      for (const k of Object.keys(v)) {
        const nk = q.evWith(c, (k));
        if (nk === NOTHING) setKey(out, k, v[k]);
        else if (typeof nk === 'string') setKey(out, nk, v[k]);
        else throw wrapErr('unexpected result from key mapping: ', errType(nk, 'string'));
      }
      return out;
    };
  },
});

type MergeFn = (dest: unknown, src: unknown) => unknown;

const defaultMerge: MergeFn = (dest, src) => {
  if (Array.isArray(dest)) return Array.isArray(src) ? dest.concat(src) : [...dest, src];
  if (Array.isArray(src)) return [dest, ...src];
  return [dest, src];
};

function mergeInto(dest: BObject, src: BObject, fn: MergeFn): void {
  for (const k of Object.keys(src)) {
    const sv = src[k];
    if (Object.hasOwn(dest, k)) {
      const dv = dest[k];
      if (isObject(sv) && isObject(dv)) mergeInto(dv, sv, fn);
      else setKey(dest, k, fn(dv, sv));
    } else setKey(dest, k, sv);
  }
}

function mergeLike(name: string, fn: MergeFn): void {
  registerMethod({
    name,
    category: 'object',
    params: [{ name: 'with', type: 'any' }],
    make: (a) => {
      const src = a['with'];
      return (v) => {
        const from = clone(src);
        if (Array.isArray(v)) return Array.isArray(from) ? v.concat(from) : [...v, from];
        if (!isObject(v)) throw errType(v, 'object', 'array');
        const root: BObject = {};
        mergeInto(root, clone(v) as BObject, fn);
        if (isObject(from)) mergeInto(root, from, fn);
        else throw errPlain('source is not an object');
        return root;
      };
    },
  });
}
mergeLike('merge', defaultMerge);
mergeLike('assign', (_d, s) => s);

simpleMethod('squash', 'object', (v) => {
  const arr = requireArray(v);
  const root: BObject = {};
  arr.forEach((e, i) => {
    if (!isObject(e)) throw errPlain(`index ${i}: ${errType(e, 'object').message()}`);
    mergeInto(root, clone(e) as BObject, defaultMerge);
  });
  return root;
});

function compareSortable(a: unknown, b: unknown, i: number, j: number, prefix: string, ann?: string): boolean {
  const mk = (k: number, e: ReturnType<typeof errType>): never => {
    throw wrapErr(`${prefix} element ${k}: `, ann ? errFrom(e, ann) : e);
  };
  if (typeof a === 'number' || typeof a === 'bigint' || a instanceof F64) {
    const x = typeof a === 'number' ? a : typeof a === 'bigint' ? Number(a) : a.v;
    let y: number;
    try {
      y = getNumber(b);
    } catch (e) {
      return mk(j, e as ReturnType<typeof errType>);
    }
    return x < y;
  }
  if (typeof a === 'string' || a instanceof Uint8Array) {
    const x = typeof a === 'string' ? a : bytesToString(a);
    let y: string;
    try {
      y = getString(b);
    } catch (e) {
      return mk(j, e as ReturnType<typeof errType>);
    }
    return compareStrings(x, y) < 0;
  }
  return mk(i, errType(a, 'number', 'string'));
}

function stableSort(values: unknown[], less: (a: unknown, b: unknown, i: number, j: number) => boolean): unknown[] {
  const idx = values.map((_, i) => i);
  idx.sort((x, y) => {
    if (less(values[x], values[y], x, y)) return -1;
    if (less(values[y], values[x], y, x)) return 1;
    return x - y;
  });
  return idx.map((i) => values[i]);
}

registerMethod({
  name: 'sort',
  category: 'object',
  params: [{ name: 'compare', type: 'query', optional: true }],
  raw: (target, a) => {
    const cmp = a['compare'] as Q | undefined;
    const tev = target.ev;
    return mkQ((c) => {
      const v = tev(c);
      if (!Array.isArray(v)) throw errTypeFrom(target.ann, v, 'array');
      if (cmp) {
        return stableSort(v, (x, y) => {
          const r = cmp.evWith(c, ({ left: x, right: y }));
          if (typeof r !== 'boolean') throw errTypeFrom('sort argument', r, 'bool');
          return r;
        });
      }
      return stableSort(v, (x, y, i, j) => compareSortable(x, y, i, j, 'sort'));
    }, 'method sort');
  },
});

registerMethod({
  name: 'sort_by',
  category: 'object',
  params: [{ name: 'query', type: 'query' }],
  raw: (target, a) => {
    const q = argQ(a, 'query');
    const tev = target.ev;
    return mkQ((c) => {
      const v = tev(c);
      if (!Array.isArray(v)) throw errTypeFrom(target.ann, v, 'array');
      const keys = v.map((e) => q.evWith(c, (e)));
      const idx = v.map((_, i) => i);
      idx.sort((x, y) => {
        if (compareSortable(keys[x], keys[y], x, y, 'sort_by', q.ann)) return -1;
        if (compareSortable(keys[y], keys[x], y, x, 'sort_by', q.ann)) return 1;
        return x - y;
      });
      return idx.map((i) => v[i]);
    }, 'method sort_by');
  },
});

function byteSlice(s: string): Uint8Array {
  return stringToBytes(s);
}

registerMethod({
  name: 'slice',
  category: 'object',
  params: [
    { name: 'low', type: 'int' },
    { name: 'high', type: 'int', optional: true },
  ],
  make: (a) => {
    const low = argInt(a, 'low');
    const high = a['high'] === undefined ? undefined : argInt(a, 'high');
    if (high !== undefined && high > 0 && low >= high) throw errPlain(`lower slice bound ${low} must be lower than upper (${high})`);
    const bounds = (l: number): [number, number] => {
      let h = l;
      if (high !== undefined) h = high < 0 ? h + high : high;
      if (h > l) h = l;
      if (h < 0) h = 0;
      let lo = low;
      if (lo < 0) {
        lo = l + lo;
        if (lo < 0) lo = 0;
      }
      if (lo > h) throw errPlain(`lower slice bound ${lo} must be lower than or equal to upper bound (${h}) and target length (${l})`);
      return [lo, h];
    };
    return (v) => {
      if (typeof v === 'string') {
        let ascii = true;
        for (let i = 0; i < v.length; i++) {
          if (v.charCodeAt(i) > 0x7f) {
            ascii = false;
            break;
          }
        }
        if (ascii) {
          const [lo, h] = bounds(v.length);
          return v.slice(lo, h);
        }
        const b = byteSlice(v);
        const [lo, h] = bounds(b.length);
        return bytesToString(b.subarray(lo, h));
      }
      if (v instanceof Uint8Array) {
        const [lo, h] = bounds(v.length);
        return v.slice(lo, h);
      }
      if (Array.isArray(v)) {
        const [lo, h] = bounds(v.length);
        return v.slice(lo, h);
      }
      throw errType(v, 'array', 'string');
    };
  },
});

registerMethod({
  name: 'sum',
  category: 'object',
  params: [],
  raw: (target) => {
    const tev = target.ev;
    return mkQ((c) => {
      const v = tev(c);
      if (typeof v === 'number' || typeof v === 'bigint' || v instanceof F64) return v;
      if (!Array.isArray(v)) throw errTypeFrom(target.ann, v, 'array');
      let total = 0;
      let err: ReturnType<typeof errPlain> | null = null;
      v.forEach((e, i) => {
        try {
          total += getNumber(e);
        } catch (x) {
          err = errPlain(`index ${i}: ${toQErr(x).message()}`);
        }
      });
      if (err) throw err;
      return mkFloat(total);
    }, 'method sum');
  },
});

registerMethod({
  name: 'unique',
  category: 'object',
  params: [{ name: 'emit', type: 'query', optional: true }],
  make: (a) => {
    const emit = a['emit'] as Q | undefined;
    return (v, c) => {
      const arr = requireArray(v);
      const strs = new Set<string>();
      const nums = new Set<number>();
      const out: unknown[] = [];
      arr.forEach((e, i) => {
        let check = e;
        if (emit) {
          try {
            check = emit.evWith(c, (e));
          } catch (x) {
            throw wrapErr(`index ${i}: `, x);
          }
        }
        let unique: boolean;
        if (typeof check === 'string' || check instanceof Uint8Array || check instanceof Timestamp) {
          const s = typeof check === 'string' ? check : getString(check);
          unique = !strs.has(s);
          strs.add(s);
        } else if (typeof check === 'number' || typeof check === 'bigint' || check instanceof F64) {
          const n = getNumber(check);
          unique = !nums.has(n);
          nums.add(n);
        } else throw errPlain(`index ${i}: ${errType(check, 'string', 'number').message()}`);
        if (unique) out.push(e);
      });
      return out;
    };
  },
});

registerMethod({
  name: 'zip',
  category: 'object',
  params: 'variadic',
  make: (a) => {
    const args = a['args'] as unknown[];
    return (v) => {
      const base = requireArray(v);
      const arrays = args.map((x, i) => {
        if (!Array.isArray(x)) throw errPlain(`argument ${i}: ${errType(x, 'array').message()}`);
        if (x.length !== base.length) throw errPlain(`can't zip different length array values`);
        return x;
      });
      return base.map((e, i) => [e, ...arrays.map((x) => x[i])]);
    };
  },
});

export { mapWithout };

registerMethod({
  name: 'json_path',
  category: 'object',
  params: [{ name: 'expression', type: 'string' }],
  make: (a) => {
    const path = compileJSONPath(String(a['expression']));
    return (v) => {
      try {
        return path.eval(v);
      } catch (e) {
        throw errPlain((e as Error).message);
      }
    };
  },
});

registerMethod({
  name: 'json_schema',
  category: 'object',
  params: [{ name: 'schema', type: 'string' }],
  make: (a) => {
    const schema = new JSONSchema(String(a['schema']));
    return (v) => {
      const err = schema.validate(v);
      if (err !== null) throw errPlain(err);
      return v;
    };
  },
});
