// Unit tests of the nats_kv processor's pure parts: revision parsing, Benthos' lint rules and
// the records of the `history` operation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Message } from '../../../engine/message.js';
import { bytesAsBase64Json, historyRecord, lintProcessor, parseRevision } from './index.js';

test('revision must be an unsigned integer', () => {
  assert.equal(parseRevision('42'), 42);
  assert.equal(parseRevision(' 7 '), 7);
  assert.equal(parseRevision('0'), 0);
  assert.throws(() => parseRevision('-1'), /unsigned integer/);
  assert.throws(() => parseRevision('1.5'), /unsigned integer/);
  assert.throws(() => parseRevision(''), /unsigned integer/);
  assert.throws(() => parseRevision('99999999999999999999'), /out of range/);
});

test('lint: revision only and always for get_revision and update; key and bucket not empty', () => {
  assert.deepEqual(lintProcessor({ bucket: 'b', operation: 'get', key: 'k' }), []);
  assert.deepEqual(lintProcessor({ bucket: 'b', operation: 'update', key: 'k', revision: '${! @nats_kv_revision }' }), []);
  assert.deepEqual(lintProcessor({ bucket: 'b', operation: 'get_revision', key: 'k' }), ["'revision' must be set when operation is 'get_revision'"]);
  assert.deepEqual(lintProcessor({ bucket: 'b', operation: 'update', key: 'k' }), ["'revision' must be set when operation is 'update'"]);
  assert.deepEqual(lintProcessor({ bucket: 'b', operation: 'put', key: 'k', revision: '1' }), ["'revision' cannot be set when operation is 'put'"]);
  assert.deepEqual(lintProcessor({ bucket: '', operation: 'keys', key: '' }), ['bucket must not be empty', "'key' must be set to a non-empty string"]);
});

test('history records have the fields Benthos gives them; the value is bytes (base64 in JSON)', () => {
  const created = new Date('2024-05-24T10:11:12.5Z');
  const r = historyRecord({ key: 'k', value: new TextEncoder().encode('hello'), bucket: 'b', revision: 3, delta: 0, operation: 'DEL', created });
  assert.deepEqual(Object.keys(r), ['key', 'value', 'bucket', 'revision', 'delta', 'operation', 'created']);
  assert.ok(r.value instanceof Uint8Array);
  assert.equal(r.operation, 'KeyValueDeleteOp');
  assert.equal(r.created, '2024-05-24T10:11:12.5Z');
  const m = new Message().setStructured([r], bytesAsBase64Json);
  assert.deepEqual(JSON.parse(m.text()), [{ key: 'k', value: 'aGVsbG8=', bucket: 'b', revision: 3, delta: 0, operation: 'KeyValueDeleteOp', created: '2024-05-24T10:11:12.5Z' }]);
  assert.ok((m.structured() as { value: unknown }[])[0]!.value instanceof Uint8Array, 'mappings see bytes, as in Benthos');
  const fromBuffer = historyRecord({ key: 'k', value: Buffer.from('hi'), bucket: 'b', revision: 1, operation: 'PUT', created });
  assert.equal(fromBuffer.delta, 0);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(bytesAsBase64Json([fromBuffer, { raw: Buffer.from('hi') }]))).map((x: Record<string, unknown>) => x.value ?? x.raw), ['aGk=', 'aGk=']);
});
