/**
 * Regular expressions with RE2 semantics (re2js), Go's FindAll rules and `$1` / `${name}`
 * template expansion as Go's regexp.Expand.
 */
import { RE2JS } from 're2js';
import { bytesToString } from '../core.js';
import { argStr, registerMethod, type MethodImpl } from '../registry.js';
import { errPlain, errType, type BObject } from '../value.js';
import { setKey as coreSetKey } from '../core.js';

export class GoRegexp {
  readonly re: RE2JS;
  /** Sub-expression names; index 0 is the whole match (""). */
  readonly names: string[];
  readonly numGroups: number;

  constructor(readonly source: string) {
    try {
      this.re = RE2JS.compile(source);
    } catch (e) {
      throw errPlain(`error parsing regexp: ${(e as Error).message}`);
    }
    this.numGroups = this.re.groupCount();
    this.names = new Array<string>(this.numGroups + 1).fill('');
    const named = this.re.namedGroups();
    for (const [name, idx] of Object.entries(named)) this.names[idx] = name;
  }

  /** All matches as [start0, end0, start1, end1, …] (-1 for unmatched groups). */
  findAll(s: string, limit = -1): number[][] {
    const out: number[][] = [];
    const m = this.re.matcher(s);
    let pos = 0;
    let prevEnd = -1;
    const end = s.length;
    while (pos <= end && (limit < 0 || out.length < limit)) {
      if (!m.find(pos)) break;
      const st = m.start();
      const en = m.end();
      let accept = true;
      if (en === pos && st === en) {
        if (st === prevEnd) accept = false;
        const cp = s.codePointAt(pos);
        pos += cp !== undefined && cp > 0xffff ? 2 : 1;
      } else pos = en;
      prevEnd = en;
      if (accept) {
        const groups: number[] = [st, en];
        for (let g = 1; g <= this.numGroups; g++) groups.push(m.start(g), m.end(g));
        out.push(groups);
      }
    }
    return out;
  }

  find(s: string): number[] | null {
    const all = this.findAll(s, 1);
    return all[0] ?? null;
  }

  test(s: string): boolean {
    return this.re.test(s);
  }

  /** regexp.Expand of a template for one match. */
  expand(template: string, s: string, match: number[]): string {
    let out = '';
    let t = template;
    for (;;) {
      const i = t.indexOf('$');
      if (i < 0) break;
      out += t.slice(0, i);
      t = t.slice(i + 1);
      if (t.startsWith('$')) {
        out += '$';
        t = t.slice(1);
        continue;
      }
      const ex = extractName(t);
      if (!ex) {
        out += '$';
        continue;
      }
      t = ex.rest;
      let idx = -1;
      if (/^\d+$/.test(ex.name)) idx = Number(ex.name);
      else idx = this.names.indexOf(ex.name);
      if (idx >= 0 && 2 * idx + 1 < match.length) {
        const a = match[2 * idx] as number;
        const b = match[2 * idx + 1] as number;
        if (a >= 0) out += s.slice(a, b);
      }
    }
    return out + t;
  }

  replaceAll(s: string, template: string): string {
    const matches = this.findAll(s);
    if (matches.length === 0) return s;
    let out = '';
    let last = 0;
    for (const m of matches) {
      out += s.slice(last, m[0]) + this.expand(template, s, m);
      last = m[1] as number;
    }
    return out + s.slice(last);
  }
}

function extractName(t: string): { name: string; rest: string } | null {
  if (t.length < 1) return null;
  let brace = false;
  let s = t;
  if (s[0] === '{') {
    brace = true;
    s = s.slice(1);
  }
  let i = 0;
  while (i < s.length && /[A-Za-z0-9_]/.test(s[i] as string)) i++;
  if (i === 0) return null;
  const name = s.slice(0, i);
  if (brace) {
    if (s[i] !== '}') return null;
    i++;
  }
  return { name, rest: s.slice(i) };
}

const cache = new Map<string, GoRegexp>();
export function compileRegexp(src: string): GoRegexp {
  let r = cache.get(src);
  if (!r) {
    r = new GoRegexp(src);
    if (cache.size > 1000) cache.clear();
    cache.set(src, r);
  }
  return r;
}

function onString(fn: (s: string) => unknown): MethodImpl {
  return (v) => {
    if (typeof v === 'string') return fn(v);
    if (v instanceof Uint8Array) return fn(bytesToString(v));
    throw errType(v, 'string');
  };
}

function reMethod(name: string, build: (re: GoRegexp, a: Record<string, unknown>) => MethodImpl, extra: Array<{ name: string; type: 'string' }> = []): void {
  registerMethod({
    name,
    category: 'regexp',
    params: [{ name: 'pattern', type: 'string' }, ...extra],
    make: (a) => build(compileRegexp(argStr(a, 'pattern')), a),
  });
}

reMethod('re_match', (re) => onString((s) => re.test(s)));

reMethod('re_find_all', (re) => onString((s) => re.findAll(s).map((m) => s.slice(m[0], m[1]))));

function groupValue(s: string, m: number[], g: number): string {
  const a = m[2 * g] as number;
  return a < 0 ? '' : s.slice(a, m[2 * g + 1]);
}

reMethod('re_find_all_submatch', (re) =>
  onString((s) =>
    re.findAll(s).map((m) => {
      const out: string[] = [];
      for (let g = 0; g <= re.numGroups; g++) out.push(groupValue(s, m, g));
      return out;
    }),
  ),
);

function groupKeys(re: GoRegexp): string[] {
  return re.names.map((n, i) => (n === '' ? String(i) : n));
}

reMethod('re_find_object', (re) => {
  const keys = groupKeys(re);
  return onString((s) => {
    const out: BObject = {};
    const m = re.find(s);
    if (m) keys.forEach((k, g) => coreSetKey(out, k, groupValue(s, m, g)));
    return out;
  });
});

reMethod('re_find_all_object', (re) => {
  const keys = groupKeys(re);
  return onString((s) =>
    re.findAll(s).map((m) => {
      const out: BObject = {};
      keys.forEach((k, g) => coreSetKey(out, k, groupValue(s, m, g)));
      return out;
    }),
  );
});

for (const name of ['re_replace_all', 're_replace']) {
  reMethod(
    name,
    (re, a) => {
      const tmpl = argStr(a, 'value');
      return onString((s) => re.replaceAll(s, tmpl));
    },
    [{ name: 'value', type: 'string' }],
  );
}

reMethod('re_split', (re) =>
  onString((s) => {
    const out: string[] = [];
    let last = 0;
    for (const m of re.findAll(s)) {
      if ((m[1] as number) === 0 && (m[0] as number) === 0) continue;
      out.push(s.slice(last, m[0]));
      last = m[1] as number;
    }
    out.push(s.slice(last));
    return out;
  }),
);
