/**
 * String methods. Methods that accept bytes return bytes where Benthos does.
 */
import { posix } from 'node:path';
import { bytesToString, getString, stringToBytes } from '../core.js';
import { argInt, argStr, registerMethod, simpleMethod, type MethodImpl } from '../registry.js';
import { errPlain, errType, isObject } from '../value.js';
import { goQuote, sprintf } from './fmt.js';

/** Applies a string transform, keeping bytes as bytes. */
function strOrBytes(fn: (s: string) => string): MethodImpl {
  return (v) => {
    if (typeof v === 'string') return fn(v);
    if (v instanceof Uint8Array) return stringToBytes(fn(bytesToString(v)));
    throw errType(v, 'string');
  };
}

/** Requires a string (or bytes) and returns fn's result. */
function strOnly(fn: (s: string) => unknown): MethodImpl {
  return (v) => {
    if (typeof v === 'string') return fn(v);
    if (v instanceof Uint8Array) return fn(bytesToString(v));
    throw errType(v, 'string');
  };
}

/** Accepts anything IGetString accepts (strings, bytes, timestamps). */
function stringMethod(fn: (s: string) => unknown): MethodImpl {
  return (v) => fn(getString(v));
}

// Title-casing like golang.org/x/text/cases.Title(language.English).
function titleCase(s: string): string {
  let out = '';
  let prevLetter = false;
  for (const ch of s) {
    const isLetter = /[\p{L}\p{N}'’]/u.test(ch);
    if (isLetter && !prevLetter) out += ch.toUpperCase();
    else if (isLetter) out += ch.toLowerCase();
    else out += ch;
    prevLetter = isLetter;
  }
  return out;
}

simpleMethod('capitalize', 'string', strOrBytes(titleCase));
simpleMethod('uppercase', 'string', strOrBytes((s) => s.toUpperCase()));
simpleMethod('lowercase', 'string', strOrBytes((s) => s.toLowerCase()));

export function escapeHTML(s: string): string {
  return s.replace(/[&'<>"]/g, (c) => ({ '&': '&amp;', "'": '&#39;', '<': '&lt;', '>': '&gt;', '"': '&#34;' })[c] as string);
}

const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
  copy: '©',
  reg: '®',
  trade: '™',
  hellip: '…',
  mdash: '—',
  ndash: '–',
  lsquo: '‘',
  rsquo: '’',
  ldquo: '“',
  rdquo: '”',
  laquo: '«',
  raquo: '»',
  euro: '€',
  pound: '£',
  yen: '¥',
  cent: '¢',
  sect: '§',
  deg: '°',
  plusmn: '±',
  times: '×',
  divide: '÷',
  middot: '·',
  bull: '•',
  para: '¶',
  iexcl: '¡',
  iquest: '¿',
  aacute: 'á',
  eacute: 'é',
  iacute: 'í',
  oacute: 'ó',
  uacute: 'ú',
  Aacute: 'Á',
  Eacute: 'É',
  Iacute: 'Í',
  Oacute: 'Ó',
  Uacute: 'Ú',
  agrave: 'à',
  egrave: 'è',
  igrave: 'ì',
  ograve: 'ò',
  ugrave: 'ù',
  acirc: 'â',
  ecirc: 'ê',
  icirc: 'î',
  ocirc: 'ô',
  ucirc: 'û',
  auml: 'ä',
  euml: 'ë',
  iuml: 'ï',
  ouml: 'ö',
  uuml: 'ü',
  Auml: 'Ä',
  Ouml: 'Ö',
  Uuml: 'Ü',
  szlig: 'ß',
  ntilde: 'ñ',
  Ntilde: 'Ñ',
  ccedil: 'ç',
  Ccedil: 'Ç',
  aring: 'å',
  Aring: 'Å',
  aelig: 'æ',
  AElig: 'Æ',
  oslash: 'ø',
  Oslash: 'Ø',
  atilde: 'ã',
  otilde: 'õ',
};

export function unescapeHTML(s: string): string {
  return s.replace(/&(#[xX][0-9a-fA-F]+|#[0-9]+|[a-zA-Z][a-zA-Z0-9]*);?/g, (m, body: string) => {
    if (body[0] === '#') {
      const cp = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      if (!Number.isFinite(cp) || cp > 0x10ffff) return '\ufffd';
      if (cp === 0) return '\ufffd';
      return String.fromCodePoint(cp);
    }
    const e = ENTITIES[body];
    return e !== undefined ? e : m;
  });
}

simpleMethod('escape_html', 'string', stringMethod(escapeHTML));
simpleMethod('unescape_html', 'string', stringMethod(unescapeHTML));

const UNRESERVED = /[A-Za-z0-9\-_.~]/;

export function queryEscape(s: string): string {
  let out = '';
  for (const b of stringToBytes(s)) {
    const c = String.fromCharCode(b);
    if (b < 0x80 && UNRESERVED.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

export function pathEscape(s: string): string {
  let out = '';
  for (const b of stringToBytes(s)) {
    const c = String.fromCharCode(b);
    if (b < 0x80 && (UNRESERVED.test(c) || '$&+:=@'.includes(c))) out += c;
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

export function urlUnescape(s: string, query: boolean): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c === '%') {
      const h = s.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(h)) {
        const bad = s.slice(i, i + 3);
        throw errPlain(`invalid URL escape ${JSON.stringify(bad)}`);
      }
      bytes.push(parseInt(h, 16));
      i += 2;
    } else if (c === '+' && query) bytes.push(0x20);
    else for (const b of stringToBytes(c)) bytes.push(b);
  }
  return bytesToString(new Uint8Array(bytes));
}

simpleMethod('escape_url_query', 'string', stringMethod(queryEscape));
simpleMethod('unescape_url_query', 'string', stringMethod((s) => urlUnescape(s, true)));
simpleMethod('escape_url_path', 'string', stringMethod(pathEscape));
simpleMethod('unescape_url_path', 'string', stringMethod((s) => urlUnescape(s, false)));

simpleMethod('filepath_join', 'string', (v) => {
  if (!Array.isArray(v)) throw errType(v, 'array');
  const parts = v.map((e, i) => {
    try {
      return getString(e);
    } catch (err) {
      throw errPlain(`path element ${i}: ${(err as { message(): string }).message()}`);
    }
  });
  const nonEmpty = parts.filter((p) => p !== '');
  return nonEmpty.length === 0 ? '' : posix.normalize(nonEmpty.join('/')).replace(/\/$/, (m, off: number) => (off === 0 ? m : ''));
});

simpleMethod(
  'filepath_split',
  'string',
  stringMethod((s) => {
    const i = s.lastIndexOf('/');
    return [s.slice(0, i + 1), s.slice(i + 1)];
  }),
);

registerMethod({
  name: 'format',
  category: 'string',
  params: 'variadic',
  make: (a) => {
    const args = a['args'] as unknown[];
    return stringMethod((s) => sprintf(s, args));
  },
});

for (const [name, fn] of [
  ['has_prefix', (s: string, x: string) => s.startsWith(x)],
  ['has_suffix', (s: string, x: string) => s.endsWith(x)],
] as const) {
  registerMethod({
    name,
    category: 'string',
    params: [{ name: 'value', type: 'string' }],
    make: (a) => {
      const x = argStr(a, 'value');
      return strOnly((s) => fn(s, x));
    },
  });
}

function byteIndex(s: string, sub: string): number {
  const i = s.indexOf(sub);
  if (i < 0) return -1;
  return stringToBytes(s.slice(0, i)).length;
}

registerMethod({
  name: 'index_of',
  category: 'string',
  params: [{ name: 'value', type: 'string' }],
  make: (a) => {
    const x = argStr(a, 'value');
    return strOnly((s) => byteIndex(s, x));
  },
});

simpleMethod('quote', 'string', stringMethod(goQuote));

/** strconv.Unquote for "…", `…` and '…'. */
export function goUnquote(s: string): string {
  const bad = (): never => {
    throw errPlain('invalid syntax');
  };
  if (s.length < 2) bad();
  const q = s[0];
  if (q !== s[s.length - 1]) bad();
  const body = s.slice(1, -1);
  if (q === '`') {
    if (body.includes('`')) bad();
    return body.replace(/\r/g, '');
  }
  if (q !== '"' && q !== "'") bad();
  let out = '';
  const bytes: number[] = [];
  const flush = (): void => {
    if (bytes.length) {
      out += bytesToString(new Uint8Array(bytes));
      bytes.length = 0;
    }
  };
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c === q || c === '\n') bad();
    if (c !== '\\') {
      flush();
      out += c;
      continue;
    }
    const e = body[++i];
    const hex = (n: number): number => {
      const h = body.slice(i + 1, i + 1 + n);
      if (h.length !== n || !/^[0-9a-fA-F]+$/.test(h)) bad();
      i += n;
      return parseInt(h, 16);
    };
    const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };
    if (e !== undefined && simple[e] !== undefined) {
      flush();
      out += simple[e];
    } else if (e === q) {
      flush();
      out += e;
    } else if (e === 'x') bytes.push(hex(2));
    else if (e === 'u' || e === 'U') {
      const cp = hex(e === 'u' ? 4 : 8);
      if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) bad();
      flush();
      out += String.fromCodePoint(cp);
    } else if (e !== undefined && e >= '0' && e <= '7') {
      const o = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(o)) bad();
      bytes.push(parseInt(o, 8));
      i += 2;
    } else bad();
  }
  flush();
  if (q === "'" && Array.from(out).length !== 1) bad();
  return out;
}

