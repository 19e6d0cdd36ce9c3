/**
 * `avro` processor: `to_json` decodes Avro documents (textual, binary or single-object
 * encoded) into JSON, `from_json` encodes JSON documents as Avro, with a schema given inline
 * (`schema`) or by `schema_path` (a file, `file://` URL or `http(s)://` URL, e.g. a schema
 * registry version). A message that cannot be converted passes on unchanged and flagged.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { defineProcessor } from '../../../engine/component.js';
import { field } from '../../../engine/spec.js';
import { AvroCodec, parseSchema, type Encoding } from './codec.js';

export interface AvroConfig {
  operator: 'to_json' | 'from_json';
  encoding: Encoding;
  schema: string;
  schema_path: string;
}

async function loadSchema(conf: AvroConfig): Promise<string> {
  if (conf.schema) return conf.schema;
  const p = conf.schema_path;
  if (/^https?:\/\//.test(p)) {
    const res = await fetch(p, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`cannot load schema_path ${p}: status ${res.status}`);
    return res.text();
  }
  const file = p.startsWith('file:///') ? fileURLToPath(p) : p.startsWith('file://') ? p.slice('file://'.length) : p;
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read schema_path ${file}: ${(err as Error).message}`);
  }
}

export const spec = defineProcessor<AvroConfig>({
  name: 'avro',
  summary: 'Converts messages between Avro (textual, binary or single-object encoding) and JSON, using a schema.',
  description:
    'Unions are wrapped in JSON as `{"<type>": value}` (or `null`), as Avro\'s JSON encoding and Benthos do. ' +
    'Messages from a schema registry carry a schema id prefix this processor does not read: use `schema_registry_decode` for those.',
  categories: ['Parsing'],
  config: field.object('', '', [
    field.string('operator', 'The conversion: `to_json` (Avro → JSON) or `from_json` (JSON → Avro).', { options: ['to_json', 'from_json'] }),
    field.string('encoding', 'The Avro encoding.', { default: 'textual', options: ['textual', 'binary', 'single'] }),
    field.string('schema', 'The Avro schema (JSON). Use this or `schema_path`.', { default: '' }),
    field.string('schema_path', 'Where the schema is: a path, `file://` URL or `http(s)://` URL. Use this or `schema`.', { default: '', examples: ['file://path/to/spec.avsc', 'http://localhost:8081/path/to/spec/versions/1'] }),
  ]),
  lint: (c) => (!!c.schema === !!c.schema_path ? ['exactly one of schema and schema_path must be set'] : []),
  build: async (conf, ctx) => {
    if (!!conf.schema === !!conf.schema_path) throw new Error('avro: exactly one of schema and schema_path must be set');
    const codec = new AvroCodec(parseSchema(await loadSchema(conf)), conf.encoding);
    const toJson = conf.operator === 'to_json';
    return {
      process(batch) {
        for (const m of batch) {
          try {
            if (toJson) m.setStructured(codec.toJson(m.bytes()));
            else m.setBytes(codec.fromJson(m.structured()));
          } catch (err) {
            m.setError(new Error(`avro ${conf.operator} failed: ${(err as Error).message}`), ctx.path);
          }
        }
        return [batch];
      },
    };
  },
});
