/**
 * General functions (message info, environment, generators) and general/coercion methods.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import {
  Ctx,
  UNSET,
  bytesToString,
  dotPathToSlice,
  getPath,
  getString,
  getTimestamp,
  literal,
  mkQ,
  goMetaString,
  setKey,
  sliceToDotPath,
  structuredOf,
  toBool,
  toBytes,
  toNumber,
  toStr,
  type Q,
} from '../core.js';
import { getField, metaRef, varRef } from '../lang.js';
import { argBool, argInt, argQ, argStr, registerFunction, registerMethod, simpleMethod, type Args } from '../registry.js';
import { formatRFC3339Nano } from '../timefmt.js';
import {
  DELETE,
  F64,
  NOTHING,
  Timestamp,
  errFrom,
  errPlain,
  errType,
  errTypeFrom,
  isNullish,
  isObject,
  mkFloat,
  mkIntBig,
  toQErr,
  typeOf,
  type BObject,
} from '../value.js';

// ---------------------------------------------------------------------------------------------
// Special values

registerFunction({ name: 'deleted', category: 'general', params: [], ann: 'delete', make: () => () => DELETE });
registerFunction({ name: 'nothing', category: 'general', params: [], ann: 'nothing', make: () => () => NOTHING });

registerFunction({
  name: 'throw',
  category: 'general',
  params: [{ name: 'why', type: 'string' }],
  make: (a) => {
    const why = argStr(a, 'why');
    return () => {
      throw errPlain(why);
    };
  },
});

registerFunction({
  name: 'var',
  category: 'general',
  params: [{ name: 'name', type: 'string' }],
  make: (a) => varRef(argStr(a, 'name')).ev,
});

// ---------------------------------------------------------------------------------------------
// Message info

registerFunction({ name: 'batch_index', category: 'message', params: [], make: () => (c) => c.index });
registerFunction({ name: 'batch_size', category: 'message', params: [], make: () => (c) => c.st.batch.length });

registerFunction({
  name: 'content',
  category: 'message',
  params: [],
  make: () => (c) => {
    const m = c.st.batch[c.index];
    return m ? m.bytes() : new Uint8Array(0);
  },
});

registerFunction({
  name: 'json',
  category: 'message',
  params: [{ name: 'path', type: 'string', default: '' }],
  ann: (a) => `json path \`${argStr(a, 'path') === '' ? '' : sliceToDotPath(dotPathToSlice(argStr(a, 'path')))}\``,
  make: (a) => {
    const p = argStr(a, 'path');
    const path = p === '' ? [] : dotPathToSlice(p);
    return (c) => {
      const m = c.st.batch[c.index];
      if (!m) throw errPlain('target message part does not exist');
      const v = structuredOf(m);
      const r = path.length === 0 ? v : getPath(v, path);
      return r === undefined ? null : r;
    };
  },
});

function metaFunction(name: string, stringify: boolean): void {
  registerFunction({
    name,
    category: name === 'metadata' ? 'message' : 'deprecated',
    params: [{ name: 'key', type: 'string', default: '' }],
    ann: (a) => (argStr(a, 'key') === '' ? `${name} object` : `${name} field ${argStr(a, 'key')}`),
    make: (a) => {
      const key = argStr(a, 'key');
      if (key !== '') {
        return (c) => {
          const m = c.st.batch[c.index];
          const v = m?.metaGet(key);
          if (v === undefined) return null;
          if (!stringify) return v;
          const s = goMetaString(v);
          return s === '' ? null : s;
        };
      }
      return (c) => {
        const m = c.st.batch[c.index];
        const out: BObject = {};
        if (m) for (const [k, v] of m.metaEntries()) setKey(out, k, stringify ? goMetaString(v) : v);
        return out;
      };
    },
  });
}
metaFunction('metadata', false);
metaFunction('meta', true);

registerFunction({
  name: 'root_meta',
  category: 'deprecated',
  params: [{ name: 'key', type: 'string', default: '' }],
  ann: (a) => (argStr(a, 'key') === '' ? 'root_meta object' : `root_meta field ${argStr(a, 'key')}`),
  make: (a) => {
    const key = argStr(a, 'key');
    return (c) => {
      const m = c.st.meta;
      if (!m) throw errPlain('root metadata cannot be queried in this context');
      if (key !== '') {
        const v = m.metaGet(key);
        if (v === undefined) return null;
        const s = goMetaString(v);
        return s === '' ? null : s;
      }
      const out: BObject = {};
      for (const [k, v] of m.metaEntries()) setKey(out, k, goMetaString(v));
      return out;
    };
  },
});

registerFunction({
  name: 'error',
  category: 'message',
  params: [],
  make: () => (c) => c.st.batch[c.index]?.error?.message ?? null,
});
registerFunction({
  name: 'errored',
  category: 'message',
  params: [],
  make: () => (c) => c.st.batch[c.index]?.error !== undefined,
});
for (const [name, field] of [
  ['error_source_label', 'label'],
  ['error_source_name', 'name'],
  ['error_source_path', 'path'],
] as const) {
  registerFunction({
    name,
    category: 'message',
    params: [],
    make: () => (c) => {
      const m = c.st.batch[c.index];
      if (!m?.error) return null;
      const src = m.errorSource;
      if (src === undefined) return null;
      if (field === 'path') return src;
      if (field === 'label') return src.includes('.') ? '' : src;
      return src.split('.').pop() ?? src;
    },
  });
}
registerFunction({ name: 'tracing_id', category: 'message', params: [], make: () => () => '00000000000000000000000000000000' });
registerFunction({ name: 'tracing_span', category: 'message', params: [], make: () => () => null });
/** Bento: the flow id kept in the `_bento_flow_id` metadata key, created on first use. */
registerFunction({
  name: 'flow_id',
  category: 'message',
  params: [],
  make: () => (c) => {
    const m = c.st.batch[c.index];
    if (!m) throw errPlain('target message part does not exist');
    const cur = m.metaGet('_bento_flow_id');
    if (typeof cur === 'string' && cur !== '') return cur;
    const id = `${process.hrtime.bigint() + FLOW_EPOCH}_${randomBytes(8).readBigUInt64BE() >> 1n}`;
    m.metaSet('_bento_flow_id', id);
    return id;
  },
});

