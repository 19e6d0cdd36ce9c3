/**
 * `http` processor: sends each message (or the batch, as multipart) to an HTTP server and
 * replaces the content with the response body, keeping the message's metadata and adding
 * `http_status_code` and the response headers `extract_headers` selects. A request that still
 * fails after its retries leaves the message unchanged and flagged (with `http_status_code`
 * when a response was received), for `catch`/`try` to handle. Use `branch` to keep the
 * original content.
 */
import type { ComponentContext, Processor } from '../../../engine/component.js';
import { defineProcessor } from '../../../engine/component.js';
import type { Batch, Message } from '../../../engine/message.js';
import { field } from '../../../engine/spec.js';
import { rateLimitedLog } from '../../../engine/logger.js';
import { HttpClient, HttpStatusError, httpClientFields, type HttpClientConfig } from '../../http-client-common.js';

export interface HttpProcessorConfig extends HttpClientConfig {
  batch_as_multipart: boolean;
  parallel: boolean;
}

class HttpProcessor implements Processor {
  readonly #conf: HttpProcessorConfig;
  readonly #client: HttpClient;
  readonly #ctx: ComponentContext;
  readonly #closing = new AbortController();
  readonly #rateLog = rateLimitedLog();

  constructor(conf: HttpProcessorConfig, ctx: ComponentContext) {
    this.#conf = conf;
    this.#ctx = ctx;
    this.#client = new HttpClient(conf, ctx);
  }

  async process(batch: Batch): Promise<Batch[]> {
    if (batch.length === 0) return [];
    if (batch.length > 1 && this.#conf.batch_as_multipart) return [await this.#multipart(batch)];
    if (this.#conf.parallel && batch.length > 1) {
      const results = await Promise.all(batch.map((m) => this.#one(m)));
      return [results.flat()];
    }
    const out: Message[] = [];
    for (const m of batch) out.push(...(await this.#one(m)));
    return [out];
  }

  /** One request for one message: its content becomes the response (one message per response part). */
  async #one(msg: Message): Promise<Message[]> {
    try {
      const res = await this.#client.send([msg], this.#closing.signal);
      return this.#client.responseMessages(res).map((r) => merge(msg, r));
    } catch (err) {
      return [this.#failed(msg, err)];
    }
  }

  async #multipart(batch: Batch): Promise<Batch> {
    try {
      const res = await this.#client.send(batch, this.#closing.signal);
      const parts = this.#client.responseMessages(res);
      // One response part per message: each message gets its own; otherwise the parts are the result.
      if (parts.length === batch.length) return batch.map((m, i) => merge(m, parts[i]!));
      if (parts.length === 0) throw new Error(`HTTP response from ${this.#client.describeUrl(batch)} was empty`);
      return parts.map((p) => merge(batch[0]!, p));
    } catch (err) {
      return batch.map((m) => this.#failed(m, err));
    }
  }

  #failed(msg: Message, err: unknown): Message {
    const m = msg.copy();
    if (err instanceof HttpStatusError) m.metaSet('http_status_code', err.status);
    this.#rateLog('failed', () => this.#ctx.logger.error('HTTP request failed', { error: err instanceof Error ? err.message : String(err) }));
    return m.setError(err, this.#ctx.path);
  }

  async close(): Promise<void> {
    this.#closing.abort();
    this.#client.close();
  }
}

/** The original message (metadata kept) with the response's content and metadata. */
function merge(orig: Message, res: Message): Message {
  const m = orig.copy().setBytes(res.bytes());
  for (const [k, v] of res.metaEntries()) m.metaSet(k, v);
  return m;
}

export const spec = defineProcessor<HttpProcessorConfig>({
  name: 'http',
  summary: 'Sends each message to an HTTP server and replaces its content with the response body.',
  description:
    '2xx responses (and `successful_on`) succeed; `backoff_on` statuses are retried with growing waits, `drop_on` fail at once, anything else is retried every `retry_period` up to `retries` times. ' +
    'On failure the message passes on unchanged and flagged, with metadata `http_status_code` when the server answered. ' +
    'Metadata of the message is kept; `http_status_code` and the headers selected by `extract_headers` are added. Wrap it in `branch` to merge the response into the original instead.',
  categories: ['Integration'],
  config: field.object('', '', [
    ...httpClientFields('POST'),
    field.bool('batch_as_multipart', 'Send a batch as one multipart request.', { default: false, advanced: true }),
    field.bool('parallel', 'Send the messages of a batch in parallel instead of one after another.', { default: false }),
  ]),
  lint: (c) => {
    const out: string[] = [];
    if (c.oauth2?.enabled && !c.oauth2.token_url) out.push('oauth2.token_url is required when oauth2 is enabled');
    if (c.jwt?.enabled && !c.jwt.private_key_file) out.push('jwt.private_key_file is required when jwt is enabled');
    return out;
  },
  examples: [
    {
      title: 'Enrich with a lookup, keeping the original',
      config:
        'pipeline:\n  processors:\n    - branch:\n        request_map: |\n          meta user_id = this.user_id\n          root = ""\n        processors:\n          - http:\n              url: https://api.example.com/users/${! @user_id }\n              verb: GET\n        result_map: root.user = this\n',
    },
  ],
  build: (conf, ctx) => new HttpProcessor(conf, ctx),
});