simpleMethod('unquote', 'string', stringMethod(goUnquote));

function replaceAllImpl(a: Record<string, unknown>): MethodImpl {
  const oldS = argStr(a, 'old');
  const newS = argStr(a, 'new');
  return strOrBytes((s) => goReplaceAll(s, oldS, newS));
}

/** strings.ReplaceAll (an empty old string inserts between runes). */
export function goReplaceAll(s: string, oldS: string, newS: string): string {
  if (oldS === '') {
    const runes = Array.from(s);
    return newS + runes.map((r) => r + newS).join('');
  }
  return s.split(oldS).join(newS);
}

for (const name of ['replace_all', 'replace']) {
  registerMethod({
    name,
    category: 'string',
    params: [
      { name: 'old', type: 'string' },
      { name: 'new', type: 'string' },
    ],
    make: replaceAllImpl,
  });
}

for (const name of ['replace_all_many', 'replace_many']) {
  registerMethod({
    name,
    category: 'string',
    params: [{ name: 'values', type: 'array' }],
    make: (a) => {
      const items = a['values'] as unknown[];
      if (items.length % 2 !== 0) {
        throw errPlain(`invalid arg, replacements should be in pairs and must therefore be even: [${items.map(String).join(' ')}]`);
      }
      const pairs: Array<[string, string]> = [];
      for (let i = 0; i < items.length; i += 2) {
        let from: string;
        let to: string;
        try {
          from = getString(items[i]);
        } catch (e) {
          throw errPlain(`invalid replacement value at index ${i}: ${(e as { message(): string }).message()}`);
        }
        try {
          to = getString(items[i + 1]);
        } catch (e) {
          throw errPlain(`invalid replacement value at index ${i + 1}: ${(e as { message(): string }).message()}`);
        }
        pairs.push([from, to]);
      }
      return strOrBytes((s) => {
        for (const [f, t] of pairs) s = goReplaceAll(s, f, t);
        return s;
      });
    },
  });
}

