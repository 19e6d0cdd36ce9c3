// The mqtt input and output against Mosquitto on 127.0.0.1:1883 (and a private Mosquitto for
// broker restarts), with the real command-line clients mosquitto_pub / mosquitto_sub on the
// other side where that is cheap.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { connectAsync } from 'mqtt';
import { Message } from '../../../engine/message.js';
import { createLogger } from '../../../engine/logger.js';
import type { Stream } from '../../../engine/stream.js';
import { newSink, newSource, type Sink, type SinkMode } from '../../../../test/support/test-components.js';
import { runStream, waitUntil, sleep } from '../../../../test/support/streams.js';
import { freePort, startPrivateMosquitto } from '../../../../test/support/mosquitto.js';

const URL = 'tcp://127.0.0.1:1883';
const run = randomUUID().slice(0, 8);
const base = `sluice/test/${run}`;
const exec = promisify(execFile);

async function consumer(input: Record<string, unknown>, mode: SinkMode = 'ok', url = URL): Promise<{ sink: Sink; stream: Stream }> {
  const { id, sink } = newSink(mode);
  const stream = await runStream({ input: { mqtt: { urls: [url], ...input } }, output: { test_sink: { id } }, shutdown_timeout: '1s' });
  await waitUntil(() => stream.state === 'running', 10_000, 'consumer running');
  return { sink, stream };
}

async function producer(output: Record<string, unknown>, url = URL) {
  const { id, source } = newSource();
  const stream = await runStream({ input: { test_source: { id } }, output: { mqtt: { urls: [url], ...output } }, shutdown_timeout: '2s' });
  await waitUntil(() => stream.state === 'running', 10_000, 'producer running');
  return { source, stream };
}

const pub = (topic: string, payload: string, ...args: string[]) => exec('mosquitto_pub', ['-h', '127.0.0.1', '-p', '1883', '-t', topic, '-m', payload, ...args]);

/** Removes a persistent session left on the shared broker by a test. */
async function dropSession(clientId: string, url = URL): Promise<void> {
  const c = await connectAsync(url, { clientId, clean: true, reconnectPeriod: 0, connectTimeout: 3000 });
  await c.endAsync();
}

