/**
 * XML → JSON with the conventions Benthos uses (those of Go's mxj):
 * - the document is an object whose one key is the root element;
 * - attributes become keys prefixed with `-`;
 * - an element with only text is that text; an element with attributes or children keeps its
 *   text (trimmed) under `#text`; an empty element without attributes is `""`;
 * - repeated elements become arrays; comments, directives and processing instructions are
 *   dropped; namespace prefixes of element names are dropped (`xmlns` attributes are kept);
 * - values are strings, unless `cast`: then numbers and booleans (Go's ParseFloat/ParseBool
 *   syntax, numbers first; NaN and infinities stay strings);
 * - object keys are sorted, as Go marshals maps.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

type FxpNode = Record<string, unknown>;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  commentPropName: '#comment',
  allowBooleanAttributes: true,
});

const FLOAT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const BOOLS: Record<string, boolean> = { t: true, T: true, TRUE: true, true: true, True: true, f: false, F: false, FALSE: false, false: false, False: false };

/** mxj's cast: a float when Go's ParseFloat accepts it (finite), else a bool when ParseBool does, else the string. */
export function castValue(s: string): string | number | boolean {
  if (FLOAT.test(s)) {
    const n = Number(s);
    if (Number.isFinite(n)) return n;
    return s;
  }
  if (s === '1') return 1;
  if (s === '0') return 0;
  const b = BOOLS[s];
  return b === undefined ? s : b;
}

function localName(name: string): string {
  const i = name.indexOf(':');
  return i >= 0 ? name.slice(i + 1) : name;
}

function attrName(name: string): string {
  return name === 'xmlns' || name.startsWith('xmlns:') ? name : localName(name);
}

function addChild(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (!(key in obj)) obj[key] = value;
  else {
    const cur = obj[key];
    if (Array.isArray(cur)) cur.push(value);
    else obj[key] = [cur, value];
  }
}

function sortKeys(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(obj).sort()) out[k] = obj[k];
  return out;
}

function elementName(node: FxpNode): string | undefined {
  for (const k of Object.keys(node)) if (k !== ':@') return k;
  return undefined;
}

function elementValue(node: FxpNode, name: string, cast: boolean): unknown {
  const attrs = node[':@'] as Record<string, unknown> | undefined;
  const children = (node[name] ?? []) as FxpNode[];
  const obj: Record<string, unknown> = {};
  let hasMembers = false;
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      const s = v === true ? '' : String(v);
      obj['-' + attrName(k)] = cast ? castValue(s) : s;
      hasMembers = true;
    }
  }
  let text = '';
  for (const c of children) {
    if ('#text' in c) {
      text += String(c['#text']);
      continue;
    }
    if ('#comment' in c) continue;
    const childName = elementName(c);
    if (childName === undefined || childName.startsWith('?') || childName.startsWith('!')) continue;
    addChild(obj, localName(childName), elementValue(c, childName, cast));
    hasMembers = true;
  }
  text = text.trim();
  if (!hasMembers) return text === '' ? '' : cast ? castValue(text) : text;
  if (text !== '') obj['#text'] = cast ? castValue(text) : text;
  return sortKeys(obj);
}

/** Parses an XML document into its JSON form; throws with line and column on malformed XML. */
export function xmlToJson(xml: string, cast = false): Record<string, unknown> {
  const valid = XMLValidator.validate(xml, { allowBooleanAttributes: true });
  if (valid !== true) {
    const { msg, line, col } = valid.err;
    throw new Error(`invalid XML: ${msg}${line ? ` (line ${line}${col ? `, column ${col}` : ''})` : ''}`);
  }
  const nodes = parser.parse(xml) as FxpNode[];
  const out: Record<string, unknown> = {};
  for (const n of nodes) {
    if ('#text' in n || '#comment' in n) continue;
    const name = elementName(n);
    if (name === undefined || name.startsWith('?') || name.startsWith('!')) continue;
    addChild(out, localName(name), elementValue(n, name, cast));
  }
  if (Object.keys(out).length === 0) throw new Error('invalid XML: no root element');
  return sortKeys(out);
}
