// `kafka_franz` input against the broker on 127.0.0.1:9092: reading without a group, explicit
// partition offsets, start_from_oldest, regexp topics, multi_header, and a clear, retried error
// when no broker answers.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Stream } from '../../../engine/stream.js';
import { createLogger } from '../../../engine/logger.js';
import { newSink, newSource, type Sink } from '../../../../test/support/test-components.js';
import { runStream, waitUntil, sleep } from '../../../../test/support/streams.js';
import { KAFKA, createTopic, ensureKafka, kcatWrite, uniqueName } from '../../kafka/testing.js';

async function consume(input: Record<string, unknown>): Promise<{ sink: Sink; stream: Stream }> {
  const { id, sink } = newSink('ok');
  const stream = await runStream({ input: { kafka_franz: { seed_brokers: [KAFKA], fetch_max_wait: '200ms', ...input } }, output: { test_sink: { id } }, shutdown_timeout: '1s' });
  await waitUntil(() => stream.state === 'running', 15_000, 'consumer running');
  return { sink, stream };
}

describe('kafka_franz input', { concurrency: false }, () => {
  before(() => ensureKafka());

  test('without a consumer group every partition is read from the oldest offset', async () => {
    const topic = uniqueName('kfin_all');
    await createTopic(topic, 3);
    for (let p = 0; p < 3; p++) await kcatWrite(topic, [`p${p}a`, `p${p}b`], { partition: p });
    const c = await consume({ topics: [topic] });
    try {
      await c.sink.waitFor(6, 15_000);
      assert.deepEqual(c.sink.texts().sort(), ['p0a', 'p0b', 'p1a', 'p1b', 'p2a', 'p2b']);
      for (const m of c.sink.messages) assert.equal(m.metaGet('kafka_partition'), Number(m.text()[1]));
      // Per partition, order is kept.
      const p1 = c.sink.messages.filter((m) => m.metaGet('kafka_partition') === 1).map((m) => m.text());
      assert.deepEqual(p1, ['p1a', 'p1b']);
    } finally {
      await c.stream.stop();
    }
  });

  test('topic:partition:offset starts at that offset; start_from_oldest false reads only new records', async () => {
    const topic = uniqueName('kfin_off');
    await createTopic(topic, 2);
    await kcatWrite(topic, ['o0', 'o1', 'o2', 'o3'], { partition: 1 });
    const c = await consume({ topics: [`${topic}:1:2`] });
    try {
      await c.sink.waitFor(2, 15_000);
      await sleep(200);
      assert.deepEqual(c.sink.texts(), ['o2', 'o3']);
      assert.equal(c.sink.messages[0]!.metaGet('kafka_offset'), 2);
    } finally {
      await c.stream.stop();
    }
    const latest = await consume({ topics: [topic], start_from_oldest: false });
    try {
      await sleep(300);
      await kcatWrite(topic, ['fresh'], { partition: 0 });
      await latest.sink.waitFor(1, 15_000);
      await sleep(200);
      assert.deepEqual(latest.sink.texts(), ['fresh']);
    } finally {
      await latest.stream.stop();
    }
  });

  test('a consumer group resumes where the previous member committed', async () => {
    const topic = uniqueName('kfin_group');
    const group = uniqueName('g');
    await createTopic(topic, 1);
    await kcatWrite(topic, ['one', 'two']);
    const first = await consume({ topics: [topic], consumer_group: group, commit_period: '100ms' });
    await first.sink.waitFor(2, 15_000);
    await first.stream.stop(); // commits on close
    await kcatWrite(topic, ['three']);
    const second = await consume({ topics: [topic], consumer_group: group });
    try {
      await second.sink.waitFor(1, 15_000);
      await sleep(300);
      assert.deepEqual(second.sink.texts(), ['three']);
    } finally {
      await second.stream.stop();
    }
  });

  test('regexp_topics matches existing topics; multi_header keeps repeated headers', async () => {
    const prefix = uniqueName('kfin_rx');
    await createTopic(`${prefix}_a`, 1);
    await createTopic(`${prefix}_b`, 1);
    await kcatWrite(`${prefix}_a`, ['from-a'], { headers: { tag: 'x' } });
    await kcatWrite(`${prefix}_b`, ['from-b']);
    const c = await consume({ topics: [`^${prefix}_.*`], regexp_topics: true, multi_header: true });
    try {
      await c.sink.waitFor(2, 15_000);
      assert.deepEqual(c.sink.texts().sort(), ['from-a', 'from-b']);
      const a = c.sink.messages.find((m) => m.text() === 'from-a')!;
      assert.deepEqual(a.metaGet('tag'), ['x']);
    } finally {
      await c.stream.stop();
    }
  });

  test('an unreachable broker gives a clear error naming the address, and retries', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', format: 'json', write: (l) => lines.push(l) });
    const { id, sink } = newSink('ok');
    const input = await runStream(
      { input: { kafka_franz: { seed_brokers: ['127.0.0.1:1'], topics: ['nowhere'], consumer_group: 'g' } }, output: { test_sink: { id } }, shutdown_timeout: '1s' },
      { logger },
    );
    const { id: srcId, source } = newSource();
    const output = await runStream(
      { input: { test_source: { id: srcId } }, output: { kafka: { addresses: ['127.0.0.1:1'], topic: 'nowhere' } }, shutdown_timeout: '1s' },
      { logger },
    );
    try {
      await sleep(2_500);
      assert.equal(input.state, 'connecting');
      const errors = lines.map((l) => JSON.parse(l) as { msg: string; error?: string }).filter((l) => /cannot connect/.test(l.msg));
      const inErr = errors.find((e) => e.msg.startsWith('input'));
      const outErr = errors.find((e) => e.msg.startsWith('output'));
      assert.match(inErr?.error ?? '', /cannot connect to Kafka at 127\.0\.0\.1:1: .*ECONNREFUSED/);
      assert.match(outErr?.error ?? '', /cannot connect to Kafka at 127\.0\.0\.1:1/);
      // Several attempts were made, but the log is rate limited to one line per kind.
      assert.equal(errors.filter((e) => e.msg.startsWith('input')).length, 1);
      assert.equal(sink.messages.length, 0);
    } finally {
      source.end();
      await Promise.allSettled([input.stop(500), output.stop(500)]);
    }
  });
});
