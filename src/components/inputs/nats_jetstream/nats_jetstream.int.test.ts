// nats_jetstream input and output against the NATS server on 127.0.0.1:4222 (JetStream on),
// and a private nats-server for the restart case.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Message } from '../../../engine/message.js';
import { newSink, newSource } from '../../../../test/support/test-components.js';
import { runStream, waitUntil, sleep } from '../../../../test/support/streams.js';
import { startPrivateNats } from '../../../../test/support/nats-server.js';

const URL = 'nats://127.0.0.1:4222';
const run = randomUUID().slice(0, 8);
const STREAM = `SLUICE_JS_INT_${run}`;
const PREFIX = `sluice.jsint.${run}`;

let nc: NatsConnection;
let jsm: JetStreamManager;

before(async () => {
  nc = await connect({ servers: URL });
  jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: STREAM, subjects: [`${PREFIX}.>`], max_age: 3600 * 1e9 });
});

after(async () => {
  await jsm.streams.delete(STREAM).catch(() => undefined);
  await nc.close();
});

const subj = (name: string) => `${PREFIX}.${name}.${randomUUID().slice(0, 6)}`;

async function consumer(input: Record<string, unknown>, mode: 'ok' | 'nack_first' | 'hang' = 'ok') {
  const { id, sink } = newSink(mode);
  const stream = await runStream({ input: { nats_jetstream: { urls: [URL], ...input } }, output: { test_sink: { id } }, shutdown_timeout: '1s' });
  await waitUntil(() => stream.state === 'running', 10_000, 'consumer running');
  return { sink, stream };
}

async function producer(output: Record<string, unknown>) {
  const { id, source } = newSource();
  const stream = await runStream({ input: { test_source: { id } }, output: { nats_jetstream: { urls: [URL], ...output } }, shutdown_timeout: '2s' });
  return { source, stream };
}

