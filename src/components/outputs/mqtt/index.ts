/**
 * `mqtt` output: publishes each message to an (interpolated) topic. A write resolves when the
 * broker confirmed it (PUBACK for QoS 1, PUBCOMP for QoS 2; written to the socket for QoS 0),
 * fails after `write_timeout`, and throws `notConnected()` when the connection is gone so the
 * engine reconnects and retries.
 */
import type { MqttClient } from 'mqtt';
import type { ComponentContext, Output } from '../../../engine/component.js';
import { defineOutput } from '../../../engine/component.js';
import type { InterpolatedString } from '../../../engine/bloblang-api.js';
import type { Batch } from '../../../engine/message.js';
import { field, maxInFlightField } from '../../../engine/spec.js';
import { parseDuration } from '../../../engine/backoff.js';
import { notConnected, sluiceError } from '../../../engine/errors.js';
import {
  connectMqtt,
  endClient,
  lintMqttClient,
  lintQos,
  mqttClientFields,
  redactUrl,
  resolveClientId,
  type MqttClientConfig,
} from '../../mqtt-common.js';

export interface MqttOutputConfig extends MqttClientConfig {
  topic: string;
  qos: number;
  write_timeout: string;
  retained: boolean;
  retained_interpolated?: string;
  max_in_flight: number;
}

interface Conn {
  readonly client: MqttClient;
  readonly url: string;
  /** Rejecters of publishes still waiting for the broker. */
  readonly pending: Set<(err: Error) => void>;
  closed: boolean;
}

/** Benthos parses `retained_interpolated` with Go's ParseBool. */
export function parseRetained(text: string): boolean | undefined {
  switch (text.trim()) {
    case '1': case 't': case 'T': case 'TRUE': case 'true': case 'True':
      return true;
    case '0': case 'f': case 'F': case 'FALSE': case 'false': case 'False':
      return false;
    default:
      return undefined;
  }
}

class MqttOutput implements Output {
  readonly maxInFlight: number;
  readonly #conf: MqttOutputConfig;
  readonly #ctx: ComponentContext;
  readonly #clientId: string;
  readonly #topic: InterpolatedString;
  readonly #retained: InterpolatedString | undefined;
  readonly #writeTimeoutMs: number;
  #conn: Conn | undefined;
  #connecting: Promise<void> | undefined;

  constructor(conf: MqttOutputConfig, ctx: ComponentContext) {
    this.#conf = conf;
    this.#ctx = ctx;
    this.maxInFlight = Math.max(1, conf.max_in_flight);
    this.#clientId = resolveClientId(conf);
    this.#topic = ctx.bloblang.interpolate(conf.topic);
    this.#retained = conf.retained_interpolated ? ctx.bloblang.interpolate(conf.retained_interpolated) : undefined;
    this.#writeTimeoutMs = parseDuration(conf.write_timeout) ?? 3000;
  }

