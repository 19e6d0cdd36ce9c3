// Core `nats` input and output against the NATS server on 127.0.0.1:4222.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect, headers } from '@nats-io/transport-node';
import { Message } from '../../../engine/message.js';
import { createLogger } from '../../../engine/logger.js';
import { newSink, newSource } from '../../../../test/support/test-components.js';
import { runStream, waitUntil, sleep } from '../../../../test/support/streams.js';
import { freePort } from '../../../../test/support/spawn-server.js';

const URL = 'nats://127.0.0.1:4222';
const run = randomUUID().slice(0, 8);

async function consumer(input: Record<string, unknown>, mode: 'ok' | 'nack_first' = 'ok') {
  const { id, sink } = newSink(mode);
  const stream = await runStream({ input: { nats: { urls: [URL], ...input } }, output: { test_sink: { id } }, shutdown_timeout: '1s' });
  await waitUntil(() => stream.state === 'running', 10_000, 'consumer running');
  return { sink, stream };
}

describe('nats (core)', { concurrency: false }, () => {
  test('round trip with metadata: subject, headers and selected metadata', async () => {
    const subject = `sluice.core.${run}.meta`;
    const c = await consumer({ subject });
    const { id, source } = newSource();
    const p = await runStream({ input: { test_source: { id } }, output: { nats: { urls: [URL], subject, headers: { 'Content-Type': 'application/json' }, metadata: { include_patterns: ['^keep_'] } } } });
    try {
      const m = new Message('{"a":1}');
      m.metaSet('keep_me', 'kept');
      m.metaSet('drop_me', 'dropped');
      source.push(m);
      await c.sink.waitFor(1, 5000);
      const got = c.sink.messages[0]!;
      assert.equal(got.text(), '{"a":1}');
      assert.equal(got.metaGetString('nats_subject'), subject);
      assert.equal(got.metaGetString('nats_reply_subject'), '');
      assert.equal(got.metaGetString('Content-Type'), 'application/json');
      assert.equal(got.metaGetString('keep_me'), 'kept');
      assert.equal(got.metaGetString('drop_me'), undefined);
    } finally {
      source.end();
      await Promise.all([p.stop(1000), c.stream.stop(1000)]);
    }
  });

  test('wildcard subscriptions and queue groups', async () => {
    const base = `sluice.core.${run}.wild`;
    const all = await consumer({ subject: `${base}.>` });
    const q1 = await consumer({ subject: `${base}.*`, queue: 'workers' });
    const q2 = await consumer({ subject: `${base}.*`, queue: 'workers' });
    const nc = await connect({ servers: URL });
    try {
      for (let i = 0; i < 20; i++) nc.publish(`${base}.k${i % 3}`, `m${i}`);
      await nc.flush();
      await all.sink.waitFor(20, 5000);
      await waitUntil(() => q1.sink.messages.length + q2.sink.messages.length >= 20, 5000, 'queue deliveries');
      await sleep(100);
      assert.equal(q1.sink.messages.length + q2.sink.messages.length, 20, 'each message to one member of the queue group');
      assert.deepEqual(new Set(all.sink.messages.map((m) => m.metaGetString('nats_subject'))), new Set([`${base}.k0`, `${base}.k1`, `${base}.k2`]));
    } finally {
      await nc.close();
      await Promise.all([all.stream.stop(500), q1.stream.stop(500), q2.stream.stop(500)]);
    }
  });

  test('a nacked message is replayed (auto_replay_nacks)', async () => {
    const subject = `sluice.core.${run}.nack`;
    const c = await consumer({ subject }, 'nack_first');
    const nc = await connect({ servers: URL });
    try {
      nc.publish(subject, 'again');
      await c.sink.waitFor(1, 5000);
      assert.equal(c.sink.texts()[0], 'again');
    } finally {
      await nc.close();
      await c.stream.stop(500);
    }
  });

  test('a message with a reply subject is answered +ACK once delivered', async () => {
    const subject = `sluice.core.${run}.reply`;
    const c = await consumer({ subject });
    const nc = await connect({ servers: URL });
    try {
      const h = headers();
      h.set('Trace', 't-1');
      const reply = await nc.request(subject, 'ping', { timeout: 3000, headers: h });
      assert.equal(reply.string(), '+ACK');
      const got = c.sink.messages[0]!;
      assert.equal(got.metaGetString('Trace'), 't-1');
      assert.match(got.metaGetString('nats_reply_subject')!, /^_INBOX\./);
    } finally {
      await nc.close();
      await c.stream.stop(500);
    }
  });

  test('an unreachable server gives an error naming its address, and nothing hangs or crashes', async () => {
    const port = await freePort();
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', write: (l) => lines.push(l) });
    const { id } = newSink();
    const s = await runStream({ input: { nats: { urls: [`nats://user:secret@127.0.0.1:${port}`], subject: 'x' } }, output: { test_sink: { id } } }, { logger });
    const { id: srcId } = newSource();
    const o = await runStream({ input: { test_source: { id: srcId } }, output: { nats: { urls: [`127.0.0.1:${port}`], subject: 'x' } } }, { logger });
    try {
      await waitUntil(() => lines.filter((l) => l.includes('cannot connect')).length >= 2, 5000, 'connect errors');
      const line = lines.find((l) => l.includes('input cannot connect'))!;
      assert.match(line, new RegExp(`127\\.0\\.0\\.1:${port}`));
      assert.ok(!lines.some((l) => l.includes('secret')), 'credentials are not logged');
    } finally {
      const started = Date.now();
      await Promise.all([s.stop(500), o.stop(500)]);
      assert.ok(Date.now() - started < 3000, 'stops promptly while reconnecting');
    }
  });
});