simpleMethod('reverse', 'string', (v) => {
  if (typeof v === 'string') return Array.from(v).reverse().join('');
  if (v instanceof Uint8Array) return v.slice().reverse();
  throw errType(v, 'string');
});

registerMethod({
  name: 'repeat',
  category: 'string',
  params: [{ name: 'count', type: 'int' }],
  make: (a) => {
    const n = argInt(a, 'count');
    return strOrBytes((s) => {
      if (n < 0) throw errPlain('strings: negative Repeat count');
      return s.repeat(n);
    });
  },
});

registerMethod({
  name: 'split',
  category: 'string',
  params: [{ name: 'delimiter', type: 'string' }],
  make: (a) => {
    const d = argStr(a, 'delimiter');
    const split = (s: string): string[] => (d === '' ? Array.from(s) : s.split(d));
    return (v) => {
      if (typeof v === 'string') return split(v);
      if (v instanceof Uint8Array) return split(bytesToString(v)).map(stringToBytes);
      throw errType(v, 'string');
    };
  },
});

function stripHTML(s: string, preserve: Set<string>): string {
  let out = s.replace(/<!--[\s\S]*?-->/g, '');
  out = out.replace(/<(script|style)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, (m, tag: string) => (preserve.has(tag.toLowerCase()) ? m : ''));
  out = out.replace(/<\/?([a-zA-Z][a-zA-Z0-9-]*)\b[^>]*>/g, (m, tag: string) => {
    if (!preserve.has(tag.toLowerCase())) return '';
    return m.startsWith('</') ? `</${tag.toLowerCase()}>` : `<${tag.toLowerCase()}>`;
  });
  return out;
}

registerMethod({
  name: 'strip_html',
  category: 'string',
  params: [{ name: 'preserve', type: 'any', optional: true }],
  make: (a) => {
    const p = a['preserve'];
    const preserve = new Set<string>();
    if (Array.isArray(p)) for (const x of p) preserve.add(String(x).toLowerCase());
    return strOrBytes((s) => stripHTML(s, preserve));
  },
});

const GO_SPACE = '\t\n\v\f\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';

