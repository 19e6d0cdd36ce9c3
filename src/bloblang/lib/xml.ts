/**
 * XML ⇄ structured values following the mxj conventions Benthos uses: attributes become
 * `-name` keys, the text of elements with attributes or children becomes `#text`, repeated
 * elements become arrays, comments/directives/processing instructions are ignored.
 */
import { compareStrings, F64, isObject, type BObject } from '../value.js';
import { toStr } from '../core.js';
import { setKey } from '../core.js';

export class XMLError extends Error {}

interface Node {
  name: string;
  attrs: Array<[string, string]>;
  children: Node[];
  text: string;
}

const ENT: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (m, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return ENT[e] ?? m;
  });
}

/** Parses an XML document into an element tree (lenient like Go's non-strict decoder). */
function parseTree(src: string): Node {
  const root: Node = { name: '', attrs: [], children: [], text: '' };
  const stack: Node[] = [root];
  let i = 0;
  const n = src.length;
  while (i < n) {
    const lt = src.indexOf('<', i);
    const top = stack[stack.length - 1] as Node;
    if (lt < 0) {
      top.text += decodeEntities(src.slice(i));
      break;
    }
    if (lt > i) top.text += decodeEntities(src.slice(i, lt));
    i = lt;
    if (src.startsWith('<!--', i)) {
      const e = src.indexOf('-->', i + 4);
      if (e < 0) throw new XMLError('XML syntax error: unexpected EOF in comment');
      i = e + 3;
      continue;
    }
    if (src.startsWith('<![CDATA[', i)) {
      const e = src.indexOf(']]>', i + 9);
      if (e < 0) throw new XMLError('XML syntax error: unexpected EOF in CDATA section');
      top.text += src.slice(i + 9, e);
      i = e + 3;
      continue;
    }
    if (src.startsWith('<?', i)) {
      const e = src.indexOf('?>', i + 2);
      if (e < 0) throw new XMLError('XML syntax error: unexpected EOF');
      i = e + 2;
      continue;
    }
    if (src.startsWith('<!', i)) {
      let depth = 0;
      let j = i + 2;
      for (; j < n; j++) {
        if (src[j] === '[') depth++;
        else if (src[j] === ']') depth--;
        else if (src[j] === '>' && depth <= 0) break;
      }
      i = j + 1;
      continue;
    }
    if (src[i + 1] === '/') {
      const e = src.indexOf('>', i);
      if (e < 0) throw new XMLError('XML syntax error: unexpected EOF');
      const name = src.slice(i + 2, e).trim();
      const cur = stack.pop();
      if (!cur || cur === root || cur.name !== name) {
        throw new XMLError(`XML syntax error: element <${cur?.name ?? ''}> closed by </${name}>`);
      }
      i = e + 1;
      continue;
    }
    // Start tag.
    let j = i + 1;
    while (j < n && !/[\s/>]/.test(src[j] as string)) j++;
    const name = src.slice(i + 1, j);
    if (name === '') throw new XMLError('XML syntax error: expected element name after <');
    const node: Node = { name, attrs: [], children: [], text: '' };
    for (;;) {
      while (j < n && /\s/.test(src[j] as string)) j++;
      if (j >= n) throw new XMLError('XML syntax error: unexpected EOF');
      if (src[j] === '>') {
        j++;
        top.children.push(node);
        stack.push(node);
        break;
      }
      if (src[j] === '/' && src[j + 1] === '>') {
        j += 2;
        top.children.push(node);
        break;
      }
      let k = j;
      while (k < n && !/[\s=/>]/.test(src[k] as string)) k++;
      const an = src.slice(j, k);
      j = k;
      while (j < n && /\s/.test(src[j] as string)) j++;
      let val = an;
      if (src[j] === '=') {
        j++;
        while (j < n && /\s/.test(src[j] as string)) j++;
        const q = src[j];
        if (q === '"' || q === "'") {
          const e = src.indexOf(q, j + 1);
          if (e < 0) throw new XMLError('XML syntax error: unexpected EOF');
          val = decodeEntities(src.slice(j + 1, e));
          j = e + 1;
        } else {
          let e = j;
          while (e < n && !/[\s>]/.test(src[e] as string) && !(src[e] === '/' && src[e + 1] === '>')) e++;
          val = decodeEntities(src.slice(j, e));
          j = e;
        }
      }
      if (an === '') {
        j++;
        continue;
      }
      node.attrs.push([an, val]);
    }
    i = j;
  }
  if (stack.length > 1) throw new XMLError('XML syntax error: unexpected EOF');
  return root;
}

