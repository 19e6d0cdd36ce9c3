// The amqp_1 input and output against RabbitMQ's AMQP 1.0 plugin on 127.0.0.1:5672 (guest/guest),
// with amqplib (AMQP 0-9-1) on the other side for interoperability. RabbitMQ 3.x needs
// `rabbitmq-plugins enable rabbitmq_amqp1_0`; without it every case fails with that hint.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect as netConnect } from 'node:net';
import { connect as amqpConnect, type ChannelModel, type Channel } from 'amqplib';
import { Message } from '../../../engine/message.js';
import { createLogger } from '../../../engine/logger.js';
import type { Stream } from '../../../engine/stream.js';
import { newSink, newSource, type Sink, type SinkMode, unitContext } from '../../../../test/support/test-components.js';
import { runStream, waitUntil, sleep } from '../../../../test/support/streams.js';
import type { ReadResult } from '../../../engine/component.js';
import { Registry } from '../../../engine/registry.js';
import { Validator } from '../../../config/validate.js';
import { builtinComponents } from '../../index.js';
import { amqp1Body, spec, type Amqp1InputConfig } from './index.js';

const URL = 'amqp://guest:guest@127.0.0.1:5672/';
const run = randomUUID().slice(0, 8);
const queues = new Set<string>();
let admin: ChannelModel;
let ch: Channel;

/** True when the broker answers the AMQP 1.0 SASL protocol header. */
function amqp10Available(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect({ host: '127.0.0.1', port: 5672 }, () => s.write(Buffer.from([0x41, 0x4d, 0x51, 0x50, 3, 1, 0, 0])));
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 8) {
        resolve(buf.subarray(0, 8).equals(Buffer.from([0x41, 0x4d, 0x51, 0x50, 3, 1, 0, 0])));
        s.destroy();
      }
    });
    s.on('error', () => resolve(false));
    s.on('close', () => resolve(false));
    s.setTimeout(3000, () => s.destroy());
  });
}

before(async () => {
  assert.ok(await amqp10Available(), 'RabbitMQ on 127.0.0.1:5672 does not speak AMQP 1.0: run `rabbitmq-plugins enable rabbitmq_amqp1_0` (RabbitMQ 3.x)');
  admin = await amqpConnect(URL);
  ch = await admin.createChannel();
});

after(async () => {
  for (const q of queues) await ch?.deleteQueue(q).catch(() => {});
  await admin?.close();
});

async function queue(tag: string): Promise<string> {
  const q = `sluice-amqp1-${run}-${tag}`;
  queues.add(q);
  await ch.assertQueue(q, { durable: true });
  return q;
}

async function consumer(input: Record<string, unknown>, mode: SinkMode = 'ok', urls = [URL]): Promise<{ sink: Sink; stream: Stream }> {
  const { id, sink } = newSink(mode);
  const stream = await runStream({ input: { amqp_1: { urls, ...input } }, output: { test_sink: { id } }, shutdown_timeout: '1s' });
  await waitUntil(() => stream.state === 'running', 10_000, 'consumer running');
  return { sink, stream };
}

async function producer(output: Record<string, unknown>) {
  const { id, source } = newSource();
  const stream = await runStream({ input: { test_source: { id } }, output: { amqp_1: { urls: [URL], ...output } }, shutdown_timeout: '2s' });
  await waitUntil(() => stream.state === 'running', 10_000, 'producer running');
  return { source, stream };
}

