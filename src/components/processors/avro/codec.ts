/**
 * Avro ⇄ JSON as Benthos' avro processor does it (goavro's "native" form):
 * - unions are wrapped: `null`, or `{"<branch>": value}` where the branch is the type name
 *   (full name for records, enums and fixed);
 * - records and maps are objects (keys sorted, as Go marshals maps), arrays are arrays;
 * - to JSON, bytes and fixed are base64 strings (Go marshals []byte so); from JSON, a string
 *   for bytes/fixed is taken as its UTF-8 bytes; missing record fields take their defaults.
 * Encodings: `textual` (Avro JSON encoding), `binary`, `single` (single-object encoding:
 * C3 01, the schema's CRC-64-AVRO fingerprint little-endian, then the binary form).
 */
import avro from 'avsc';

export type Encoding = 'textual' | 'binary' | 'single';

type AvroType = avro.Type;

interface RecordLike {
  fields: { name: string; type: AvroType; defaultValue(): unknown }[];
}

/** Parses a schema (JSON text) into a type with wrapped unions. */
export function parseSchema(text: string): AvroType {
  let schema: unknown;
  try {
    schema = JSON.parse(text);
  } catch (err) {
    throw new Error(`the Avro schema is not valid JSON: ${(err as Error).message}`);
  }
  // A schema registry answer holds the schema as a string under `schema`.
  if (schema && typeof schema === 'object' && !Array.isArray(schema) && typeof (schema as { schema?: unknown }).schema === 'string' && !('type' in schema)) {
    return parseSchema((schema as { schema: string }).schema);
  }
  try {
    return avro.Type.forSchema(schema as avro.Schema, { wrapUnions: true });
  } catch (err) {
    throw new Error(`invalid Avro schema: ${(err as Error).message}`);
  }
}

function sortedObject(entries: [string, unknown][]): Record<string, unknown> {
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) out[k] = v;
  return out;
}

