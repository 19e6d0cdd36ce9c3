// The amqp_0_9 input and output against RabbitMQ on 127.0.0.1:5672 (guest/guest), with a plain
// amqplib client on the other side, and a local TCP proxy to cut connections (the shared broker
// is never restarted).
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { connect as amqpConnect, type ChannelModel } from 'amqplib';
import { Message } from '../../../engine/message.js';
import { createLogger } from '../../../engine/logger.js';
import { noBloblang } from '../../../engine/bloblang-api.js';
import type { ComponentContext, Output } from '../../../engine/component.js';
import type { Stream } from '../../../engine/stream.js';
import { newSink, newSource, testRegistry, type Sink, type SinkMode } from '../../../../test/support/test-components.js';
import { runStream, waitUntil, sleep } from '../../../../test/support/streams.js';
import { Validator } from '../../../config/validate.js';
import { spec as outputSpec } from '../../outputs/amqp_0_9/index.js';

const URL = 'amqp://guest:guest@127.0.0.1:5672/';
const run = randomUUID().slice(0, 8);
const queues = new Set<string>();
const exchanges = new Set<string>();

let admin: ChannelModel | undefined;
async function adminChannel() {
  admin ??= await amqpConnect(URL);
  return admin.createChannel();
}

after(async () => {
  const ch = await adminChannel();
  for (const q of queues) await ch.deleteQueue(q).catch(() => {});
  for (const e of exchanges) await ch.deleteExchange(e).catch(() => {});
  await admin?.close();
});

function names(tag: string) {
  const queue = `sluice-${run}-${tag}`;
  queues.add(queue);
  return { queue, exchange: `${queue}-x` };
}

async function consumer(input: Record<string, unknown>, mode: SinkMode = 'ok', urls = [URL]): Promise<{ sink: Sink; stream: Stream }> {
  const { id, sink } = newSink(mode);
  const stream = await runStream({ input: { amqp_0_9: { urls, ...input } }, output: { test_sink: { id } }, shutdown_timeout: '1s' });
  await waitUntil(() => stream.state === 'running', 10_000, 'consumer running');
  return { sink, stream };
}

async function producer(output: Record<string, unknown>, urls = [URL]) {
  const { id, source } = newSource();
  const stream = await runStream({ input: { test_source: { id } }, output: { amqp_0_9: { urls, ...output } }, shutdown_timeout: '2s' });
  await waitUntil(() => stream.state === 'running', 10_000, 'producer running');
  return { source, stream };
}

