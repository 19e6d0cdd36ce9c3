/**
 * Parsing and formatting methods: JSON, YAML, CSV, XML, URLs, forms, logfmt, MessagePack and
 * dynamic Bloblang mappings.
 */
import YAML from 'yaml';
import { Ctx, ExecState, UNSET, bytesToString, getString, mkQ, setKey, stringToBytes } from '../core.js';
import { JSONSyntaxError, goJSONParse, goJSONStringify, JSONUnsupportedValue } from '../json.js';
import { runStatements } from '../lang.js';
import { argBool, argStr, registerMethod, simpleMethod, type MethodImpl } from '../registry.js';
import { F64, NOTHING, Timestamp, errPlain, errType, isObject, mkIntBig, type BObject } from '../value.js';
import { XMLError, formatXML, parseXML } from './xml.js';
import { urlUnescape } from './strings.js';
import { formatRFC3339Nano } from '../timefmt.js';

function strOrBytes(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return bytesToString(v);
  throw errType(v, 'string');
}

// ---------------------------------------------------------------------------------------------
// JSON

registerMethod({
  name: 'parse_json',
  category: 'parsing',
  params: [{ name: 'use_number', type: 'bool', optional: true }],
  make: (a) => {
    const useNumber = a['use_number'] === true;
    return (v) => {
      const s = strOrBytes(v);
      try {
        return parseJSONStream(s, useNumber);
      } catch (e) {
        if (e instanceof JSONSyntaxError) throw errPlain(`failed to parse value as JSON: ${e.message}`);
        throw e;
      }
    };
  },
});

/** json.Decoder.Decode semantics: the first document is read, trailing content ignored. */
function parseJSONStream(s: string, useNumber: boolean): unknown {
  try {
    return goJSONParse(s, useNumber ? 'go' : 'float');
  } catch (e) {
    if (e instanceof JSONSyntaxError && /after top-level value/.test(e.message)) {
      return goJSONParse(s.slice(0, e.offset), useNumber ? 'go' : 'float');
    }
    if (e instanceof JSONSyntaxError && e.message === 'unexpected end of JSON input') {
      throw new JSONSyntaxError(s.trim() === '' ? 'EOF' : 'unexpected EOF', e.offset);
    }
    throw e;
  }
}

registerMethod({
  name: 'format_json',
  category: 'parsing',
  params: [
    { name: 'indent', type: 'string', default: '    ' },
    { name: 'no_indent', type: 'bool', default: false },
    { name: 'escape_html', type: 'bool', default: true },
  ],
  make: (a) => {
    const indent = argStr(a, 'indent');
    const noIndent = argBool(a, 'no_indent');
    const html = argBool(a, 'escape_html');
    return (v) => {
      try {
        return stringToBytes(goJSONStringify(v, noIndent ? { escapeHTML: html } : { escapeHTML: html, indent }));
      } catch (e) {
        if (e instanceof JSONUnsupportedValue) throw errPlain(e.message);
        throw e;
      }
    };
  },
});

// ---------------------------------------------------------------------------------------------
// YAML

function fromYAML(v: unknown): unknown {
  if (typeof v === 'bigint') return mkIntBig(v);
  if (typeof v === 'number') return Number.isInteger(v) ? v : v;
  if (v instanceof Date) return formatRFC3339Nano(Timestamp.fromMillis(v.getTime()));
  if (v instanceof Map) {
    const o: BObject = {};
    for (const [k, x] of v) setKey(o, String(k), fromYAML(x));
    return o;
  }
  if (Array.isArray(v)) return v.map(fromYAML);
  if (v instanceof Uint8Array) return v;
  if (isObject(v)) {
    const o: BObject = {};
    for (const k of Object.keys(v)) setKey(o, k, fromYAML(v[k]));
    return o;
  }
  return v === undefined ? null : v;
}

simpleMethod('parse_yaml', 'parsing', (v) => {
  const s = strOrBytes(v);
  try {
    const doc = YAML.parseDocument(s, { intAsBigInt: true, uniqueKeys: false });
    if (doc.errors.length > 0) throw doc.errors[0];
    return fromYAML(doc.toJS({ maxAliasCount: -1 }));
  } catch (e) {
    throw errPlain(`failed to parse value as YAML: ${(e as Error).message}`);
  }
});

