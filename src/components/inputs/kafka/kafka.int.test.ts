// `kafka` input (and output) against the broker on 127.0.0.1:9092: round trip with metadata,
// commit only after delivery, a consumer group rebalancing over two members, input batching.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { Message } from '../../../engine/message.js';
import type { Stream } from '../../../engine/stream.js';
import { newSink, newSource, type Sink, type SinkMode } from '../../../../test/support/test-components.js';
import { runStream, waitUntil, sleep } from '../../../../test/support/streams.js';
import { KAFKA, committedOffsets, createTopic, ensureKafka, kcatRead, kcatWrite, uniqueName } from '../../kafka/testing.js';

const fastGroup = { session_timeout: '6s', heartbeat_interval: '300ms', rebalance_timeout: '10s' };

async function consume(input: Record<string, unknown>, mode: SinkMode = 'ok'): Promise<{ sink: Sink; stream: Stream }> {
  const { id, sink } = newSink(mode);
  const stream = await runStream({ input: { kafka: { addresses: [KAFKA], group: fastGroup, commit_period: '100ms', ...input } }, output: { test_sink: { id } }, shutdown_timeout: '1s' });
  await waitUntil(() => stream.state === 'running', 15_000, 'consumer running');
  return { sink, stream };
}

async function produce(output: Record<string, unknown>) {
  const { id, source } = newSource();
  const stream = await runStream({ input: { test_source: { id } }, output: { kafka: { addresses: [KAFKA], ...output } }, shutdown_timeout: '3s' });
  return { source, stream };
}

