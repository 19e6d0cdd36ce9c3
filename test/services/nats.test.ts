// Proves the NATS server on 127.0.0.1:4222 is real and has JetStream: core
// pub/sub with headers and request/reply, then a JetStream stream with
// de-duplicated publishes and a durable pull consumer with explicit acks.
// Fails, never skips, when the server is down: run `bash scripts/services.sh`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, headers } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { assertReachable } from '../support/reachable.js';

const HOST = '127.0.0.1';
const PORT = 4222;
const RUN_ID = `${process.pid}_${Date.now().toString(36)}`;


// No reconnect: a server that goes away fails the test instead of stalling it.
const options = { servers: `${HOST}:${PORT}`, timeout: 3000, reconnect: false, name: `sluice-svc-${RUN_ID}` };

test('nats core: pub/sub with headers, request/reply', { timeout: 15_000 }, async (t) => {
  await assertReachable(PORT, 'NATS');
  const nc = await connect(options);
  t.after(() => nc.close());
  assert.equal(nc.info?.port, PORT);

  const subject = `sluice.svc.${RUN_ID}.chat`;
  const sub = nc.subscribe(subject, { max: 1 });
  const h = headers();
  h.set('X-Origin', 'sluice-test');
  nc.publish(subject, `hi-${RUN_ID}`, { headers: h });
  for await (const msg of sub) {
    assert.equal(msg.subject, subject);
    assert.equal(msg.string(), `hi-${RUN_ID}`);
    assert.equal(msg.headers?.get('X-Origin'), 'sluice-test');
  }

  const service = `sluice.svc.${RUN_ID}.echo`;
  const responder = nc.subscribe(service, {
    callback: (err, msg) => {
      if (!err) msg.respond(`echo:${msg.string()}`);
    },
  });
  const reply = await nc.request(service, 'ping', { timeout: 2000 });
  assert.equal(reply.string(), 'echo:ping');
  responder.unsubscribe();
});

test('nats jetstream: stream, de-duplication, durable pull consumer with acks', { timeout: 15_000 }, async (t) => {
  await assertReachable(PORT, 'NATS');
  const nc = await connect(options);
  const stream = `SLUICE_SVC_${RUN_ID}`;
  const subjects = `sluice.js.${RUN_ID}.>`;
  const jsm = await jetstreamManager(nc); // fails if the server has no JetStream
  t.after(async () => {
    await jsm.streams.delete(stream).catch(() => false);
    await nc.close();
  });

  await jsm.streams.add({ name: stream, subjects: [subjects] });
  const js = jetstream(nc);
  const subject = `sluice.js.${RUN_ID}.orders`;
  const a1 = await js.publish(subject, JSON.stringify({ n: 1 }), { msgID: `m1-${RUN_ID}` });
  const a2 = await js.publish(subject, JSON.stringify({ n: 2 }), { msgID: `m2-${RUN_ID}` });
  // Same msgID again: the server recognises the duplicate and stores nothing.
  const dup = await js.publish(subject, JSON.stringify({ n: 2 }), { msgID: `m2-${RUN_ID}` });
  assert.deepEqual([a1.stream, a1.seq, a2.seq, a1.duplicate], [stream, 1, 2, false]);
  assert.deepEqual([dup.seq, dup.duplicate], [2, true]);

  await jsm.consumers.add(stream, { durable_name: 'sluice', ack_policy: AckPolicy.Explicit });
  const consumer = await js.consumers.get(stream, 'sluice');
  const got: Array<{ seq: number; n: number }> = [];
  for (let i = 0; i < 2; i++) {
    const m = await consumer.next({ expires: 2000 });
    assert.ok(m, 'a stored message is delivered');
    got.push({ seq: m.seq, n: m.json<{ n: number }>().n });
    await m.ackAck(); // wait for the server to confirm the ack
  }
  assert.deepEqual(got, [
    { seq: 1, n: 1 },
    { seq: 2, n: 2 },
  ]);

  const info = await jsm.streams.info(stream);
  assert.equal(info.state.messages, 2);
  const ci = await jsm.consumers.info(stream, 'sluice');
  assert.equal(ci.num_ack_pending, 0);
  assert.equal(ci.delivered.stream_seq, 2);
});
