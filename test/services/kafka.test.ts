// Proves the Kafka broker on 127.0.0.1:9092 (scripts/kafka.sh) is a real
// Apache Kafka speaking the wire protocol to two independent clients:
// @platformatic/kafka (what Sluice uses) and kcat (librdkafka). Records cross
// from one client to the other in both directions. Fails, never skips, when
// the broker is down: run `bash scripts/services.sh` first.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Admin, Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { assertReachable } from '../support/reachable.js';

const run = promisify(execFile);
const HOST = '127.0.0.1';
const PORT = 9092;
const BROKER = `${HOST}:${PORT}`;
const RUN_ID = `${process.pid}-${Date.now().toString(36)}`;


// Short timeouts and few retries: an unreachable broker must fail the test in
// seconds, not hang it.
const clientBase = { bootstrapBrokers: [BROKER], timeout: 5000, retries: 3, retryDelay: 250 };

test('kafka: real broker, @platformatic/kafka <-> kcat in both directions', { timeout: 30_000 }, async (t) => {
  await assertReachable(PORT, 'Kafka');

  const topic = `sluice-svc-${RUN_ID}`;
  const admin = new Admin({ ...clientBase, clientId: `sluice-admin-${RUN_ID}` });
  const producer = new Producer({
    ...clientBase,
    clientId: `sluice-producer-${RUN_ID}`,
    serializers: stringSerializers,
    acks: -1, // all in-sync replicas: the broker really persisted it
  });
  const consumer = new Consumer({
    ...clientBase,
    clientId: `sluice-consumer-${RUN_ID}`,
    groupId: `sluice-group-${RUN_ID}`,
    deserializers: stringDeserializers,
  });
  t.after(async () => {
    // Delete the run's topic so the shared broker does not accumulate them.
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await Promise.allSettled([consumer.close(true), producer.close(true), admin.close()]);
  });

  // Metadata: one broker, node 1, on the advertised loopback listener.
  const created = await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 });
  assert.equal(created[0]?.name, topic);
  const meta = await admin.metadata({ topics: [topic] });
  assert.deepEqual([...meta.brokers.keys()], [1]);
  assert.equal(meta.brokers.get(1)?.host, HOST);
  assert.equal(meta.brokers.get(1)?.port, PORT);
  assert.equal(meta.topics.get(topic)?.partitionsCount, 1);

  // 1. @platformatic/kafka produces -> kcat (librdkafka) consumes.
  const sent = await producer.send({
    messages: [{ topic, key: 'k-node', value: `from-node-${RUN_ID}`, headers: { origin: 'sluice-test' } }],
  });
  assert.equal(sent.offsets?.[0]?.offset, 0n);
  const { stdout: kcatOut } = await run(
    'kcat',
    ['-b', BROKER, '-C', '-t', topic, '-o', 'beginning', '-c', '1', '-e', '-q', '-f', '%k|%s|%h|%o\\n'],
    { timeout: 10_000 },
  );
  assert.equal(kcatOut.trim(), `k-node|from-node-${RUN_ID}|origin=sluice-test|0`);

  // 2. kcat produces -> @platformatic/kafka consumes (consumer group, from earliest).
  await run('bash', ['-c', `printf '%s' "$1" | kcat -b ${BROKER} -P -t ${topic} -k k-kcat`, 'kcat-produce', `from-kcat-${RUN_ID}`], {
    timeout: 10_000,
  });
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false, maxWaitTime: 200 });
  const received: Array<{ key: string; value: string; offset: bigint }> = [];
  for await (const message of stream) {
    received.push({ key: message.key, value: message.value, offset: message.offset });
    if (received.length === 2) break;
  }
  await stream.close();
  assert.deepEqual(received, [
    { key: 'k-node', value: `from-node-${RUN_ID}`, offset: 0n },
    { key: 'k-kcat', value: `from-kcat-${RUN_ID}`, offset: 1n },
  ]);

  // 3. kcat's own view of the broker agrees (metadata through librdkafka).
  const { stdout: listing } = await run('kcat', ['-b', BROKER, '-L', '-t', topic], { timeout: 10_000 });
  assert.match(listing, new RegExp(`broker 1 at ${HOST}:${PORT}`));
  assert.match(listing, new RegExp(`topic "${topic}" with 1 partitions`));
});

// Snappy, lz4 and the CRC32C of every batch run through
// @platformatic/wasm-utils, whose engines field asks for Node >= 22.19; gzip
// goes through node:zlib. This proves they interoperate with librdkafka on the
// Node version we run (20). zstd is left out on purpose: @platformatic/kafka
// needs zlib.zstdCompressSync, which Node 20 lacks, so it can neither produce
// nor read zstd batches there.
test('kafka: gzip, snappy and lz4 batches interoperate with kcat both ways', { timeout: 30_000 }, async (t) => {
  await assertReachable(PORT, 'Kafka');
  const codecs = ['gzip', 'snappy', 'lz4'] as const;
  const topic = `sluice-svc-z-${RUN_ID}`;
  const admin = new Admin({ ...clientBase, clientId: `sluice-admin-z-${RUN_ID}` });
  const producer = new Producer({ ...clientBase, clientId: `sluice-producer-z-${RUN_ID}`, serializers: stringSerializers });
  const consumer = new Consumer({
    ...clientBase,
    clientId: `sluice-consumer-z-${RUN_ID}`,
    groupId: `sluice-group-z-${RUN_ID}`,
    deserializers: stringDeserializers,
  });
  t.after(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await Promise.allSettled([consumer.close(true), producer.close(true), admin.close()]);
  });
  await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 });

  // A payload long enough that every codec really compresses it.
  // (Ends in a non-space: kcat's output is trimmed below.)
  const payload = (codec: string, from: string) => `${from}:${codec}:${'sluice '.repeat(200)}end`;

  // Node -> kcat: one compressed batch per codec.
  for (const compression of codecs) {
    await producer.send({ messages: [{ topic, key: compression, value: payload(compression, 'node') }], compression });
  }
  const { stdout } = await run(
    'kcat',
    ['-b', BROKER, '-C', '-t', topic, '-o', 'beginning', '-c', String(codecs.length), '-e', '-q', '-f', '%k|%s\\n'],
    { timeout: 10_000, maxBuffer: 1 << 20 },
  );
  assert.deepEqual(
    stdout.trim().split('\n'),
    codecs.map((c) => `${c}|${payload(c, 'node')}`),
  );

  // kcat -> Node: librdkafka compresses, @platformatic/kafka decompresses.
  for (const codec of codecs) {
    await run('bash', ['-c', `printf '%s' "$1" | kcat -b ${BROKER} -P -t ${topic} -z ${codec} -k ${codec}`, 'kcat', payload(codec, 'kcat')], {
      timeout: 10_000,
    });
  }
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false, maxWaitTime: 200 });
  const fromKcat: string[] = [];
  for await (const message of stream) {
    if (message.value.startsWith('kcat:')) fromKcat.push(`${message.key}|${message.value}`);
    if (fromKcat.length === codecs.length) break;
  }
  await stream.close();
  assert.deepEqual(fromKcat, codecs.map((c) => `${c}|${payload(c, 'kcat')}`));
});
