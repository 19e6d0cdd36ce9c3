// nats_kv input against the NATS server on 127.0.0.1:4222 (JetStream on), and a private
// nats-server for the reconnect case. Every test uses its own bucket, deleted at the end.
// (Why there is no contract-suite file for nats_kv: see nats_kv.test.ts.)
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { newSink, unitContext } from '../../../../test/support/test-components.js';
import { runStream, waitUntil, sleep } from '../../../../test/support/streams.js';
import { startPrivateNats } from '../../../../test/support/nats-server.js';
import type { ComponentContext, Input } from '../../../engine/component.js';
import { NATS_URL, useKvBuckets } from '../../../../test/support/nats-kv.js';
import { spec } from './index.js';

const URL = NATS_URL;
const { bucket } = useKvBuckets('kvin', 1);
const run = randomUUID().slice(0, 8);

async function watcher(input: Record<string, unknown>, mode: 'ok' | 'nack_first' = 'ok', url = URL) {
  const { id, sink } = newSink(mode);
  const stream = await runStream({ input: { nats_kv: { urls: [url], ...input } }, output: { test_sink: { id } }, shutdown_timeout: '1s' });
  await waitUntil(() => stream.state === 'running', 10_000, 'watcher running');
  return { sink, stream };
}

const ops = (texts: { metaGet(k: string): unknown }[]) => texts.map((m) => `${String(m.metaGet('nats_kv_key'))}:${String(m.metaGet('nats_kv_operation'))}`);

function ctx(): ComponentContext {
  return unitContext('input.nats_kv');
}

describe('nats_kv input', { concurrency: false }, () => {
  test('the current values first (with metadata), then every change', async () => {
    const { name, kv } = await bucket(5);
    await kv.put('a', 'a1');
    await kv.put('b', 'b1');
    const lastA = await kv.put('a', 'a2');
    const w = await watcher({ bucket: name });
    try {
      await w.sink.waitFor(2, 10_000);
      assert.deepEqual(w.sink.texts(), ['b1', 'a2'], 'the last value per key, in revision order');
      const a = w.sink.messages[1]!;
      assert.equal(a.metaGet('nats_kv_key'), 'a');
      assert.equal(a.metaGet('nats_kv_bucket'), name);
      assert.equal(a.metaGet('nats_kv_revision'), lastA);
      assert.equal(a.metaGet('nats_kv_operation'), 'KeyValuePutOp');
      assert.equal(typeof a.metaGet('nats_kv_delta'), 'number');
      assert.equal(w.sink.messages[0]!.metaGet('nats_kv_delta'), 1, 'one entry of the watch still pending');
      assert.equal(a.metaGet('nats_kv_delta'), 0);
      const created = Date.parse(String(a.metaGet('nats_kv_created')));
      assert.ok(Math.abs(created - Date.now()) < 60_000, `created is an RFC 3339 time (${String(a.metaGet('nats_kv_created'))})`);

      await kv.put('c', 'c1');
      await kv.delete('b');
      await kv.purge('a');
      await w.sink.waitFor(5, 10_000);
      assert.deepEqual(ops(w.sink.messages.slice(2)), ['c:KeyValuePutOp', 'b:KeyValueDeleteOp', 'a:KeyValuePurgeOp']);
      assert.equal(w.sink.messages[3]!.text(), '', 'a delete marker has no value');
    } finally {
      await w.stream.stop(1000);
    }
  });

  test('ignore_deletes drops delete markers and purges', async () => {
    const { name, kv } = await bucket();
    const w = await watcher({ bucket: name, ignore_deletes: true });
    try {
      await sleep(200);
      await kv.put('x', '1');
      await kv.delete('x');
      await kv.put('y', '2');
      await kv.purge('y');
      await kv.put('z', '3');
      await w.sink.waitFor(3, 10_000);
      await sleep(300);
      assert.deepEqual(w.sink.texts(), ['1', '2', '3']);
      assert.deepEqual(ops(w.sink.messages), ['x:KeyValuePutOp', 'y:KeyValuePutOp', 'z:KeyValuePutOp']);
    } finally {
      await w.stream.stop(1000);
    }
  });

  test('key filters with wildcards; include_history gives every kept value; meta_only empties the content', async () => {
    const { name, kv } = await bucket(5);
    await kv.put('dev.a', '1');
    await kv.put('other', 'x');
    await kv.put('dev.a', '2');
    await kv.put('dev.b', '3');
    const h = await watcher({ bucket: name, key: 'dev.*', include_history: true });
    const m = await watcher({ bucket: name, key: 'dev.>', meta_only: true });
    try {
      await h.sink.waitFor(3, 10_000);
      await m.sink.waitFor(2, 10_000);
      await sleep(300);
      assert.deepEqual(h.sink.texts(), ['1', '2', '3']);
      assert.deepEqual(m.sink.texts(), ['', '']);
      assert.deepEqual(m.sink.messages.map((x) => x.metaGet('nats_kv_key')), ['dev.a', 'dev.b']);
    } finally {
      await Promise.all([h.stream.stop(1000), m.stream.stop(1000)]);
    }
  });

  test('a message rejected downstream is replayed until delivered (auto_replay_nacks)', async () => {
    const { name, kv } = await bucket();
    await kv.put('k1', 'one');
    await kv.put('k2', 'two');
    const w = await watcher({ bucket: name }, 'nack_first');
    try {
      await w.sink.waitForDistinct(2, 10_000);
      assert.deepEqual(new Set(w.sink.texts()), new Set(['one', 'two']));
    } finally {
      await w.stream.stop(1000);
    }
  });

  test('a missing bucket fails connect, naming the servers and the bucket but no credentials', async () => {
    const input = (await spec.build(
      { urls: ['nats://someone:s3cret@127.0.0.1:4222'], bucket: `missing_${run}`, key: '>', auto_replay_nacks: true, ignore_deletes: false, include_history: false, meta_only: false, tls: { enabled: false } } as never,
      ctx(),
    )) as Input;
    try {
      await assert.rejects(input.connect(new AbortController().signal), (err: Error) => {
        assert.match(err.message, /127\.0\.0\.1:4222/);
        assert.match(err.message, new RegExp(`missing_${run}`));
        assert.doesNotMatch(err.message, /s3cret|someone/);
        return true;
      });
    } finally {
      await input.close();
    }
  });

  test('after the server restarts the watch resumes after the last revision read', async () => {
    const server = await startPrivateNats();
    let pc: NatsConnection | undefined;
    let w: Awaited<ReturnType<typeof watcher>> | undefined;
    try {
      pc = await connect({ servers: server.url });
      const name = `sluice_kvin_${run}_restart`;
      let kv = await new Kvm(pc).create(name);
      await kv.put('a', 'before');
      w = await watcher({ bucket: name }, 'ok', server.url);
      await w.sink.waitFor(1, 10_000);
      await server.kill();
      await pc.close();
      await sleep(300);
      await server.restart();
      pc = await connect({ servers: server.url });
      kv = await new Kvm(pc).open(name);
      await kv.put('b', 'while reconnecting');
      await kv.put('a', 'after');
      await w.sink.waitFor(3, 20_000);
      await sleep(500);
      assert.deepEqual(w.sink.texts(), ['before', 'while reconnecting', 'after'], 'nothing skipped, nothing read twice');
    } finally {
      await w?.stream.stop(1000);
      await pc?.close().catch(() => undefined);
      await server.stop();
    }
  });
});