describe('mqtt', { concurrency: false }, () => {
  test('round trip output → input with metadata, + wildcard, and mosquitto_pub', async () => {
    const c = await consumer({ topics: [`${base}/rt/+/temperature`], client_id: `sluice-rt-${run}` });
    const p = await producer({ topic: `${base}/rt/a/temperature` });
    try {
      p.source.push('{"value":21.5}');
      await pub(`${base}/rt/b/temperature`, 'from-cli', '-q', '1');
      await pub(`${base}/rt/b/humidity`, 'not-subscribed', '-q', '1');
      await c.sink.waitFor(2, 5000);
      await sleep(200);
      assert.equal(c.sink.messages.length, 2, 'the humidity topic does not match the wildcard');
      const byTopic = new Map(c.sink.messages.map((m) => [m.metaGetString('mqtt_topic'), m]));
      const a = byTopic.get(`${base}/rt/a/temperature`)!;
      assert.equal(a.text(), '{"value":21.5}');
      assert.equal(a.metaGetString('mqtt_qos'), '1');
      assert.equal(a.metaGetString('mqtt_retained'), 'false');
      assert.equal(a.metaGetString('mqtt_duplicate'), 'false');
      assert.match(a.metaGetString('mqtt_message_id')!, /^[1-9]\d*$/);
      assert.equal(byTopic.get(`${base}/rt/b/temperature`)!.text(), 'from-cli');
    } finally {
      p.source.end();
      await Promise.all([p.stream.stop(1000), c.stream.stop(1000)]);
    }
  });

  test('output → mosquitto_sub: # wildcard, QoS 2, retained flag', async () => {
    const topic = `${base}/sub/x/y`;
    const sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', '1883', '-q', '2', '-C', '2', '-F', '%r %q %t %p', '-t', `${base}/sub/#`]);
    let out = '';
    sub.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => sub.once('exit', (code) => r(code)));
    await sleep(300);
    const p = await producer({ topic, qos: 2 });
    try {
      p.source.push('one', 'two');
      await p.source.waitAcks(2, 5000);
      assert.ok(p.source.acks.every((a) => !a.error));
      assert.equal(await Promise.race([exited, sleep(5000).then(() => 'timeout')]), 0);
      assert.deepEqual(out.trim().split('\n'), [`0 2 ${topic} one`, `0 2 ${topic} two`]);
    } finally {
      sub.kill();
      p.source.end();
      await p.stream.stop(1000);
    }
    // A retained publish is handed to later subscribers with the retained flag.
    const r = await producer({ topic: `${base}/retained`, retained: true, qos: 1 });
    try {
      r.source.push('kept');
      await r.source.waitAcks(1, 5000);
      const { stdout } = await exec('mosquitto_sub', ['-h', '127.0.0.1', '-p', '1883', '-C', '1', '-W', '5', '-F', '%r %p', '-t', `${base}/retained`]);
      assert.equal(stdout.trim(), '1 kept');
      const c = await consumer({ topics: [`${base}/retained`] });
      await c.sink.waitFor(1, 5000);
      assert.equal(c.sink.messages[0]!.metaGetString('mqtt_retained'), 'true');
      await c.stream.stop(1000);
    } finally {
      r.source.end();
      await r.stream.stop(1000);
      await exec('mosquitto_pub', ['-h', '127.0.0.1', '-p', '1883', '-t', `${base}/retained`, '-r', '-n']); // clears the retained message
    }
  });

  for (const qos of [1, 2]) {
    test(`QoS ${qos}: a message never acked downstream is redelivered to the next session`, async () => {
      const clientId = `sluice-redeliver-${qos}-${run}`;
      const topic = `${base}/redeliver/${qos}`;
      const input = { topics: [topic], client_id: clientId, clean_session: false, qos };
      const stuck = await consumer(input, 'hang');
      try {
        for (const n of ['a', 'b', 'c']) await pub(topic, n, '-q', String(qos));
        await waitUntil(() => stuck.stream.stats.received === 3, 5000, 'three reads by the stuck consumer');
      } finally {
        // The output never acknowledged: no PUBACK/PUBREC may have reached the broker.
        await stuck.stream.stop(200);
      }
      const next = await consumer(input);
      try {
        await next.sink.waitFor(3, 8000);
        assert.deepEqual(next.sink.texts().sort(), ['a', 'b', 'c']);
        assert.ok(next.sink.messages.every((m) => m.metaGetString('mqtt_duplicate') === 'true'), 'redelivered with the DUP flag');
        // Acked this time: a third session gets nothing.
        await sleep(300);
      } finally {
        await next.stream.stop(1000);
      }
      const third = await consumer(input);
      try {
        await sleep(700);
        assert.equal(third.sink.messages.length, 0, 'acked messages are not redelivered');
      } finally {
        await third.stream.stop(1000);
        await dropSession(clientId);
      }
    });
  }

  test('interpolated topic and retained_interpolated, per message of a batch', async () => {
    const c = await consumer({ topics: [`${base}/interp/#`] });
    const p = await producer({ topic: `${base}/interp/\${! meta("room") }/\${! json("kind") }`, retained_interpolated: '${! meta("keep") }' });
    try {
      const a = new Message('{"kind":"temp"}', { room: 'kitchen', keep: 'false' });
      const b = new Message('{"kind":"hum"}', { room: 'cellar', keep: 'true' });
      p.source.push([a, b]);
      await c.sink.waitFor(2, 5000);
      assert.deepEqual(c.sink.messages.map((m) => m.metaGetString('mqtt_topic')).sort(), [`${base}/interp/cellar/hum`, `${base}/interp/kitchen/temp`]);
      const { stdout } = await exec('mosquitto_sub', ['-h', '127.0.0.1', '-p', '1883', '-C', '1', '-W', '5', '-F', '%r %t', '-t', `${base}/interp/#`]);
      assert.equal(stdout.trim(), `1 ${base}/interp/cellar/hum`, 'only the message whose keep was true is retained');
    } finally {
      p.source.end();
      await Promise.all([p.stream.stop(1000), c.stream.stop(1000)]);
      await exec('mosquitto_pub', ['-h', '127.0.0.1', '-p', '1883', '-t', `${base}/interp/cellar/hum`, '-r', '-n']);
    }
  });

  test('a nacked message is replayed in process until delivered (auto_replay_nacks)', async () => {
    const topic = `${base}/nack`;
    const c = await consumer({ topics: [topic] }, 'nack_first');
    try {
      for (const n of ['n1', 'n2', 'n3']) await pub(topic, n, '-q', '1');
      await c.sink.waitFor(3, 8000);
      assert.deepEqual(c.sink.texts().sort(), ['n1', 'n2', 'n3']);
      assert.ok(c.stream.stats.nacked >= 3);
    } finally {
      await c.stream.stop(1000);
    }
  });

  test('QoS 0 round trip; a batch is published in order', async () => {
    const topic = `${base}/qos0`;
    const c = await consumer({ topics: [topic], qos: 0 });
    const p = await producer({ topic, qos: 0 });
    try {
      p.source.push(Array.from({ length: 20 }, (_, i) => new Message(`m${i}`)));
      await c.sink.waitFor(20, 5000);
      assert.deepEqual(c.sink.texts(), Array.from({ length: 20 }, (_, i) => `m${i}`));
      assert.equal(c.sink.messages[0]!.metaGetString('mqtt_qos'), '0');
    } finally {
      p.source.end();
      await Promise.all([p.stream.stop(1000), c.stream.stop(1000)]);
    }
  });

  test('input and output survive a broker restart (private mosquitto killed by PID)', async () => {
    const broker = await startPrivateMosquitto();
    const clientId = `sluice-restart-${run}`;
    const topic = `${base}/restart`;
    const c = await consumer({ topics: [topic], client_id: clientId, clean_session: false }, 'ok', broker.url);
    const p = await producer({ topic, write_timeout: '1s' }, broker.url);
    try {
      p.source.push('before');
      await c.sink.waitFor(1, 5000);
      await sleep(200); // lets the private broker save the session (it saves after every change)
      await broker.kill();
      p.source.push('during');
      await sleep(300);
      await broker.restart();
      p.source.push('after');
      await c.sink.waitFor(3, 15_000).catch((e: Error) => {
        throw new Error(`${e.message}; got ${JSON.stringify(c.sink.texts())}; acks ${JSON.stringify(p.source.acks.map((a) => a.error?.message ?? 'ok'))}; producer ${JSON.stringify(p.stream.stats)}`);
      });
      assert.deepEqual([...new Set(c.sink.texts())].sort(), ['after', 'before', 'during']);
      assert.ok(p.source.acks.every((a) => !a.error), 'writes were retried after the reconnect, not failed');
    } finally {
      p.source.end();
      await Promise.all([p.stream.stop(1000), c.stream.stop(1000)]);
      await broker.stop();
    }
  });

  test('a broker that is down: clear error naming the address, retries, connects once it is up', async () => {
    const port = await freePort();
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', format: 'json', write: (l) => lines.push(l) });
    const { id, sink } = newSink();
    const stream = await runStream(
      { input: { mqtt: { urls: [`tcp://127.0.0.1:${port}`], topics: [`${base}/late`], connect_timeout: '1s' } }, output: { test_sink: { id } }, shutdown_timeout: '1s' },
      { logger },
    );
    let broker: Awaited<ReturnType<typeof startPrivateMosquitto>> | undefined;
    try {
      await waitUntil(() => lines.some((l) => l.includes(`tcp://127.0.0.1:${port}`)), 5000, 'connect error logged');
      const line = JSON.parse(lines.find((l) => l.includes(`tcp://127.0.0.1:${port}`))!) as { level: string; error: string };
      assert.equal(line.level, 'error');
      assert.match(line.error, new RegExp(`mqtt: cannot connect to tcp://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
      assert.equal(stream.state, 'connecting');
      broker = await startPrivateMosquitto({ port });
      await waitUntil(() => stream.state === 'running', 20_000, 'connected after the broker came up');
      await sleep(200);
      await exec('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-t', `${base}/late`, '-m', 'hello', '-q', '1']);
      await sink.waitFor(1, 5000);
    } finally {
      await stream.stop(1000);
      await broker?.stop();
    }
  });
});
