// Proves the MQTT broker on 127.0.0.1:1883 (Mosquitto) is real: messages cross
// between the `mqtt` package (what Sluice uses) and Mosquitto's own command-line
// clients, over MQTT 3.1.1 and 5. Fails, never skips, when the broker is down:
// run `bash scripts/services.sh` first.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { connectAsync } from 'mqtt';
import type { MqttClient } from 'mqtt';
import { assertReachable } from '../support/reachable.js';

const run = promisify(execFile);
const HOST = '127.0.0.1';
const PORT = 1883;
const RUN_ID = `${process.pid}-${Date.now().toString(36)}`;


async function client(id: string, protocolVersion: 4 | 5): Promise<MqttClient> {
  // reconnectPeriod 0: a refused connection fails the test instead of retrying forever.
  return connectAsync(`mqtt://${HOST}:${PORT}`, {
    clientId: `${id}-${RUN_ID}`,
    protocolVersion,
    connectTimeout: 3000,
    reconnectPeriod: 0,
  });
}

test('mqtt: mosquitto_pub -> mqtt.js subscriber (MQTT 3.1.1, QoS 1)', { timeout: 15_000 }, async (t) => {
  await assertReachable(PORT, 'Mosquitto');
  const topic = `sluice/svc/${RUN_ID}/in`;
  const sub = await client('sluice-sub', 4);
  t.after(() => sub.endAsync());

  const granted = await sub.subscribeAsync(topic, { qos: 1 });
  assert.equal(granted[0]?.qos, 1);

  const arrived = new Promise<{ topic: string; payload: string; qos: number }>((resolve) => {
    sub.once('message', (topic, payload, packet) => resolve({ topic, payload: payload.toString(), qos: packet.qos }));
  });
  await run('mosquitto_pub', ['-h', HOST, '-p', String(PORT), '-q', '1', '-t', topic, '-m', `hello-${RUN_ID}`], {
    timeout: 5000,
  });
  assert.deepEqual(await arrived, { topic, payload: `hello-${RUN_ID}`, qos: 1 });
});

test('mqtt: mqtt.js (MQTT 5) retained publish -> mosquitto_sub', { timeout: 15_000 }, async (t) => {
  await assertReachable(PORT, 'Mosquitto');
  const topic = `sluice/svc/${RUN_ID}/retained`;
  const pub = await client('sluice-pub', 5);
  t.after(async () => {
    // Clear the retained message so the broker does not keep test data.
    await pub.publishAsync(topic, '', { qos: 1, retain: true }).catch(() => {});
    await pub.endAsync();
  });

  // Retained + QoS 1: PUBACK means the broker stored it, and a subscriber that
  // connects afterwards still gets it, so there is no subscribe/publish race.
  await pub.publishAsync(topic, `retained-${RUN_ID}`, { qos: 1, retain: true });
  const { stdout } = await run(
    'mosquitto_sub',
    ['-h', HOST, '-p', String(PORT), '-V', 'mqttv5', '-q', '1', '-t', topic, '-C', '1', '-W', '5', '-F', '%r|%q|%t|%p'],
    { timeout: 8000 },
  );
  assert.equal(stdout.trim(), `1|1|${topic}|retained-${RUN_ID}`);
});
