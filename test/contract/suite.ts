/**
 * The connector contract suite: every input/output pair of a broker runs the same cases against
 * the real broker. Messages are pushed through the pair's output by a `test_source` stream and
 * read back through its input into a `test_sink` stream.
 *
 * Cases: open/close, metadata round trip, batches, sequential (ordered) stream, parallel stream,
 * saturated unacked stream (persistent brokers: a consumer that never acks, then a new one gets
 * everything), nack then redelivery, and no loss through a private broker's restart. Every case
 * checks that each message sent arrived at least once, and reports duplicates.
 *
 * Usage, in test/contract/<name>.test.ts:
 *   contractSuite({ name: 'mqtt', address: '127.0.0.1:1883',
 *     configs: (id, addr) => ({ input: { mqtt: {...} }, output: { mqtt: {...} } }),
 *     supports: { metadata: true, nackRedelivery: true, persistent: true, ordered: true },
 *     privateBroker: startPrivateMosquitto });
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Message } from '../../src/engine/message.js';
import type { Stream } from '../../src/engine/stream.js';
import { newSink, newSource, type Sink, type SinkMode, type Source } from '../support/test-components.js';
import { runStream, sleep } from '../support/streams.js';

export interface PrivateBroker {
  readonly address: string;
  kill(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface ContractSupports {
  /** Metadata set on a message reaches the consumer (as metadata). */
  readonly metadata?: boolean;
  /** A nacked message is delivered again. */
  readonly nackRedelivery?: boolean;
  /** A batch written by the output arrives as messages. Default true. */
  readonly batches?: boolean;
  /** Sequential sends arrive in order. */
  readonly ordered?: boolean;
  /** Messages published while no consumer runs are kept (queues, logs, durable consumers). */
  readonly persistent?: boolean;
}

export interface ContractTarget {
  readonly name: string;
  /** Address of the shared broker, passed to `configs`. */
  readonly address: string;
  /** Input and output component configs for a fresh channel named after `id`, on broker `addr`. */
  configs(id: string, addr: string): { input: Record<string, unknown>; output: Record<string, unknown> };
  readonly supports?: ContractSupports;
  /** Starts a private broker the suite may kill and restart; without it that case is skipped. */
  readonly privateBroker?: () => Promise<PrivateBroker>;
  /** How long a case waits for deliveries (ms). Default 20 000. */
  readonly timeoutMs?: number;
  /** Pause after the consumer started before publishing (subscriptions that settle asynchronously). */
  readonly settleMs?: number;
}

interface Pair {
  readonly source: Source;
  readonly sink: Sink;
  readonly consumer: Stream;
  readonly producer: Stream;
  stop(): Promise<void>;
}

async function startConsumer(target: ContractTarget, id: string, addr: string, mode: SinkMode = 'ok'): Promise<{ sink: Sink; consumer: Stream }> {
  const { id: sinkId, sink } = newSink(mode);
  const consumer = await runStream(
    { input: target.configs(id, addr).input, output: { test_sink: { id: sinkId } }, shutdown_timeout: '2s' },
    { name: `${target.name}-consumer` },
  );
  return { sink, consumer };
}

async function startProducer(target: ContractTarget, id: string, addr: string): Promise<{ source: Source; producer: Stream }> {
  const { id: srcId, source } = newSource();
  const producer = await runStream(
    { input: { test_source: { id: srcId } }, output: target.configs(id, addr).output, shutdown_timeout: '5s' },
    { name: `${target.name}-producer` },
  );
  return { source, producer };
}

async function startPair(target: ContractTarget, addr = target.address, mode: SinkMode = 'ok'): Promise<Pair & { id: string }> {
  const id = `sluice_${target.name}_${randomUUID().slice(0, 8)}`;
  const { sink, consumer } = await startConsumer(target, id, addr, mode);
  await waitRunning(consumer);
  await sleep(target.settleMs ?? 300);
  const { source, producer } = await startProducer(target, id, addr);
  return {
    id,
    source,
    sink,
    consumer,
    producer,
    async stop() {
      source.end();
      await Promise.allSettled([producer.stop(5000), consumer.stop(2000)]);
    },
  };
}

async function waitRunning(s: Stream, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (s.state !== 'running') {
    if (Date.now() > deadline) throw new Error(`stream ${s.name} did not connect (state ${s.state})`);
    await sleep(25);
  }
}

/** Asserts every expected payload arrived at least once; reports duplicates. */
function checkDelivery(t: TestContext, sink: Sink, expected: readonly string[]): void {
  const counts = new Map<string, number>();
  for (const x of sink.texts()) counts.set(x, (counts.get(x) ?? 0) + 1);
  const missing = expected.filter((e) => !counts.has(e));
  const dups = [...counts.values()].reduce((n, c) => n + (c > 1 ? c - 1 : 0), 0);
  t.diagnostic(`sent ${expected.length}, received ${sink.messages.length}, missing ${missing.length}, duplicates ${dups}`);
  assert.equal(missing.length, 0, `missing ${missing.length} messages, e.g. ${missing.slice(0, 3).join(', ')}`);
}

