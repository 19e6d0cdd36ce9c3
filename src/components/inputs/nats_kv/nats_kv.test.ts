// Unit tests of the nats_kv input's pure parts: watch options, the ignore_deletes filter, and the
// message and metadata made of a watched entry (shared with the processor via nats-common).
//
// Why no test/contract/nats_kv.test.ts: the contract suite checks that every message written
// arrives (in order, redelivered on nack, across broker restarts). A KV watch delivers the last
// value per key (a new watch starts from the bucket's current values, and values superseded
// before they are watched are skipped by design), the output has no metadata to carry, and the
// input's nack redelivery is the engine's in-memory replay: those semantics do not fit the suite.
// The integration tests beside this file check them one by one instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keepEntry, kvEntryMessage, watchOptions, type NatsKvInputConfig } from './index.js';
import { kvOperationName, rfc3339Nano } from '../../nats-common.js';

const conf = (over: Partial<NatsKvInputConfig> = {}): NatsKvInputConfig => ({
  urls: ['nats://127.0.0.1:4222'],
  tls: { enabled: false } as never,
  bucket: 'b',
  key: '>',
  auto_replay_nacks: true,
  ignore_deletes: false,
  include_history: false,
  meta_only: false,
  ...over,
});

test('watch options follow the config', () => {
  assert.deepEqual(watchOptions(conf(), 0), { key: '>', include: '', ignoreDeletes: false, headers_only: false });
  const o = watchOptions(conf({ key: 'a.*', include_history: true, ignore_deletes: true, meta_only: true }), 0);
  assert.deepEqual(o, { key: 'a.*', include: 'history', ignoreDeletes: true, headers_only: true });
});

test('a new watch after a lost connection resumes after the last revision read', () => {
  assert.equal(watchOptions(conf(), 41).resumeFromRevision, 42);
  assert.equal(watchOptions(conf(), 0).resumeFromRevision, undefined);
});

test('ignore_deletes drops delete markers and purges (as Go does), never puts', () => {
  const on = { ignore_deletes: true };
  assert.equal(keepEntry(on, { operation: 'PUT' }), true);
  assert.equal(keepEntry(on, { operation: 'DEL' }), false);
  assert.equal(keepEntry(on, { operation: 'PURGE' }), false);
  assert.equal(keepEntry({ ignore_deletes: false }, { operation: 'DEL' }), true);
  assert.equal(keepEntry({ ignore_deletes: false }, { operation: 'PURGE' }), true);
});

test('an entry becomes a message with the nats_kv_* metadata Benthos sets', () => {
  const created = new Date('2024-05-24T10:11:12.345Z');
  const m = kvEntryMessage({ bucket: 'cfg', key: 'svc.a', value: new TextEncoder().encode('v1'), revision: 7, delta: 3, operation: 'PUT', created });
  assert.equal(m.text(), 'v1');
  assert.equal(m.metaGet('nats_kv_key'), 'svc.a');
  assert.equal(m.metaGet('nats_kv_bucket'), 'cfg');
  assert.equal(m.metaGet('nats_kv_revision'), 7, 'a number, as Benthos keeps it (uint64)');
  assert.equal(m.metaGet('nats_kv_delta'), 3);
  assert.equal(m.metaGet('nats_kv_operation'), 'KeyValuePutOp');
  assert.equal(m.metaGet('nats_kv_created'), '2024-05-24T10:11:12.345Z');
  assert.equal(m.metaGetString('nats_kv_revision'), '7');
});

test('operation names and RFC 3339 times match Go', () => {
  assert.equal(kvOperationName('PUT'), 'KeyValuePutOp');
  assert.equal(kvOperationName('DEL'), 'KeyValueDeleteOp');
  assert.equal(kvOperationName('PURGE'), 'KeyValuePurgeOp');
  assert.equal(kvOperationName('X'), 'Unknown Operation');
  assert.equal(rfc3339Nano(new Date('2024-01-02T03:04:05.000Z')), '2024-01-02T03:04:05Z');
  assert.equal(rfc3339Nano(new Date('2024-01-02T03:04:05.100Z')), '2024-01-02T03:04:05.1Z');
});