  connect(signal: AbortSignal): Promise<void> {
    if (this.#conn && !this.#conn.closed) return Promise.resolve();
    // Several failed writes may ask for a reconnect at once: one attempt serves them all.
    this.#connecting ??= this.#connect(signal).finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  async #connect(signal: AbortSignal): Promise<void> {
    const box: { conn?: Conn } = {};
    await connectMqtt({
      conf: this.#conf,
      clientId: this.#clientId,
      clean: true,
      signal,
      setup: (client, url) => {
        const conn: Conn = { client, url, pending: new Set(), closed: false };
        box.conn = conn;
        client.on('close', () => {
          if (conn.closed) return;
          conn.closed = true;
          if (this.#conn === conn) this.#ctx.logger.warn('mqtt output lost its connection', { url: redactUrl(url) });
          const err = notConnected(new Error(`mqtt connection to ${redactUrl(url)} closed`));
          for (const reject of [...conn.pending]) reject(err);
        });
      },
    });
    this.#conn = box.conn!;
  }

  write(batch: Batch): Promise<void> {
    const conn = this.#conn;
    if (!conn || conn.closed || !conn.client.connected) {
      if (conn) {
        conn.closed = true;
        void endClient(conn.client, 0);
      }
      this.#conn = undefined;
      throw notConnected();
    }
    if (batch.length === 1) return this.#publish(conn, batch, 0);
    // mqtt.js writes publishes in call order, so a batch keeps its order on the wire.
    return Promise.all(batch.map((_, i) => this.#publish(conn, batch, i))).then(() => undefined);
  }

  #isRetained(batch: Batch, i: number): boolean {
    if (!this.#retained) return this.#conf.retained;
    let text: string;
    try {
      text = this.#retained.render(batch, i);
    } catch (err) {
      this.#ctx.logger.error('retained interpolation error', { error: (err as Error).message });
      return this.#conf.retained;
    }
    const v = parseRetained(text);
    if (v === undefined) {
      this.#ctx.logger.error('retained_interpolated must resolve to true or false', { value: text });
      return false;
    }
    return v;
  }

  #publish(conn: Conn, batch: Batch, i: number): Promise<void> {
    const topic = this.#topic.render(batch, i);
    const retain = this.#isRetained(batch, i);
    const payload = Buffer.from(batch[i]!.bytes());
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const settle = (err?: Error) => {
        if (!conn.pending.delete(fail)) return;
        if (timer) clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      const fail = (err: Error) => settle(err);
      conn.pending.add(fail);
      if (this.#writeTimeoutMs > 0) {
        timer = setTimeout(
          () => settle(sluiceError('SLU_ERR_TIMEOUT', `mqtt publish to ${topic} at ${redactUrl(conn.url)} after ${this.#conf.write_timeout}`)),
          this.#writeTimeoutMs,
        );
      }
      conn.client.publish(topic, payload, { qos: this.#conf.qos as 0 | 1 | 2, retain }, (err) => {
        if (!err) return settle();
        settle(conn.closed || !conn.client.connected ? notConnected(err) : new Error(`mqtt publish to ${topic} failed: ${err.message}`));
      });
    });
  }

  async close(): Promise<void> {
    const conn = this.#conn;
    this.#conn = undefined;
    if (!conn) return;
    await endClient(conn.client, 2000);
    conn.closed = true;
  }
}

export const spec = defineOutput<MqttOutputConfig>({
  name: 'mqtt',
  summary: 'Pushes messages to an MQTT broker.',
  description:
    'The `topic` field can be dynamically set using function interpolations. When sending batched messages these interpolations are performed per message part. ' +
    'A write completes when the broker confirmed it (QoS 1 and 2). This output benefits from sending multiple messages in flight in parallel: tune `max_in_flight`.',
  categories: ['Services'],
  config: field.object('', '', [
    ...mqttClientFields(),
    field.interp('topic', 'The topic to publish messages to.', { examples: ['sensors/${! json("sensor") }/temperature'] }),
    field.int('qos', 'The QoS value to set for each message. Has options 0, 1, 2.', { default: 1 }),
    field.duration('write_timeout', 'The maximum amount of time to wait to write data before the attempt is abandoned.', { default: '3s', examples: ['1s', '500ms'] }),
    field.bool('retained', 'Set message as retained on the topic.', { default: false }),
    field.interp('retained_interpolated', 'Override the value of `retained` with an interpolable value, this allows it to be dynamically set based on message contents. The value must resolve to either `true` or `false`.', {
      optional: true,
      advanced: true,
    }),
    maxInFlightField(64),
  ]),
  examples: [
    {
      title: 'Publish to a topic per sensor',
      config: 'output:\n  mqtt:\n    urls: [ tcp://localhost:1883 ]\n    topic: sensors/${! json("sensor") }/temperature\n    qos: 1\n',
    },
  ],
  lint: (conf) => [
    ...lintMqttClient(conf),
    ...lintQos('qos', conf.qos),
    ...(conf.max_in_flight < 1 ? [`max_in_flight must be at least 1, got ${conf.max_in_flight}`] : []),
  ],
  build: (conf, ctx) => new MqttOutput(conf, ctx),
});
