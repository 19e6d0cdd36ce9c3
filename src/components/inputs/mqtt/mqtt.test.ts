// Unit tests of the mqtt input and output: configuration (defaults, lint), metadata mapping, client
// ids, and connection failures that must name the address and never hang. No broker needed.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { Validator } from '../../../config/validate.js';
import type { ComponentContext, Input, Output } from '../../../engine/component.js';
import type { ComponentNode } from '../../../engine/registry.js';
import { Message } from '../../../engine/message.js';
import { hasCode } from '../../../engine/errors.js';
import { createLogger } from '../../../engine/logger.js';
import { noBloblang } from '../../../engine/bloblang-api.js';
import { testRegistry } from '../../../../test/support/test-components.js';
import { mqttMetadata, spec as inputSpec } from './index.js';
import { parseRetained, spec as outputSpec } from '../../outputs/mqtt/index.js';
import { connectMqtt, effectiveUrl, expandUrls, nanoid, redactUrl, resolveClientId, type MqttClientConfig } from '../../mqtt-common.js';

function validate(kind: 'input' | 'output', config: unknown): { node: ComponentNode; issues: string[] } {
  const v = new Validator({ registry: testRegistry() });
  const node = v.component(kind, config, kind);
  return { node, issues: v.issues.map((i) => `${i.path}: ${i.message}`) };
}

describe('mqtt config', () => {
  test('input defaults match Benthos', () => {
    const { node, issues } = validate('input', { mqtt: { urls: ['tcp://localhost:1883'], topics: ['a/#'] } });
    assert.deepEqual(issues, []);
    const c = node.config as Record<string, unknown>;
    assert.equal(c.client_id, '');
    assert.equal(c.dynamic_client_id_suffix, undefined);
    assert.equal(c.connect_timeout, '30s');
    assert.deepEqual(c.will, { enabled: false, qos: 0, retained: false, topic: '', payload: '' });
    assert.equal(c.user, '');
    assert.equal(c.password, '');
    assert.equal(c.keepalive, 30);
    assert.equal(c.qos, 1);
    assert.equal(c.clean_session, true);
    assert.equal(c.auto_replay_nacks, true);
    assert.equal((c.tls as { enabled: boolean }).enabled, false);
  });

  test('output defaults match Benthos', () => {
    const { node, issues } = validate('output', { mqtt: { urls: ['tcp://localhost:1883'], topic: 'x' } });
    assert.deepEqual(issues, []);
    const c = node.config as Record<string, unknown>;
    assert.equal(c.qos, 1);
    assert.equal(c.write_timeout, '3s');
    assert.equal(c.retained, false);
    assert.equal(c.retained_interpolated, undefined);
    assert.equal(c.max_in_flight, 64);
    assert.equal(c.connect_timeout, '30s');
    assert.equal(c.keepalive, 30);
  });

  test('required fields and lint', () => {
    assert.match(validate('input', { mqtt: { urls: ['tcp://h:1883'] } }).issues.join('\n'), /topics is required/);
    assert.match(validate('output', { mqtt: { urls: ['tcp://h:1883'] } }).issues.join('\n'), /topic is required/);
    assert.match(validate('input', { mqtt: { urls: ['tcp://h:1883'], topics: ['a'], qos: 3 } }).issues.join('\n'), /qos must be 0, 1 or 2/);
    assert.match(validate('output', { mqtt: { urls: ['tcp://h:1883'], topic: 'a', will: { enabled: true } } }).issues.join('\n'), /will.topic is required/);
    assert.match(validate('input', { mqtt: { urls: ['tcp://h:1883'], topics: ['a'], clean_session: false } }).issues.join('\n'), /needs a client_id/);
    assert.match(validate('input', { mqtt: { urls: [' , '], topics: ['a'] } }).issues.join('\n'), /at least one URL/);
    assert.match(validate('input', { mqtt: { urls: ['tcp://h:1883'], topics: ['a'], dynamic_client_id_suffix: 'uuid' } }).issues.join('\n'), /unknown dynamic_client_id_suffix/);
    assert.deepEqual(validate('input', { mqtt: { urls: ['tcp://h:1883'], topics: ['a'], dynamic_client_id_suffix: 'nanoid', clean_session: false, client_id: 'c' } }).issues, []);
  });

  test('a password is a secret field', () => {
    const spec = testRegistry().get('input', 'mqtt')!;
    const pw = spec.config.children!.find((f) => f.name === 'password')!;
    assert.equal(pw.secret, true);
  });

  test('urls with commas expand into several', () => {
    assert.deepEqual(expandUrls(['tcp://a:1883, tcp://b:1883', '', 'tcp://c:1883']), ['tcp://a:1883', 'tcp://b:1883', 'tcp://c:1883']);
  });

  test('client ids: nanoid suffix of 21 URL-safe characters, new per build', () => {
    const id = nanoid();
    assert.equal(id.length, 21);
    assert.match(id, /^[A-Za-z0-9_-]{21}$/);
    const conf = { client_id: 'gw-', dynamic_client_id_suffix: 'nanoid' } as MqttClientConfig;
    const a = resolveClientId(conf);
    const b = resolveClientId(conf);
    assert.match(a, /^gw-[A-Za-z0-9_-]{21}$/);
    assert.notEqual(a, b);
    assert.equal(resolveClientId({ client_id: 'fixed' } as MqttClientConfig), 'fixed');
  });

  test('tls upgrades plain schemes; credentials are hidden in logs', () => {
    assert.equal(effectiveUrl('tcp://h:8883', true), 'mqtts://h:8883');
    assert.equal(effectiveUrl('ws://h/mqtt', true), 'wss://h/mqtt');
    assert.equal(effectiveUrl('tcp://h:1883', false), 'tcp://h:1883');
    assert.equal(redactUrl('tcp://user:secret@h:1883'), 'tcp://***@h:1883');
  });

  test('retained_interpolated is parsed like Go ParseBool', () => {
    for (const t of ['true', 'TRUE', 'True', 't', 'T', '1']) assert.equal(parseRetained(t), true, t);
    for (const f of ['false', 'FALSE', 'False', 'f', 'F', '0']) assert.equal(parseRetained(f), false, f);
    assert.equal(parseRetained('yes'), undefined);
  });
});

