/**
 * `http_client` input: polls an HTTP endpoint, one request per read (throttled by `rate_limit`,
 * retried per the status rules), or with `stream.enabled` keeps one request open and splits
 * its body into messages with a scanner, reconnecting when it ends (`stream.reconnect`).
 *
 * `url`, `headers` and `payload` are interpolated against the previous message read, which
 * allows simple pagination. Each message carries `http_status_code` and the response headers
 * picked by `extract_headers`. HTTP has no redelivery: nacked messages are replayed locally
 * (`auto_replay_nacks`).
 */
import type { ComponentContext, Input, ReadResult } from '../../../engine/component.js';
import { defineInput } from '../../../engine/component.js';
import { Message } from '../../../engine/message.js';
import { field, autoReplayNacksField } from '../../../engine/spec.js';
import { autoReplayNacks, noopAck } from '../../../engine/acks.js';
import { endOfInput, notConnected } from '../../../engine/errors.js';
import { HttpClient, httpClientFields, type HttpClientConfig, type StreamResponse } from '../../http-client-common.js';
import { createScanner, lintScanner, scannerField, type Scanner, type ScannerConfig } from './scanner.js';

export interface HttpClientInputConfig extends HttpClientConfig {
  payload?: string;
  drop_empty_bodies: boolean;
  stream: { enabled: boolean; reconnect: boolean; scanner: ScannerConfig };
  auto_replay_nacks: boolean;
}

/** The input without the nack replay wrapper (exported for tests). */
export class HttpClientInput implements Input {
  readonly #conf: HttpClientInputConfig;
  readonly #client: HttpClient;
  readonly #closing = new AbortController();
  /** The last message read: the context for interpolating the next request. */
  #prev: Message = new Message();
  #res: StreamResponse | undefined;
  #scanner: Scanner | undefined;
  #ended = false;

  constructor(conf: HttpClientInputConfig, ctx: ComponentContext) {
    this.#conf = conf;
    this.#client = new HttpClient(conf, ctx, { input: true, payload: conf.payload });
  }

  async connect(signal: AbortSignal): Promise<void> {
    if (!this.#conf.stream.enabled || this.#scanner) return;
    const both = AbortSignal.any([signal, this.#closing.signal]);
    const res = await this.#client.openStream([this.#prev], both);
    this.#res = res;
    this.#scanner = createScanner(this.#conf.stream.scanner, res.body);
  }

  async read(signal: AbortSignal): Promise<ReadResult> {
    const both = AbortSignal.any([signal, this.#closing.signal]);
    return this.#conf.stream.enabled ? this.#readStream(both) : this.#poll(both);
  }

  async #poll(signal: AbortSignal): Promise<ReadResult> {
    for (;;) {
      const res = await this.#client.send([this.#prev], signal);
      let batch = this.#client.responseMessages(res);
      if (this.#conf.drop_empty_bodies) batch = batch.filter((m) => m.bytes().byteLength > 0);
      if (batch.length === 0) {
        if (signal.aborted) throw new Error('aborted');
        continue;
      }
      this.#prev = batch[batch.length - 1]!;
      return { batch, ack: noopAck };
    }
  }

  async #readStream(signal: AbortSignal): Promise<ReadResult> {
    if (this.#ended) throw endOfInput();
    const scanner = this.#scanner;
    const res = this.#res;
    if (!scanner || !res) throw notConnected();
    let chunk: Buffer | null;
    try {
      chunk = await scanner.next(signal);
    } catch (err) {
      this.#dropStream();
      if (signal.aborted) throw err;
      throw notConnected(err);
    }
    if (chunk === null) {
      this.#dropStream();
      if (this.#conf.stream.reconnect) throw notConnected(new Error(`the stream from ${this.#client.describeUrl([this.#prev])} ended`));
      this.#ended = true;
      throw endOfInput();
    }
    const msg = new Message(Buffer.from(chunk));
    msg.metaSet('http_status_code', res.status);
    this.#client.annotate(msg, res.headers);
    this.#prev = msg;
    return { batch: [msg], ack: noopAck };
  }

  #dropStream(): void {
    this.#res?.destroy();
    this.#res = undefined;
    this.#scanner = undefined;
  }

  async close(): Promise<void> {
    this.#closing.abort();
    this.#dropStream();
    this.#client.close();
  }
}

export const spec = defineInput<HttpClientInputConfig>({
  name: 'http_client',
  summary: 'Polls an HTTP server for messages, or consumes a streamed response line by line.',
  description:
    'Without `stream`, every read makes one request (throttle it with `rate_limit`) and the response body is the message (each part of a multipart response is one). ' +
    'With `stream.enabled` one request is kept open and its body is split by the `scanner`; when it ends the request is made again (`stream.reconnect`). ' +
    '`url`, `headers` and `payload` are interpolated against the previous message, for simple pagination. Metadata: `http_status_code` and the headers selected by `extract_headers`.',
  categories: ['Network'],
  config: field.object('', '', [
    ...httpClientFields('GET'),
    field.interp('payload', 'A body sent with each request.', { optional: true }),
    field.bool('drop_empty_bodies', 'Skip responses with an empty body.', { default: true, advanced: true }),
    field.object('stream', 'Streaming mode: one long-lived request whose body is split into messages.', [
      field.bool('enabled', 'Whether streaming mode is used.', { default: false }),
      field.bool('reconnect', 'Make the request again when the stream ends.', { default: true }),
      scannerField(),
    ]),
    autoReplayNacksField(),
  ]),
  lint: (c) => {
    const out: string[] = [];
    if (c.stream?.enabled) out.push(...lintScanner(c.stream.scanner, 'stream.scanner'));
    if (c.oauth2?.enabled && !c.oauth2.token_url) out.push('oauth2.token_url is required when oauth2 is enabled');
    if (c.jwt?.enabled && !c.jwt.private_key_file) out.push('jwt.private_key_file is required when jwt is enabled');
    return out;
  },
  examples: [
    {
      title: 'Poll an API once a minute',
      config:
        'input:\n  http_client:\n    url: https://api.example.com/events?since=${! @last_id | "0" }\n    verb: GET\n    rate_limit: every_minute\nrate_limit_resources:\n  - label: every_minute\n    local:\n      count: 1\n      interval: 60s\n',
    },
    {
      title: 'Consume a streamed feed line by line',
      config: 'input:\n  http_client:\n    url: https://stream.example.com/feed\n    stream:\n      enabled: true\n      scanner:\n        lines: {}\n',
    },
  ],
  build: (conf, ctx) => autoReplayNacks(new HttpClientInput(conf, ctx), conf.auto_replay_nacks),
});
