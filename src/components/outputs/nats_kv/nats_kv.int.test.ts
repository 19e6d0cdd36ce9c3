// nats_kv output against the NATS server on 127.0.0.1:4222 (JetStream on). Each test uses its
// own bucket, deleted at the end.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Message } from '../../../engine/message.js';
import { newSink, newSource, unitContext } from '../../../../test/support/test-components.js';
import { runStream } from '../../../../test/support/streams.js';
import type { ComponentContext, Output } from '../../../engine/component.js';
import { NATS_URL, useKvBuckets } from '../../../../test/support/nats-kv.js';
import { spec } from './index.js';

const URL = NATS_URL;
const { bucket } = useKvBuckets('kvout', 5);
const run = randomUUID().slice(0, 8);

const text = (e: { value: Uint8Array } | null) => (e ? new TextDecoder().decode(e.value) : undefined);

describe('nats_kv output', { concurrency: false }, () => {
  test('puts each message under its interpolated key; a batch is acked once all are stored', async () => {
    const { name, kv } = await bucket();
    const { id, source } = newSource();
    const s = await runStream({ input: { test_source: { id } }, output: { nats_kv: { urls: [URL], bucket: name, key: 'dev.${! meta("id") }' } }, shutdown_timeout: '2s' });
    try {
      const batch = ['a', 'b', 'c'].map((x) => new Message(`state-${x}`).metaSet('id', x));
      source.push(batch);
      source.push(new Message('state-a2').metaSet('id', 'a'));
      await source.waitAcks(2, 10_000);
      assert.deepEqual(source.acks.map((a) => a.error), [undefined, undefined]);
      assert.equal(text(await kv.get('dev.a')), 'state-a2');
      assert.equal(text(await kv.get('dev.b')), 'state-b');
      assert.equal(text(await kv.get('dev.c')), 'state-c');
      const hist: string[] = [];
      for await (const e of await kv.history({ key: 'dev.a' })) hist.push(new TextDecoder().decode(e.value));
      assert.deepEqual(hist, ['state-a', 'state-a2']);
    } finally {
      source.end();
      await s.stop(2000);
    }
  });

  test('an invalid key nacks the batch back to the input', async () => {
    const { name } = await bucket();
    const { id, source } = newSource();
    const s = await runStream({ input: { test_source: { id } }, output: { nats_kv: { urls: [URL], bucket: name, key: '${! content() }' } }, shutdown_timeout: '2s' });
    try {
      source.push('not a valid key');
      await source.waitAcks(1, 10_000);
      assert.match(String(source.acks[0]!.error?.message), /invalid key/);
    } finally {
      source.end();
      await s.stop(2000);
    }
  });

  test('a missing bucket fails connect, naming the servers and the bucket but no credentials', async () => {
    const ctx: ComponentContext = unitContext('output.nats_kv');
    const out = (await spec.build({ urls: ['nats://someone:s3cret@127.0.0.1:4222'], bucket: `missing_${run}`, key: 'k', max_in_flight: 1, tls: { enabled: false } } as never, ctx)) as Output;
    try {
      await assert.rejects(out.connect(new AbortController().signal), (err: Error) => {
        assert.match(err.message, /127\.0\.0\.1:4222/);
        assert.match(err.message, new RegExp(`bucket missing_${run} not found`));
        assert.doesNotMatch(err.message, /s3cret|someone/);
        return true;
      });
    } finally {
      await out.close();
    }
  });

  test('round trip: output to input', async () => {
    const { name } = await bucket();
    const { id: sinkId, sink } = newSink();
    const c = await runStream({ input: { nats_kv: { urls: [URL], bucket: name } }, output: { test_sink: { id: sinkId } }, shutdown_timeout: '1s' });
    const { id, source } = newSource();
    const p = await runStream({ input: { test_source: { id } }, output: { nats_kv: { urls: [URL], bucket: name, key: 'k.${! content() }' } }, shutdown_timeout: '2s' });
    try {
      source.push('one', 'two', 'three');
      await sink.waitFor(3, 10_000);
      assert.deepEqual(sink.texts(), ['one', 'two', 'three']);
      assert.deepEqual(sink.messages.map((m) => m.metaGet('nats_kv_key')), ['k.one', 'k.two', 'k.three']);
    } finally {
      source.end();
      await Promise.all([p.stop(2000), c.stop(1000)]);
    }
  });
});