function castValue(s: string, cast: boolean): unknown {
  if (!cast) return s;
  if (/^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|0[xX][0-9a-fA-F]+)$/.test(s) || /^[+-]?(inf|infinity|nan)$/i.test(s)) {
    const n = Number(s);
    if (!Number.isNaN(n) || /nan/i.test(s)) return Number.isInteger(n) ? new F64(n) : n;
  }
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return s;
}

const TRIM = /^[\t\r\b\n ]+|[\t\r\b\n ]+$/g;

function nodeValue(node: Node, cast: boolean): unknown {
  const text = node.text.replace(TRIM, '');
  if (node.attrs.length === 0 && node.children.length === 0) return castValue(text, cast);
  const out: BObject = {};
  for (const [k, v] of node.attrs) setKey(out, '-' + k, castValue(v, cast));
  for (const ch of node.children) {
    const v = nodeValue(ch, cast);
    if (Object.hasOwn(out, ch.name)) {
      const prev = out[ch.name];
      if (Array.isArray(prev)) prev.push(v);
      else setKey(out, ch.name, [prev, v]);
    } else setKey(out, ch.name, v);
  }
  if (text !== '') setKey(out, '#text', castValue(text, cast));
  return out;
}

export function parseXML(src: string, cast: boolean): BObject {
  const tree = parseTree(src);
  const out: BObject = {};
  for (const ch of tree.children) {
    const v = nodeValue(ch, cast);
    if (Object.hasOwn(out, ch.name)) {
      const prev = out[ch.name];
      if (Array.isArray(prev)) prev.push(v);
      else setKey(out, ch.name, [prev, v]);
    } else setKey(out, ch.name, v);
  }
  if (tree.children.length === 0) throw new XMLError('xml.Decoder.Token() - EOF');
  return out;
}

// ---------------------------------------------------------------------------------------------
// Writing

function escapeXML(s: string): string {
  return s.replace(/[&<>"'\t\n\r]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;', '\t': '&#x9;', '\n': '&#xA;', '\r': '&#xD;' })[c] as string);
}

function scalarText(v: unknown): string {
  if (v === null || v === undefined) return '';
  return toStr(v);
}

function writeElem(name: string, v: unknown, indent: string, depth: number, pretty: boolean, out: string[]): void {
  const pad = pretty ? indent.repeat(depth) : '';
  if (Array.isArray(v)) {
    for (const e of v) writeElem(name, e, indent, depth, pretty, out);
    return;
  }
  if (isObject(v)) {
    const keys = Object.keys(v).sort(compareStrings);
    const attrs = keys.filter((k) => k.startsWith('-') && !isObject(v[k]) && !Array.isArray(v[k]));
    const elems = keys.filter((k) => !attrs.includes(k) && k !== '#text');
    let open = `<${name}`;
    for (const a of attrs) open += ` ${a.slice(1)}="${escapeXML(scalarText(v[a]))}"`;
    const text = Object.hasOwn(v, '#text') ? escapeXML(scalarText(v['#text'])) : '';
    if (elems.length === 0) {
      if (text === '') out.push(`${pad}${open}/>`);
      else out.push(`${pad}${open}>${text}</${name}>`);
      return;
    }
    out.push(`${pad}${open}>${text}`);
    const inner: string[] = [];
    for (const k of elems) writeElem(k, v[k], indent, depth + 1, pretty, inner);
    if (pretty) {
      out.push(...inner);
      out.push(`${pad}</${name}>`);
    } else {
      out[out.length - 1] += inner.join('') + `</${name}>`;
    }
    return;
  }
  const text = escapeXML(scalarText(v));
  if (text === '' && (v === null || v === undefined)) out.push(`${pad}<${name}/>`);
  else out.push(`${pad}<${name}>${text}</${name}>`);
}

/** mxj-style serialisation; a single-key object names the root element, otherwise "doc". */
export function formatXML(v: unknown, indent: string, pretty: boolean, rootTag?: string): string {
  const out: string[] = [];
  if (rootTag !== undefined && rootTag !== '') writeElem(rootTag, v, indent, 0, pretty, out);
  else if (isObject(v) && Object.keys(v).length === 1) {
    const k = Object.keys(v)[0] as string;
    writeElem(k, v[k], indent, 0, pretty, out);
  } else writeElem('doc', v, indent, 0, pretty, out);
  return pretty ? out.join('\n') : out.join('');
}
