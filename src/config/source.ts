/**
 * Reads a config document (YAML or JSON: JSON is parsed with the same YAML 1.2 parser so both
 * get line numbers) after `${VAR}` / `${VAR:default}` environment interpolation, and keeps a
 * map from config path (`input.kafka.topics[0]`) to the line it is written on.
 */
import { LineCounter, parseDocument, isMap, isSeq, isScalar, type Node } from 'yaml';

export interface Issue {
  readonly path: string;
  readonly line?: number;
  readonly message: string;
}

export interface ConfigSource {
  readonly value: unknown;
  /** Line (1-based) where the given path is written, or of its nearest written ancestor. */
  locate(path: string): number | undefined;
  readonly issues: Issue[];
}

// `${VAR}`, `${VAR:default}`; `${{VAR}}` escapes to a literal `${VAR}`; `${! ...}` is Bloblang, left alone.
const ENV_REF = /\$\{\{([^{}]*)\}\}|\$\{(?!!)([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}/g;

export function interpolateEnv(text: string, env: NodeJS.ProcessEnv = process.env): { text: string; issues: Issue[] } {
  const issues: Issue[] = [];
  const out = text.replace(ENV_REF, (whole, escaped: string | undefined, name: string | undefined, def: string | undefined, offset: number) => {
    if (escaped !== undefined) return '${' + escaped + '}';
    const v = env[name!];
    if (v !== undefined && v !== '') return v;
    if (def !== undefined) return def;
    issues.push({ path: '', line: lineAt(text, offset), message: `environment variable ${name} is not set and has no default` });
    return '';
  });
  return { text: out, issues };
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

export function readConfig(text: string, env: NodeJS.ProcessEnv = process.env): ConfigSource {
  const interpolated = interpolateEnv(text, env);
  const issues: Issue[] = [...interpolated.issues];
  const lc = new LineCounter();
  const doc = parseDocument(interpolated.text, { lineCounter: lc, uniqueKeys: true, prettyErrors: true });
  for (const e of doc.errors) {
    const pos = e.linePos?.[0];
    issues.push({ path: '', line: pos?.line, message: `${pos ? `char ${pos.col}: ` : ''}${firstLine(e.message).replace(/ at line \d+, column \d+:?$/, '')}` });
  }
  const lines = new Map<string, number>();
  const walk = (node: Node | null | undefined, path: string) => {
    if (!node) return;
    if (node.range && !lines.has(path)) lines.set(path, lc.linePos(node.range[0]).line);
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const p = path ? `${path}.${key}` : key;
        const keyNode = pair.key as Node | null;
        if (keyNode?.range) lines.set(p, lc.linePos(keyNode.range[0]).line);
        walk(pair.value as Node | null, p);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item as Node, `${path}[${i}]`));
    }
  };
  walk(doc.contents as Node | null, '');
  const value = doc.errors.length ? undefined : doc.toJS({ maxAliasCount: 100 });
  return {
    value,
    issues,
    locate(path: string) {
      for (let p = path; ; ) {
        const l = lines.get(p);
        if (l !== undefined) return l;
        if (p === '') return undefined;
        p = parentPath(p);
      }
    },
  };
}

export function parentPath(path: string): string {
  const dot = path.lastIndexOf('.');
  const br = path.lastIndexOf('[');
  const cut = Math.max(dot, br);
  return cut <= 0 ? '' : path.slice(0, cut);
}

export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  const k = /^[A-Za-z0-9_$-]+$/.test(key) ? key : JSON.stringify(key);
  return base ? `${base}.${k}` : k;
}

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : s.slice(0, i);
}

export function formatIssue(issue: Issue, file?: string): string {
  const where = issue.path ? `${issue.path}${issue.line !== undefined ? ` (line ${issue.line})` : ''}` : issue.line !== undefined ? `line ${issue.line}` : '';
  return `${file ? file + ': ' : ''}${where ? where + ': ' : ''}${issue.message}`;
}
