/**
 * `http_server` output: serves the stream to HTTP clients under the API's listen path — one
 * message per GET on `path`, a streamed response on `stream_path` (raw lines or Server-Sent
 * Events), and WebSocket frames on `ws_path`.
 *
 * Unlike Bento (whose connected clients compete for messages), every connected client gets
 * every message by default (`delivery: broadcast`); `delivery: round_robin` restores Bento's
 * behaviour. The gateway frames each message once for all subscribers.
 */
import type { Output, ComponentContext } from '../../../engine/component.js';
import { defineOutput } from '../../../engine/component.js';
import type { EgressChannel, EgressOptions, StreamFormat, DeliveryMode, SlowConsumerPolicy, MessageFilter } from '../../../engine/http-host.js';
import type { Batch } from '../../../engine/message.js';
import { field } from '../../../engine/spec.js';
import { parseDuration } from '../../../engine/backoff.js';
import { notConnected } from '../../../engine/errors.js';
import { corsField } from '../../http-common.js';

export interface HttpServerOutputConfig {
  address: string;
  path: string;
  stream_path: string;
  ws_path: string;
  allowed_verbs: string[];
  timeout: string;
  stream_format: StreamFormat;
  heartbeat: string;
  ws_message_type: 'binary' | 'text';
  delivery: DeliveryMode;
  cors: { enabled: boolean; allowed_origins: string[] };
  replay_buffer: { size: number; max_age: string };
  slow_consumer: { policy: SlowConsumerPolicy; max_queue: number; conflate_key: string };
  filters: { bloblang: boolean; fields: string[] };
  sse_event: string;
  ws_compression: boolean;
  ping_period: string;
  pong_wait: string;
  max_connections: number;
  max_connections_per_client: number;
}

class HttpServerOutput implements Output {
  readonly maxInFlight = 64;
  readonly #opts: EgressOptions;
  readonly #ctx: ComponentContext;
  #channel: EgressChannel | undefined;