/** A TCP proxy in front of RabbitMQ whose connections a test can cut. */
async function proxy(): Promise<{ url: string; cut(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = netConnect({ host: '127.0.0.1', port: 5672 });
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  const port = typeof a === 'object' && a ? a.port : 0;
  return {
    url: `amqp://guest:guest@127.0.0.1:${port}/`,
    cut: () => {
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('amqp_0_9', { concurrency: false }, () => {
  test('round trip through a declared topic exchange: properties, headers and metadata', async () => {
    const { queue, exchange } = names('rt');
    exchanges.add(exchange);
    const p = await producer({
      exchange,
      exchange_declare: { enabled: true, type: 'topic', durable: false },
      key: 'orders/created',
      type: 'order/created',
      content_type: 'application/json',
      correlation_id: 'corr-1',
      message_id: 'msg-1',
      app_id: 'shop',
      expiration: '60000',
      priority: '5',
      persistent: true,
      metadata: { exclude_prefixes: ['secret_'] },
    });
    const c = await consumer({ queue, queue_declare: { enabled: true, durable: false, auto_delete: false }, bindings_declare: [{ exchange, key: 'orders.#' }], consumer_tag: `ctag-${run}` });
    try {
      const m = new Message('{"id":1}');
      m.metaSet('tenant_id', 't1');
      m.metaSet('secret_token', 'hidden');
      p.source.push(m);
      await c.sink.waitFor(1, 5000);
      const got = c.sink.messages[0]!;
      assert.equal(got.text(), '{"id":1}');
      const meta = got.metaStrings();
      assert.equal(meta.amqp_exchange, exchange);
      assert.equal(meta.amqp_routing_key, 'orders.created', '/ in the key is sent as .');
      assert.equal(meta.amqp_type, 'order.created');
      assert.equal(meta.amqp_content_type, 'application/json');
      assert.equal(meta.amqp_correlation_id, 'corr-1');
      assert.equal(meta.amqp_message_id, 'msg-1');
      assert.equal(meta.amqp_app_id, 'shop');
      assert.equal(meta.amqp_expiration, '60000');
      assert.equal(meta.amqp_priority, '5');
      assert.equal(meta.amqp_delivery_mode, '2');
      assert.equal(meta.amqp_consumer_tag, `ctag-${run}`);
      assert.equal(meta.amqp_redelivered, 'false');
      assert.match(meta.amqp_delivery_tag!, /^\d+$/);
      assert.equal(meta.tenant_id, 't1', 'metadata travels as header tenant-id and comes back as tenant_id');
      assert.equal(meta.secret_token, undefined, 'excluded prefix');
    } finally {
      p.source.end();
      await Promise.all([p.stream.stop(1000), c.stream.stop(1000)]);
    }
  });

  test('interpolated exchange and key: each exchange declared once, messages routed per message', async () => {
    const { queue, exchange } = names('interp');
    const ex1 = `${exchange}-eu`;
    const ex2 = `${exchange}-us`;
    exchanges.add(ex1).add(ex2);
    const p = await producer({
      exchange: `${exchange}-\${! meta("region") }`,
      exchange_declare: { enabled: true, type: 'fanout', durable: false },
      key: '${! json("kind") }',
      correlation_id: '${! meta("cid") }',
    });
    const ch = await adminChannel();
    try {
      // The exchanges exist once the first message for each was written.
      p.source.push([new Message('{"kind":"a"}', { region: 'eu', cid: 'c1' }), new Message('{"kind":"b"}', { region: 'us', cid: 'c2' })]);
      await p.source.waitAcks(1, 5000);
      assert.equal(p.source.acks[0]!.error, undefined);
      await ch.checkExchange(ex1);
      await ch.checkExchange(ex2);
      await ch.assertQueue(queue, { durable: false });
      await ch.bindQueue(queue, ex2, '');
      p.source.push(new Message('{"kind":"c"}', { region: 'us', cid: 'c3' }));
      await p.source.waitAcks(2, 5000);
      const got = await ch.get(queue, { noAck: true });
      assert.ok(got);
      assert.equal(got.content.toString(), '{"kind":"c"}');
      assert.equal(got.fields.routingKey, 'c');
      assert.equal(got.properties.correlationId, 'c3');
    } finally {
      await ch.close();
      p.source.end();
      await p.stream.stop(1000);
    }
  });

  test('a plain amqplib publisher: typed and nested headers become flat metadata', async () => {
    const { queue } = names('interop');
    const c = await consumer({ queue, queue_declare: { enabled: true, durable: false } });
    const ch = await adminChannel();
    try {
      ch.sendToQueue(queue, Buffer.from('hello'), {
        headers: { 'x-count': 3, big: 70000, ratio: 0.5, ok: true, nested: { 'a-b': 'c' }, list: ['x', 1] },
        timestamp: 1700000000,
        contentEncoding: 'identity',
      });
      await c.sink.waitFor(1, 5000);
      const meta = c.sink.messages[0]!.metaStrings();
      assert.equal(meta.x_count, '3');
      assert.equal(meta.big, '70000');
      assert.equal(meta.ratio, '0.5');
      assert.equal(meta.ok, 'true');
      assert.equal(meta.nested_a_b, 'c');
      assert.equal(meta.list_0, 'x');
      assert.equal(meta.list_1, '1');
      assert.equal(meta.amqp_timestamp, '1700000000');
      assert.equal(meta.amqp_content_encoding, 'identity');
      assert.equal(meta.amqp_routing_key, queue);
      assert.equal(meta.amqp_exchange, undefined, 'default exchange');
    } finally {
      await ch.close();
      await c.stream.stop(1000);
    }
  });

  test('nack → requeue → redelivery, marked amqp_redelivered', async () => {
    const { queue } = names('nack');
    const c = await consumer({ queue, queue_declare: { enabled: true, durable: false } }, 'nack_first');
    const p = await producer({ exchange: '', key: queue });
    try {
      p.source.push('again');
      await c.sink.waitFor(1, 5000);
      const got = c.sink.messages[0]!;
      assert.equal(got.text(), 'again');
      assert.equal(got.metaGetString('amqp_redelivered'), 'true', 'the delivered copy is the broker redelivery');
      assert.equal(c.stream.stats.nacked, 1);
    } finally {
      p.source.end();
      await Promise.all([p.stream.stop(1000), c.stream.stop(1000)]);
    }
  });

  test('nack_reject_patterns: a matching failure is rejected without requeue (dead-lettered)', async () => {
    const { queue } = names('reject');
    const dlq = `${queue}-dlq`;
    queues.add(dlq);
    const ch = await adminChannel();
    await ch.assertQueue(dlq, { durable: false });
    await ch.assertQueue(queue, { durable: false, deadLetterExchange: '', deadLetterRoutingKey: dlq });
    const c = await consumer({ queue, nack_reject_patterns: ['^sink failure$'] }, 'fail');
    try {
      ch.sendToQueue(queue, Buffer.from('poison'));
      const deadline = Date.now() + 5000;
      let dead: false | { content: Buffer } = false;
      while (!dead && Date.now() < deadline) {
        dead = await ch.get(dlq, { noAck: true });
        if (!dead) await sleep(50);
      }
      assert.ok(dead, 'the message reached the dead-letter queue');
      assert.equal(dead.content.toString(), 'poison');
      assert.equal(c.stream.stats.received, 1, 'not requeued to the consumer');
      assert.equal((await ch.checkQueue(queue)).messageCount, 0);
    } finally {
      await ch.close();
      await c.stream.stop(1000);
    }
  });

  test('prefetch_count bounds unacked messages; on stop they go back to the queue', async () => {
    const { queue } = names('prefetch');
    const stuck = await consumer({ queue, queue_declare: { enabled: true, durable: false }, prefetch_count: 3 }, 'hang');
    const ch = await adminChannel();
    try {
      for (let i = 0; i < 10; i++) ch.sendToQueue(queue, Buffer.from(`m${i}`));
      await waitUntil(() => stuck.stream.stats.received === 3, 5000, 'three deliveries');
      await sleep(300);
      assert.equal(stuck.stream.stats.received, 3, 'no more than prefetch_count unacked messages');
      assert.equal((await ch.checkQueue(queue)).messageCount, 7, 'the rest stay ready in the queue');
    } finally {
      await stuck.stream.stop(200);
    }
    const next = await consumer({ queue });
    try {
      await next.sink.waitFor(10, 5000);
      assert.deepEqual(next.sink.texts().sort(), Array.from({ length: 10 }, (_, i) => `m${i}`).sort());
      const redelivered = next.sink.messages.filter((m) => m.metaGetString('amqp_redelivered') === 'true').length;
      assert.equal(redelivered, 3, 'the three unacked ones come back as redeliveries');
    } finally {
      await ch.close();
      await next.stream.stop(1000);
    }
  });

  test('auto_ack acks on read: nothing comes back after a failure', async () => {
    const { queue } = names('autoack');
    const c = await consumer({ queue, queue_declare: { enabled: true, durable: false }, auto_ack: true }, 'fail');
    const ch = await adminChannel();
    try {
      ch.sendToQueue(queue, Buffer.from('once'));
      await waitUntil(() => c.stream.stats.received >= 1, 5000, 'delivery');
      await sleep(300);
    } finally {
      await c.stream.stop(300);
    }
    try {
      const q = await ch.checkQueue(queue);
      assert.equal(q.messageCount, 0, 'acked at read time despite the failure');
    } finally {
      await ch.close();
    }
  });

  test('a cut connection: input and output reconnect, unacked messages are redelivered, writes retried', async () => {
    const { queue } = names('cut');
    const px = await proxy();
    const c = await consumer({ queue, queue_declare: { enabled: true, durable: false } }, 'ok', [px.url]);
    const p = await producer({ exchange: '', key: queue }, [px.url]);
    try {
      p.source.push('before');
      await c.sink.waitFor(1, 5000);
      px.cut();
      p.source.push('after-1', 'after-2');
      await c.sink.waitFor(3, 15_000);
      assert.deepEqual([...new Set(c.sink.texts())].sort(), ['after-1', 'after-2', 'before']);
      await p.source.waitAcks(3, 5000);
      assert.ok(p.source.acks.every((a) => !a.error), 'the writes were retried after the reconnect');
    } finally {
      p.source.end();
      await Promise.all([p.stream.stop(1000), c.stream.stop(1000)]);
      await px.close();
    }
  });

  test('urls are tried in order; a dead address is named in the error and skipped', async () => {
    const { queue } = names('urls');
    const dead = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const a = s.address();
        s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
      });
    });
    const c = await consumer({ queue, queue_declare: { enabled: true, durable: false } }, 'ok', [`amqp://guest:guest@127.0.0.1:${dead}/`, URL]);
    try {
      const ch = await adminChannel();
      ch.sendToQueue(queue, Buffer.from('via second url'));
      await c.sink.waitFor(1, 5000);
      await ch.close();
    } finally {
      await c.stream.stop(1000);
    }
    // With only the dead address the stream keeps retrying and says where it tried.
    const lines: string[] = [];
    const { id } = newSink();
    const s = await runStream(
      { input: { amqp_0_9: { urls: [`amqp://guest:guest@127.0.0.1:${dead}/`], queue } }, output: { test_sink: { id } } },
      { logger: createLogger({ level: 'error', format: 'json', write: (l) => lines.push(l) }) },
    );
    try {
      await waitUntil(() => lines.length > 0, 5000, 'error logged');
      assert.match(lines[0]!, new RegExp(`amqp: cannot connect to amqp://\\*\\*\\*@127\\.0\\.0\\.1:${dead}/: .*ECONNREFUSED`));
      assert.doesNotMatch(lines[0]!, /guest:guest/);
      assert.equal(s.state, 'connecting');
    } finally {
      await s.stop(300);
    }
  });

  test('publisher confirms: unroutable mandatory messages and missing exchanges fail the write', async () => {
    const exchange = `sluice-${run}-nowhere`;
    exchanges.add(exchange);
    const out = await buildOutput({ urls: [URL], exchange, exchange_declare: { enabled: true, type: 'direct', durable: false }, key: 'no-binding', mandatory: true });
    try {
      await out.connect(new AbortController().signal);
      await assert.rejects(Promise.resolve(out.write([new Message('lost?')])), /returned as unroutable/);
      // Without mandatory the broker confirms (and drops) it: that is AMQP's contract.
      const quiet = await buildOutput({ urls: [URL], exchange, key: 'no-binding' });
      await quiet.connect(new AbortController().signal);
      await quiet.write([new Message('dropped by the broker')]);
      await quiet.close();
      // A missing exchange closes the channel: the write fails and the output asks to reconnect.
      const missing = await buildOutput({ urls: [URL], exchange: `sluice-${run}-missing`, key: 'k' });
      await missing.connect(new AbortController().signal);
      await assert.rejects(Promise.resolve(missing.write([new Message('x')])), (e: Error & { code?: string }) => e.code === 'SLU_ERR_NOT_CONNECTED');
      await missing.close();
    } finally {
      await out.close();
    }
  });
});

async function buildOutput(conf: Record<string, unknown>): Promise<Output> {
  const v = new Validator({ registry: testRegistry() });
  const node = v.component('output', { amqp_0_9: conf }, 'output');
  assert.deepEqual(v.issues, []);
  const ctx: ComponentContext = {
    logger: createLogger({ level: 'off' }),
    resources: { get: () => { throw new Error('no resources'); }, has: () => false },
    build: undefined as unknown as ComponentContext['build'],
    http: undefined,
    bloblang: noBloblang,
    path: 'output.amqp_0_9',
    stream: 'test',
    signal: new AbortController().signal,
  };
  return (await outputSpec.build(node.config as never, ctx)) as Output;
}
