// nats_kv processor against the NATS server on 127.0.0.1:4222 (JetStream on): every operation,
// its metadata and failures, and the processor inside a stream. Each test uses its own bucket,
// deleted at the end.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { Message } from '../../../engine/message.js';
import type { ComponentContext, Processor } from '../../../engine/component.js';
import { createBloblang } from '../../../cli/wiring.js';
import { freePort } from '../../../../test/support/spawn-server.js';
import { newSink, newSource, unitContext } from '../../../../test/support/test-components.js';
import { runStream } from '../../../../test/support/streams.js';
import { NATS_URL, useKvBuckets } from '../../../../test/support/nats-kv.js';
import { spec, type NatsKvProcessorConfig } from './index.js';

const URL = NATS_URL;
const { bucket } = useKvBuckets('kvproc', 5);
const processors: Processor[] = [];

after(async () => {
  for (const p of processors) await p.close?.();
});

async function processor(conf: Partial<NatsKvProcessorConfig> & { bucket: string; operation: NatsKvProcessorConfig['operation']; key: string }): Promise<Processor> {
  const ctx: ComponentContext = unitContext('pipeline.processors.0.nats_kv', { bloblang: await createBloblang() });
  const p = (await spec.build({ urls: [URL], timeout: '5s', tls: { enabled: false } as never, ...conf } as NatsKvProcessorConfig, ctx)) as Processor;
  processors.push(p);
  return p;
}

async function one(p: Processor, msg: Message | string): Promise<Message> {
  const m = typeof msg === 'string' ? new Message(msg) : msg;
  const out = await p.process([m]);
  assert.equal(out.length, 1);
  assert.equal(out[0]!.length, 1);
  return out[0]![0]!;
}

const text = (e: { value: Uint8Array } | null) => (e ? new TextDecoder().decode(e.value) : undefined);

