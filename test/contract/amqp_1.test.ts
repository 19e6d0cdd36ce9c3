// The shared connector contract for the amqp_1 input/output pair, against RabbitMQ's AMQP 1.0
// plugin on 127.0.0.1:5672 (RabbitMQ 3.x: `rabbitmq-plugins enable rabbitmq_amqp1_0`). Each case
// gets its own queue, declared by the broker when the consumer attaches to /queue/<id>; the
// queues are deleted at the end. No private RabbitMQ: the broker-restart case is skipped.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import { connect } from 'amqplib';
import { contractSuite } from './suite.js';

const AMQP10_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 3, 1, 0, 0]);

/** True when the broker answers the AMQP 1.0 SASL protocol header. */
function amqp10Available(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect({ host: '127.0.0.1', port: 5672 }, () => s.write(AMQP10_HEADER));
    s.once('data', (d: Buffer) => {
      resolve(d.subarray(0, 8).equals(AMQP10_HEADER));
      s.destroy();
    });
    s.on('error', () => resolve(false));
    s.on('close', () => resolve(false));
    s.setTimeout(3000, () => s.destroy());
  });
}

before(async () => {
  assert.ok(await amqp10Available(), 'RabbitMQ on 127.0.0.1:5672 does not speak AMQP 1.0: run `rabbitmq-plugins enable rabbitmq_amqp1_0` (RabbitMQ 3.x)');
});

const queues = new Set<string>();
after(async () => {
  const conn = await connect('amqp://guest:guest@127.0.0.1:5672/');
  const ch = await conn.createChannel();
  for (const q of queues) await ch.deleteQueue(q).catch(() => {});
  await conn.close();
});

contractSuite({
  name: 'amqp_1',
  address: '127.0.0.1:5672',
  configs: (id, addr) => {
    queues.add(id);
    const urls = [`amqp://guest:guest@${addr}/`];
    return {
      input: { amqp_1: { urls, source_address: `/queue/${id}`, credit: 64 } },
      output: { amqp_1: { urls, target_address: `/queue/${id}`, persistent: true } },
    };
  },
  supports: { metadata: true, nackRedelivery: true, batches: true, ordered: true, persistent: true },
});
