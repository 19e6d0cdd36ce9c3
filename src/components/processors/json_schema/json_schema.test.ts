import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spec } from './index.js';
import type { ComponentContext, Processor } from '../../../engine/component.js';
import { noBloblang } from '../../../engine/bloblang-api.js';
import { silentLogger } from '../../../engine/logger.js';
import { Message } from '../../../engine/message.js';

const ctx = { logger: silentLogger, bloblang: noBloblang, path: 'json_schema' } as ComponentContext;

// The schema of the Benthos documentation example.
const PERSON = JSON.stringify({
  $id: 'https://example.com/person.schema.json',
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'Person',
  type: 'object',
  properties: {
    firstName: { type: 'string', description: "The person's first name." },
    lastName: { type: 'string', description: "The person's last name." },
    age: { description: 'Age in years which must be equal to or greater than zero.', type: 'integer', minimum: 0 },
  },
});

async function check(schema: object | string, docs: string[]): Promise<(string | undefined)[]> {
  const p = (await spec.build({ schema: typeof schema === 'string' ? schema : JSON.stringify(schema) }, ctx)) as Processor;
  const batch = docs.map((d) => new Message(d));
  const [out] = await p.process(batch);
  out!.forEach((m, i) => assert.equal(m.text(), docs[i], 'payload never changes'));
  return out!.map((m) => m.error?.message);
}

describe('json_schema processor', () => {
  test('the documentation example: a negative age is flagged, a valid person passes', async () => {
    const errs = await check(PERSON, ['{"firstName":"John","lastName":"Doe","age":-21}', '{"firstName":"John","lastName":"Doe","age":21}']);
    assert.deepEqual(errs, ['age must be greater than or equal to 0', undefined]);
  });

  test('violations are worded as gojsonschema words them, one per line with the field path', async () => {
    const schema = {
      type: 'object',
      required: ['id', 'name'],
      additionalProperties: false,
      properties: {
        id: { type: 'string', pattern: '^[a-z]+$' },
        name: { type: 'string', minLength: 2 },
        tags: { type: 'array', maxItems: 1, items: { enum: ['a', 'b'] } },
        nested: { type: 'object', properties: { n: { type: 'number', exclusiveMaximum: 10 } } },
      },
    };
    const [err] = await check(schema, ['{"id":"X1","tags":["c","a"],"nested":{"n":10},"extra":1}']);
    const lines = err!.split('\n').sort();
    assert.deepEqual(lines, [
      "(root) additional property extra is not allowed",
      '(root) name is required',
      "id does not match pattern '^[a-z]+$'",
      'nested.n must be less than 10',
      'tags array must have at most 1 items',
      'tags.0 tags.0 must be one of the following: "a", "b"',
    ]);
    const [typeErr] = await check(schema, ['{"id":5,"name":"ok"}']);
    assert.equal(typeErr, 'id invalid type. expected: string, given: integer');
  });

  test('a message that is not JSON is flagged', async () => {
    const [err] = await check(PERSON, ['not json']);
    assert.match(err!, /failed to parse message as JSON/);
  });

  test('schema_path (file:// and plain path); draft-04 schemas are upgraded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-schema-'));
    try {
      const file = join(dir, 'person.json');
      writeFileSync(file, PERSON);
      for (const schema_path of [`file://${file}`, file]) {
        const p = (await spec.build({ schema_path }, ctx)) as Processor;
        const [out] = await p.process([new Message('{"age":-1}')]);
        assert.equal(out![0]!.error?.message, 'age must be greater than or equal to 0');
      }
      const d4 = { $schema: 'http://json-schema.org/draft-04/schema#', id: 'x', type: 'object', properties: { n: { type: 'number', minimum: 0, exclusiveMinimum: true } } };
      assert.deepEqual(await check(d4, ['{"n":0}', '{"n":1}']), ['n must be greater than 0', undefined]);
      await assert.rejects(Promise.resolve(spec.build({ schema_path: join(dir, 'missing.json') }, ctx)), /cannot read schema_path/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('formats are checked; unknown formats ignored; 2020-12 schemas accepted', async () => {
    const schema = { type: 'object', properties: { e: { type: 'string', format: 'email' }, d: { type: 'string', format: 'date-time' }, x: { type: 'string', format: 'made-up' } } };
    assert.deepEqual(await check(schema, ['{"e":"a@b.c","d":"2024-01-02T03:04:05Z","x":"?"}', '{"e":"nope","d":"yesterday"}']), [
      undefined,
      "e does not match format 'email'\nd does not match format 'date-time'",
    ]);
    const s2020 = { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'array', prefixItems: [{ type: 'integer' }] };
    assert.deepEqual(await check(s2020, ['[1]', '["a"]']), [undefined, '0 invalid type. expected: integer, given: string']);
  });

  test('exactly one of schema and schema_path; an invalid schema is a build error', async () => {
    assert.deepEqual(spec.lint!({}), ['exactly one of schema and schema_path must be set']);
    assert.deepEqual(spec.lint!({ schema: '{}', schema_path: 'x' }), ['exactly one of schema and schema_path must be set']);
    await assert.rejects(Promise.resolve(spec.build({ schema: '{"type": 5}' }, ctx)), /invalid JSON schema/);
    await assert.rejects(Promise.resolve(spec.build({ schema: '{nope' }, ctx)), /not valid JSON/);
  });
});
