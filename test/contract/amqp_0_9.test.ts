// The shared connector contract for the amqp_0_9 input/output pair, against RabbitMQ on
// 127.0.0.1:5672 (guest/guest). Each case gets its own durable queue, fed through the default
// exchange; the queues are deleted at the end. There is no private RabbitMQ to restart (an
// Erlang node per test run is too heavy): the broker-restart case is skipped here, and a cut
// connection is covered by src/components/inputs/amqp_0_9/amqp_0_9.int.test.ts instead.
import { after } from 'node:test';
import { connect } from 'amqplib';
import { contractSuite } from './suite.js';

const queues = new Set<string>();
after(async () => {
  const conn = await connect('amqp://guest:guest@127.0.0.1:5672/');
  const ch = await conn.createChannel();
  for (const q of queues) await ch.deleteQueue(q).catch(() => {});
  await conn.close();
});

contractSuite({
  name: 'amqp_0_9',
  address: '127.0.0.1:5672',
  configs: (id, addr) => {
    queues.add(id);
    const urls = [`amqp://guest:guest@${addr}/`];
    return {
      input: { amqp_0_9: { urls, queue: id, queue_declare: { enabled: true, durable: true }, prefetch_count: 64 } },
      output: { amqp_0_9: { urls, exchange: '', key: id, persistent: true } },
    };
  },
  supports: { metadata: true, nackRedelivery: true, batches: true, ordered: true, persistent: true },
});
