/**
 * What the `mqtt` input and output share: the client fields (same names and defaults as
 * Benthos), URL expansion, client ids, and a connect that tries each URL in turn with a hard
 * timeout. Connections are MQTT 3.1.1 without automatic reconnects: the engine's reconnect loop
 * owns retries, so failures are logged (rate limited) and retried with backoff in one place.
 */
import { randomBytes } from 'node:crypto';
import { connect as mqttConnect, type IClientOptions, type MqttClient } from 'mqtt';
import { field, tlsFields, type FieldSpec } from '../engine/spec.js';
import { parseDuration } from '../engine/backoff.js';
import { clientTls, type TlsConfig } from './tls-common.js';

export interface MqttWillConfig {
  enabled: boolean;
  qos: number;
  retained: boolean;
  topic: string;
  payload: string;
}

export interface MqttClientConfig {
  urls: string[];
  client_id: string;
  dynamic_client_id_suffix?: string;
  connect_timeout: string;
  will: MqttWillConfig;
  user: string;
  password: string;
  keepalive: number;
  tls: TlsConfig;
}

/** The connection fields both components start with, in Benthos' order. */
export function mqttClientFields(): FieldSpec[] {
  return [
    field.stringList('urls', 'A list of URLs to connect to. If an item of the list contains commas it will be expanded into multiple URLs. They are tried in order until one accepts the connection.', {
      examples: [['tcp://localhost:1883']],
    }),
    field.string('client_id', 'An identifier for the client connection. Empty: the broker assigns one (clean sessions only).', { default: '' }),
    field.string('dynamic_client_id_suffix', 'Append a dynamically generated suffix to the specified `client_id` on each run of the pipeline, e.g. when several gateways run the same config. `nanoid`: append a nanoid of length 21 characters.', {
      optional: true,
      advanced: true,
      examples: ['nanoid'],
    }),
    field.duration('connect_timeout', 'The maximum amount of time to wait in order to establish a connection before the attempt is abandoned.', {
      default: '30s',
      examples: ['1s', '500ms'],
    }),
    field.object('will', 'Set last will message in case of gateway failure.', [
      field.bool('enabled', 'Whether to enable last will messages.', { default: false }),
      field.int('qos', 'Set QoS for last will message. Valid values are: 0, 1, 2.', { default: 0 }),
      field.bool('retained', 'Set retained for last will message.', { default: false }),
      field.string('topic', 'Set topic for last will message.', { default: '' }),
      field.string('payload', 'Set payload for last will message.', { default: '' }),
    ], { advanced: true }),
    field.string('user', 'A username to connect with.', { default: '', advanced: true }),
    field.string('password', 'A password to connect with.', { default: '', secret: true, advanced: true }),
    field.int('keepalive', 'Max seconds of inactivity before a keepalive message is sent.', { default: 30, advanced: true }),
    tlsFields(),
  ];
}

const QOS_VALUES = [0, 1, 2];

/** Cross-field checks shared by input and output. */
export function lintMqttClient(conf: MqttClientConfig): string[] {
  const out: string[] = [];
  if (expandUrls(conf.urls ?? []).length === 0) out.push('field urls must contain at least one URL');
  const suffix = conf.dynamic_client_id_suffix;
  if (suffix !== undefined && suffix !== '' && suffix !== 'nanoid') out.push(`unknown dynamic_client_id_suffix "${suffix}"; known: nanoid`);
  if (conf.will && !QOS_VALUES.includes(conf.will.qos)) out.push(`will.qos must be 0, 1 or 2, got ${conf.will.qos}`);
  if (conf.will?.enabled && conf.will.topic === '') out.push('will.topic is required when will.enabled is true');
  if (conf.keepalive < 0) out.push(`keepalive must not be negative, got ${conf.keepalive}`);
  return out;
}

export function lintQos(name: string, qos: number): string[] {
  return QOS_VALUES.includes(qos) ? [] : [`${name} must be 0, 1 or 2, got ${qos}`];
}

/** Splits comma-separated entries and drops empty ones, as Benthos does. */
export function expandUrls(urls: readonly string[]): string[] {
  const out: string[] = [];
  for (const u of urls) {
    for (const part of u.split(',')) {
      const t = part.trim();
      if (t) out.push(t);
    }
  }
  return out;
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';

/** A 21 character URL-safe random id (the nanoid format). */
export function nanoid(size = 21): string {
  const bytes = randomBytes(size);
  let id = '';
  for (let i = 0; i < size; i++) id += ID_ALPHABET[bytes[i]! & 63];
  return id;
}

/** `client_id` plus the dynamic suffix; computed once per component build. */
export function resolveClientId(conf: MqttClientConfig): string {
  return conf.dynamic_client_id_suffix === 'nanoid' ? conf.client_id + nanoid() : conf.client_id;
}

/** Hides credentials in a URL for logs and errors. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

export interface MqttConnectOptions {
  readonly conf: MqttClientConfig;
  readonly clientId: string;
  readonly clean: boolean;
  readonly signal: AbortSignal;
  /** Called with each new client before any packet can arrive (listeners, hooks). */
  readonly setup?: (client: MqttClient, url: string) => void;
}

