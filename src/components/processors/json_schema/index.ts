/**
 * `json_schema` processor: checks each message against a JSON Schema and never changes it. A
 * message that does not match is flagged with one line per violation, `<field> <problem>`,
 * worded as Benthos (gojsonschema) words them, e.g. `age must be greater than or equal to 0`
 * or `(root) firstName is required`.
 *
 * Drafts 04, 06 and 07 (the default) and 2019-09 / 2020-12 are accepted (`$schema`); draft-04
 * schemas are upgraded on the fly. Unknown formats are ignored; common ones are checked.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction, type Options as AjvOptions } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { defineProcessor } from '../../../engine/component.js';
import { field } from '../../../engine/spec.js';

export interface JsonSchemaConfig {
  schema?: string;
  schema_path?: string;
}

// Formats checked as gojsonschema does (the common ones); others are ignored.
const FORMATS: Record<string, RegExp | ((s: string) => boolean)> = {
  'date-time': (s) => /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s.replace(' ', 'T'))),
  date: (s) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(s)),
  time: /^\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/,
  email: /^[^\s@]+@[^\s@]+$/,
  'idn-email': /^[^\s@]+@[^\s@]+$/,
  hostname: /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\.?$/,
  ipv4: /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/,
  ipv6: (s) => s.includes(':') && isIpv6(s),
  uri: (s) => /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(s) && canParseUrl(s),
  'uri-reference': (s) => !/\s/.test(s),
  uuid: /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
  regex: (s) => {
    try {
      new RegExp(s);
      return true;
    } catch {
      return false;
    }
  },
  'json-pointer': /^(\/([^~/]|~[01])*)*$/,
};

function canParseUrl(s: string): boolean {
  try {
    new URL(s);
    return true;
  } catch {
    return false;
  }
}

function isIpv6(s: string): boolean {
  try {
    return new URL(`http://[${s}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Draft-04 → draft-07: `id` → `$id`, boolean exclusiveMinimum/Maximum → numbers. */
function upgradeDraft4(s: Json): Json {
  if (Array.isArray(s)) return s.map(upgradeDraft4);
  if (s === null || typeof s !== 'object') return s;
  const out: { [k: string]: Json } = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === '$schema') continue;
    if (k === 'id' && typeof v === 'string') out.$id = v;
    else if ((k === 'exclusiveMinimum' || k === 'exclusiveMaximum') && typeof v === 'boolean') continue;
    else if (k === 'properties' || k === 'patternProperties' || k === 'definitions' || k === 'dependencies') {
      const m: { [k: string]: Json } = {};
      for (const [pk, pv] of Object.entries((v ?? {}) as { [k: string]: Json })) m[pk] = upgradeDraft4(pv);
      out[k] = m;
    } else out[k] = upgradeDraft4(v);
  }
  if (s.exclusiveMinimum === true && typeof s.minimum === 'number') {
    out.exclusiveMinimum = s.minimum;
    delete out.minimum;
  }
  if (s.exclusiveMaximum === true && typeof s.maximum === 'number') {
    out.exclusiveMaximum = s.maximum;
    delete out.maximum;
  }
  return out;
}

/** Compiles a schema document (JSON text) with the draft its `$schema` names. */
export function compileSchema(text: string): ValidateFunction {
  let schema: Json;
  try {
    schema = JSON.parse(text) as Json;
  } catch (err) {
    throw new Error(`the schema is not valid JSON: ${(err as Error).message}`);
  }
  const opts: AjvOptions = { allErrors: true, strict: false, logger: false, formats: FORMATS, validateFormats: true };
  const draft = schema && typeof schema === 'object' && !Array.isArray(schema) && typeof schema.$schema === 'string' ? schema.$schema : '';
  let ajv: Ajv;
  if (draft.includes('2020-12')) ajv = new Ajv2020(opts);
  else if (draft.includes('2019-09')) ajv = new Ajv2019(opts);
  else {
    ajv = new Ajv(opts);
    if (draft.includes('draft-04')) schema = upgradeDraft4(schema);
    else if (draft.includes('draft-06') && schema && typeof schema === 'object' && !Array.isArray(schema)) {
      const { $schema: _drop, ...rest } = schema;
      schema = rest;
    }
  }
  try {
    return ajv.compile(schema as object | boolean);
  } catch (err) {
    throw new Error(`invalid JSON schema: ${(err as Error).message}`);
  }
}

