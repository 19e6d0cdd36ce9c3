/**
 * Reference docs generated from the component specs into docs/components/. A test regenerates
 * them in memory and fails when the committed files differ (`sluice docs` rewrites them).
 */
import type { AnyComponentSpec, ComponentKind } from '../engine/component.js';
import { isRequired, type FieldSpec } from '../engine/spec.js';
import type { Registry } from '../engine/registry.js';

const KIND_DIR: Record<ComponentKind, string> = { input: 'inputs', processor: 'processors', output: 'outputs', cache: 'caches', rate_limit: 'rate_limits' };

function yamlValue(v: unknown): string {
  if (typeof v === 'string') return v === '' || /[:#{}\[\],&*?|<>=!%@`'"\n]|^\s|\s$/.test(v) ? JSON.stringify(v) : v;
  return JSON.stringify(v);
}

/** The config as YAML with every field at its default (or a placeholder when required). */
function skeleton(f: FieldSpec, indent: string, advanced: boolean): string[] {
  const lines: string[] = [];
  for (const c of f.children ?? []) {
    if (c.advanced && !advanced) continue;
    if (c.type === 'object' && c.kind === 'scalar' && c.children?.length) {
      lines.push(`${indent}${c.name}:`);
      lines.push(...skeleton(c, indent + '  ', advanced));
      continue;
    }
    const v = c.default !== undefined ? yamlValue(c.default) : c.optional ? '' : '"" # required';
    lines.push(`${indent}${c.name}: ${v}`.trimEnd());
  }
  return lines;
}

function fieldDocs(f: FieldSpec, prefix: string, out: string[]): void {
  for (const c of f.children ?? []) {
    const name = prefix ? `${prefix}.${c.name}` : c.name;
    out.push(`### \`${name}\``, '');
    out.push(c.description || '(no description)', '');
    const type = `${c.kind === 'array' ? 'array of ' : c.kind === 'map' ? 'object of ' : ''}${c.type}`;
    const facts = [`Type: \`${type}\``];
    if (c.default !== undefined) facts.push(`Default: \`${JSON.stringify(c.default)}\``);
    else if (isRequired(c)) facts.push('Required');
    if (c.options) facts.push(`Options: ${c.options.map((o) => `\`${o}\``).join(', ')}`);
    if (c.interpolated) facts.push('Supports `${! }` interpolation');
    if (c.secret) facts.push('Secret (never logged)');
    if (c.advanced) facts.push('Advanced');
    out.push(facts.join('. ') + '.', '');
    if (c.examples?.length) out.push('Examples: ' + c.examples.map((e) => `\`${JSON.stringify(e)}\``).join(', '), '');
    if (c.type === 'object') fieldDocs(c, name, out);
  }
}

export function componentDoc(spec: AnyComponentSpec): string {
  const out: string[] = [`# ${spec.name} (${spec.kind})`, '', '<!-- Generated from the component spec by `sluice docs`. Do not edit. -->', '', spec.summary, ''];
  if (spec.status && spec.status !== 'stable') out.push(`Status: ${spec.status}.`, '');
  if (spec.description) out.push(spec.description, '');
  const f = spec.config;
  out.push('## Configuration', '', '```yaml');
  if (f.type === 'object' && f.kind === 'scalar') {
    out.push(`${spec.name}:`, ...skeleton(f, '  ', false));
  } else {
    out.push(`${spec.name}: ${f.default !== undefined ? yamlValue(f.default) : '""'}`);
  }
  out.push('```', '');
  if (f.type === 'object' && f.kind === 'scalar' && f.children?.length) {
    out.push('## Fields', '');
    fieldDocs(f, '', out);
  } else if (f.description) {
    out.push(f.description, '');
  }
  for (const ex of spec.examples ?? []) {
    out.push(`## Example: ${ex.title}`, '');
    if (ex.summary) out.push(ex.summary, '');
    out.push('```yaml', ex.config.trimEnd(), '```', '');
  }
  return out.join('\n').trimEnd() + '\n';
}

/** Every generated file, keyed by its path under docs/components/. */
export function generateDocs(registry: Registry): Map<string, string> {
  const files = new Map<string, string>();
  const index: string[] = ['# Components', '', '<!-- Generated from the component specs by `sluice docs`. Do not edit. -->', ''];
  for (const kind of registry.kinds()) {
    const specs = registry.all(kind);
    if (!specs.length) continue;
    index.push(`## ${KIND_DIR[kind].replace('_', ' ')}`, '');
    for (const s of specs) {
      files.set(`${KIND_DIR[kind]}/${s.name}.md`, componentDoc(s));
      index.push(`- [${s.name}](${KIND_DIR[kind]}/${s.name}.md): ${s.summary}`);
    }
    index.push('');
  }
  files.set('README.md', index.join('\n').trimEnd() + '\n');
  return files;
}
