/**
 * `mqtt` input: subscribes to topics (wildcards allowed) on an MQTT 3.1.1 broker.
 *
 * Delivery: for QoS 1 and 2 the acknowledgement the broker waits for (PUBACK, resp. PUBREC) is
 * held back until the message was delivered downstream, so a message that never made it is
 * redelivered by the broker after a reconnect (with a persistent session: `clean_session:
 * false`). Holding acks does not stall the connection: other messages, pings and acks keep
 * flowing, and the broker's own in-flight window bounds how many wait. Nacks are replayed in
 * process (`auto_replay_nacks`), as Benthos does (done here rather than with the engine's
 * autoReplayNacks wrapper, so a connection loss during a read cannot wedge the replay logic). Metadata: `mqtt_duplicate`, `mqtt_qos`,
 * `mqtt_retained`, `mqtt_topic`, `mqtt_message_id`.
 */
import type { MqttClient, IPublishPacket, Packet } from 'mqtt';
import type { AckFn, ComponentContext, Input, ReadResult } from '../../../engine/component.js';
import { defineInput } from '../../../engine/component.js';
import { Message } from '../../../engine/message.js';
import { autoReplayNacksField, field } from '../../../engine/spec.js';
import { Backoff, parseDuration, sleep, untilWoken } from '../../../engine/backoff.js';
import { notConnected } from '../../../engine/errors.js';
import {
  connectMqtt,
  endClient,
  lintMqttClient,
  lintQos,
  mqttClientFields,
  redactUrl,
  resolveClientId,
  withTimeout,
  type MqttClientConfig,
} from '../../mqtt-common.js';

export interface MqttInputConfig extends MqttClientConfig {
  topics: string[];
  qos: number;
  clean_session: boolean;
  auto_replay_nacks: boolean;
}

/** Messages received but not read yet beyond which the connection is paused (QoS 0 floods). */
const HIGH_WATER = 1024;

/** The metadata Benthos sets on each message. */
export function mqttMetadata(packet: Pick<IPublishPacket, 'topic' | 'qos' | 'retain' | 'dup' | 'messageId'>): Record<string, string> {
  return {
    mqtt_duplicate: String(Boolean(packet.dup)),
    mqtt_qos: String(packet.qos),
    mqtt_retained: String(Boolean(packet.retain)),
    mqtt_topic: packet.topic,
    mqtt_message_id: String(packet.messageId ?? 0),
  };
}

/** A PUBACK/PUBREC the client wanted to send, held until the message is acked downstream. */
interface Held {
  acked: boolean;
  packet?: Packet;
}

type SendPacket = (packet: Packet, cb?: (err?: Error) => void, cbStorePut?: () => void, noStore?: boolean) => void;

interface Conn {
  readonly client: MqttClient;
  readonly url: string;
  readonly held: Map<number, Held>;
  send: SendPacket;
  closed: boolean;
}

interface Pending {
  readonly msg: Message;
  readonly ack: AckFn;
}

class MqttInput implements Input {
  readonly #conf: MqttInputConfig;
  readonly #ctx: ComponentContext;
  readonly #clientId: string;
  #conn: Conn | undefined;
  #queue: Pending[] = [];
  /** Nacked messages to deliver again before anything new (auto_replay_nacks). */
  #replays: Pending[] = [];
  readonly #replayBackoff = new Backoff({ initialMs: 50, maxMs: 2000 });
  /** handleMessage callbacks held while the queue is above the high-water mark. */
  #paused: (() => void)[] = [];
  #waiter: (() => void) | undefined;
  #closing = false;

  constructor(conf: MqttInputConfig, ctx: ComponentContext) {
    this.#conf = conf;
    this.#ctx = ctx;
    this.#clientId = resolveClientId(conf);
  }

