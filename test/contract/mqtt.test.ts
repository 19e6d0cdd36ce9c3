// The shared connector contract for the mqtt input/output pair, against Mosquitto on
// 127.0.0.1:1883 and a private Mosquitto for the broker-restart case. The consumer keeps a
// persistent session (clean_session: false, fixed client_id) with QoS 1, which is what makes
// MQTT at-least-once: unacked messages survive consumer restarts and broker restarts.
import { after } from 'node:test';
import { connectAsync } from 'mqtt';
import { contractSuite } from './suite.js';
import { startPrivateMosquitto } from '../support/mosquitto.js';

// Persistent sessions the cases leave on the shared broker, dropped at the end.
const sessions = new Set<string>();
after(async () => {
  for (const clientId of sessions) {
    const c = await connectAsync('tcp://127.0.0.1:1883', { clientId, clean: true, reconnectPeriod: 0, connectTimeout: 3000 }).catch(() => undefined);
    await c?.endAsync();
  }
});

contractSuite({
  name: 'mqtt',
  address: '127.0.0.1:1883',
  configs: (id, addr) => {
    if (addr === '127.0.0.1:1883') sessions.add(`${id}_in`);
    return {
      input: { mqtt: { urls: [`tcp://${addr}`], topics: [`sluice/contract/${id}`], client_id: `${id}_in`, clean_session: false, qos: 1 } },
      output: { mqtt: { urls: [`tcp://${addr}`], topic: `sluice/contract/${id}`, qos: 1, write_timeout: '2s' } },
    };
  },
  // MQTT 3.1.1 has no headers: metadata does not travel (mqtt_* keys are set by the input).
  supports: { metadata: false, nackRedelivery: true, batches: true, ordered: true, persistent: true },
  privateBroker: startPrivateMosquitto,
  timeoutMs: 15_000,
});