describe('kafka input', { concurrency: false }, () => {
  before(() => ensureKafka());

  test('round trip through kafka output and input: key, headers and kafka_* metadata', async () => {
    const topic = uniqueName('kin_meta');
    const group = uniqueName('g');
    const c = await consume({ topics: [topic], consumer_group: group });
    const p = await produce({ topic, key: '${! json("customer") }', metadata: { exclude_prefixes: ['secret_'] }, static_headers: { origin: 'sluice' } });
    try {
      const m = new Message('{"customer":"c7","n":1}');
      m.metaSet('trace_id', 'abc');
      m.metaSet('secret_token', 'hidden');
      p.source.push(m);
      await c.sink.waitFor(1, 15_000);
      const got = c.sink.messages[0]!;
      assert.equal(got.text(), '{"customer":"c7","n":1}');
      assert.equal(got.metaGet('kafka_key'), 'c7');
      assert.equal(got.metaGet('kafka_topic'), topic);
      assert.equal(got.metaGet('kafka_partition'), 0);
      assert.equal(got.metaGet('kafka_offset'), 0);
      assert.equal(got.metaGet('kafka_lag'), 0);
      assert.equal(got.metaGet('kafka_tombstone_message'), false);
      const ts = got.metaGet('kafka_timestamp_unix') as number;
      assert.ok(Math.abs(ts - Date.now() / 1000) < 60, `timestamp ${ts}`);
      assert.equal(Math.floor((got.metaGet('kafka_timestamp_unix_ms') as number) / 1000), ts);
      assert.equal(got.metaGetString('trace_id'), 'abc');
      assert.equal(got.metaGetString('origin'), 'sluice');
      assert.equal(got.metaGet('secret_token'), undefined, 'excluded prefix is not sent');
      // An independent client sees the same record.
      const [rec] = await kcatRead(topic);
      assert.equal(rec!.key, 'c7');
      assert.equal(rec!.headers['trace_id'], 'abc');
    } finally {
      p.source.end();
      await Promise.allSettled([p.stream.stop(), c.stream.stop()]);
    }
  });

  test('records written by kcat: headers, tombstones, lag', async () => {
    const topic = uniqueName('kin_kcat');
    await createTopic(topic, 1);
    await kcatWrite(topic, ['k1:first', 'k2:', 'k3:third'], { keyed: true, nullEmpty: true, headers: { h1: 'v1' } });
    const c = await consume({ topics: [`${topic}:0`] });
    try {
      await c.sink.waitFor(3, 15_000);
      const [a, b, d] = c.sink.messages;
      assert.equal(a!.text(), 'first');
      assert.equal(a!.metaGetString('h1'), 'v1');
      assert.equal(a!.metaGet('kafka_lag'), 2);
      assert.equal(b!.metaGet('kafka_key'), 'k2');
      assert.equal(b!.metaGet('kafka_tombstone_message'), true);
      assert.equal(b!.bytes().byteLength, 0);
      assert.equal(d!.metaGet('kafka_offset'), 2);
    } finally {
      await c.stream.stop();
    }
  });

  test('offsets are committed only after delivery; a consumer that never acks commits nothing', async () => {
    const topic = uniqueName('kin_commit');
    const group = uniqueName('g');
    await createTopic(topic, 1);
    await kcatWrite(topic, Array.from({ length: 20 }, (_, i) => `m${i}`));

    // 1. A consumer whose output never acknowledges: it reads, but commits nothing.
    const stuck = await consume({ topics: [topic], consumer_group: group, checkpoint_limit: 5 }, 'hang');
    await sleep(1500);
    await stuck.stream.stop(300);
    assert.deepEqual(await committedOffsets(group, topic, [0]), [-1n], 'nothing committed without acks');

    // 2. A consumer whose output rejects every message (nacks, replayed): still nothing committed.
    const failing = await consume({ topics: [topic], consumer_group: group }, 'fail');
    await sleep(1000);
    await failing.stream.stop(300);
    assert.deepEqual(await committedOffsets(group, topic, [0]), [-1n], 'nothing committed after nacks');

    // 3. The next consumer of the group gets everything, and its acks are committed.
    const next = await consume({ topics: [topic], consumer_group: group });
    await next.sink.waitFor(20, 15_000);
    assert.deepEqual(next.sink.texts().slice(0, 20), Array.from({ length: 20 }, (_, i) => `m${i}`));
    const deadline = Date.now() + 5_000;
    while ((await committedOffsets(group, topic, [0]))[0] !== 20n) {
      assert.ok(Date.now() < deadline, 'offset 20 committed within commit_period');
      await sleep(100);
    }
    await next.stream.stop();

    // 4. A consumer started after the commit gets only new messages.
    const later = await consume({ topics: [topic], consumer_group: group });
    await kcatWrite(topic, ['new']);
    await later.sink.waitFor(1, 15_000);
    await sleep(300);
    assert.deepEqual(later.sink.texts(), ['new']);
    await later.stream.stop();
  });

  test('a nacked message is replayed (auto_replay_nacks) and committed once delivered', async () => {
    const topic = uniqueName('kin_nack');
    const group = uniqueName('g');
    await createTopic(topic, 1);
    await kcatWrite(topic, ['a', 'b', 'c']);
    const c = await consume({ topics: [topic], consumer_group: group }, 'nack_first');
    try {
      await c.sink.waitFor(3, 15_000);
      assert.deepEqual([...new Set(c.sink.texts())].sort(), ['a', 'b', 'c']);
      const deadline = Date.now() + 5_000;
      while ((await committedOffsets(group, topic, [0]))[0] !== 3n) {
        assert.ok(Date.now() < deadline, 'offset 3 committed');
        await sleep(100);
      }
    } finally {
      await c.stream.stop();
    }
  });

  test('explicit partitions with a consumer group store offsets without joining the group', async () => {
    const topic = uniqueName('kin_explicit');
    const group = uniqueName('g');
    await createTopic(topic, 2);
    await kcatWrite(topic, ['a', 'b'], { partition: 1 });
    await kcatWrite(topic, ['z'], { partition: 0 });
    const c = await consume({ topics: [`${topic}:1`], consumer_group: group });
    await c.sink.waitFor(2, 15_000);
    assert.deepEqual(c.sink.texts(), ['a', 'b'], 'only partition 1 is read');
    await c.stream.stop();
    assert.deepEqual(await committedOffsets(group, topic, [0, 1]), [-1n, 2n]);
    await kcatWrite(topic, ['c'], { partition: 1 });
    const again = await consume({ topics: [`${topic}:1`], consumer_group: group });
    try {
      await again.sink.waitFor(1, 15_000);
      await sleep(300);
      assert.deepEqual(again.sink.texts(), ['c'], 'resumes after the stored offset');
    } finally {
      await again.stream.stop();
    }
  });

  test('checkpoint_limit 1 processes a partition in lock step', async () => {
    const topic = uniqueName('kin_limit');
    await createTopic(topic, 1);
    await kcatWrite(topic, ['1', '2', '3']);
    const c = await consume({ topics: [`${topic}:0`], checkpoint_limit: 1 }, 'hang');
    try {
      await sleep(1500);
      // The hanging sink never stores messages; count the writes it received instead.
      assert.equal(c.sink.messages.length, 0);
      assert.equal(c.stream.stats.received, 1, 'only one message of the partition is in flight');
    } finally {
      await c.stream.stop(300);
    }
  });

  test('two consumers of a group share the partitions and take over on leave', async () => {
    const topic = uniqueName('kin_rebalance');
    const group = uniqueName('g');
    await createTopic(topic, 4);
    const a = await consume({ topics: [topic], consumer_group: group });
    const b = await consume({ topics: [topic], consumer_group: group });
    // Wait until both have partitions: write one record per partition until both receive some.
    let round = 0;
    const deadline = Date.now() + 20_000;
    while (a.sink.messages.length === 0 || b.sink.messages.length === 0) {
      assert.ok(Date.now() < deadline, 'both members received records');
      for (let p = 0; p < 4; p++) await kcatWrite(topic, [`warm${round}-${p}`], { partition: p });
      round++;
      await sleep(500);
    }
    const before = a.sink.messages.length + b.sink.messages.length;
    for (let p = 0; p < 4; p++) await kcatWrite(topic, Array.from({ length: 5 }, (_, i) => `x${p}-${i}`), { partition: p });
    await waitUntil(() => a.sink.messages.length + b.sink.messages.length >= before + 20, 15_000, 'all 20 delivered');
    const parts = (s: Sink) => new Set(s.messages.filter((m) => m.text().startsWith('x')).map((m) => m.metaGet('kafka_partition') as number));
    const pa = parts(a.sink);
    const pb = parts(b.sink);
    assert.equal(pa.size + pb.size, 4, `partitions split ${[...pa]} / ${[...pb]}`);
    for (const p of pa) assert.ok(!pb.has(p), 'no partition read by both');

    // B leaves: A gets every partition.
    await b.stream.stop();
    const aBefore = a.sink.messages.length;
    for (let p = 0; p < 4; p++) await kcatWrite(topic, [`after-${p}`], { partition: p });
    await waitUntil(() => a.sink.messages.filter((m) => m.text().startsWith('after-')).length === 4, 20_000, 'A takes over all partitions');
    assert.ok(a.sink.messages.length >= aBefore + 4);
    await a.stream.stop();
  });

  test('input batching groups messages of a partition', async () => {
    const topic = uniqueName('kin_batch');
    await createTopic(topic, 1);
    await kcatWrite(topic, Array.from({ length: 12 }, (_, i) => `b${i}`));
    const c = await consume({ topics: [`${topic}:0`], batching: { count: 5, period: '300ms' } });
    try {
      await c.sink.waitFor(12, 15_000);
      assert.deepEqual(c.sink.writes.map((w) => w.length), [5, 5, 2]);
      assert.deepEqual(c.sink.texts(), Array.from({ length: 12 }, (_, i) => `b${i}`));
    } finally {
      await c.stream.stop();
    }
  });
});
