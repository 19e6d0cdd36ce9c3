/**
 * `http_server` input: each POST body (or WebSocket frame on `ws_path`) becomes one message.
 * The HTTP response waits for the message's acknowledgement: 200 once the output took it (or the
 * processed message itself when the stream ends in `sync_response`), 502 on a nack, 408 after
 * `timeout`, 429 when the `rate_limit` resource says no, 503 while shutting down.
 */
import type { Input, ReadResult, AckFn, ComponentContext } from '../../../engine/component.js';
import { defineInput } from '../../../engine/component.js';
import type { IngressRequest, IngressResponse, Registration } from '../../../engine/http-host.js';
import type { InterpolatedString } from '../../../engine/bloblang-api.js';
import { Message, type SyncResponseStore } from '../../../engine/message.js';
import { field } from '../../../engine/spec.js';
import { parseDuration, untilWoken } from '../../../engine/backoff.js';
import { notConnected } from '../../../engine/errors.js';
import { corsField, canonicalHeader } from '../../http-common.js';

export interface HttpServerInputConfig {
  address: string;
  path: string;
  ws_path: string;
  ws_welcome_message: string;
  ws_rate_limit_message: string;
  allowed_verbs: string[];
  timeout: string;
  rate_limit: string;
  cors: { enabled: boolean; allowed_origins: string[] };
  cert_file: string;
  key_file: string;
  sync_response: {
    status: string;
    headers: Record<string, string>;
    metadata_headers: { include_prefixes: string[]; include_patterns: string[] };
  };
}

/** Requests waiting to be read, beyond which new ones get 503 instead of piling up. */
const MAX_QUEUED = 4096;

interface Pending {
  readonly msg: Message;
  readonly respond: (r: IngressResponse) => void;
}

class SyncStore implements SyncResponseStore {
  readonly messages: Message[] = [];
  add(m: Message): void {
    this.messages.push(m);
  }
}

class HttpServerInput implements Input {
  readonly #conf: HttpServerInputConfig;
  readonly #ctx: ComponentContext;
  readonly #timeoutMs: number;
  readonly #status: InterpolatedString;
  readonly #headers: [string, InterpolatedString][];
  #reg: Registration | undefined;
  #queue: Pending[] = [];
  #waiter: (() => void) | undefined;
  #closed = false;

  constructor(conf: HttpServerInputConfig, ctx: ComponentContext) {
    this.#conf = conf;
    this.#ctx = ctx;
    this.#timeoutMs = parseDuration(conf.timeout) ?? 5000;
    this.#status = ctx.bloblang.interpolate(conf.sync_response.status);
    this.#headers = Object.entries(conf.sync_response.headers).map(([k, v]) => [k, ctx.bloblang.interpolate(v)]);
  }