const FLOW_EPOCH = BigInt(Date.now()) * 1000000n - process.hrtime.bigint();

// ---------------------------------------------------------------------------------------------
// Environment

registerFunction({
  name: 'env',
  category: 'environment',
  params: [
    { name: 'name', type: 'string' },
    { name: 'no_cache', type: 'bool', default: false },
  ],
  make: (a) => {
    const name = argStr(a, 'name');
    if (argBool(a, 'no_cache')) return () => process.env[name] ?? null;
    const v = process.env[name] ?? null;
    return () => v;
  },
});

function readFileValue(path: string, base: string): Uint8Array {
  const full = isAbsolute(path) ? path : resolve(base, path);
  try {
    return new Uint8Array(readFileSync(full));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw errPlain(`open ${path}: ${code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
  }
}

for (const name of ['file', 'file_rel']) {
  registerFunction({
    name,
    category: 'environment',
    params: [
      { name: 'path', type: 'string' },
      { name: 'no_cache', type: 'bool', default: false },
    ],
    make: (a) => {
      const path = argStr(a, 'path');
      const base = process.cwd();
      if (argBool(a, 'no_cache')) return () => readFileValue(path, base);
      let cached: Uint8Array | undefined;
      return () => (cached ??= readFileValue(path, base));
    },
  });
}

registerFunction({
  name: 'hostname',
  category: 'environment',
  params: [],
  make: () => {
    const h = hostname();
    return () => h;
  },
});

registerFunction({
  name: 'now',
  category: 'environment',
  params: [],
  make: () => () => formatRFC3339Nano(Timestamp.now()),
});

function nowNanos(): bigint {
  const t = Timestamp.now();
  return t.unixNano();
}
registerFunction({ name: 'timestamp_unix', category: 'environment', params: [], make: () => () => Math.floor(Date.now() / 1000) });
registerFunction({ name: 'timestamp_unix_milli', category: 'environment', params: [], make: () => () => Date.now() });
registerFunction({
  name: 'timestamp_unix_micro',
  category: 'environment',
  params: [],
  make: () => () => mkIntBig(nowNanos() / 1000n),
});
registerFunction({ name: 'timestamp_unix_nano', category: 'environment', params: [], make: () => () => mkIntBig(nowNanos()) });

// ---------------------------------------------------------------------------------------------
// Generators

registerFunction({ name: 'uuid_v4', category: 'general', params: [], make: () => () => randomUUID() });

export function uuidV7(ms: number = Date.now()): string {
  const b = randomBytes(16);
  const t = BigInt(ms);
  for (let i = 0; i < 6; i++) b[i] = Number((t >> BigInt(8 * (5 - i))) & 0xffn);
  b[6] = ((b[6] as number) & 0x0f) | 0x70;
  b[8] = ((b[8] as number) & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

registerFunction({
  name: 'uuid_v7',
  category: 'general',
  params: [{ name: 'time', type: 'timestamp', optional: true }],
  make: (a) => {
    const t = a['time'] as Timestamp | undefined;
    return () => uuidV7(t ? t.sec * 1000 + Math.floor(t.nsec / 1e6) : Date.now());
  },
});

const NANOID_ALPHABET = '_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

function nanoid(len: number, alphabet: string): string {
  const chars = Array.from(alphabet);
  let out = '';
  const mask = (2 << (31 - Math.clz32((chars.length - 1) | 1))) - 1;
  while (out.length < len) {
    const bytes = randomBytes(len * 2);
    for (const b of bytes) {
      const idx = b & mask;
      if (idx < chars.length) {
        out += chars[idx];
        if (Array.from(out).length >= len) break;
      }
    }
  }
  return out;
}

registerFunction({
  name: 'nanoid',
  category: 'general',
  params: [
    { name: 'length', type: 'int', optional: true },
    { name: 'alphabet', type: 'string', optional: true },
  ],
  make: (a) => {
    const len = a['length'] === undefined ? undefined : argInt(a, 'length');
    const alphabet = a['alphabet'] as string | undefined;
    if (alphabet !== undefined && len === undefined) throw errPlain('field length must be specified when an alphabet is specified');
    return () => nanoid(len ?? 21, alphabet ?? NANOID_ALPHABET);
  },
});

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
registerFunction({
  name: 'ksuid',
  category: 'general',
  params: [],
  make: () => () => {
    const ts = BigInt(Math.floor(Date.now() / 1000) - 1400000000);
    let n = (ts << 128n) | BigInt('0x' + randomBytes(16).toString('hex'));
    let s = '';
    while (n > 0n) {
      s = BASE62[Number(n % 62n)] + s;
      n /= 62n;
    }
    return s.padStart(27, '0');
  },
});

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
registerFunction({
  name: 'ulid',
  category: 'general',
  params: [
    { name: 'encoding', type: 'string', default: 'crockford' },
    { name: 'random_source', type: 'string', default: 'secure_random' },
  ],
  make: (a) => {
    const enc = argStr(a, 'encoding');
    const src = argStr(a, 'random_source');
    if (enc !== 'crockford' && enc !== 'hex') throw errPlain(`invalid ulid encoding: ${enc}`);
    if (src !== 'secure_random' && src !== 'fast_random') throw errPlain(`invalid randomness source: ${src}`);
    return () => {
      const bytes = Buffer.alloc(16);
      const ms = BigInt(Date.now());
      for (let i = 0; i < 6; i++) bytes[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
      randomBytes(10).copy(bytes, 6);
      if (enc === 'hex') return bytes.toString('hex');
      let n = BigInt('0x' + bytes.toString('hex'));
      let s = '';
      for (let i = 0; i < 26; i++) {
        s = CROCKFORD[Number(n & 31n)] + s;
        n >>= 5n;
      }
      return s;
    };
  },
});

let snowflakeSeq = 0;
let snowflakeLast = 0;
registerFunction({
  name: 'snowflake_id',
  category: 'general',
  params: [{ name: 'node_id', type: 'int', default: 1 }],
  make: (a) => {
    const node = BigInt(argInt(a, 'node_id'));
    return () => {
      const epoch = 1288834974657;
      let now = Date.now();
      if (now === snowflakeLast) snowflakeSeq = (snowflakeSeq + 1) & 4095;
      else snowflakeSeq = 0;
      if (now < snowflakeLast) now = snowflakeLast;
      snowflakeLast = now;
      return ((BigInt(now - epoch) << 22n) | ((node & 1023n) << 12n) | BigInt(snowflakeSeq)).toString();
    };
  },
});

registerFunction({ name: 'pi', category: 'general', params: [], make: () => () => Math.PI });

/** A small seedable PRNG (splitmix64) for random_int with a seed. */
function splitmix(seed: bigint): () => bigint {
  let s = BigInt.asUintN(64, seed);
  return () => {
    s = BigInt.asUintN(64, s + 0x9e3779b97f4a7c15n);
    let z = s;
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
    return z ^ (z >> 31n);
  };
}

registerFunction({
  name: 'random_int',
  category: 'general',
  params: [
    { name: 'seed', type: 'query', scalarsToLiteral: true, default: 0 },
    { name: 'min', type: 'int', default: 0, noDynamic: true },
    { name: 'max', type: 'int', default: 9223372036854775806n, noDynamic: true },
  ],
  make: (a) => {
    const seedQ = argQ(a, 'seed');
    const min = BigInt(a['min'] as number | bigint);
    const max = BigInt(a['max'] as number | bigint);
    if (min < 0n) throw errPlain(`min (${min}) must be a positive number`);
    if (max < min) throw errPlain(`min (${min}) must be smaller or equal than max (${max})`);
    if (max === 9223372036854775807n) throw errPlain('max must be smaller than the max allowed for an int64 (9223372036854775807)');
    let gen: (() => bigint) | null = null;
    return (c) => {
      if (!gen) {
        let seed: unknown;
        try {
          seed = seedQ.ev(c);
        } catch (e) {
          throw errPlain(`failed to seed random number generator: ${toQErr(e).message()}`);
        }
        gen = splitmix(BigInt(typeof seed === 'bigint' ? seed : Math.trunc(Number(seed instanceof F64 ? seed.v : seed))));
      }
      const span = max - min + 1n;
      return mkIntBig((gen() % span) + min);
    };
  },
});

registerFunction({
  name: 'range',
  category: 'general',
  params: [
    { name: 'start', type: 'int' },
    { name: 'stop', type: 'int' },
    { name: 'step', type: 'int', default: 1 },
  ],
  make: (a) => {
    const start = argInt(a, 'start');
    const stop = argInt(a, 'stop');
    const step = argInt(a, 'step');
    if (step === 0) throw errPlain('step must be greater than or less than 0');
    if (step < 0) {
      if (stop > start) throw errPlain(`with negative step arg stop (${stop}) must be <= start (${start})`);
    } else if (start >= stop) throw errPlain(`with positive step arg start (${start}) must be < stop (${stop})`);
    const n = Math.trunc((stop - start) / step);
    const arr: number[] = [];
    for (let i = 0; i < n; i++) arr.push(start + step * i);
    return () => arr.slice();
  },
});

const counters = new Map<string, number>();
registerFunction({
  name: 'count',
  category: 'deprecated',
  params: [{ name: 'name', type: 'string' }],
  make: (a) => {
    const name = argStr(a, 'name');
    return () => {
      const n = (counters.get(name) ?? 0) + 1;
      counters.set(name, n);
      return n;
    };
  },
});

registerFunction({
  name: 'counter',
  category: 'general',
  params: [
    { name: 'min', type: 'query', scalarsToLiteral: true, default: 1 },
    { name: 'max', type: 'query', scalarsToLiteral: true, default: 9223372036854775807n },
    { name: 'set', type: 'query', optional: true },
  ],
  make: (a) => {
    const minQ = argQ(a, 'min');
    const maxQ = argQ(a, 'max');
    const setQ = a['set'] as Q | undefined;
    let min: bigint | null = null;
    let max: bigint = 0n;
    let cur: bigint | null = null;
    const asInt = (v: unknown, what: string): bigint => {
      if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
      if (typeof v === 'bigint') return v;
      if (v instanceof F64) return BigInt(Math.trunc(v.v));
      throw errPlain(`${what}: ${errType(v, 'number').message()}`);
    };
    return (c) => {
      if (min === null) {
        min = asInt(minQ.ev(c), 'failed to resolve min argument');
        max = asInt(maxQ.ev(c), 'failed to resolve max argument');
        if (min < 0n) throw errPlain(`min (${min}) must be a positive number`);
        if (max < min) throw errPlain(`min (${min}) must be smaller or equal than max (${max})`);
      }
      if (setQ) {
        const sv = setQ.ev(c);
        if (sv === DELETE) {
          cur = min;
          return mkIntBig(cur);
        }
        if (sv === null || sv === undefined) {
          return cur === null ? mkIntBig(min) : mkIntBig(cur);
        }
        if (sv !== NOTHING) {
          const n = asInt(sv, 'failed to resolve set argument');
          if (n < 0n) throw errPlain(`set value (${n}) must be a non-negative integer`);
          cur = n;
          return mkIntBig(cur);
        }
      }
      if (cur === null || cur >= max) cur = min;
      else cur++;
      return mkIntBig(cur);
    };
  },
});

// ---------------------------------------------------------------------------------------------
// General methods

registerMethod({
  name: 'apply',
  category: 'general',
  params: [{ name: 'mapping', type: 'string' }],
  raw: (target, a) => {
    const name = argStr(a, 'mapping');
    const tev = target.ev;
    return mkQ((c) => {
      const v = tev(c);
      const m = c.st.maps[name];
      if (!m) throw errPlain(`map ${name} was not found`);
      return m(new Ctx(v, c.v, c.named, {}, c.rt, c.index, c.st, c.depth));
    }, `map ${name}`);
  },
});

registerMethod({
  name: 'catch',
  category: 'general',
  params: [{ name: 'fallback', type: 'query', scalarsToLiteral: true }],
  raw: (target, a) => {
    const fb = argQ(a, 'fallback');
    const tev = target.ev;
    const fev = fb.ev;
    if (fb.lit) {
      const v = fb.lit.v;
      return mkQ((c) => {
        try {
          return tev(c);
        } catch {
          return v;
        }
      }, 'method catch');
    }
    return mkQ((c) => {
      try {
        return tev(c);
      } catch (e) {
        return fev(c.withValue(toQErr(e).message()));
      }
    }, 'method catch');
  },
});

registerMethod({
  name: 'or',
  category: 'general',
  params: [{ name: 'fallback', type: 'query', scalarsToLiteral: true }],
  raw: (target, a) => {
    const fb = argQ(a, 'fallback');
    const tev = target.ev;
    const fev = fb.ev;
    return mkQ((c) => {
      let v: unknown;
      try {
        v = tev(c);
      } catch {
        return fev(c);
      }
      return isNullish(v) ? fev(c) : v;
    }, 'method or');
  },
});

registerMethod({
  name: 'from',
  category: 'general',
  params: [{ name: 'index', type: 'int' }],
  raw: (target, a) => {
    const idx = argInt(a, 'index');
    const tev = target.ev;
    return mkQ((c) => tev(c.withIndex(idx < 0 ? c.st.batch.length + idx : idx)), `${target.ann} from ${idx}`);
  },
});

registerMethod({
  name: 'from_all',
  category: 'general',
  params: [],
  raw: (target) => {
    const tev = target.ev;
    return mkQ((c) => {
      const out: unknown[] = [];
      for (let i = 0; i < c.st.batch.length; i++) out.push(tev(c.withIndex(i)));
      return out;
    }, 'method from_all');
  },
});

registerMethod({
  name: 'map',
  category: 'general',
  params: [{ name: 'query', type: 'query' }],
  raw: (target, a) => {
    const q = argQ(a, 'query');
    const tev = target.ev;
    const qev = q.ev;
    return mkQ((c) => qev(c.withValue(tev(c))), q.ann);
  },
});

registerMethod({
  name: 'not',
  category: 'general',
  params: [],
  raw: (target) => {
    const tev = target.ev;
    return mkQ((c) => {
      const v = tev(c);
      if (typeof v !== 'boolean') throw errTypeFrom(target.ann, v, 'bool');
      return !v;
    }, `not ${target.ann}`);
  },
});

// ---------------------------------------------------------------------------------------------
// Coercion

function withDefault(name: string, conv: (v: unknown) => unknown, defType: 'bool' | 'float' | 'timestamp'): void {
  registerMethod({
    name,
    category: 'coercion',
    params: [{ name: 'default', type: defType, optional: true }],
    raw: (target, a) => {
      const def = a['default'];
      const hasDef = def !== undefined;
      const tev = target.ev;
      return mkQ((c) => {
        let v: unknown;
        try {
          v = tev(c);
        } catch (e) {
          if (hasDef) return def;
          throw e;
        }
        try {
          return conv(v);
        } catch (e) {
          if (hasDef) return def;
          throw errFrom(e, target.ann);
        }
      }, `method ${name}`);
    },
  });
}
withDefault('bool', toBool, 'bool');
withDefault('number', (v) => mkFloat(toNumber(v)), 'float');
withDefault('timestamp', getTimestamp, 'timestamp');

simpleMethod('type', 'coercion', (v) => typeOf(v));
simpleMethod('string', 'coercion', (v) => toStr(v));
simpleMethod('bytes', 'coercion', (v) => toBytes(v));
simpleMethod('array', 'coercion', (v) => (Array.isArray(v) ? v : [v]));
simpleMethod('not_null', 'coercion', (v) => {
  if (v === null || v === undefined) throw errPlain('value is null');
  return v;
});
simpleMethod('not_empty', 'coercion', (v) => {
  if (typeof v === 'string') {
    if (v === '') throw errPlain('string value is empty');
  } else if (Array.isArray(v)) {
    if (v.length === 0) throw errPlain('array value is empty');
  } else if (isObject(v)) {
    if (Object.keys(v).length === 0) throw errPlain('object value is empty');
  } else throw errType(v, 'string', 'array', 'object');
  return v;
});

// ---------------------------------------------------------------------------------------------
// Paths

registerMethod({
  name: 'get',
  category: 'object',
  params: [{ name: 'path', type: 'string' }],
  raw: (target, a) => getField(target, dotPathToSlice(argStr(a, 'path'))),
});

function existsPath(v: unknown, path: readonly string[]): boolean {
  let cur: unknown = v;
  for (const seg of path) {
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(seg)) return false;
      const i = Number(seg);
      if (i >= cur.length) return false;
      cur = cur[i];
    } else if (isObject(cur)) {
      if (!Object.hasOwn(cur, seg)) return false;
      cur = cur[seg];
    } else return false;
  }
  return true;
}

registerMethod({
  name: 'exists',
  category: 'object',
  params: [{ name: 'path', type: 'string' }],
  make: (a) => {
    const path = dotPathToSlice(argStr(a, 'path'));
    return (v) => existsPath(v, path);
  },
});

// Metadata reference helpers used by other modules.
export { metaRef };

/** Evaluates a query against a value (lambda-aware). */
export function evalWith(q: Q, c: Ctx, v: unknown): unknown {
  return q.evWith(c, (v));
}

export function ctxThis(c: Ctx): unknown {
  return c.v !== UNSET ? c.v : c.st.thisValue('');
}

export { literal, getString, bytesToString };
export type { Args };