const payloads = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ id: `${prefix}-${i}`, n: i }));

export function contractSuite(target: ContractTarget): void {
  const sup = { batches: true, ...target.supports };
  const wait = target.timeoutMs ?? 20_000;

  describe(`contract ${target.name}`, { concurrency: false }, () => {
    test('open and close', async () => {
      const pair = await startPair(target);
      const started = Date.now();
      await pair.stop();
      assert.ok(Date.now() - started < 8000, 'streams stopped within the shutdown timeout');
    });

    test('metadata round trip', { skip: sup.metadata ? false : 'the pair does not carry metadata' }, async (t) => {
      const pair = await startPair(target);
      try {
        const m = new Message('{"meta":"test"}');
        m.metaSet('sluice_contract', 'yes');
        m.metaSet('sluice_number', '42');
        pair.source.push(m);
        await pair.sink.waitForDistinct(1, wait);
        const got = pair.sink.messages[0]!;
        assert.equal(got.text(), '{"meta":"test"}');
        assert.equal(got.metaGetString('sluice_contract'), 'yes');
        assert.equal(got.metaGetString('sluice_number'), '42');
        checkDelivery(t, pair.sink, ['{"meta":"test"}']);
      } finally {
        await pair.stop();
      }
    });

    test('batch of 10', { skip: sup.batches ? false : 'the output does not write batches' }, async (t) => {
      const pair = await startPair(target);
      try {
        const msgs = payloads('batch', 10);
        pair.source.push(msgs.map((p) => new Message(p)));
        await pair.sink.waitForDistinct(10, wait);
        checkDelivery(t, pair.sink, msgs);
      } finally {
        await pair.stop();
      }
    });

    test('sequential stream of 100', async (t) => {
      const pair = await startPair(target);
      try {
        const msgs = payloads('seq', 100);
        for (const p of msgs) {
          pair.source.push(p);
          await pair.source.waitAcks(pair.source.acks.length + 1, wait);
        }
        await pair.sink.waitForDistinct(100, wait);
        checkDelivery(t, pair.sink, msgs);
        if (sup.ordered) {
          const firsts = [...new Set(pair.sink.texts())];
          assert.deepEqual(firsts, msgs, 'messages arrive in the order they were sent');
        }
      } finally {
        await pair.stop();
      }
    });

    test('parallel stream of 500', async (t) => {
      const pair = await startPair(target);
      try {
        const msgs = payloads('par', 500);
        pair.source.push(...msgs);
        await pair.sink.waitForDistinct(500, wait);
        checkDelivery(t, pair.sink, msgs);
      } finally {
        await pair.stop();
      }
    });

    test('saturated unacked stream is delivered to the next consumer', { skip: sup.persistent ? false : 'the broker keeps no messages for absent consumers' }, async (t) => {
      const id = `sluice_${target.name}_${randomUUID().slice(0, 8)}`;
      // First consumer never acknowledges: it fills its in-flight window and stops reading.
      const stuck = await startConsumer(target, id, target.address, 'hang');
      await waitRunning(stuck.consumer);
      await sleep(target.settleMs ?? 300);
      const { source, producer } = await startProducer(target, id, target.address);
      const msgs = payloads('sat', 50);
      source.push(...msgs);
      await source.waitAcks(50, wait);
      await sleep(500);
      await stuck.consumer.stop(300);
      // A new consumer of the same channel gets everything the stuck one never acked.
      const next = await startConsumer(target, id, target.address, 'ok');
      try {
        await next.sink.waitForDistinct(50, wait);
        checkDelivery(t, next.sink, msgs);
      } finally {
        source.end();
        await Promise.allSettled([producer.stop(3000), next.consumer.stop(2000)]);
      }
    });

    test('nack then redelivery', { skip: sup.nackRedelivery ? false : 'the input cannot redeliver' }, async (t) => {
      const pair = await startPair(target, target.address, 'nack_first');
      try {
        const msgs = payloads('nack', 20);
        pair.source.push(...msgs);
        await pair.sink.waitForDistinct(20, wait);
        checkDelivery(t, pair.sink, msgs);
      } finally {
        await pair.stop();
      }
    });

    test('no loss through a broker restart', { skip: target.privateBroker ? false : 'no private broker for this target' }, async (t) => {
      const broker = await target.privateBroker!();
      const pair = await startPair(target, broker.address);
      try {
        const msgs = payloads('restart', 100);
        for (let i = 0; i < msgs.length; i++) {
          pair.source.push(msgs[i]!);
          if (i === 40) {
            await pair.source.waitAcks(41, wait);
            await broker.kill();
            await sleep(500);
            await broker.restart();
          }
          await sleep(10);
        }
        await pair.sink.waitForDistinct(100, wait * 2);
        checkDelivery(t, pair.sink, msgs);
      } finally {
        await pair.stop();
        await broker.stop();
      }
    });
  });
}
