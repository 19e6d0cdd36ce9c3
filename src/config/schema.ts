/**
 * JSON Schema (draft 2020-12) generated from the component specs: `sluice schema` prints it and
 * the dashboard builds its forms from it. Secret, advanced and interpolation flags are carried
 * as `x-` annotations.
 */
import type { ComponentKind } from '../engine/component.js';
import { isRequired, type FieldSpec } from '../engine/spec.js';
import type { Registry } from '../engine/registry.js';
import { streamSpec } from './stream-spec.js';

type Schema = Record<string, unknown>;

const KIND_DEFS: Record<string, ComponentKind> = { input: 'input', output: 'output', processor: 'processor' };

function scalarSchema(f: FieldSpec): Schema {
  switch (f.type) {
    case 'string':
      return f.options ? { type: 'string', enum: [...f.options] } : { type: 'string' };
    case 'bloblang':
      return { type: 'string', 'x-bloblang': true };
    case 'int':
      return { type: 'integer' };
    case 'float':
      return { type: 'number' };
    case 'bool':
      return { type: 'boolean' };
    case 'duration':
      return { type: 'string', pattern: '^$|^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$|^0$' };
    case 'any':
      return {};
    case 'object': {
      const properties: Record<string, Schema> = {};
      const required: string[] = [];
      for (const c of f.children ?? []) {
        properties[c.name] = fieldSchema(c);
        if (isRequired(c)) required.push(c.name);
      }
      return { type: 'object', properties, ...(required.length ? { required } : {}), additionalProperties: f.open === true };
    }
    case 'input':
    case 'output':
    case 'processor':
      return { $ref: `#/$defs/${f.type}` };
  }
}

export function fieldSchema(f: FieldSpec): Schema {
  const base = scalarSchema(f);
  const s: Schema = f.kind === 'array' ? { type: 'array', items: base } : f.kind === 'map' ? { type: 'object', additionalProperties: base } : base;
  if (f.description) s.description = f.description;
  if (f.default !== undefined) s.default = f.default;
  if (f.examples) s.examples = [...f.examples];
  if (f.secret) s['x-secret'] = true;
  if (f.advanced) s['x-advanced'] = true;
  if (f.interpolated) s['x-interpolated'] = true;
  if (f.deprecated) s.deprecated = true;
  return s;
}

function componentDef(registry: Registry, kind: ComponentKind): Schema {
  const properties: Record<string, Schema> = { label: { type: 'string' }, resource: { type: 'string', description: 'Label of a resource to use here.' } };
  if (kind === 'input' || kind === 'output') properties.processors = { type: 'array', items: { $ref: '#/$defs/processor' } };
  for (const spec of registry.all(kind)) {
    properties[spec.name] = { ...fieldSchema(spec.config), description: spec.summary };
  }
  return { type: 'object', properties, additionalProperties: false, minProperties: 1 };
}

export function streamJsonSchema(registry: Registry): Schema {
  const $defs: Record<string, Schema> = {};
  for (const k of Object.values(KIND_DEFS)) $defs[k] = componentDef(registry, k);
  for (const k of ['cache', 'rate_limit'] as const) $defs[k] = componentDef(registry, k);
  const root = fieldSchema(streamSpec);
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', title: 'Sluice stream', ...root, $defs };
}