function toYAMLValue(v: unknown): unknown {
  if (v instanceof F64) return v.v;
  if (typeof v === 'bigint') return v;
  if (v instanceof Timestamp) return formatRFC3339Nano(v);
  if (v instanceof Uint8Array) return bytesToString(v);
  if (Array.isArray(v)) return v.map(toYAMLValue);
  if (isObject(v)) {
    const o: BObject = {};
    for (const k of Object.keys(v).sort()) setKey(o, k, toYAMLValue(v[k]));
    return o;
  }
  return v === undefined ? null : v;
}

simpleMethod('format_yaml', 'parsing', (v) => {
  const doc = new YAML.Document(toYAMLValue(v), { version: '1.2' });
  let s = doc.toString({ indent: 4, indentSeq: true, lineWidth: 0, defaultStringType: 'PLAIN', nullStr: 'null' });
  if (s === '') s = '\n';
  return stringToBytes(s);
});

// ---------------------------------------------------------------------------------------------
// CSV (encoding/csv semantics)

class CSVError extends Error {}

function readCSV(s: string, delim: string, lazy: boolean): string[][] {
  const records: string[][] = [];
  const lines = s.replace(/\r\n/g, '\n');
  let i = 0;
  let line = 1;
  const n = lines.length;
  let expected = -1;
  while (i < n) {
    // Skip empty lines.
    if (lines[i] === '\n') {
      i++;
      line++;
      continue;
    }
    const recLine = line;
    const fields: string[] = [];
    for (;;) {
      let field = '';
      if (lines[i] === '"') {
        i++;
        const col = i;
        for (;;) {
          if (i >= n) {
            if (!lazy) throw new CSVError(`parse error on line ${recLine}, column ${col}: extraneous or missing " in quoted-field`);
            break;
          }
          const c = lines[i] as string;
          if (c === '"') {
            if (lines[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            if (i + 1 >= n || lines[i + 1] === delim || lines[i + 1] === '\n') {
              i++;
              break;
            }
            if (lazy) {
              field += '"';
              i++;
              continue;
            }
            throw new CSVError(`parse error on line ${line}, column ${i + 2}: extraneous or missing " in quoted-field`);
          }
          if (c === '\n') line++;
          field += c;
          i++;
        }
      } else {
        while (i < n && lines[i] !== delim && lines[i] !== '\n') {
          if (lines[i] === '"' && !lazy) throw new CSVError(`parse error on line ${line}, column ${i + 1}: bare " in non-quoted-field`);
          field += lines[i];
          i++;
        }
      }
      fields.push(field);
      if (i < n && lines[i] === delim) {
        i++;
        continue;
      }
      if (i < n && lines[i] === '\n') {
        i++;
        line++;
      }
      break;
    }
    if (expected < 0) expected = fields.length;
    else if (fields.length !== expected) throw new CSVError(`record on line ${recLine}: wrong number of fields`);
    records.push(fields);
  }
  return records;
}

registerMethod({
  name: 'parse_csv',
  category: 'parsing',
  params: [
    { name: 'parse_header_row', type: 'bool', default: true },
    { name: 'delimiter', type: 'string', default: ',' },
    { name: 'lazy_quotes', type: 'bool', default: false },
  ],
  make: (a) => {
    const header = argBool(a, 'parse_header_row');
    const delim = argStr(a, 'delimiter');
    const lazy = argBool(a, 'lazy_quotes');
    return (v) => {
      if (Array.from(delim).length !== 1) throw errPlain('delimiter value must be exactly one character');
      const s = strOrBytes(v);
      let recs: string[][];
      try {
        recs = readCSV(s, delim, lazy);
      } catch (e) {
        throw errPlain((e as Error).message);
      }
      if (recs.length === 0) throw errPlain('zero records were parsed');
      if (!header) return recs;
      const heads = recs[0] as string[];
      return recs.slice(1).map((r, j) => {
        if (r.length !== heads.length) throw errPlain(`record on line ${j}: record mismatch with headers`);
        const o: BObject = {};
        heads.forEach((h, i) => setKey(o, h, r[i]));
        return o;
      });
    };
  },
});

// ---------------------------------------------------------------------------------------------
// XML

registerMethod({
  name: 'parse_xml',
  category: 'parsing',
  params: [{ name: 'cast', type: 'bool', default: false }],
  make: (a) => {
    const cast = argBool(a, 'cast');
    return (v) => {
      try {
        return parseXML(strOrBytes(v), cast);
      } catch (e) {
        if (e instanceof XMLError) throw errPlain(e.message);
        throw e;
      }
    };
  },
});

registerMethod({
  name: 'format_xml',
  category: 'parsing',
  params: [
    { name: 'indent', type: 'string', default: '    ' },
    { name: 'no_indent', type: 'bool', default: false },
    { name: 'root_tag', type: 'string', optional: true },
  ],
  make: (a) => {
    const indent = argStr(a, 'indent');
    const noIndent = argBool(a, 'no_indent');
    const rootTag = a['root_tag'] as string | undefined;
    return (v) => {
      if (!isObject(v)) throw errType(v, 'object');
      return stringToBytes(formatXML(v, indent, !noIndent, rootTag));
    };
  },
});

// ---------------------------------------------------------------------------------------------
// URLs and forms

function splitOnce(s: string, sep: string): [string, string | null] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, null] : [s.slice(0, i), s.slice(i + 1)];
}