export interface MqttConnection {
  readonly client: MqttClient;
  readonly url: string;
}

/**
 * Connects to the first URL that accepts, each attempt bounded by `connect_timeout`. Throws one
 * error naming every address tried and why it failed. Never leaves a client behind on failure.
 */
export async function connectMqtt(opts: MqttConnectOptions): Promise<MqttConnection> {
  const urls = expandUrls(opts.conf.urls);
  if (urls.length === 0) throw new Error('mqtt: no URL configured');
  const timeoutMs = parseDuration(opts.conf.connect_timeout) ?? 30_000;
  const base = await clientOptions(opts, timeoutMs);
  const failures: string[] = [];
  for (const url of urls) {
    if (opts.signal.aborted) break;
    try {
      return { client: await connectOne(url, base, timeoutMs, opts), url };
    } catch (err) {
      failures.push(`${redactUrl(url)}: ${(err as Error).message}`);
    }
  }
  if (opts.signal.aborted) throw new Error('mqtt: connect aborted (shutting down)');
  throw new Error(`mqtt: cannot connect to ${failures.join('; ')}`);
}

async function clientOptions(opts: MqttConnectOptions, timeoutMs: number): Promise<IClientOptions> {
  const { conf } = opts;
  const o: IClientOptions = {
    protocolVersion: 4,
    clientId: opts.clientId,
    clean: opts.clean,
    keepalive: conf.keepalive,
    // Our own timer bounds each attempt and names the address; mqtt.js's is only a backstop, set
    // later so the two never race to report the same timeout in different words.
    connectTimeout: timeoutMs + 5_000,
    // The engine owns reconnects (with backoff and rate-limited logs).
    reconnectPeriod: 0,
    resubscribe: false,
    queueQoSZero: false,
  };
  if (conf.user) o.username = conf.user;
  if (conf.password) o.password = conf.password;
  if (conf.will.enabled) {
    o.will = { topic: conf.will.topic, payload: Buffer.from(conf.will.payload), qos: conf.will.qos as 0 | 1 | 2, retain: conf.will.retained };
  }
  const tls = await clientTls(conf.tls);
  if (tls) {
    o.rejectUnauthorized = tls.rejectUnauthorized;
    if (tls.ca) o.ca = tls.ca;
    if (tls.cert) o.cert = tls.cert;
    if (tls.key) o.key = tls.key;
  }
  return o;
}

/** With `tls.enabled`, plain schemes are upgraded to their TLS variants. */
export function effectiveUrl(url: string, tlsEnabled: boolean): string {
  if (!tlsEnabled) return url;
  return url.replace(/^(tcp|mqtt):\/\//i, 'mqtts://').replace(/^ws:\/\//i, 'wss://');
}

function connectOne(url: string, base: IClientOptions, timeoutMs: number, opts: MqttConnectOptions): Promise<MqttClient> {
  return new Promise<MqttClient>((resolve, reject) => {
    let client: MqttClient;
    try {
      client = mqttConnect(effectiveUrl(url, opts.conf.tls.enabled), { ...base });
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    let settled = false;
    let lastError: Error | undefined;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
      client.off('connect', onConnect);
      client.off('close', onClose);
      if (err) {
        client.end(true);
        reject(err);
      } else resolve(client);
    };
    const onConnect = () => finish();
    const onClose = () =>
      finish(
        lastError && /connack timeout/i.test(lastError.message)
          ? new Error(`timed out after ${timeoutMs}ms`)
          : (lastError ?? new Error('connection closed before the broker accepted it')),
      );
    const onAbort = () => finish(new Error('aborted'));
    const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs}ms${lastError ? ` (${lastError.message})` : ''}`)), timeoutMs);
    // An 'error' listener must stay for the client's whole life: without one an error event
    // would throw and take the process down.
    client.on('error', (err) => {
      lastError = err;
      if (!settled && isFatalConnectError(err)) finish(err);
    });
    client.on('connect', onConnect);
    client.on('close', onClose);
    opts.signal.addEventListener('abort', onAbort, { once: true });
    opts.setup?.(client, url);
  });
}

/** CONNACK refusals (bad credentials, identifier rejected...) end the attempt at once. */
function isFatalConnectError(err: Error): boolean {
  return typeof (err as { code?: unknown }).code === 'number' || /refused|not authori[sz]ed|identifier rejected/i.test(err.message);
}

/** Rejects with `what` timed out after `ms` unless `p` settles first. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms}ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Ends a client, waiting at most `ms` for in-flight packets, then forcing it closed. */
export function endClient(client: MqttClient, ms = 2000): Promise<void> {
  return new Promise<void>((resolve) => {
    const t = setTimeout(() => client.end(true, () => resolve()), ms);
    t.unref();
    client.end(!client.connected, () => {
      clearTimeout(t);
      resolve();
    });
  });
}