describe('amqp_1', { concurrency: false }, () => {
  test('round trip: body, metadata as annotations, application properties, header', async () => {
    const q = await queue('rt');
    const c = await consumer({ source_address: `/amq/queue/${q}`, read_header: true });
    const p = await producer({ target_address: `/amq/queue/${q}`, persistent: true, application_properties_map: 'root.kind = this.kind', metadata: { exclude_prefixes: ['skip_'] } });
    try {
      const m = new Message('{"kind":"order"}', { tenant: 't1', skip_me: 'x' });
      p.source.push(m);
      await c.sink.waitFor(1, 5000);
      await p.source.waitAcks(1, 5000);
      assert.equal(p.source.acks[0]!.error, undefined, 'accepted by the broker');
      const got = c.sink.messages[0]!;
      assert.equal(got.text(), '{"kind":"order"}');
      assert.equal(got.metaGetString('tenant'), 't1');
      assert.equal(got.metaGetString('skip_me'), undefined);
      assert.equal(got.metaGetString('amqp_durable'), 'true');
      assert.match(got.metaGetString('amqp_delivery_count') ?? '', /^\d+$/);
    } finally {
      p.source.end();
      await Promise.all([p.stream.stop(1000), c.stream.stop(1000)]);
    }
  });

  test('interoperates with AMQP 0-9-1 clients in both directions', async () => {
    const q = await queue('interop');
    const c = await consumer({ source_address: `/amq/queue/${q}` });
    try {
      ch.sendToQueue(q, Buffer.from('from 0-9-1'), { contentType: 'text/plain' });
      await c.sink.waitFor(1, 5000);
      assert.equal(c.sink.messages[0]!.text(), 'from 0-9-1');
      assert.equal(c.sink.messages[0]!.metaGetString('amqp_content_type'), 'text/plain');
    } finally {
      await c.stream.stop(1000);
    }
    const p = await producer({ target_address: `/amq/queue/${q}` });
    try {
      p.source.push('from 1.0');
      await p.source.waitAcks(1, 5000);
      let got: false | { content: Buffer } = false;
      for (let i = 0; i < 50 && !got; i++) {
        got = await ch.get(q, { noAck: true });
        if (!got) await sleep(50);
      }
      assert.ok(got);
      assert.equal(got.content.toString(), 'from 1.0');
    } finally {
      p.source.end();
      await p.stream.stop(1000);
    }
  });

  test('a failed delivery is released and redelivered', async () => {
    const q = await queue('nack');
    const c = await consumer({ source_address: `/amq/queue/${q}` }, 'nack_first');
    try {
      ch.sendToQueue(q, Buffer.from('again'));
      await c.sink.waitFor(1, 8000);
      assert.equal(c.sink.texts()[0], 'again');
      assert.equal(c.stream.stats.nacked, 1);
    } finally {
      await c.stream.stop(1000);
    }
  });

  test('acks and nacks settled in the same tick keep their own outcomes', async () => {
    // rhea merges adjacent settlements into ranged dispositions and once merged an accept with a
    // release: the nacked message was lost. Alternate outcomes in one synchronous loop.
    const q = await queue('mixed');
    for (let i = 0; i < 10; i++) ch.sendToQueue(q, Buffer.from(`m${i}`));
    const v = new Validator({ registry: new Registry().addAll(builtinComponents) });
    const conf = v.component('input', { amqp_1: { urls: [URL], source_address: `/amq/queue/${q}` } }, 'input').config as Amqp1InputConfig;
    const input = await spec.build(conf, unitContext('input.amqp_1'));
    const signal = new AbortController().signal;
    await input.connect(signal);
    try {
      const first: ReadResult[] = [];
      for (let i = 0; i < 10; i++) first.push(await input.read(signal));
      first.forEach((r, i) => r.ack(i % 2 ? new Error('nack') : undefined));
      const again: ReadResult[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await Promise.race([input.read(signal), sleep(5000).then(() => undefined)]);
        assert.ok(r, `only ${again.map((x) => x.batch[0]!.text()).join(', ') || 'nothing'} came back of the five nacked messages`);
        again.push(r);
      }
      assert.deepEqual(again.map((r) => r.batch[0]!.text()), ['m1', 'm3', 'm5', 'm7', 'm9'], 'exactly the nacked messages come back');
      for (const r of again) r.ack();
      const extra = await Promise.race([input.read(signal).then((r) => r.batch[0]!.text()), sleep(500).then(() => undefined)]);
      assert.equal(extra, undefined, 'no acked message is redelivered');
    } finally {
      await input.close();
    }
    await sleep(200);
    assert.equal((await ch.checkQueue(q)).messageCount, 0);
  });

  test('credit bounds unsettled messages; unsettled ones return to the queue on stop', async () => {
    const q = await queue('credit');
    const stuck = await consumer({ source_address: `/amq/queue/${q}`, credit: 3 }, 'hang');
    try {
      for (let i = 0; i < 8; i++) ch.sendToQueue(q, Buffer.from(`m${i}`));
      await waitUntil(() => stuck.stream.stats.received === 3, 5000, 'three deliveries');
      await sleep(300);
      assert.equal(stuck.stream.stats.received, 3);
    } finally {
      await stuck.stream.stop(200);
    }
    const next = await consumer({ source_address: `/amq/queue/${q}` });
    try {
      await next.sink.waitFor(8, 5000);
      assert.deepEqual(next.sink.texts().sort(), Array.from({ length: 8 }, (_, i) => `m${i}`).sort());
    } finally {
      await next.stream.stop(1000);
    }
  });

  test('an unreachable broker: the error names the address; the stream keeps retrying', async () => {
    const lines: string[] = [];
    const { id } = newSink();
    const s = await runStream(
      { input: { amqp_1: { urls: ['amqp://guest:guest@127.0.0.1:1/'], source_address: '/queue/x' } }, output: { test_sink: { id } } },
      { logger: createLogger({ level: 'error', format: 'json', write: (l) => lines.push(l) }) },
    );
    try {
      await waitUntil(() => lines.length > 0, 5000, 'error logged');
      assert.match(lines[0]!, /amqp_1: cannot connect to amqp:\/\/\*\*\*@127\.0\.0\.1:1\/: .*ECONNREFUSED/);
      assert.equal(s.state, 'connecting');
    } finally {
      await s.stop(300);
    }
  });

  test('bodies: data sections, strings, anything else empty', () => {
    assert.equal(Buffer.from(amqp1Body(Buffer.from('a'))).toString(), 'a');
    assert.equal(Buffer.from(amqp1Body('s')).toString(), 's');
    assert.equal(Buffer.from(amqp1Body({ typecode: 0x75, content: Buffer.from('d') })).toString(), 'd');
    assert.equal(Buffer.from(amqp1Body({ typecode: 0x75, multiple: true, content: [Buffer.from('a'), Buffer.from('b')] })).toString(), 'ab');
    assert.equal(amqp1Body(42).length, 0);
  });
});