function escapeDefault(s: string, mode: 'path' | 'fragment'): string {
  let out = '';
  for (const b of stringToBytes(s)) {
    const c = String.fromCharCode(b);
    const ok = b < 0x80 && (/[A-Za-z0-9\-_.~]/.test(c) || "$&+,/:;=@".includes(c) || (mode === 'fragment' && "!()*?'".includes(c)) || (mode === 'path' && "!()*'".includes(c)));
    out += ok ? c : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** net/url.Parse (the parts Benthos exposes). */
export function parseURL(raw: string): BObject {
  const [rest0, frag] = splitOnce(raw, '#');
  const fail = (msg: string): never => {
    throw errPlain(`parse ${JSON.stringify(rest0)}: ${msg}`);
  };
  const unesc = (s: string): string => {
    try {
      return urlUnescape(s, false);
    } catch (e) {
      return fail((e as { message(): string }).message());
    }
  };
  let rest = rest0;
  let scheme = '';
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(rest);
  if (m) {
    scheme = (m[1] as string).toLowerCase();
    rest = rest.slice(m[0].length);
  } else if (/^[^/?]*:/.test(rest) && !rest.startsWith('/')) {
    const colon = rest.indexOf(':');
    if (colon === 0) fail('missing protocol scheme');
    fail('first path segment in URL cannot contain colon');
  }
  let rawQuery = '';
  if (rest.includes('?')) {
    const [p, q] = splitOnce(rest, '?');
    rest = p;
    rawQuery = q ?? '';
  }
  const out: BObject = { scheme, opaque: '', host: '', path: '', raw_path: '', raw_query: rawQuery, fragment: '', raw_fragment: '' };
  if (scheme !== '' && !rest.startsWith('/')) {
    out['opaque'] = rest;
  } else {
    if (rest.startsWith('//')) {
      const auth0 = rest.slice(2);
      const slash = auth0.indexOf('/');
      const auth = slash < 0 ? auth0 : auth0.slice(0, slash);
      rest = slash < 0 ? '' : auth0.slice(slash);
      let host = auth;
      const at = auth.lastIndexOf('@');
      if (at >= 0) {
        const userinfo = auth.slice(0, at);
        host = auth.slice(at + 1);
        const [u, p] = splitOnce(userinfo, ':');
        const user: BObject = { name: unesc(u) };
        if (p !== null) user['password'] = unesc(p);
        out['user'] = user;
      }
      if (/%/.test(host) && !/%25/.test(host)) unesc(host);
      out['host'] = host;
    }
    const path = unesc(rest);
    out['path'] = path;
    if (escapeDefault(path, 'path') !== rest) out['raw_path'] = rest;
  }
  if (frag !== null) {
    const f = unesc(frag);
    out['fragment'] = f;
    if (escapeDefault(f, 'fragment') !== frag) out['raw_fragment'] = frag;
  }
  return out;
}

simpleMethod('parse_url', 'parsing', (v) => parseURL(getString(v)));

export function parseQuery(s: string): BObject {
  const out: Record<string, string[]> = {};
  for (const part of s.split(/&/)) {
    if (part === '') continue;
    const [k, val] = splitOnce(part, '=');
    const key = urlUnescape(k, true);
    const value = val === null ? '' : urlUnescape(val, true);
    (out[key] ??= []).push(value);
  }
  const res: BObject = {};
  for (const k of Object.keys(out)) {
    const vals = out[k] as string[];
    setKey(res, k, vals.length === 1 ? vals[0] : vals);
  }
  return res;
}

simpleMethod('parse_form_url_encoded', 'parsing', (v) => parseQuery(getString(v)));

// ---------------------------------------------------------------------------------------------
// logfmt

simpleMethod('parse_logfmt', 'parsing', (v) => {
  const s = strOrBytes(v);
  const out: BObject = {};
  let i = 0;
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i] as string)) i++;
    if (i >= s.length) break;
    let k = '';
    while (i < s.length && s[i] !== '=' && !/\s/.test(s[i] as string)) k += s[i++];
    if (s[i] !== '=') {
      setKey(out, k, true);
      continue;
    }
    i++;
    let val = '';
    if (s[i] === '"') {
      i++;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === '\\' && i + 1 < s.length) {
          const e = s[i + 1] as string;
          val += e === 'n' ? '\n' : e === 't' ? '\t' : e;
          i += 2;
          continue;
        }
        val += s[i++];
      }
      i++;
    } else while (i < s.length && !/\s/.test(s[i] as string)) val += s[i++];
    setKey(out, k, val);
  }
  return out;
});