  async connect(signal: AbortSignal): Promise<void> {
    if (this.#conn && !this.#conn.closed) return;
    this.#closing = false;
    const box: { conn?: Conn } = {};
    const { client, url } = await connectMqtt({
      conf: this.#conf,
      clientId: this.#clientId,
      clean: this.#conf.clean_session,
      signal,
      setup: (c, u) => {
        box.conn = this.#attach(c, u);
      },
    });
    const c = box.conn!;
    try {
      const granted = await withTimeout(
        client.subscribeAsync(Object.fromEntries(this.#conf.topics.map((t) => [t, { qos: this.#conf.qos as 0 | 1 | 2 }]))),
        parseDuration(this.#conf.connect_timeout) ?? 30_000,
        'the subscription',
      );
      const refused = granted.filter((g) => g.qos === 128).map((g) => g.topic);
      if (refused.length) throw new Error(`the broker refused the subscription to ${refused.join(', ')}`);
    } catch (err) {
      c.closed = true;
      client.end(true);
      throw new Error(`mqtt: subscribing at ${redactUrl(url)} failed: ${(err as Error).message}`);
    }
    this.#conn = c;
    this.#ctx.logger.debug('mqtt input connected', { url: redactUrl(url), client_id: this.#clientId, topics: this.#conf.topics.join(',') });
  }

  /** Listeners and hooks of a new client, installed before any packet can arrive. */
  #attach(client: MqttClient, url: string): Conn {
    const internals = client as unknown as { _sendPacket?: SendPacket };
    // mqtt.js has no public way to defer PUBACK/PUBREC without serialising the connection; its
    // internal sender is wrapped instead. Fail loudly if an mqtt.js upgrade removed it.
    if (typeof internals._sendPacket !== 'function') throw new Error('mqtt: this mqtt.js version has no _sendPacket; acknowledgements cannot be deferred');
    const original = internals._sendPacket.bind(client);
    const conn: Conn = { client, url, held: new Map(), send: original, closed: false };
    // mqtt.js sends PUBACK (QoS 1) / PUBREC (QoS 2) as soon as it parsed a PUBLISH. Ours are
    // held until the message is delivered; the client continues at once with other packets.
    internals._sendPacket = (packet, cb, cbStorePut, noStore) => {
      if ((packet.cmd === 'puback' || packet.cmd === 'pubrec') && packet.messageId !== undefined) {
        const h = conn.held.get(packet.messageId);
        if (h && !h.acked) {
          h.packet = packet;
          cb?.();
          return;
        }
        if (h) conn.held.delete(packet.messageId);
      }
      original(packet, cb, cbStorePut, noStore);
    };
    // Publishes are taken at PUBLISH time for every QoS (mqtt.js emits QoS 2 messages only
    // after PUBREL, which the broker sends only once it got our PUBREC).
    client.on('packetreceive', (packet) => {
      if (packet.cmd === 'publish') this.#onPublish(conn, packet);
    });
    // Back pressure for floods of QoS 0 messages: stop reading the socket while too many wait.
    client.handleMessage = (_packet, cb) => {
      if (this.#queue.length < HIGH_WATER) cb();
      else this.#paused.push(() => cb());
    };
    client.on('close', () => {
      if (conn.closed) return;
      conn.closed = true;
      conn.held.clear();
      if (!this.#closing && this.#conn === conn) {
        this.#ctx.logger.warn('mqtt input lost its connection', { url: redactUrl(url) });
      }
      this.#wake();
    });
    return conn;
  }

  #onPublish(conn: Conn, packet: IPublishPacket): void {
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const msg = new Message(payload, mqttMetadata(packet));
    const id = packet.messageId;
    let ack: AckFn = () => {};
    if (packet.qos > 0 && id !== undefined) {
      conn.held.set(id, { acked: false });
      let done = false;
      ack = (err) => {
        // A nack leaves the message unacknowledged: the broker redelivers it (persistent sessions).
        if (err || done) return;
        done = true;
        this.#release(conn, id);
      };
    }
    this.#queue.push({ msg, ack });
    this.#wake();
  }

  #release(conn: Conn, id: number): void {
    const h = conn.held.get(id);
    if (!h) return;
    if (!h.packet) {
      h.acked = true;
      return;
    }
    conn.held.delete(id);
    // An ack for a connection that is gone is dropped: the broker redelivers on the new one.
    if (!conn.closed) conn.send(h.packet);
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }

  /**
   * Nacks are replayed in process (after a short backoff) before anything new, until delivered;
   * with `auto_replay_nacks: false` a nack is acked at the source and the message dropped.
   */
  #handOut(p: Pending): ReadResult {
    const pristine = p.msg.copy();
    let settled = false;
    const ack: AckFn = (err) => {
      if (settled) return;
      settled = true;
      if (!err) {
        this.#replayBackoff.reset();
        return p.ack();
      }
      if (!this.#conf.auto_replay_nacks) return p.ack();
      if (this.#closing) return;
      this.#replays.push({ msg: pristine, ack: p.ack });
      this.#wake();
    };
    return { batch: [p.msg], ack };
  }

  async read(signal: AbortSignal): Promise<ReadResult> {
    for (;;) {
      const r = this.#replays.shift();
      if (r) {
        await sleep(this.#replayBackoff.next(), signal);
        return this.#handOut(r);
      }
      const p = this.#queue.shift();
      if (p) {
        if (this.#paused.length && this.#queue.length < HIGH_WATER / 2) for (const resume of this.#paused.splice(0)) resume();
        return this.#handOut(p);
      }
      // Messages received before a connection loss are still delivered above; then reconnect.
      if (!this.#conn || this.#conn.closed) {
        if (this.#conn) void endClient(this.#conn.client, 0);
        this.#conn = undefined;
        throw notConnected();
      }
      if (signal.aborted) throw signal.reason ?? new Error('aborted');
      await untilWoken(signal, (wake) => (this.#waiter = wake));
    }
  }

  async close(): Promise<void> {
    this.#closing = true;
    const conn = this.#conn;
    this.#conn = undefined;
    this.#queue = [];
    this.#replays = [];
    for (const resume of this.#paused.splice(0)) resume();
    this.#wake();
    if (conn) {
      conn.closed = true;
      await endClient(conn.client, 1000);
    }
  }
}

export const spec = defineInput<MqttInputConfig>({
  name: 'mqtt',
  summary: 'Subscribe to topics on MQTT brokers.',
  description:
    'Connects with MQTT 3.1.1 and subscribes to `topics` (`+` and `#` wildcards allowed). For QoS 1 and 2 the broker is acknowledged only once a message was delivered downstream; with `clean_session: false` and a fixed `client_id`, messages not acknowledged before a disconnect are redelivered by the broker (a clean session discards them). ' +
    'Metadata: `mqtt_duplicate`, `mqtt_qos`, `mqtt_retained`, `mqtt_topic`, `mqtt_message_id`.',
  categories: ['Services'],
  config: field.object('', '', [
    ...mqttClientFields(),
    field.stringList('topics', 'A list of topics to consume from.', { examples: [['sensors/+/temperature', 'alerts/#']] }),
    field.int('qos', 'The level of delivery guarantee to enforce. Has options 0, 1, 2.', { default: 1, advanced: true }),
    field.bool('clean_session', 'Set whether the connection is non-persistent.', { default: true, advanced: true }),
    autoReplayNacksField(),
  ]),
  examples: [
    {
      title: 'Sensor readings',
      config: 'input:\n  mqtt:\n    urls: [ tcp://localhost:1883 ]\n    client_id: readings\n    topics: [ "sensors/+/temperature" ]\n    qos: 1\n',
    },
  ],
  lint: (conf) => [
    ...lintMqttClient(conf),
    ...lintQos('qos', conf.qos),
    ...((conf.topics ?? []).length === 0 ? ['field topics must contain at least one topic'] : []),
    ...(!conf.clean_session && conf.client_id === '' ? ['clean_session: false needs a client_id: the broker keeps the session under that id'] : []),
  ],
  build: (conf, ctx) => new MqttInput(conf, ctx),
});