describe('nats_kv processor', { concurrency: false }, () => {
  test('put (interpolated key) and get: value and metadata; other metadata kept', async () => {
    const { name, kv } = await bucket();
    const put = await processor({ bucket: name, operation: 'put', key: 'user.${! meta("id") }' });
    const stored = await one(put, new Message('{"name":"Ada"}').metaSet('id', 'u1'));
    assert.equal(stored.error, undefined);
    assert.equal(stored.text(), '{"name":"Ada"}', 'the content is unchanged');
    assert.equal(stored.metaGet('nats_kv_key'), 'user.u1');
    assert.equal(stored.metaGet('nats_kv_bucket'), name);
    assert.equal(stored.metaGet('nats_kv_operation'), 'KeyValuePutOp');
    const rev = stored.metaGet('nats_kv_revision');
    assert.equal(typeof rev, 'number');
    assert.equal(text(await kv.get('user.u1')), '{"name":"Ada"}');

    const get = await processor({ bucket: name, operation: 'get', key: 'user.${! content() }' });
    const got = await one(get, new Message('u1').metaSet('trace', 't-1'));
    assert.equal(got.error, undefined);
    assert.equal(got.text(), '{"name":"Ada"}');
    assert.equal(got.metaGet('nats_kv_key'), 'user.u1');
    assert.equal(got.metaGet('nats_kv_revision'), rev);
    assert.equal(got.metaGet('nats_kv_delta'), 0);
    assert.equal(got.metaGet('nats_kv_operation'), 'KeyValuePutOp');
    assert.match(String(got.metaGet('nats_kv_created')), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.equal(got.metaGet('trace'), 't-1', 'metadata of the input message is kept');

    const missing = await one(get, 'nobody');
    assert.match(String(missing.error?.message), /key not found: user\.nobody/);
    assert.equal(missing.text(), 'nobody', 'a failed message passes on unchanged');
  });

  test('get_revision with an interpolated revision', async () => {
    const { name, kv } = await bucket();
    const r1 = await kv.put('k', 'first');
    await kv.put('k', 'second');
    const p = await processor({ bucket: name, operation: 'get_revision', key: 'k', revision: '${! content() }' });
    const m = await one(p, String(r1));
    assert.equal(m.error, undefined);
    assert.equal(m.text(), 'first');
    assert.equal(m.metaGet('nats_kv_revision'), r1);
    const bad = await one(p, 'x');
    assert.match(String(bad.error?.message), /revision must be an unsigned integer/);
  });

  test('create fails when the key holds a value, and succeeds on a deleted key', async () => {
    const { name, kv } = await bucket();
    const p = await processor({ bucket: name, operation: 'create', key: 'k' });
    const first = await one(p, 'v1');
    assert.equal(first.error, undefined);
    assert.equal(first.metaGet('nats_kv_operation'), 'KeyValuePutOp');
    const again = await one(p, 'v2');
    assert.match(String(again.error?.message), /key exists: k/);
    assert.equal(text(await kv.get('k')), 'v1');
    await kv.delete('k');
    const afterDelete = await one(p, 'v3');
    assert.equal(afterDelete.error, undefined);
    assert.equal(text(await kv.get('k')), 'v3');
  });

  test('update is a compare-and-set on the revision', async () => {
    const { name, kv } = await bucket();
    const r1 = await kv.put('k', 'v1');
    const p = await processor({ bucket: name, operation: 'update', key: 'k', revision: '${! meta("rev") }' });
    const ok = await one(p, new Message('v2').metaSet('rev', String(r1)));
    assert.equal(ok.error, undefined);
    assert.ok((ok.metaGet('nats_kv_revision') as number) > r1);
    const stale = await one(p, new Message('v3').metaSet('rev', String(r1)));
    assert.match(String(stale.error?.message), /nats_kv update/);
    assert.equal(text(await kv.get('k')), 'v2');
    const fresh = await one(p, new Message('new').metaSet('rev', '0'));
    assert.ok(fresh.error, 'revision 0 means the key must not exist');
    const p2 = await processor({ bucket: name, operation: 'update', key: 'other', revision: '0' });
    assert.equal((await one(p2, 'created')).error, undefined);
    assert.equal(text(await kv.get('other')), 'created');
  });

  test('delete and purge: metadata, then get reports a missing key; wildcards refused', async () => {
    const { name, kv } = await bucket();
    await kv.put('a', '1');
    await kv.put('b', '2');
    await kv.put('b', '3');
    const del = await one(await processor({ bucket: name, operation: 'delete', key: 'a' }), 'keep me');
    assert.equal(del.error, undefined);
    assert.equal(del.text(), 'keep me');
    assert.equal(del.metaGet('nats_kv_operation'), 'KeyValueDeleteOp');
    assert.equal(del.metaGet('nats_kv_revision'), 0);
    const purge = await one(await processor({ bucket: name, operation: 'purge', key: 'b' }), '');
    assert.equal(purge.metaGet('nats_kv_operation'), 'KeyValuePurgeOp');
    const get = await processor({ bucket: name, operation: 'get', key: '${! content() }' });
    assert.match(String((await one(get, 'a')).error?.message), /key not found/);
    assert.match(String((await one(get, 'b')).error?.message), /key not found/);
    const wild = await one(await processor({ bucket: name, operation: 'delete', key: '>' }), '');
    assert.match(String(wild.error?.message), /invalid key/);
  });

  test('history: an array of records; a missing key fails', async () => {
    const { name, kv } = await bucket();
    await kv.put('k', 'lawblog');
    const r2 = await kv.put('k', 'sawedlog');
    const p = await processor({ bucket: name, operation: 'history', key: 'k' });
    const m = await one(p, 'ignored');
    assert.equal(m.error, undefined);
    const records = JSON.parse(m.text()) as Record<string, unknown>[];
    assert.equal(records.length, 2);
    assert.deepEqual({ ...records[1], created: undefined }, { key: 'k', value: Buffer.from('sawedlog').toString('base64'), bucket: name, revision: r2, delta: 0, operation: 'KeyValuePutOp', created: undefined });
    assert.equal(typeof records[1]!.created, 'string');
    const none = await one(await processor({ bucket: name, operation: 'history', key: 'nothing' }), '');
    assert.match(String(none.error?.message), /key not found/);
  });

  test('keys: the keys matching a filter (deleted ones left out), with nats_kv_bucket', async () => {
    const { name, kv } = await bucket();
    await kv.put('blob', '1');
    await kv.put('bobs', '2');
    await kv.put('dev.a', '3');
    await kv.put('dev.b', '4');
    await kv.delete('dev.b');
    const exact = await one(await processor({ bucket: name, operation: 'keys', key: 'blob' }), '');
    assert.deepEqual(exact.structured(), ['blob']);
    assert.equal(exact.metaGet('nats_kv_bucket'), name);
    const all = await one(await processor({ bucket: name, operation: 'keys', key: '>' }), '');
    assert.deepEqual((all.structured() as string[]).sort(), ['blob', 'bobs', 'dev.a']);
    const none = await one(await processor({ bucket: name, operation: 'keys', key: 'nope.*' }), '');
    assert.equal(none.error, undefined);
    assert.deepEqual(none.structured(), []);
  });

  test('an unreachable server flags the message, naming the servers and no credentials', async () => {
    const port = await freePort();
    const p = await processor({ urls: [`nats://someone:s3cret@127.0.0.1:${port}`], bucket: 'b', operation: 'get', key: 'k' });
    const m = await one(p, 'x');
    assert.match(String(m.error?.message), new RegExp(`127\\.0\\.0\\.1:${port}`));
    assert.doesNotMatch(String(m.error?.message), /s3cret|someone/);
    assert.equal(m.text(), 'x');
  });

  test('in a stream: enrich messages from the bucket, catch the missing ones', async () => {
    const { name, kv } = await bucket();
    await kv.put('u1', 'Ada');
    await kv.put('u2', 'Grace');
    const { id: srcId, source } = newSource();
    const { id: sinkId, sink } = newSink();
    const s = await runStream({
      input: { test_source: { id: srcId } },
      pipeline: { processors: [{ nats_kv: { urls: [URL], bucket: name, operation: 'get', key: '${! content() }' } }, { catch: [{ mapping: 'root = "unknown"' }] }] },
      output: { test_sink: { id: sinkId } },
    });
    try {
      source.push('u1', 'u9', 'u2');
      await source.waitAcks(3, 10_000);
      assert.deepEqual(sink.texts(), ['Ada', 'unknown', 'Grace']);
    } finally {
      source.end();
      await s.stop(1000);
    }
  });
});
