// Proves the AMQP 0-9-1 broker on 127.0.0.1:5672 is a real RabbitMQ: a topic
// exchange routes a publisher-confirmed message into a queue, and a consumer
// receives and acks it. Fails, never skips, when the broker is down: run
// `bash scripts/services.sh` first.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'amqplib';
import type { ConsumeMessage } from 'amqplib';
import { assertReachable } from '../support/reachable.js';

const HOST = '127.0.0.1';
const PORT = 5672;
const RUN_ID = `${process.pid}-${Date.now().toString(36)}`;


test('amqp: topic exchange -> queue, publisher confirms, consume + ack (amqplib)', { timeout: 15_000 }, async (t) => {
  await assertReachable(PORT, 'RabbitMQ');
  const conn = await connect(`amqp://guest:guest@${HOST}:${PORT}`, { timeout: 5000 });
  t.after(() => conn.close());

  // The server introduces itself during the handshake.
  assert.equal(conn.connection.serverProperties.product, 'RabbitMQ');

  const ch = await conn.createConfirmChannel();
  const exchange = `sluice.svc.${RUN_ID}`;
  const queue = `sluice.svc.${RUN_ID}.invoices`;
  // autoDelete: the broker drops both once this test's connection is gone.
  await ch.assertExchange(exchange, 'topic', { durable: false, autoDelete: true });
  const q = await ch.assertQueue(queue, { durable: false, autoDelete: true, exclusive: true });
  assert.equal(q.queue, queue);
  await ch.bindQueue(queue, exchange, 'invoice.*');

  const body = JSON.stringify({ id: RUN_ID, amount: 42 });
  ch.publish(exchange, 'invoice.created', Buffer.from(body), {
    contentType: 'application/json',
    messageId: `m-${RUN_ID}`,
    headers: { 'x-origin': 'sluice-test' },
  });
  // Not routed (pattern does not match): must never reach the queue.
  ch.publish(exchange, 'refund.created', Buffer.from('{}'));
  await ch.waitForConfirms(); // broker acknowledged both publishes

  const msg = await new Promise<ConsumeMessage>((resolve, reject) => {
    ch.consume(queue, (m) => (m ? resolve(m) : reject(new Error('consumer cancelled by broker'))), { noAck: false })
      .catch(reject);
  });
  ch.ack(msg);
  assert.equal(msg.content.toString(), body);
  assert.equal(msg.fields.routingKey, 'invoice.created');
  assert.equal(msg.fields.exchange, exchange);
  assert.equal(msg.properties.contentType, 'application/json');
  assert.equal(msg.properties.messageId, `m-${RUN_ID}`);
  assert.equal(msg.properties.headers?.['x-origin'], 'sluice-test');

  // The ack reached the broker and nothing else was routed.
  const check = await ch.checkQueue(queue);
  assert.equal(check.messageCount, 0);
  await ch.close();
});