describe('mqtt metadata', () => {
  test('the keys and string values Benthos sets', () => {
    assert.deepEqual(mqttMetadata({ topic: 'sensors/a/temperature', qos: 1, retain: false, dup: true, messageId: 42 }), {
      mqtt_duplicate: 'true',
      mqtt_qos: '1',
      mqtt_retained: 'false',
      mqtt_topic: 'sensors/a/temperature',
      mqtt_message_id: '42',
    });
    // QoS 0 publishes carry no packet id: 0, as paho reports it.
    assert.equal(mqttMetadata({ topic: 't', qos: 0, retain: true, dup: false, messageId: undefined }).mqtt_message_id, '0');
  });
});

function clientConf(urls: string[], timeout = '400ms'): MqttClientConfig {
  return {
    urls,
    client_id: 'sluice-unit',
    connect_timeout: timeout,
    will: { enabled: false, qos: 0, retained: false, topic: '', payload: '' },
    user: '',
    password: '',
    keepalive: 30,
    tls: { enabled: false, skip_cert_verify: false, enable_renegotiation: false, root_cas: '', root_cas_file: '', client_certs: [] },
  };
}

/** A TCP server that accepts connections and never answers (a hung broker). */
async function silentServer(): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((s) => sockets.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  return { server, port: typeof a === 'object' && a ? a.port : 0, sockets };
}

async function closedPort(): Promise<number> {
  const { server, port } = await silentServer();
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('mqtt connection failures', () => {
  test('a refused connection fails fast and names every address tried', async () => {
    const p1 = await closedPort();
    const p2 = await closedPort();
    const started = Date.now();
    await assert.rejects(
      connectMqtt({ conf: clientConf([`tcp://127.0.0.1:${p1},tcp://127.0.0.1:${p2}`]), clientId: 'x', clean: true, signal: new AbortController().signal }),
      (err: Error) => {
        assert.match(err.message, new RegExp(`tcp://127\\.0\\.0\\.1:${p1}: .*ECONNREFUSED`));
        assert.match(err.message, new RegExp(`tcp://127\\.0\\.0\\.1:${p2}: `));
        return true;
      },
    );
    assert.ok(Date.now() - started < 10_000, 'well before the 30 s default timeout');
  });

  test('a broker that never answers times out after connect_timeout', async () => {
    const { server, port, sockets } = await silentServer();
    try {
      const started = Date.now();
      await assert.rejects(
        connectMqtt({ conf: clientConf([`tcp://127.0.0.1:${port}`], '300ms'), clientId: 'x', clean: true, signal: new AbortController().signal }),
        new RegExp(`tcp://127\\.0\\.0\\.1:${port}: timed out after 300ms`),
      );
      assert.ok(Date.now() - started < 5000, 'bounded by connect_timeout, not mqtt.js defaults');
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
  });

  test('shutdown aborts a pending connect', async () => {
    const { server, port, sockets } = await silentServer();
    try {
      const ctrl = new AbortController();
      const p = connectMqtt({ conf: clientConf([`tcp://127.0.0.1:${port}`], '30s'), clientId: 'x', clean: true, signal: ctrl.signal });
      setTimeout(() => ctrl.abort(), 100);
      await assert.rejects(p, /aborted/);
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
  });

  test('built components throw notConnected when used before connecting', async () => {
    const { node: inNode } = validate('input', { mqtt: { urls: ['tcp://127.0.0.1:1'], topics: ['t'] } });
    const { node: outNode } = validate('output', { mqtt: { urls: ['tcp://127.0.0.1:1'], topic: 't' } });
    const input = (await inputSpec.build(inNode.config as never, fakeContext())) as Input;
    const output = (await outputSpec.build(outNode.config as never, fakeContext())) as Output;
    assert.equal(output.maxInFlight, 64);
    await assert.rejects(input.read(new AbortController().signal), (e: unknown) => hasCode(e, 'SLU_ERR_NOT_CONNECTED'));
    assert.throws(() => output.write([new Message('x')]), (e: unknown) => hasCode(e, 'SLU_ERR_NOT_CONNECTED'));
    await input.close();
    await output.close();
  });
});

function fakeContext(): ComponentContext {
  return {
    logger: createLogger({ level: 'off' }),
    resources: { get: () => { throw new Error('no resources'); }, has: () => false },
    build: undefined as unknown as ComponentContext['build'],
    http: undefined,
    bloblang: noBloblang,
    path: 'test',
    stream: 'test',
    signal: new AbortController().signal,
  };
}
