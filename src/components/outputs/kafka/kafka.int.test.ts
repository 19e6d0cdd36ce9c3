// `kafka` output against the broker on 127.0.0.1:9092, checked with kcat as an independent client:
// partitioners give the partitions other clients compute, compression, batching, size limit,
// custom topic creation.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Admin } from '@platformatic/kafka';
import { Message } from '../../../engine/message.js';
import { newSource } from '../../../../test/support/test-components.js';
import { runStream, sleep } from '../../../../test/support/streams.js';
import { KAFKA, createTopic, ensureKafka, kcatRead, uniqueName } from '../../kafka/testing.js';
import { fnv1aPartition, murmur2Partition } from '../../kafka/partitioners.js';
import { closeClient } from '../../kafka/config.js';

const run = promisify(execFile);
const enc = (s: string) => new TextEncoder().encode(s);

/** Writes `msgs` through a kafka output with `conf`; resolves with each message's ack error, in the order given. */
async function write(conf: Record<string, unknown>, msgs: (string | Message)[], component = 'kafka'): Promise<(Error | undefined)[]> {
  const { id, source } = newSource();
  const base = component === 'kafka' ? { addresses: [KAFKA] } : { seed_brokers: [KAFKA] };
  const stream = await runStream({ input: { test_source: { id } }, output: { [component]: { ...base, ...conf } }, shutdown_timeout: '3s' });
  try {
    source.push(...msgs);
    await source.waitAcks(msgs.length, 20_000);
    const texts = msgs.map((m) => (typeof m === 'string' ? m : m.text()));
    return texts.map((t) => source.acks.find((a) => a.batch[0]!.text() === t)?.error);
  } finally {
    source.end();
    await stream.stop();
  }
}

const keyed = (n: number) => Array.from({ length: n }, (_, i) => new Message(`v${i}`, { k: `key-${i}` }));

describe('kafka output', { concurrency: false }, () => {
  before(() => ensureKafka());

  test('fnv1a_hash (default) and murmur2_hash put keys where other clients do', async () => {
    const fnv = uniqueName('kout_fnv');
    const mur = uniqueName('kout_mur');
    await createTopic(fnv, 6);
    await createTopic(mur, 6);
    assert.deepEqual((await write({ topic: fnv, key: '${! meta("k") }' }, keyed(30))).filter(Boolean), []);
    assert.deepEqual((await write({ topic: mur, key: '${! meta("k") }', partitioner: 'murmur2_hash' }, keyed(30))).filter(Boolean), []);
    const f = await kcatRead(fnv);
    assert.equal(f.length, 30);
    for (const r of f) assert.equal(r.partition, fnv1aPartition(enc(r.key!), 6), `fnv1a ${r.key}`);
    const m = await kcatRead(mur);
    for (const r of m) assert.equal(r.partition, murmur2Partition(enc(r.key!), 6), `murmur2 ${r.key}`);
    // librdkafka's murmur2 partitioner (the Java client's) agrees.
    const ref = uniqueName('kout_ref');
    await createTopic(ref, 6);
    await run('sh', ['-c', `printf 'key-1:a\\nkey-2:b\\nkey-3:c\\nfoobar:d\\n' | kcat -b ${KAFKA} -P -t ${ref} -K : -X partitioner=murmur2_random`]);
    for (const r of await kcatRead(ref)) assert.equal(r.partition, murmur2Partition(enc(r.key!), 6), `librdkafka murmur2 ${r.key}`);
  });

  test('round_robin spreads, manual uses the interpolated partition', async () => {
    const rr = uniqueName('kout_rr');
    await createTopic(rr, 3);
    await write({ topic: rr, partitioner: 'round_robin' }, ['a', 'b', 'c', 'd', 'e', 'f']);
    const counts = [0, 0, 0];
    for (const r of await kcatRead(rr)) counts[r.partition]!++;
    assert.deepEqual(counts, [2, 2, 2]);
    const man = uniqueName('kout_manual');
    await createTopic(man, 3);
    const msgs = [0, 2, 1, 2].map((p, i) => new Message(`m${i}`, { part: String(p) }));
    await write({ topic: man, partitioner: 'manual', partition: '${! meta("part") }' }, msgs);
    const got = await kcatRead(man);
    for (const r of got) assert.equal(String(r.partition), msgs[Number(r.payload!.slice(1))]!.metaGetString('part'));
    // A partition that does not exist is a failure (nack), not a silent wrap around.
    const errs = await write({ topic: man, partitioner: 'manual', partition: '7' }, ['x']);
    assert.match(errs[0]?.message ?? '', /partition 7 does not exist/);
  });

  test('compressions, acks from all replicas and the idempotent producer are readable by kcat', async () => {
    for (const compression of ['gzip', 'snappy', 'lz4']) {
      const topic = uniqueName(`kout_${compression}`);
      await write({ topic, compression, ack_replicas: true, idempotent_write: compression === 'lz4' }, Array.from({ length: 20 }, (_, i) => `${compression}-${i}`));
      const got = await kcatRead(topic);
      assert.deepEqual(got.map((r) => r.payload), Array.from({ length: 20 }, (_, i) => `${compression}-${i}`), compression);
    }
  });

  test('batching: full batches at once, the rest after the period; every message acked', async () => {
    const topic = uniqueName('kout_batch');
    const { id, source } = newSource();
    const stream = await runStream({ input: { test_source: { id } }, output: { kafka: { addresses: [KAFKA], topic, batching: { count: 10, period: '500ms' } } } });
    try {
      source.push(...Array.from({ length: 25 }, (_, i) => `b${i}`));
      await source.waitAcks(20, 5_000);
      await sleep(100);
      assert.equal(source.acks.length, 20, 'the 5 of the partial batch wait for the period');
      await source.waitAcks(25, 5_000);
      assert.ok(source.acks.every((a) => a.error === undefined));
      assert.deepEqual((await kcatRead(topic)).map((r) => r.payload), Array.from({ length: 25 }, (_, i) => `b${i}`));
    } finally {
      source.end();
      await stream.stop();
    }
  });

  test('a message over max_msg_bytes is rejected; custom_topic_creation sets the partitions', async () => {
    const topic = uniqueName('kout_create');
    const errs = await write({ topic, max_msg_bytes: 100, custom_topic_creation: { enabled: true, partitions: 3, replication_factor: 1 } }, ['small', 'x'.repeat(200)]);
    assert.equal(errs[0], undefined);
    assert.match(errs[1]?.message ?? '', /exceeds the limit of 100 bytes/);
    const admin = new Admin({ clientId: 't', bootstrapBrokers: [KAFKA] });
    try {
      const md = await admin.metadata({ topics: [topic] });
      assert.equal(md.topics.get(topic)?.partitionsCount, 3);
    } finally {
      await closeClient(admin, 'closing', false);
    }
  });
});