describe('nats_jetstream', { concurrency: false }, () => {
  test('round trip with metadata and headers', async () => {
    const subject = subj('meta');
    const c = await consumer({ subject, durable: `d_${run}_meta` });
    const p = await producer({ subject, headers: { 'X-Static': 'yes' }, metadata: { include_prefixes: ['app_'] } });
    try {
      const m = new Message('{"hello":"jetstream"}');
      m.metaSet('app_user', 'ada');
      m.metaSet('other', 'not sent');
      p.source.push(m);
      await p.source.waitAcks(1, 10_000);
      assert.equal(p.source.acks[0]!.error, undefined, 'the PubAck was received');
      await c.sink.waitFor(1, 10_000);
      const got = c.sink.messages[0]!;
      assert.equal(got.text(), '{"hello":"jetstream"}');
      assert.equal(got.metaGetString('nats_subject'), subject);
      assert.equal(got.metaGetString('app_user'), 'ada');
      assert.equal(got.metaGetString('X-Static'), 'yes');
      assert.equal(got.metaGetString('other'), undefined, 'metadata outside the filter is not sent');
      assert.equal(got.metaGetString('nats_num_delivered'), '1');
      assert.match(got.metaGetString('nats_sequence_stream')!, /^\d+$/);
      assert.match(got.metaGetString('nats_sequence_consumer')!, /^\d+$/);
      assert.equal(got.metaGetString('nats_num_pending'), '0');
      assert.equal(got.metaGetString('nats_domain'), '');
      const ns = BigInt(got.metaGetString('nats_timestamp_unix_nano')!);
      assert.ok(ns > BigInt(Date.now() - 60_000) * 1_000_000n, 'timestamp in nanoseconds');
    } finally {
      p.source.end();
      await Promise.all([p.stream.stop(2000), c.stream.stop(1000)]);
    }
  });

  test('a nacked message is nak\'ed and redelivered by JetStream', async () => {
    const subject = subj('nak');
    const c = await consumer({ subject, durable: `d_${run}_nak` }, 'nack_first');
    try {
      const js = jsm.jetstream();
      await js.publish(subject, 'retry me');
      await c.sink.waitFor(1, 10_000);
      const got = c.sink.messages[0]!;
      assert.equal(got.text(), 'retry me');
      assert.equal(got.metaGetString('nats_num_delivered'), '2', 'second delivery, from JetStream');
    } finally {
      await c.stream.stop(1000);
    }
  });

  test('nak_delay delays the redelivery', async () => {
    const subject = subj('nakdelay');
    const c = await consumer({ subject, durable: `d_${run}_nakdelay`, nak_delay: '1500ms' }, 'nack_first');
    try {
      const started = Date.now();
      await jsm.jetstream().publish(subject, 'later');
      await c.sink.waitFor(1, 10_000);
      assert.ok(Date.now() - started >= 1300, `redelivered after ${Date.now() - started} ms`);
    } finally {
      await c.stream.stop(1000);
    }
  });

  test('unacked messages go to the next consumer of the durable after ack_wait; acked ones do not', async () => {
    const subject = subj('durable');
    const durable = `d_${run}_durable`;
    const js = jsm.jetstream();
    // First consumer acks 3 messages.
    const first = await consumer({ subject, durable, ack_wait: '2s' });
    for (let i = 0; i < 3; i++) await js.publish(subject, `acked-${i}`);
    await first.sink.waitFor(3, 10_000);
    await first.stream.stop(1000);
    // A consumer that never acks.
    const stuck = await consumer({ subject, durable, ack_wait: '2s' }, 'hang');
    for (let i = 0; i < 5; i++) await js.publish(subject, `pending-${i}`);
    await sleep(300);
    await stuck.stream.stop(300);
    const next = await consumer({ subject, durable, ack_wait: '2s' });
    try {
      await next.sink.waitFor(5, 10_000);
      await sleep(300);
      const texts = [...new Set(next.sink.texts())].sort();
      assert.deepEqual(texts, ['pending-0', 'pending-1', 'pending-2', 'pending-3', 'pending-4'], 'the unacked ones, not the acked ones');
      assert.ok(next.sink.messages.every((m) => Number(m.metaGetString('nats_num_delivered')) >= 2), 'redeliveries');
    } finally {
      await next.stream.stop(1000);
    }
  });

  test('a durable is updated to the configured ack_wait', async () => {
    const subject = subj('align');
    const durable = `d_${run}_align`;
    await jsm.consumers.add(STREAM, { durable_name: durable, ack_policy: 'explicit', filter_subject: subject, ack_wait: 30e9 });
    const c = await consumer({ subject, durable, ack_wait: '3s', max_ack_pending: 77 });
    try {
      const info = await jsm.consumers.info(STREAM, durable);
      assert.equal(info.config.ack_wait, 3e9);
      assert.equal(info.config.max_ack_pending, 77);
    } finally {
      await c.stream.stop(1000);
    }
  });

  test('deliver: new skips what is already stored; last starts with the last message', async () => {
    const subject = subj('deliver');
    const js = jsm.jetstream();
    await js.publish(subject, 'old-1');
    await js.publish(subject, 'old-2');
    const fresh = await consumer({ subject, deliver: 'new' });
    const last = await consumer({ subject, deliver: 'last' });
    try {
      await js.publish(subject, 'new-1');
      await fresh.sink.waitFor(1, 10_000);
      await last.sink.waitFor(2, 10_000);
      assert.deepEqual(fresh.sink.texts(), ['new-1']);
      assert.deepEqual(last.sink.texts(), ['old-2', 'new-1']);
    } finally {
      await Promise.all([fresh.stream.stop(1000), last.stream.stop(1000)]);
    }
  });

  test('bind uses an existing consumer and fails clearly when it is missing', async () => {
    const subject = subj('bind');
    const durable = `d_${run}_bind`;
    await jsm.consumers.add(STREAM, { durable_name: durable, ack_policy: 'explicit', filter_subject: subject });
    const c = await consumer({ stream: STREAM, durable, bind: true });
    try {
      await jsm.jetstream().publish(subject, 'bound');
      await c.sink.waitFor(1, 10_000);
      assert.equal(c.sink.texts()[0], 'bound');
    } finally {
      await c.stream.stop(1000);
    }
    const lines: string[] = [];
    const { id } = newSink();
    const { createLogger } = await import('../../../engine/logger.js');
    const logger = createLogger({ level: 'error', write: (l) => lines.push(l) });
    const missing = await runStream({ input: { nats_jetstream: { urls: [URL], stream: STREAM, durable: 'no_such_consumer', bind: true } }, output: { test_sink: { id } } }, { logger });
    try {
      await waitUntil(() => lines.length > 0, 5000, 'connect error');
      assert.match(lines[0]!, /127\.0\.0\.1:4222/);
      assert.match(lines[0]!, /no_such_consumer/);
    } finally {
      await missing.stop(500);
    }
  });

  test('a subject no stream captures fails the write (nack), it is not lost silently', async () => {
    const p = await producer({ subject: `sluice.nostream.${run}` });
    try {
      p.source.push('nowhere');
      await p.source.waitAcks(1, 15_000);
      assert.ok(p.source.acks[0]!.error, 'nacked');
    } finally {
      p.source.end();
      await p.stream.stop(1000);
    }
  });

  test('no loss through a restart of a private nats-server', async () => {
    const broker = await startPrivateNats();
    const pnc = await connect({ servers: broker.url });
    const pjsm = await jetstreamManager(pnc);
    await pjsm.streams.add({ name: 'RESTART', subjects: ['restart.>'] });
    await pnc.close();
    const { id: sinkId, sink } = newSink();
    const cons = await runStream({ input: { nats_jetstream: { urls: [broker.url], subject: 'restart.>', durable: 'r' } }, output: { test_sink: { id: sinkId } }, shutdown_timeout: '1s' });
    const { id: srcId, source } = newSource();
    const prod = await runStream({ input: { test_source: { id: srcId } }, output: { nats_jetstream: { urls: [broker.url], subject: 'restart.x' } }, shutdown_timeout: '2s' });
    try {
      const sent: string[] = [];
      for (let i = 0; i < 60; i++) {
        sent.push(`m${i}`);
        source.push(`m${i}`);
        if (i === 20) {
          await source.waitAcks(21, 10_000);
          await broker.kill();
          await sleep(300);
          await broker.restart();
        }
      }
      await waitUntil(() => new Set(sink.texts()).size >= 60, 25_000, 'all delivered').catch(() => undefined);
      const got = new Set(sink.texts());
      const missing = sent.filter((s) => !got.has(s));
      assert.deepEqual(missing, [], `all delivered (got ${sink.messages.length})`);
    } finally {
      source.end();
      await Promise.all([prod.stop(2000), cons.stop(1000)]);
      await broker.stop();
    }
  });
});
