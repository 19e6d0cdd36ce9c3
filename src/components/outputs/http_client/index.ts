/**
 * `http_client` output: sends each message (or batch) to an HTTP server — the generic webhook.
 *
 * One request per message; a batch goes as one multipart/mixed request with
 * `batch_as_multipart`, else as one request per message, in order. A write resolves once every
 * request succeeded (2xx or `successful_on`); after `retries` it fails and the batch is nacked
 * back to the input (which, with `auto_replay_nacks`, sends it again: back pressure, no loss).
 * `drop_on` statuses fail at once without retries. With `propagate_response` the response
 * bodies become the synchronous response of the input (e.g. `http_server`).
 */
import type { ComponentContext, Output } from '../../../engine/component.js';
import { defineOutput } from '../../../engine/component.js';
import type { Batch, Message, SyncResponseStore } from '../../../engine/message.js';
import { field, batchingFields, maxInFlightField } from '../../../engine/spec.js';
import { withBatching, type BatchingConfig } from '../../../engine/batching.js';
import { HttpClient, httpClientFields, type HttpClientConfig, type MultipartFieldConfig } from '../../http-client-common.js';

export interface HttpClientOutputConfig extends HttpClientConfig {
  batch_as_multipart: boolean;
  propagate_response: boolean;
  max_in_flight: number;
  batching: BatchingConfig;
  multipart: MultipartFieldConfig[];
}

class HttpClientOutput implements Output {
  readonly maxInFlight: number;
  readonly #conf: HttpClientOutputConfig;
  readonly #client: HttpClient;
  readonly #closing = new AbortController();

  constructor(conf: HttpClientOutputConfig, ctx: ComponentContext) {
    this.#conf = conf;
    this.maxInFlight = Math.max(1, conf.max_in_flight);
    this.#client = new HttpClient(conf, ctx, { multipart: conf.multipart });
  }

  async connect(): Promise<void> {
    // HTTP needs no session: connection problems surface per request, naming the URL.
  }

  async write(batch: Batch): Promise<void> {
    if (batch.length === 0) return;
    const signal = this.#closing.signal;
    if (batch.length === 1 || this.#conf.batch_as_multipart) {
      const res = await this.#client.send(batch, signal);
      if (this.#conf.propagate_response) propagate(batch, this.#client.responseMessages(res));
      return;
    }
    for (const m of batch) {
      const res = await this.#client.send([m], signal);
      if (this.#conf.propagate_response) propagate([m], this.#client.responseMessages(res));
    }
  }

  async close(): Promise<void> {
    this.#closing.abort();
    this.#client.close();
  }
}

/** Hands the response messages to the sync-response store of each transaction in the batch. */
function propagate(batch: Batch, responses: Message[]): void {
  const stores = new Set<SyncResponseStore>();
  for (const m of batch) if (m.context?.syncResponse) stores.add(m.context.syncResponse);
  for (const s of stores) for (const r of responses) s.add(r);
}

export const spec = defineOutput<HttpClientOutputConfig>({
  name: 'http_client',
  summary: 'Sends messages to an HTTP server (webhooks), with retries, auth and batching.',
  description:
    'The request body is the message. A batch is sent as individual requests, or as one RFC 1341 multipart request with `batch_as_multipart`. ' +
    'Statuses in `backoff_on` are retried with growing waits, other failures every `retry_period`, `drop_on` statuses fail at once; after `retries` the message is rejected (nacked) and the input decides what happens next (by default: sent again, applying back pressure). ' +
    '`url` and `headers` support interpolation per message.',
  categories: ['Network'],
  config: field.object('', '', [
    ...httpClientFields('POST'),
    field.bool('batch_as_multipart', 'Send a batch as one multipart request instead of one request per message.', { default: false, advanced: true }),
    field.bool('propagate_response', 'Return the response to the input as its synchronous response (http_server + sync responses).', { default: false, advanced: true }),
    maxInFlightField(64),
    batchingFields(),
    field.objectList('multipart', 'EXPERIMENTAL: explicit parts of a multipart/form-data request; when set they replace the default body.', [
      field.interp('content_type', 'Content type of the part.', { default: '', examples: ['application/bin'] }),
      field.interp('content_disposition', 'Content disposition of the part.', { default: '', examples: ['form-data; name="bin"; filename="${! @AttachmentName }"'] }),
      field.interp('body', 'Body of the part.', { default: '', examples: ['${! this.data.part1 }'] }),
    ], { default: [], advanced: true }),
  ]),
  lint: (c) => {
    const out: string[] = [];
    if (c.oauth2?.enabled && !c.oauth2.token_url) out.push('oauth2.token_url is required when oauth2 is enabled');
    if (c.jwt?.enabled && !c.jwt.private_key_file) out.push('jwt.private_key_file is required when jwt is enabled');
    return out;
  },
  examples: [
    {
      title: 'Webhook with retries and OAuth 2',
      config:
        'output:\n  http_client:\n    url: https://hooks.example.com/events\n    verb: POST\n    headers:\n      Content-Type: application/json\n    retries: 5\n    backoff_on: [429, 503]\n    drop_on: [400]\n    oauth2:\n      enabled: true\n      token_url: https://auth.example.com/oauth/token\n      client_key: ${CLIENT_ID}\n      client_secret: ${CLIENT_SECRET}\n',
    },
  ],
  build: (conf, ctx) => withBatching(new HttpClientOutput(conf, ctx), conf.batching, ctx),
});
