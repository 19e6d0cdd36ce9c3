// `kafka_franz` output against the broker on 127.0.0.1:9092, checked with kcat: metadata sent as
// headers only when included, keyed records hashed with murmur2, keyless records of one batch kept
// together, default (snappy) compression readable by other clients.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { Message } from '../../../engine/message.js';
import { newSource } from '../../../../test/support/test-components.js';
import { runStream } from '../../../../test/support/streams.js';
import { KAFKA, createTopic, ensureKafka, kcatRead, uniqueName } from '../../kafka/testing.js';
import { murmur2Partition } from '../../kafka/partitioners.js';

const enc = (s: string) => new TextEncoder().encode(s);

async function write(conf: Record<string, unknown>, items: (string | Message | Message[])[]): Promise<void> {
  const { id, source } = newSource();
  const stream = await runStream({ input: { test_source: { id } }, output: { kafka_franz: { seed_brokers: [KAFKA], ...conf } }, shutdown_timeout: '3s' });
  try {
    source.push(...items);
    await source.waitAcks(items.length, 20_000);
    assert.deepEqual(source.acks.map((a) => a.error?.message).filter(Boolean), []);
  } finally {
    source.end();
    await stream.stop();
  }
}

describe('kafka_franz output', { concurrency: false }, () => {
  before(() => ensureKafka());

  test('only included metadata becomes headers', async () => {
    const topic = uniqueName('kfout_meta');
    const m = new Message('{"a":1}', { trace_id: 't1', other: 'no', kafka_like: 'k', tenant: 'acme' });
    await write({ topic, metadata: { include_prefixes: ['trace_'], include_patterns: ['^ten'] } }, [m]);
    const none = uniqueName('kfout_none');
    await write({ topic: none }, [new Message('x', { trace_id: 't1' })]);
    const [r] = await kcatRead(topic);
    assert.deepEqual(r!.headers, { trace_id: 't1', tenant: 'acme' });
    assert.equal(r!.payload, '{"a":1}');
    const [n] = await kcatRead(none);
    assert.deepEqual(n!.headers, {}, 'no metadata is sent by default');
  });

  test('keys are hashed with murmur2; keyless records of one batch share a partition', async () => {
    const topic = uniqueName('kfout_part');
    await createTopic(topic, 4);
    const keyed = Array.from({ length: 20 }, (_, i) => new Message(`k${i}`, { k: `key-${i}` }));
    await write({ topic, key: '${! meta("k") }' }, keyed);
    const batch = Array.from({ length: 10 }, (_, i) => new Message(`nokey${i}`));
    await write({ topic }, [batch]);
    const got = await kcatRead(topic);
    for (const r of got.filter((x) => x.key)) assert.equal(r.partition, murmur2Partition(enc(r.key!), 4));
    const parts = new Set(got.filter((x) => x.payload!.startsWith('nokey')).map((r) => r.partition));
    assert.equal(parts.size, 1, 'a keyless batch sticks to one partition');
  });

  test('round_robin partitioner and explicit compression', async () => {
    const topic = uniqueName('kfout_rr');
    await createTopic(topic, 2);
    await write({ topic, partitioner: 'round_robin', compression: 'gzip', idempotent_write: false }, [[new Message('a'), new Message('b'), new Message('c'), new Message('d')]]);
    const got = await kcatRead(topic);
    assert.deepEqual(got.map((r) => r.partition).sort(), [0, 0, 1, 1]);
  });
});