  constructor(conf: HttpServerOutputConfig, ctx: ComponentContext) {
    this.#ctx = ctx;
    const bl = ctx.bloblang;
    const conflate = conf.slow_consumer.conflate_key ? bl.interpolate(conf.slow_consumer.conflate_key) : undefined;
    const sseEvent = conf.sse_event ? bl.interpolate(conf.sse_event) : undefined;
    this.#opts = {
      path: conf.path,
      streamPath: conf.stream_path,
      wsPath: conf.ws_path,
      allowedVerbs: conf.allowed_verbs,
      timeoutMs: parseDuration(conf.timeout) ?? 5000,
      streamFormat: conf.stream_format,
      heartbeatMs: parseDuration(conf.heartbeat) ?? 0,
      wsMessageType: conf.ws_message_type,
      delivery: conf.delivery,
      softPaths: [conf.path === '/get' ? '/get' : '', conf.stream_path === '/get/stream' ? '/get/stream' : '', conf.ws_path === '/get/ws' ? '/get/ws' : ''].filter(Boolean),
      ...(conf.cors.enabled ? { cors: { allowedOrigins: conf.cors.allowed_origins } } : {}),
      replay: { size: conf.replay_buffer.size, maxAgeMs: parseDuration(conf.replay_buffer.max_age) ?? 0 },
      slowConsumer: {
        policy: conf.slow_consumer.policy,
        maxQueue: conf.slow_consumer.max_queue,
        ...(conflate ? { conflateKey: (b, i) => conflate.render(b, i) } : {}),
      },
      ...(conf.filters.bloblang || conf.filters.fields.length
        ? {
            filters: {
              fields: conf.filters.fields,
              ...(conf.filters.bloblang ? { compileQuery: (q: string): MessageFilter => compileFilter(ctx, q) } : {}),
            },
          }
        : {}),
      ...(sseEvent ? { sseEvent: (b, i) => sseEvent.render(b, i) } : {}),
      pingIntervalMs: parseDuration(conf.ping_period) ?? 54_000,
      pongTimeoutMs: parseDuration(conf.pong_wait) ?? 60_000,
      wsCompression: conf.ws_compression,
      maxConnections: conf.max_connections,
      maxConnectionsPerClient: conf.max_connections_per_client,
    };
    if (conf.address) ctx.logger.warn('http_server address is ignored: the shared listener is used', { address: conf.address });
  }

  async connect(): Promise<void> {
    if (this.#channel) return;
    if (!this.#ctx.http) throw new Error('http_server output needs an HTTP listener, and none is available here');
    this.#channel = this.#ctx.http.addEgress(this.#opts);
  }

  write(batch: Batch): void | Promise<void> {
    if (!this.#channel) throw notConnected();
    return this.#channel.publish(batch);
  }

  async close(): Promise<void> {
    this.#channel?.close();
    this.#channel = undefined;
  }
}

/** A subscriber's Bloblang filter: a query that must return a boolean. Compiled once per distinct filter. */
function compileFilter(ctx: ComponentContext, query: string): MessageFilter {
  const m = ctx.bloblang.compileMapping(query);
  return (batch, i) => m.query(batch, i) === true;
}

export const spec = defineOutput<HttpServerOutputConfig>({
  name: 'http_server',
  summary: 'Serves messages to HTTP, Server-Sent Events and WebSocket clients under the API listen path.',
  description:
    'By default every connected client receives every message (broadcast) and a message nobody is connected for is dropped, as on a pub/sub topic. Set `delivery: round_robin` for Bento\'s behaviour, where clients compete for messages and the stream waits for a client.',
  categories: ['Network'],
  config: field.object('', '', [
    field.string('address', 'Must stay empty: Sluice serves every API on its shared listener.', { default: '', advanced: true }),
    field.string('path', 'Path where each GET returns one message.', { default: '/get' }),
    field.string('stream_path', 'Path of a streamed response, one message after another.', { default: '/get/stream' }),
    field.string('ws_path', 'Path of a WebSocket that receives one frame per message.', { default: '/get/ws' }),
    field.stringList('allowed_verbs', 'Verbs accepted on `path` and `stream_path`.', { default: ['GET'] }),
    field.duration('timeout', 'How long a GET on `path` waits for a message (then 408).', { default: '5s' }),
    field.string('stream_format', '`raw_bytes`: each message followed by a newline; `event_source`: Server-Sent Events.', {
      default: 'raw_bytes',
      options: ['raw_bytes', 'event_source'],
    }),
    field.duration('heartbeat', 'Interval of SSE comment heartbeats (`event_source` only); 0s for none.', { default: '0s' }),
    field.string('ws_message_type', 'Frame type of WebSocket messages.', { default: 'binary', options: ['binary', 'text'] }),
    field.string('delivery', 'Sluice extension. `broadcast`: every client gets every message. `round_robin`: each message goes to one client (Bento behaviour).', {
      default: 'broadcast',
      options: ['broadcast', 'round_robin'],
    }),
    field.string('cert_file', 'Ignored: TLS is configured on the gateway listener.', { default: '', advanced: true }),
    field.string('key_file', 'Ignored: TLS is configured on the gateway listener.', { default: '', advanced: true }),
    corsField(),
    field.duration('write_wait', 'Time allowed to write a WebSocket message.', { default: '10s', advanced: true }),
    field.duration('pong_wait', 'Time allowed to read the next pong.', { default: '60s', advanced: true }),
    field.duration('ping_period', 'Interval of WebSocket pings; a client that has not answered the previous ping by the next is disconnected.', { default: '54s', advanced: true }),
    field.object('replay_buffer', 'Sluice extension. Recent messages kept so that SSE clients resume with `Last-Event-ID` and long-poll clients (`GET path?cursor=`) never miss a message within the window. A client whose id is older gets an explicit `gap` event.', [
      field.int('size', 'Messages kept (0 = no history, no ids).', { default: 1000 }),
      field.duration('max_age', 'Longest time a message is kept (0s = no age limit).', { default: '5m' }),
    ]),
    field.object('slow_consumer', 'Sluice extension. Each subscriber has a bounded send queue; this decides what happens when it is full. Other subscribers are never slowed down.', [
      field.string('policy', '`disconnect`: close the connection (WebSocket code 1013, SSE final `close` event). `drop_oldest`: drop the oldest queued message and tell the client how many it missed (`dropped` event). `conflate`: keep only the latest message per `conflate_key`.', {
        default: 'disconnect',
        options: ['disconnect', 'drop_oldest', 'conflate'],
      }),
      field.int('max_queue', 'Messages queued for one subscriber before the policy applies.', { default: 1024 }),
      field.interp('conflate_key', 'Key of a message for `conflate` (e.g. `${! meta("kafka_key") }`); empty: the message id.', { default: '' }),
    ]),
    field.object('filters', 'Sluice extension. Filters subscribers may pass when they connect; each distinct filter is evaluated once per message.', [
      field.bool('bloblang', 'Allow `?filter=<Bloblang boolean query>`.', { default: false }),
      field.stringList('fields', 'Fields a subscriber may match with `?<field>=<value>` (dotted paths into the JSON message).', { default: [] }),
    ]),
    field.interp('sse_event', 'Sluice extension. SSE `event:` name of each message (interpolated); empty: none.', { default: '', advanced: true }),
    field.bool('ws_compression', 'Sluice extension. Allow permessage-deflate (compresses once per subscriber: costly at high fan-out).', { default: false, advanced: true }),
    field.int('max_connections', 'Sluice extension. Subscribers this output accepts (0 = no limit).', { default: 0, advanced: true }),
    field.int('max_connections_per_client', 'Sluice extension. Subscribers per client (key, or address for keyless APIs); 0 = no limit.', { default: 0, advanced: true }),
  ]),
  examples: [
    {
      title: 'Server-Sent Events and WebSocket',
      config: 'output:\n  http_server:\n    stream_path: /events\n    stream_format: event_source\n    ws_path: /ws\n    ws_message_type: text\n',
    },
  ],
  build: (conf, ctx) => new HttpServerOutput(conf, ctx),
});
