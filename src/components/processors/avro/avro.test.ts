import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AvroCodec, crc64Avro, parseSchema } from './codec.js';
import { spec } from './index.js';
import type { ComponentContext, Processor } from '../../../engine/component.js';
import { noBloblang } from '../../../engine/bloblang-api.js';
import { silentLogger } from '../../../engine/logger.js';
import { Message } from '../../../engine/message.js';

const ctx = { logger: silentLogger, bloblang: noBloblang, path: 'avro' } as ComponentContext;

const SCHEMA = JSON.stringify({
  type: 'record',
  name: 'User',
  namespace: 'example.avro',
  fields: [
    { name: 'name', type: 'string' },
    { name: 'favorite_number', type: ['null', 'int'] },
    { name: 'favorite_color', type: ['null', 'string'], default: null },
    { name: 'tags', type: { type: 'array', items: 'string' }, default: [] },
    { name: 'scores', type: { type: 'map', values: 'long' }, default: {} },
    { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['A', 'B'] }, default: 'A' },
    { name: 'raw', type: 'bytes', default: '' },
  ],
});

describe('avro codec', () => {
  const type = parseSchema(SCHEMA);
  const native = { name: 'Ann', favorite_number: { int: 7 }, favorite_color: null, tags: ['x'], scores: { a: 1 }, kind: 'B', raw: 'hi' };

  test('binary round trip; unions wrapped, bytes as base64, keys sorted', () => {
    const codec = new AvroCodec(type, 'binary');
    const bin = codec.fromJson(native);
    // name "Ann" (len 3 zigzag=6), union index 1 + int 7 (zigzag 14), union index 0 (null), ...
    assert.deepEqual([...bin.subarray(0, 7)], [6, 0x41, 0x6e, 0x6e, 2, 14, 0]);
    const back = codec.toJson(bin);
    assert.equal(JSON.stringify(back), '{"favorite_color":null,"favorite_number":{"int":7},"kind":"B","name":"Ann","raw":"aGk=","scores":{"a":1},"tags":["x"]}');
  });

  test('textual: Avro JSON encoding', () => {
    const codec = new AvroCodec(type, 'textual');
    const text = codec.fromJson({ name: 'Bo', favorite_number: null });
    assert.deepEqual(JSON.parse(text.toString()), { name: 'Bo', favorite_number: null, favorite_color: null, tags: [], scores: {}, kind: 'A', raw: '' });
    assert.deepEqual(codec.toJson(Buffer.from('{"name":"Cy","favorite_number":{"int":3},"favorite_color":{"string":"red"},"tags":[],"scores":{},"kind":"A","raw":""}')), {
      favorite_color: { string: 'red' },
      favorite_number: { int: 3 },
      kind: 'A',
      name: 'Cy',
      raw: '',
      scores: {},
      tags: [],
    });
  });

  test('single-object encoding: C3 01 + CRC-64-AVRO fingerprint', () => {
    const codec = new AvroCodec(type, 'single');
    const bytes = codec.fromJson(native);
    assert.deepEqual([...bytes.subarray(0, 2)], [0xc3, 0x01]);
    assert.deepEqual((codec.toJson(bytes) as { name: string }).name, 'Ann');
    const other = new AvroCodec(parseSchema('{"type":"record","name":"Other","fields":[{"name":"a","type":"int"}]}'), 'single');
    assert.throws(() => other.toJson(bytes), /fingerprint does not match/);
    assert.throws(() => codec.toJson(Buffer.from([1, 2, 3])), /single-object/);
  });

  test('CRC-64-AVRO matches the Avro specification test vectors', () => {
    // From the Avro spec's schema fingerprint tests: "null" → 7195948357588979594.
    assert.equal(crc64Avro(Buffer.from('"null"')).readBigInt64LE(), 7195948357588979594n);
    assert.equal(crc64Avro(Buffer.from('"int"')).readBigInt64LE(), 8247732601305521295n);
  });

  test('JSON that does not fit the schema is an error naming the path', () => {
    const codec = new AvroCodec(type, 'binary');
    assert.throws(() => codec.fromJson({ favorite_number: null }), /missing required field name/);
    assert.throws(() => codec.fromJson({ name: 'x', favorite_number: 7 }), /\$\.favorite_number: expected a union value/);
    assert.throws(() => codec.fromJson({ name: 'x', favorite_number: { string: 'a' } }), /string is not a branch/);
    assert.throws(() => codec.fromJson({ name: 'x', favorite_number: null, kind: 'C' }), /\$\.kind: expected one of A, B/);
  });

  test('a schema registry answer ({"schema": "..."}) is unwrapped', () => {
    const t = parseSchema(JSON.stringify({ subject: 's', version: 1, id: 3, schema: SCHEMA }));
    assert.equal(t.name, 'example.avro.User');
  });
});

describe('avro processor', () => {
  test('from_json then to_json with a schema_path file; failures flag the message', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-avro-'));
    try {
      const file = join(dir, 'user.avsc');
      writeFileSync(file, SCHEMA);
      const enc = (await spec.build({ operator: 'from_json', encoding: 'binary', schema: '', schema_path: `file://${file}` }, ctx)) as Processor;
      const dec = (await spec.build({ operator: 'to_json', encoding: 'binary', schema: SCHEMA, schema_path: '' }, ctx)) as Processor;
      const m = new Message('{"name":"Ann","favorite_number":{"int":7}}', { k: 'v' });
      const bad = new Message('{"nope":1}');
      const [encoded] = await enc.process([m, bad]);
      assert.equal(encoded![1]!.text(), '{"nope":1}');
      assert.match(encoded![1]!.error!.message, /avro from_json failed: .*missing required field name/);
      const [decoded] = await dec.process([encoded![0]!]);
      assert.deepEqual((decoded![0]!.structured() as Record<string, unknown>).favorite_number, { int: 7 });
      assert.equal(decoded![0]!.metaGet('k'), 'v');
      await assert.rejects(Promise.resolve(spec.build({ operator: 'to_json', encoding: 'binary', schema: '', schema_path: join(dir, 'missing.avsc') }, ctx)), /cannot read schema_path/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