/** A decoded avsc value → the JSON Benthos produces. */
export function avroToJson(type: AvroType, val: unknown): unknown {
  switch (type.typeName) {
    case 'record':
    case 'error': {
      const r = type as unknown as RecordLike;
      const o = val as Record<string, unknown>;
      return sortedObject(r.fields.map((f) => [f.name, avroToJson(f.type, o[f.name])]));
    }
    case 'union:wrapped': {
      if (val === null || val === undefined) return null;
      const types = (type as unknown as { types: AvroType[] }).types;
      const key = Object.keys(val as object)[0]!;
      const branch = types.find((t) => t.branchName === key);
      if (!branch) throw new Error(`unknown union branch ${key}`);
      return { [key]: avroToJson(branch, (val as Record<string, unknown>)[key]) };
    }
    case 'array': {
      const items = (type as unknown as { itemsType: AvroType }).itemsType;
      return (val as unknown[]).map((v) => avroToJson(items, v));
    }
    case 'map': {
      const values = (type as unknown as { valuesType: AvroType }).valuesType;
      return sortedObject(Object.entries(val as Record<string, unknown>).map(([k, v]) => [k, avroToJson(values, v)]));
    }
    case 'bytes':
    case 'fixed':
      return Buffer.from(val as Uint8Array).toString('base64');
    default:
      if (type.typeName.startsWith('logical:')) return avroToJson((type as unknown as { underlyingType: AvroType }).underlyingType, val);
      return val;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

/** JSON (native form) → an avsc value of `type`; errors name the path. */
export function jsonToAvro(type: AvroType, v: unknown, path = '$'): unknown {
  const bad = (what: string) => new Error(`${path}: expected ${what}, got ${describe(v)}`);
  switch (type.typeName) {
    case 'null':
      if (v !== null) throw bad('null');
      return null;
    case 'boolean':
      if (typeof v !== 'boolean') throw bad('a boolean');
      return v;
    case 'int':
    case 'long':
      if (typeof v !== 'number' || !Number.isInteger(v)) throw bad(`an integer (${type.typeName})`);
      return v;
    case 'float':
    case 'double':
      if (typeof v !== 'number') throw bad('a number');
      return v;
    case 'string':
      if (typeof v !== 'string') throw bad('a string');
      return v;
    case 'bytes':
      if (typeof v !== 'string') throw bad('a string (bytes)');
      return Buffer.from(v, 'utf8');
    case 'fixed': {
      if (typeof v !== 'string') throw bad('a string (fixed)');
      const b = Buffer.from(v, 'utf8');
      const size = (type as unknown as { size: number }).size;
      if (b.length !== size) throw new Error(`${path}: fixed ${type.name ?? ''} needs ${size} bytes, got ${b.length}`);
      return b;
    }
    case 'enum': {
      const symbols = (type as unknown as { symbols: string[] }).symbols;
      if (typeof v !== 'string' || !symbols.includes(v)) throw bad(`one of ${symbols.join(', ')}`);
      return v;
    }
    case 'array': {
      if (!Array.isArray(v)) throw bad('an array');
      const items = (type as unknown as { itemsType: AvroType }).itemsType;
      return v.map((x, i) => jsonToAvro(items, x, `${path}[${i}]`));
    }
    case 'map': {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw bad('an object (map)');
      const values = (type as unknown as { valuesType: AvroType }).valuesType;
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = jsonToAvro(values, x, `${path}.${k}`);
      return out;
    }
    case 'record':
    case 'error': {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw bad(`an object (record ${type.name ?? ''})`);
      const o = v as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const f of (type as unknown as RecordLike).fields) {
        if (f.name in o) out[f.name] = jsonToAvro(f.type, o[f.name], `${path}.${f.name}`);
        else {
          const d = f.defaultValue();
          if (d === undefined) throw new Error(`${path}: missing required field ${f.name}`);
          out[f.name] = d;
        }
      }
      return out;
    }
    case 'union:wrapped': {
      const types = (type as unknown as { types: AvroType[] }).types;
      if (v === null) {
        if (!types.some((t) => t.typeName === 'null')) throw bad('a union value {"<type>": value}');
        return null;
      }
      if (typeof v !== 'object' || Array.isArray(v) || Object.keys(v).length !== 1) throw bad(`a union value such as {"${types.find((t) => t.typeName !== 'null')?.branchName ?? 'string'}": ...} or null`);
      const key = Object.keys(v)[0]!;
      const branch = types.find((t) => t.branchName === key) ?? types.find((t) => t.name !== undefined && t.name.split('.').pop() === key);
      if (!branch) throw new Error(`${path}: ${key} is not a branch of the union (${types.map((t) => t.branchName).join(', ')})`);
      return { [branch.branchName!]: jsonToAvro(branch, (v as Record<string, unknown>)[key], `${path}.${key}`) };
    }
    default:
      if (type.typeName.startsWith('logical:')) return jsonToAvro((type as unknown as { underlyingType: AvroType }).underlyingType, v, path);
      return v;
  }
}

// CRC-64-AVRO (Rabin) fingerprint, for the single-object encoding.
const EMPTY = 0xc15d213aa4d7a795n;
let table: BigUint64Array | undefined;

export function crc64Avro(data: Uint8Array): Buffer {
  if (!table) {
    table = new BigUint64Array(256);
    for (let i = 0; i < 256; i++) {
      let fp = BigInt(i);
      for (let j = 0; j < 8; j++) fp = (fp >> 1n) ^ (fp & 1n ? EMPTY : 0n);
      table[i] = fp;
    }
  }
  let fp = EMPTY;
  for (const b of data) fp = (fp >> 8n) ^ table[Number((fp ^ BigInt(b)) & 0xffn)]!;
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(fp);
  return out;
}

/** The fingerprint of a type's Parsing Canonical Form. */
export function fingerprint(type: AvroType): Buffer {
  return crc64Avro(Buffer.from(JSON.stringify(type.schema())));
}

/** Encodes and decodes messages for one schema and encoding. */
export class AvroCodec {
  readonly #type: AvroType;
  readonly #encoding: Encoding;
  readonly #header: Buffer;

  constructor(type: AvroType, encoding: Encoding) {
    this.#type = type;
    this.#encoding = encoding;
    this.#header = encoding === 'single' ? Buffer.concat([Buffer.from([0xc3, 0x01]), fingerprint(type)]) : Buffer.alloc(0);
  }

  /** Avro (in this encoding) → JSON value. */
  toJson(data: Uint8Array): unknown {
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    let val: unknown;
    switch (this.#encoding) {
      case 'textual':
        val = this.#type.fromString(buf.toString('utf8'));
        break;
      case 'binary':
        val = this.#type.fromBuffer(buf);
        break;
      case 'single':
        if (buf.length < 10 || !buf.subarray(0, 10).equals(this.#header)) {
          throw new Error(buf[0] === 0xc3 && buf[1] === 0x01 ? 'the single-object fingerprint does not match the schema' : 'not Avro single-object encoded (no C3 01 marker)');
        }
        val = this.#type.fromBuffer(buf.subarray(10));
        break;
    }
    return avroToJson(this.#type, val);
  }

  /** JSON value → Avro in this encoding. */
  fromJson(value: unknown): Buffer {
    const val = jsonToAvro(this.#type, value);
    switch (this.#encoding) {
      case 'textual':
        return Buffer.from(this.#type.toString(val));
      case 'binary':
        return this.#type.toBuffer(val);
      case 'single':
        return Buffer.concat([this.#header, this.#type.toBuffer(val)]);
    }
  }
}