// ---------------------------------------------------------------------------------------------
// MessagePack

function msgpackEncode(v: unknown, out: number[]): void {
  const u8 = (n: number): void => {
    out.push(n & 255);
  };
  const u16 = (n: number): void => {
    out.push((n >>> 8) & 255, n & 255);
  };
  const u32 = (n: number): void => {
    out.push((n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
  };
  const u64 = (b: bigint): void => {
    for (let i = 7; i >= 0; i--) out.push(Number((b >> BigInt(i * 8)) & 0xffn));
  };
  const str = (s: string): void => {
    const b = stringToBytes(s);
    if (b.length < 32) u8(0xa0 | b.length);
    else if (b.length < 256) out.push(0xd9, b.length);
    else if (b.length < 65536) {
      u8(0xda);
      u16(b.length);
    } else {
      u8(0xdb);
      u32(b.length);
    }
    for (const x of b) out.push(x);
  };
  if (v === null || v === undefined || v === NOTHING) return u8(0xc0);
  if (typeof v === 'boolean') return u8(v ? 0xc3 : 0xc2);
  if (typeof v === 'string') return str(v);
  if (v instanceof Timestamp) return str(formatRFC3339Nano(v));
  if (v instanceof Uint8Array) {
    if (v.length < 256) out.push(0xc4, v.length);
    else if (v.length < 65536) {
      u8(0xc5);
      u16(v.length);
    } else {
      u8(0xc6);
      u32(v.length);
    }
    for (const x of v) out.push(x);
    return;
  }
  if (typeof v === 'number' && Number.isInteger(v)) v = BigInt(v);
  if (typeof v === 'bigint') {
    if (v >= 0n && v < 128n) return u8(Number(v));
    if (v < 0n && v >= -32n) return u8(0xe0 | (Number(v) + 32));
    if (v >= 0n) {
      if (v < 256n) return out.push(0xcc, Number(v)), undefined;
      if (v < 65536n) return u8(0xcd), u16(Number(v));
      if (v < 4294967296n) return u8(0xce), u32(Number(v));
      return u8(0xcf), u64(v);
    }
    if (v >= -128n) return out.push(0xd0, Number(v) & 255), undefined;
    if (v >= -32768n) return u8(0xd1), u16(Number(v) & 0xffff);
    if (v >= -2147483648n) return u8(0xd2), u32(Number(v) >>> 0);
    return u8(0xd3), u64(BigInt.asUintN(64, v));
  }
  if (typeof v === 'number' || v instanceof F64) {
    const f = typeof v === 'number' ? v : v.v;
    const buf = Buffer.alloc(8);
    buf.writeDoubleBE(f);
    u8(0xcb);
    for (const x of buf) out.push(x);
    return;
  }
  if (Array.isArray(v)) {
    if (v.length < 16) u8(0x90 | v.length);
    else if (v.length < 65536) {
      u8(0xdc);
      u16(v.length);
    } else {
      u8(0xdd);
      u32(v.length);
    }
    for (const e of v) msgpackEncode(e, out);
    return;
  }
  if (isObject(v)) {
    const keys = Object.keys(v).sort();
    if (keys.length < 16) u8(0x80 | keys.length);
    else if (keys.length < 65536) {
      u8(0xde);
      u16(keys.length);
    } else {
      u8(0xdf);
      u32(keys.length);
    }
    for (const k of keys) {
      str(k);
      msgpackEncode(v[k], out);
    }
    return;
  }
  u8(0xc0);
}

function msgpackDecode(b: Uint8Array): unknown {
  let i = 0;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const need = (n: number): void => {
    if (i + n > b.length) throw errPlain('msgpack: unexpected EOF');
  };
  const str = (n: number): string => {
    need(n);
    const s = bytesToString(b.subarray(i, i + n));
    i += n;
    return s;
  };
  const bin = (n: number): Uint8Array => {
    need(n);
    const s = b.slice(i, i + n);
    i += n;
    return s;
  };
  const arr = (n: number): unknown[] => {
    const a: unknown[] = [];
    for (let k = 0; k < n; k++) a.push(read());
    return a;
  };
  const map = (n: number): BObject => {
    const o: BObject = {};
    for (let k = 0; k < n; k++) {
      const key = read();
      setKey(o, typeof key === 'string' ? key : String(key), read());
    }
    return o;
  };
  const read = (): unknown => {
    need(1);
    const c = b[i++] as number;
    if (c < 0x80) return c;
    if (c >= 0xe0) return c - 256;
    if ((c & 0xf0) === 0x80) return map(c & 0x0f);
    if ((c & 0xf0) === 0x90) return arr(c & 0x0f);
    if ((c & 0xe0) === 0xa0) return str(c & 0x1f);
    const num = (n: number, f: (o: number) => number | bigint): number | bigint => {
      need(n);
      const r = f(i);
      i += n;
      return r;
    };
    switch (c) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return bin(num(1, (o) => dv.getUint8(o)) as number);
      case 0xc5:
        return bin(num(2, (o) => dv.getUint16(o)) as number);
      case 0xc6:
        return bin(num(4, (o) => dv.getUint32(o)) as number);
      case 0xca: {
        const f = num(4, (o) => dv.getFloat32(o)) as number;
        return Number.isInteger(f) ? new F64(f) : f;
      }
      case 0xcb: {
        const f = num(8, (o) => dv.getFloat64(o)) as number;
        return Number.isInteger(f) ? new F64(f) : f;
      }
      case 0xcc:
        return num(1, (o) => dv.getUint8(o));
      case 0xcd:
        return num(2, (o) => dv.getUint16(o));
      case 0xce:
        return num(4, (o) => dv.getUint32(o));
      case 0xcf:
        return mkIntBig(num(8, (o) => dv.getBigUint64(o)) as bigint);
      case 0xd0:
        return num(1, (o) => dv.getInt8(o));
      case 0xd1:
        return num(2, (o) => dv.getInt16(o));
      case 0xd2:
        return num(4, (o) => dv.getInt32(o));
      case 0xd3:
        return mkIntBig(num(8, (o) => dv.getBigInt64(o)) as bigint);
      case 0xd9:
        return str(num(1, (o) => dv.getUint8(o)) as number);
      case 0xda:
        return str(num(2, (o) => dv.getUint16(o)) as number);
      case 0xdb:
        return str(num(4, (o) => dv.getUint32(o)) as number);
      case 0xdc:
        return arr(num(2, (o) => dv.getUint16(o)) as number);
      case 0xdd:
        return arr(num(4, (o) => dv.getUint32(o)) as number);
      case 0xde:
        return map(num(2, (o) => dv.getUint16(o)) as number);
      case 0xdf:
        return map(num(4, (o) => dv.getUint32(o)) as number);
    }
    throw errPlain(`msgpack: unsupported code 0x${c.toString(16)}`);
  };
  return read();
}

simpleMethod('format_msgpack', 'parsing', (v) => {
  const out: number[] = [];
  msgpackEncode(v, out);
  return new Uint8Array(out);
});

simpleMethod('parse_msgpack', 'parsing', (v) => {
  if (typeof v === 'string') return msgpackDecode(stringToBytes(v));
  if (v instanceof Uint8Array) return msgpackDecode(v);
  throw errType(v, 'bytes');
});

// ---------------------------------------------------------------------------------------------
// Dynamic mappings

/** Set by index.ts to avoid an import cycle with the parser. */
let compileDynamic: ((src: string) => { stmts: Parameters<typeof runStatements>[1] }) | null = null;
export function setDynamicCompiler(f: (src: string) => { stmts: Parameters<typeof runStatements>[1] }): void {
  compileDynamic = f;
}

registerMethod({
  name: 'bloblang',
  category: 'parsing',
  params: [{ name: 'mapping', type: 'string' }],
  make: (a) => {
    const src = argStr(a, 'mapping');
    if (!compileDynamic) throw errPlain('dynamic mappings are unavailable');
    let exec: { stmts: Parameters<typeof runStatements>[1] };
    try {
      exec = compileDynamic(src);
    } catch (e) {
      throw errPlain((e as Error).message);
    }
    const impl: MethodImpl = (v, c) => {
      const st = new ExecState(c.st.batch, c.st.index, null, {}, v);
      const inner = new Ctx(UNSET, UNSET, null, {}, null, c.index, st, c.depth);
      return runStatements('mapping', exec.stmts, inner);
    };
    return impl;
  },
});

export { mkQ };