export function goTrim(s: string, cutset: string): string {
  const set = new Set(Array.from(cutset));
  const runes = Array.from(s);
  let i = 0;
  let j = runes.length;
  while (i < j && set.has(runes[i] as string)) i++;
  while (j > i && set.has(runes[j - 1] as string)) j--;
  return runes.slice(i, j).join('');
}

registerMethod({
  name: 'trim',
  category: 'string',
  params: [{ name: 'cutset', type: 'string', optional: true }],
  make: (a) => {
    const cutset = a['cutset'] as string | undefined;
    return strOrBytes((s) => goTrim(s, cutset ?? GO_SPACE));
  },
});

registerMethod({
  name: 'trim_prefix',
  category: 'string',
  params: [{ name: 'prefix', type: 'string' }],
  make: (a) => {
    const p = argStr(a, 'prefix');
    return strOrBytes((s) => (p !== '' && s.startsWith(p) ? s.slice(p.length) : s));
  },
});

registerMethod({
  name: 'trim_suffix',
  category: 'string',
  params: [{ name: 'suffix', type: 'string' }],
  make: (a) => {
    const p = argStr(a, 'suffix');
    return strOrBytes((s) => (p !== '' && s.endsWith(p) ? s.slice(0, s.length - p.length) : s));
  },
});

const SLUG_LANG: Record<string, Record<string, string>> = {
  en: { '&': 'and', '@': 'at' },
  de: { '&': 'und', '@': 'an', ä: 'ae', Ä: 'Ae', ö: 'oe', Ö: 'Oe', ü: 'ue', Ü: 'Ue', ß: 'ss' },
  fr: { '&': 'et', '@': 'arobase' },
  es: { '&': 'y', '@': 'en' },
  it: { '&': 'e', '@': 'chiocciola' },
  nl: { '&': 'en', '@': 'at' },
  pl: { '&': 'i', '@': 'na' },
  sv: { '&': 'och', '@': 'snabel a' },
  fi: { '&': 'ja', '@': 'at' },
  cs: { '&': 'a', '@': 'zavinac' },
  el: { '&': 'kai' },
  tr: { '&': 've' },
};

export function slugify(s: string, lang: string): string {
  let out = s.replace(/["'’]/g, '').replace(/[‒–—―]/g, '-');
  const sub = SLUG_LANG[lang] ?? SLUG_LANG['en'] ?? {};
  out = Array.from(out)
    .map((c) => (sub[c] !== undefined ? ` ${sub[c]} ` : c))
    .join('');
  out = out.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  out = out.replace(/ø/g, 'o').replace(/Ø/g, 'O').replace(/ł/g, 'l').replace(/Ł/g, 'L').replace(/đ/g, 'd').replace(/ß/g, 'ss');
  out = out.toLowerCase();
  out = out.replace(/[^a-z0-9\-_]/g, '-');
  out = out.replace(/-+/g, '-');
  return out.replace(/^[-_]+|[-_]+$/g, '');
}

registerMethod({
  name: 'slug',
  category: 'string',
  params: [{ name: 'lang', type: 'string', default: 'en' }],
  make: (a) => {
    const lang = argStr(a, 'lang');
    return stringMethod((s) => slugify(s, lang));
  },
});

registerMethod({
  name: 'unicode_segments',
  category: 'string',
  params: [{ name: 'segmentation_type', type: 'string' }],
  make: (a) => {
    const t = argStr(a, 'segmentation_type');
    if (t !== 'grapheme' && t !== 'word' && t !== 'sentence') throw errPlain(`unrecognised segmentation type: ${t}`);
    const seg = new Intl.Segmenter('en', { granularity: t });
    return stringMethod((s) => Array.from(seg.segment(s), (x) => x.segment));
  },
});

registerMethod({
  name: 'join',
  category: 'object',
  params: [{ name: 'delimiter', type: 'string', optional: true }],
  make: (a) => {
    const d = (a['delimiter'] as string | undefined) ?? '';
    return (v) => {
      if (!Array.isArray(v)) throw errType(v, 'array');
      let out = '';
      for (let i = 0; i < v.length; i++) {
        const e = v[i];
        if (i > 0) out += d;
        if (typeof e === 'string') out += e;
        else if (e instanceof Uint8Array) out += bytesToString(e);
        else throw errPlain(`failed to join element ${i}: ${errType(e, 'string').message()}`);
      }
      return out;
    };
  },
});

for (const name of ['compare_argon2', 'compare_bcrypt']) {
  registerMethod({
    name,
    category: 'string',
    params: [{ name: 'hashed_secret', type: 'string' }],
    make: () => () => {
      throw errPlain(`${name} is not implemented in Sluice`);
    },
  });
}

export { isObject };
