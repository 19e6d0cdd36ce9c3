// Proves test/support/kafka-broker.ts gives tests a private, killable Kafka:
// records acknowledged before a SIGKILL are still there after a restart on the
// same ports and data dir, and a client reconnects to the restarted broker.
// The shared broker on 9092 is never touched. Needs the jars cached by
// scripts/kafka.sh (bash scripts/services.sh does that) plus java and kcat.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Admin, Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { startPrivateKafka } from '../support/kafka-broker.js';

const RUN_ID = `${process.pid}-${Date.now().toString(36)}`;

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, timeout: 1000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

test('kafka private broker: acked records survive SIGKILL + restart', { timeout: 60_000 }, async (t) => {
  // Phase timings go to the TAP output: JVM start-up dominates this test, and
  // on a busy machine it is the first thing to look at when it gets slow.
  const t0 = Date.now();
  const phase = (name: string) => t.diagnostic(`${name} at ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  const broker = await startPrivateKafka();
  phase(`private broker up on ${broker.bootstrap}`);
  // One hook, in order: clients leave while the broker is still up, then the
  // broker stops and its temp data dir is removed.
  const clients: Array<{ close(force?: boolean): Promise<void> }> = [];
  t.after(async () => {
    await Promise.allSettled(clients.reverse().map((c) => c.close(true)));
    await broker.stop();
  });
  assert.notEqual(broker.port, 9092);
  const firstPid = broker.pid;

  const topic = `sluice-restart-${RUN_ID}`;
  const base = { bootstrapBrokers: [broker.bootstrap], timeout: 5000, retryDelay: 250 };
  const producer = new Producer({
    ...base,
    retries: 20, // rides out the restart below
    clientId: `sluice-restart-producer-${RUN_ID}`,
    serializers: stringSerializers,
    acks: -1,
  });
  clients.push(producer);

  const admin = new Admin({ ...base, retries: 5, clientId: `sluice-restart-admin-${RUN_ID}` });
  await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 });
  await admin.close();

  await producer.send({ messages: ['a', 'b', 'c'].map((value) => ({ topic, key: 'k', value })) });

  // Crash: no clean shutdown, no flush by the broker.
  await broker.kill();
  phase('killed');
  assert.equal(await portAccepts(broker.port), false, 'killed broker no longer accepts connections');

  await broker.restart();
  assert.notEqual(broker.pid, firstPid, 'a new JVM serves the same port');
  phase('restarted');

  // The same producer instance reconnects to the restarted broker.
  await producer.send({ messages: [{ topic, key: 'k', value: 'd' }] });

  const consumer = new Consumer({
    ...base,
    retries: 20, // the group coordinator may still be loading after the restart
    clientId: `sluice-restart-consumer-${RUN_ID}`,
    groupId: `sluice-restart-${RUN_ID}`,
    deserializers: stringDeserializers,
  });
  clients.push(consumer);
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false, maxWaitTime: 200 });
  const values: string[] = [];
  for await (const message of stream) {
    values.push(message.value);
    if (values.length === 4) break;
  }
  await stream.close();
  assert.deepEqual(values, ['a', 'b', 'c', 'd']);
  phase('all four records read back');
});