  async connect(): Promise<void> {
    if (this.#reg) return;
    if (!this.#ctx.http) throw new Error('http_server input needs an HTTP listener, and none is available here');
    if (this.#conf.address) this.#ctx.logger.warn('http_server address is ignored: the shared listener is used', { address: this.#conf.address });
    this.#reg = this.#ctx.http.addIngress(
      {
        path: this.#conf.path,
        wsPath: this.#conf.ws_path,
        allowedVerbs: this.#conf.allowed_verbs,
        wsWelcomeMessage: this.#conf.ws_welcome_message,
        softPaths: [this.#conf.path === '/post' ? '/post' : '', this.#conf.ws_path === '/post/ws' ? '/post/ws' : ''].filter(Boolean),
        ...(this.#conf.cors.enabled ? { cors: { allowedOrigins: this.#conf.cors.allowed_origins } } : {}),
      },
      (req) => this.#onRequest(req),
    );
  }

  async #onRequest(req: IngressRequest): Promise<IngressResponse> {
    if (this.#closed) return { status: 503, body: 'Service Unavailable' };
    if (this.#conf.rate_limit) {
      const wait = await this.#ctx.resources.get('rate_limit', this.#conf.rate_limit).access();
      if (wait > 0) {
        return {
          status: 429,
          headers: { 'Retry-After': String(Math.ceil(wait / 1000)) },
          body: req.websocket && this.#conf.ws_rate_limit_message ? this.#conf.ws_rate_limit_message : 'Too Many Requests',
        };
      }
    }
    if (this.#queue.length >= MAX_QUEUED) return { status: 503, body: 'Service Unavailable: too many requests waiting' };
    const msg = new Message(req.body, requestMetadata(req));
    const store = new SyncStore();
    msg.context = { syncResponse: store };
    return new Promise<IngressResponse>((resolve) => {
      let settled = false;
      const respond = (r: IngressResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(r);
      };
      const timer = setTimeout(() => respond({ status: 408, body: 'Request timed out' }), this.#timeoutMs);
      this.#queue.push({ msg, respond: (r) => respond(r.status === 200 ? this.#syncReply(store) : r) });
      this.#waiter?.();
    });
  }

  #syncReply(store: SyncStore): IngressResponse {
    const msgs = store.messages;
    if (msgs.length === 0) return { status: 200 };
    const headers: Record<string, string> = {};
    for (const [k, v] of this.#headers) headers[k] = v.render(msgs, 0);
    const { include_prefixes, include_patterns } = this.#conf.sync_response.metadata_headers;
    if (include_prefixes.length || include_patterns.length) {
      const patterns = include_patterns.map((p) => new RegExp(p));
      for (const [k, v] of Object.entries(msgs[0]!.metaStrings())) {
        if (include_prefixes.some((p) => k.startsWith(p)) || patterns.some((r) => r.test(k))) headers[k] = v;
      }
    }
    const status = Number(this.#status.render(msgs, 0)) || 200;
    const body = msgs.length === 1 ? msgs[0]!.bytes() : Buffer.concat(msgs.map((m) => m.bytes()));
    return { status, headers, body };
  }

  async read(signal: AbortSignal): Promise<ReadResult> {
    for (;;) {
      const p = this.#queue.shift();
      if (p) {
        const ack: AckFn = (err) => p.respond(err ? { status: 502, body: err.message } : { status: 200 });
        return { batch: [p.msg], ack };
      }
      if (this.#closed) throw notConnected();
      if (signal.aborted) throw signal.reason ?? new Error('aborted');
      await untilWoken(signal, (wake) => (this.#waiter = () => ((this.#waiter = undefined), wake())));
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#reg?.close();
    this.#reg = undefined;
    for (const p of this.#queue.splice(0)) p.respond({ status: 503, body: 'Service Unavailable: shutting down' });
    this.#waiter?.();
  }
}

/** A malformed escape in a client's cookie must not fail its request: keep the raw value. */
function safeDecode(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

function requestMetadata(req: IngressRequest): Map<string, string> {
  // Built as the Map the message keeps, not as an object converted afterwards.
  const meta = new Map<string, string>([
    ['http_server_user_agent', String(req.headers['user-agent'] ?? '')],
    ['http_server_request_path', req.path],
    ['http_server_verb', req.method],
    ['http_server_remote_ip', req.remoteAddr],
  ]);
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || k === 'cookie') continue;
    meta.set(canonicalHeader(k), Array.isArray(v) ? v.join(',') : v);
  }
  for (const [k, v] of req.query) meta.set(k, v);
  const cookie = req.headers.cookie;
  if (cookie) {
    for (const part of cookie.split(';')) {
      const i = part.indexOf('=');
      if (i > 0) meta.set(part.slice(0, i).trim(), safeDecode(part.slice(i + 1).trim()));
    }
  }
  return meta;
}

export const spec = defineInput<HttpServerInputConfig>({
  name: 'http_server',
  summary: 'Receives messages POSTed to a path of the API (or sent as WebSocket frames to `ws_path`).',
  description:
    'Each request body is one message. The response is sent once the message is delivered: 200 (or the processed message, with a `sync_response` output), 502 when delivery failed, 408 after `timeout`. Paths are relative to the API listen path. Metadata: `http_server_user_agent`, `http_server_request_path`, `http_server_verb`, `http_server_remote_ip`, every header, query parameter and cookie.',
  categories: ['Network'],
  config: field.object('', '', [
    field.string('address', 'Must stay empty: Sluice serves every API on its shared listener.', { default: '', advanced: true }),
    field.string('path', 'Path that accepts messages.', { default: '/post' }),
    field.string('ws_path', 'Path of a WebSocket whose frames are messages.', { default: '/post/ws' }),
    field.string('ws_welcome_message', 'Sent to a WebSocket publisher when it connects.', { default: '', advanced: true }),
    field.string('ws_rate_limit_message', 'Sent to a WebSocket publisher that hits the rate limit.', { default: '', advanced: true }),
    field.stringList('allowed_verbs', 'HTTP verbs accepted on `path`.', { default: ['POST'] }),
    field.duration('timeout', 'How long a request waits for its message to be delivered.', { default: '5s' }),
    field.string('rate_limit', 'Label of a rate_limit resource applied to requests.', { default: '' }),
    field.string('cert_file', 'Ignored: TLS is configured on the gateway listener.', { default: '', advanced: true }),
    field.string('key_file', 'Ignored: TLS is configured on the gateway listener.', { default: '', advanced: true }),
    corsField(),
    field.object('sync_response', 'The response returned when the stream ends in a `sync_response` output.', [
      field.interp('status', 'Status code of the response.', { default: '200' }),
      field.stringMap('headers', 'Response headers (interpolated).', { default: { 'Content-Type': 'application/octet-stream' }, interpolated: true }),
      field.object('metadata_headers', 'Metadata keys sent as response headers.', [
        field.stringList('include_prefixes', 'Keys with these prefixes.', { default: [] }),
        field.stringList('include_patterns', 'Keys matching these regular expressions.', { default: [] }),
      ]),
    ], { advanced: true }),
  ]),
  examples: [
    {
      title: 'Publish by HTTP POST',
      config: 'input:\n  http_server:\n    path: /publish\noutput:\n  http_server:\n    stream_path: /events\n    stream_format: event_source\n',
    },
  ],
  build: (conf, ctx) => new HttpServerInput(conf, ctx),
});