function fieldOf(e: ErrorObject): string {
  if (!e.instancePath) return '(root)';
  return e.instancePath
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function valueAt(doc: unknown, pointer: string): unknown {
  if (!pointer) return doc;
  let cur = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const k = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/** One violation in gojsonschema's words: `<field> <description>`. */
export function describeError(e: ErrorObject, doc: unknown): string {
  const f = fieldOf(e);
  const p = e.params as Record<string, unknown>;
  let d: string;
  switch (e.keyword) {
    case 'required':
      return `${f} ${String(p.missingProperty)} is required`;
    case 'type':
      d = `invalid type. expected: ${String(p.type).replace(/,/g, ', ')}, given: ${typeOf(valueAt(doc, e.instancePath))}`;
      break;
    case 'minimum':
      d = `must be greater than or equal to ${String(p.limit)}`;
      break;
    case 'exclusiveMinimum':
      d = `must be greater than ${String(p.limit)}`;
      break;
    case 'maximum':
      d = `must be less than or equal to ${String(p.limit)}`;
      break;
    case 'exclusiveMaximum':
      d = `must be less than ${String(p.limit)}`;
      break;
    case 'minLength':
      d = `string length must be greater than or equal to ${String(p.limit)}`;
      break;
    case 'maxLength':
      d = `string length must be less than or equal to ${String(p.limit)}`;
      break;
    case 'pattern':
      d = `does not match pattern '${String(p.pattern)}'`;
      break;
    case 'format':
      d = `does not match format '${String(p.format)}'`;
      break;
    case 'enum':
      d = `${f} must be one of the following: ${((p.allowedValues as unknown[]) ?? []).map((v) => JSON.stringify(v)).join(', ')}`;
      break;
    case 'const':
      d = `${f} does not match: ${JSON.stringify(p.allowedValue)}`;
      break;
    case 'additionalProperties':
      d = `additional property ${String(p.additionalProperty)} is not allowed`;
      break;
    case 'minItems':
      d = `array must have at least ${String(p.limit)} items`;
      break;
    case 'maxItems':
      d = `array must have at most ${String(p.limit)} items`;
      break;
    case 'uniqueItems':
      d = `array items[${String(p.j)},${String(p.i)}] must be unique`;
      break;
    case 'multipleOf':
      d = `must be a multiple of ${String(p.multipleOf)}`;
      break;
    case 'minProperties':
      d = `must have at least ${String(p.limit)} properties`;
      break;
    case 'maxProperties':
      d = `must have at most ${String(p.limit)} properties`;
      break;
    case 'anyOf':
      d = 'must validate at least one schema (anyof)';
      break;
    case 'oneOf':
      d = 'must validate one and only one schema (oneof)';
      break;
    case 'not':
      d = 'must not validate the schema (not)';
      break;
    case 'dependencies':
    case 'dependentRequired':
      d = `has a dependency on ${String(p.missingProperty)}`;
      break;
    case 'false schema':
      d = 'false always fails validation';
      break;
    default:
      d = e.message ?? e.keyword;
  }
  return `${f} ${d}`;
}

async function loadSchemaText(conf: JsonSchemaConfig): Promise<string> {
  if (conf.schema) return conf.schema;
  const p = conf.schema_path!;
  if (/^https?:\/\//.test(p)) {
    const res = await fetch(p, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`cannot load schema_path ${p}: status ${res.status}`);
    return res.text();
  }
  const file = p.startsWith('file://') ? (p.startsWith('file:///') ? fileURLToPath(p) : p.slice('file://'.length)) : p;
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read schema_path ${file}: ${(err as Error).message}`);
  }
}

export const spec = defineProcessor<JsonSchemaConfig>({
  name: 'json_schema',
  summary: 'Checks messages against a JSON Schema; messages that do not match are flagged (never changed).',
  description:
    'Set `schema` or `schema_path` (a file path, `file://` URL or `http(s)://` URL). A failure flags the message with one line per violation such as `age must be greater than or equal to 0`; handle it with `catch` or `try`.',
  categories: ['Mapping'],
  config: field.object('', '', [
    field.string('schema', 'The schema (JSON). Use this or `schema_path`.', { optional: true }),
    field.string('schema_path', 'Where the schema is: a path, `file://` URL or `http(s)://` URL. Use this or `schema`.', { optional: true, examples: ['file://path/to/schema.json'] }),
  ]),
  lint: (c) => (!!c.schema === !!c.schema_path ? ['exactly one of schema and schema_path must be set'] : []),
  examples: [
    {
      title: 'Drop messages that do not match',
      config:
        'pipeline:\n  processors:\n    - json_schema:\n        schema_path: file://person.schema.json\n    - catch:\n        - log:\n            level: ERROR\n            message: "Schema validation failed due to: ${!error()}"\n        - mapping: root = deleted()\n',
    },
  ],
  build: async (conf, ctx) => {
    if (!!conf.schema === !!conf.schema_path) throw new Error('json_schema: exactly one of schema and schema_path must be set');
    const validate = compileSchema(await loadSchemaText(conf));
    return {
      process(batch) {
        for (const m of batch) {
          let doc: unknown;
          try {
            doc = m.structured();
          } catch (err) {
            m.setError(new Error(`failed to parse message as JSON: ${(err as Error).message}`), ctx.path);
            continue;
          }
          if (!validate(doc)) m.setError(new Error((validate.errors ?? []).map((e) => describeError(e, doc)).join('\n')), ctx.path);
        }
        return [batch];
      },
    };
  },
});
