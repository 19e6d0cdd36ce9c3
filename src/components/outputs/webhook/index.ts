/**
 * `webhook` output: delivers each message to a subscriber endpoint as a signed Standard
 * Webhooks request, retrying with backoff, with a circuit breaker per endpoint, a dead-letter
 * output and a delivery log.
 *
 * Per message (the messages of a batch are delivered concurrently):
 * 1. The URL, headers and `webhook-id` are rendered once; the id stays the same across attempts.
 * 2. Each attempt asks the endpoint's circuit breaker (`circuit.ts`) for a permit. A refused
 *    attempt is not sent; it counts as an attempt that failed with "circuit breaker open" (or,
 *    with `dead_letter_on_open`, sends the message to the dead-letter output at once).
 * 3. A sent attempt carries `webhook-id`, a fresh `webhook-timestamp` and a `webhook-signature`
 *    with one `v1,` signature per secret (`signature.ts`), plus the configured auth.
 * 4. 2xx → delivered. A `retry_on` status or a network error/timeout → retried after the
 *    backoff of `retry.ts` (or the response's `Retry-After`), up to `max_attempts` attempts.
 *    Any other status (4xx, 3xx when redirects are not followed) fails at once.
 * 5. After the last failure the message goes to `dead_letter` with metadata `webhook_error`,
 *    `webhook_attempts`, `webhook_status` (and `webhook_id`, `webhook_url`); the write then
 *    succeeds, so the input acks it. Without a dead-letter output the write fails and the input
 *    nacks it (redelivers, with its usual settings).
 *
 * A write resolves once every message of the batch was delivered or dead-lettered. Waits
 * between attempts are cancellable sleeps: `close()` aborts them and any request in flight, and
 * the messages still being retried fail (they are nacked, so at-least-once inputs redeliver
 * them). Each final outcome is recorded in the output's delivery log (`delivery-log.ts`), logged
 * at debug level and set as metadata on the message (`webhook_outcome` and the keys above).
 */
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import type { ComponentContext, Output } from '../../../engine/component.js';
import { defineOutput } from '../../../engine/component.js';
import type { InterpolatedString } from '../../../engine/bloblang-api.js';
import type { Batch, Message } from '../../../engine/message.js';
import { metaToString } from '../../../engine/message.js';
import type { Logger } from '../../../engine/logger.js';
import { rateLimitedLog } from '../../../engine/logger.js';
import { field, maxInFlightField, tlsFields } from '../../../engine/spec.js';
import { parseDuration, sleep } from '../../../engine/backoff.js';
import {
  Authenticator,
  HttpRequestError,
  HttpStatusError,
  MetadataFilter,
  Transport,
  authFields,
  classifyStatus,
  errText,
  metadataFilterField,
  redactUrl,
  statusRules,
  tlsOptions,
  type AuthConfig,
  type MetadataFilterConfig,
  type StatusRules,
  type TlsConfig,
} from '../../http-client-common.js';
import { safeWebhookId, secretKey, secretProblem, webhookHeaders } from './signature.js';
import { JITTERS, nextWait, parseRetryAfter, type Jitter, type RetrySchedule } from './retry.js';
import { CircuitBreakers, endpointKey, type CircuitState } from './circuit.js';
import { DeliveryLog, registerDeliveryLog, type DeliveryOutcome, type WebhookDelivery } from './delivery-log.js';

export { verifyWebhook, signV1, signatureHeader, secretKey } from './signature.js';
export { webhookDeliveryLog, webhookOutputs, type WebhookDelivery, type WebhookOutputKey, type DeliveryOutcome } from './delivery-log.js';

export interface WebhookRetriesConfig {
  max_attempts: number;
  initial_interval: string;
  max_interval: string;
  multiplier: number;
  jitter: string;
  retry_on: number[];
  retry_network_errors: boolean;
  honor_retry_after: boolean;
}

export interface WebhookCircuitBreakerConfig {
  failure_threshold: number;
  open_for: string;
}

export interface WebhookOutputConfig extends AuthConfig {
  url: string;
  verb: string;
  headers: Record<string, string>;
  content_type: string;
  id: string;
  secrets: string[];
  metadata: MetadataFilterConfig;
  timeout: string;
  follow_redirects: boolean;
  retries: WebhookRetriesConfig;
  circuit_breaker: WebhookCircuitBreakerConfig;
  /** A validated output node, built through `ctx.build.output`. */
  dead_letter?: unknown;
  dead_letter_on_open: boolean;
  max_in_flight: number;
  delivery_log_size: number;
  tls: TlsConfig;
  proxy_url?: string;
}

export const DEFAULT_RETRY_ON: readonly number[] = [408, 425, 429, 500, 502, 503, 504];

/** Why a message was not delivered: what the delivery log and the metadata report. */
class DeliveryFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookDeliveryError';
  }
}

interface Prepared {
  readonly url: URL;
  readonly where: string;
  readonly key: string;
  readonly headers: http.OutgoingHttpHeaders;
}

interface Progress {
  readonly id: string;
  readonly started: number;
  where: string;
  attempts: number;
  status: number;
  lastError: string;
}

/** Settles with the outcome; rejects only when the message was neither delivered nor dead-lettered. */
type Delivery = Promise<void>;

function ms(text: string, fallback: number): number {
  return parseDuration(text) ?? fallback;
}

class WebhookOutput implements Output {
  readonly maxInFlight: number;
  readonly #conf: WebhookOutputConfig;
  readonly #log: Logger;
  readonly #warn = rateLimitedLog();
  readonly #url: InterpolatedString;
  readonly #staticUrl: URL | undefined;
  readonly #headers: readonly { readonly name: string; readonly value: InterpolatedString }[];
  readonly #hasContentType: boolean;
  readonly #id: InterpolatedString | undefined;
  readonly #keys: readonly Buffer[];
  readonly #meta: MetadataFilter;
  readonly #verb: string;
  readonly #timeoutMs: number;
  readonly #schedule: RetrySchedule;
  readonly #maxAttempts: number;
  readonly #rules: StatusRules;
  readonly #transport: Transport;
  readonly #auth: Authenticator;
  readonly #breakers: CircuitBreakers;
  readonly #deadLetter: Output | undefined;
  readonly #deliveries: DeliveryLog;
  readonly #unregister: () => void;
  readonly #closing = new AbortController();
  readonly #inFlight = new Set<Delivery>();

  constructor(conf: WebhookOutputConfig, ctx: ComponentContext, deadLetter: Output | undefined) {
    this.#conf = conf;
    this.#log = ctx.logger;
    this.maxInFlight = Math.max(1, conf.max_in_flight);
    this.#url = ctx.bloblang.interpolate(conf.url);
    if (this.#url.isStatic) {
      try {
        this.#staticUrl = new URL(conf.url);
      } catch {
        throw new Error(`url ${JSON.stringify(redactUrl(conf.url))} is not a valid URL`);
      }
    }
    this.#headers = Object.entries(conf.headers).map(([name, v]) => ({ name, value: ctx.bloblang.interpolate(v) }));
    this.#hasContentType = Object.keys(conf.headers).some((k) => k.toLowerCase() === 'content-type');
    this.#id = conf.id ? ctx.bloblang.interpolate(conf.id) : undefined;
    this.#keys = conf.secrets.map((s, i) => {
      try {
        return secretKey(s);
      } catch {
        throw new Error(`secrets[${i}] ${secretProblem(s) ?? 'is invalid'}`);
      }
    });
    if (this.#keys.length === 0) ctx.logger.warn('webhook requests are not signed: no secrets are configured', { url: this.#describe() });
    this.#meta = new MetadataFilter(conf.metadata);
    this.#verb = conf.verb.toUpperCase();
    this.#timeoutMs = ms(conf.timeout, 10_000);
    const r = conf.retries;
    this.#schedule = {
      initialMs: ms(r.initial_interval, 1000),
      maxMs: ms(r.max_interval, 300_000),
      multiplier: r.multiplier,
      jitter: (JITTERS as readonly string[]).includes(r.jitter) ? (r.jitter as Jitter) : 'equal',
    };
    this.#maxAttempts = Math.max(1, r.max_attempts);
    // Reuses the HTTP clients' classification: 2xx succeed, `retry_on` statuses are retried
    // ("backoff"), everything else fails at once.
    this.#rules = statusRules({ backoff_on: r.retry_on, drop_on: [], successful_on: [] });
    this.#transport = new Transport({ tls: tlsOptions(conf.tls), proxyUrl: conf.proxy_url || undefined });
    this.#auth = new Authenticator(conf, this.#transport, this.#timeoutMs);
    this.#breakers = new CircuitBreakers({
      threshold: conf.circuit_breaker.failure_threshold,
      openForMs: ms(conf.circuit_breaker.open_for, 30_000),
      onChange: (key, from, to) => this.#circuitChanged(key, from, to),
    });
    this.#deadLetter = deadLetter;
    this.#deliveries = new DeliveryLog(conf.delivery_log_size);
    this.#unregister = registerDeliveryLog({ stream: ctx.stream, path: ctx.path }, this.#deliveries);
  }

  /** The latest final outcomes, oldest first. */
  deliveries(): WebhookDelivery[] {
    return this.#deliveries.entries();
  }

  async connect(signal: AbortSignal): Promise<void> {
    // HTTP needs no session; the dead-letter output may.
    await this.#deadLetter?.connect(signal);
  }

  write(batch: Batch): Promise<void> {
    if (batch.length === 0) return Promise.resolve();
    if (batch.length === 1) return this.#track(this.#deliver(batch, 0));
    return Promise.allSettled(batch.map((_m, i) => this.#track(this.#deliver(batch, i)))).then((results) => {
      for (const r of results) if (r.status === 'rejected') throw r.reason;
    });
  }

  async close(): Promise<void> {
    this.#closing.abort();
    // Requests and backoff sleeps end at once on abort; a dead-letter write may take longer.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.#inFlight]),
      new Promise<void>((r) => {
        timer = setTimeout(r, 5000);
      }),
    ]);
    clearTimeout(timer);
    this.#transport.close();
    this.#unregister();
    await this.#deadLetter?.close();
  }

  #track(d: Delivery): Delivery {
    this.#inFlight.add(d);
    const forget = () => this.#inFlight.delete(d);
    d.then(forget, forget);
    return d;
  }

  #describe(batch: Batch = [], index = 0): string {
    try {
      return redactUrl(this.#staticUrl ?? this.#url.render(batch, index));
    } catch {
      return '(url)';
    }
  }

  #circuitChanged(key: string, from: CircuitState, to: CircuitState): void {
    const endpoint = redactUrl(key);
    if (to === 'open') this.#log.warn('webhook circuit breaker opened: requests to the endpoint are paused', { endpoint, from, open_for: this.#conf.circuit_breaker.open_for });
    else if (to === 'closed') this.#log.info('webhook circuit breaker closed: the endpoint answers again', { endpoint });
    else this.#log.debug('webhook circuit breaker half-open: probing the endpoint', { endpoint });
  }

  #messageId(batch: Batch, index: number): string {
    if (this.#id) {
      const v = this.#id.render(batch, index);
      if (v !== '') return safeWebhookId(v);
    }
    return 'msg_' + randomBytes(16).toString('base64url');
  }

  #prepare(batch: Batch, index: number): Prepared {
    let raw: string;
    try {
      raw = this.#staticUrl ? this.#staticUrl.toString() : this.#url.render(batch, index);
    } catch (err) {
      throw new DeliveryFailure(`cannot render url: ${errText(err)}`);
    }
    let url: URL;
    try {
      url = this.#staticUrl ?? new URL(raw);
    } catch {
      throw new DeliveryFailure(`url ${JSON.stringify(redactUrl(raw))} is not a valid URL`);
    }
    const headers: http.OutgoingHttpHeaders = {};
    const msg = batch[index]!;
    if (!this.#meta.empty) for (const [k, v] of msg.metaEntries()) if (this.#meta.match(k)) headers[k] = metaToString(v);
    try {
      for (const h of this.#headers) headers[h.name] = h.value.render(batch, index);
    } catch (err) {
      throw new DeliveryFailure(`cannot render headers: ${errText(err)}`);
    }
    if (!this.#hasContentType && this.#conf.content_type) headers['content-type'] = this.#conf.content_type;
    return { url, where: redactUrl(url), key: endpointKey(url), headers };
  }

  async #deliver(batch: Batch, index: number): Delivery {
    const msg = batch[index]!;
    let id: string;
    try {
      id = this.#messageId(batch, index);
    } catch (err) {
      id = 'msg_' + randomBytes(16).toString('base64url');
      const p: Progress = { id, started: Date.now(), where: this.#describe(batch, index), attempts: 0, status: 0, lastError: `cannot render id: ${errText(err)}` };
      return this.#giveUp(msg, p);
    }
    const p: Progress = { id, started: Date.now(), where: this.#describe(batch, index), attempts: 0, status: 0, lastError: '' };
    let req: Prepared;
    try {
      req = this.#prepare(batch, index);
    } catch (err) {
      p.lastError = errText(err);
      return this.#giveUp(msg, p);
    }
    p.where = req.where;
    const signal = this.#closing.signal;
    const body = msg.bytes();
    for (;;) {
      if (signal.aborted) return this.#cancelled(msg, p);
      p.attempts++;
      let retryAfter: number | undefined;
      let circuitWait = 0;
      const permit = this.#breakers.acquire(req.key);
      if (!permit.allowed) {
        p.lastError = `circuit breaker ${permit.state === 'open' ? 'open' : 'half-open, probe in flight'} for ${redactUrl(req.key)}`;
        if (this.#conf.dead_letter_on_open && this.#deadLetter) return this.#giveUp(msg, p);
        // Wake just after the circuit half-opens (timers may fire a millisecond early), to be its probe.
        circuitWait = permit.retryInMs === undefined ? 0 : permit.retryInMs + 5;
      } else {
        let retriable: boolean;
        try {
          const headers: http.OutgoingHttpHeaders = { ...req.headers, ...webhookHeaders(this.#keys, id, Math.floor(Date.now() / 1000), body) };
          await this.#auth.apply(headers, this.#verb, req.url.toString(), signal, body);
          const res = await this.#transport.request({ url: req.url, method: this.#verb, headers, body, timeoutMs: this.#timeoutMs, signal, followRedirects: this.#conf.follow_redirects });
          p.status = res.status;
          const cls = classifyStatus(res.status, this.#rules);
          if (cls === 'success') {
            permit.done(true);
            p.lastError = '';
            return this.#finish(msg, p, 'delivered');
          }
          retriable = cls === 'backoff';
          // Only what would be retried says the endpoint is unwell; a 4xx shows it is up.
          permit.done(!retriable);
          if (res.status === 401) this.#auth.unauthorized();
          p.lastError = new HttpStatusError(req.where, res.status, res.statusText, res.body, res.headers).message;
          if (retriable && this.#conf.retries.honor_retry_after) retryAfter = parseRetryAfter(res.headers['retry-after']);
        } catch (err) {
          if (signal.aborted) {
            permit.cancel();
            return this.#cancelled(msg, p);
          }
          permit.done(false);
          p.lastError = errText(err);
          retriable = this.#conf.retries.retry_network_errors && err instanceof HttpRequestError;
        }
        if (!retriable) return this.#giveUp(msg, p);
      }
      if (p.attempts >= this.#maxAttempts) return this.#giveUp(msg, p);
      const wait = Math.max(nextWait(this.#schedule, p.attempts, retryAfter), circuitWait);
      this.#log.trace('webhook attempt failed, retrying', { url: p.where, webhook_id: id, attempt: p.attempts, error: p.lastError, retry_in_ms: wait });
      await sleep(wait, signal);
    }
  }

  /** The last attempt failed: dead-letter the message, or fail the write. */
  async #giveUp(msg: Message, p: Progress): Delivery {
    if (!this.#deadLetter) return this.#finish(msg, p, 'failed');
    this.#annotate(msg, p, 'dead_lettered');
    try {
      await this.#deadLetter.write([msg.copy()]);
    } catch (err) {
      p.lastError = `${p.lastError}; the dead-letter output failed too: ${errText(err)}`;
      return this.#finish(msg, p, 'failed');
    }
    return this.#finish(msg, p, 'dead_lettered');
  }

  #cancelled(msg: Message, p: Progress): Delivery {
    p.lastError = p.lastError ? `output closed while retrying (last error: ${p.lastError})` : 'output closed before the message was delivered';
    return this.#finish(msg, p, 'failed');
  }

  #annotate(msg: Message, p: Progress, outcome: DeliveryOutcome): void {
    msg.metaSet('webhook_id', p.id);
    msg.metaSet('webhook_url', p.where);
    msg.metaSet('webhook_outcome', outcome);
    msg.metaSet('webhook_attempts', p.attempts);
    msg.metaSet('webhook_status', p.status);
    if (p.lastError) msg.metaSet('webhook_error', p.lastError);
    else msg.metaDelete('webhook_error');
  }

  async #finish(msg: Message, p: Progress, outcome: DeliveryOutcome): Delivery {
    this.#annotate(msg, p, outcome);
    const record: WebhookDelivery = {
      id: p.id,
      url: p.where,
      status: p.status,
      attempts: p.attempts,
      latency_ms: Date.now() - p.started,
      outcome,
      last_error: p.lastError,
      time: new Date().toISOString(),
    };
    this.#deliveries.add(record);
    this.#log.debug('webhook delivery', { ...record });
    if (outcome === 'delivered') return;
    this.#warn(`outcome-${outcome}`, () =>
      this.#log.warn(outcome === 'dead_lettered' ? 'webhook not delivered, sent to the dead-letter output' : 'webhook not delivered', {
        url: p.where,
        attempts: p.attempts,
        error: p.lastError,
      }),
    );
    if (outcome === 'failed') throw new DeliveryFailure(`webhook ${p.id} to ${p.where} not delivered after ${p.attempts} attempt(s): ${p.lastError}`);
  }
}

const secretsLint = (secrets: readonly string[]): string[] => {
  const out: string[] = [];
  secrets.forEach((s, i) => {
    const problem = secretProblem(s);
    if (problem) out.push(`secrets[${i}] ${problem}`);
  });
  return out;
};

export const spec = defineOutput<WebhookOutputConfig>({
  name: 'webhook',
  summary: 'Delivers messages to webhook subscribers: Standard Webhooks signatures, retries with backoff, a circuit breaker per endpoint and a dead-letter output.',
  description:
    'Each message is sent as one request whose body is the message. Requests carry the Standard Webhooks headers `webhook-id` (the same for every attempt of a message), `webhook-timestamp` (Unix seconds of the attempt) and `webhook-signature`: one `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` per entry of `secrets`, space separated, so that secrets can be rotated without downtime (list the new secret and keep the old one until every receiver has switched). ' +
    'A 2xx response delivers the message. A `retry_on` status, a timeout or a network error is retried with capped exponential backoff (`retries`), honouring `Retry-After`; any other status fails at once. ' +
    'A circuit breaker per endpoint (scheme, host and path of the rendered URL) opens after `circuit_breaker.failure_threshold` consecutive failures: for `open_for` no request is sent there, then one probe decides whether it closes again. An attempt refused by an open circuit counts as a failed attempt. ' +
    'After the last attempt the message goes to `dead_letter` (with metadata `webhook_error`, `webhook_attempts`, `webhook_status`, `webhook_id`, `webhook_url`) and is acknowledged; without `dead_letter` it is rejected (nacked) back to the input. Messages still being retried when the stream stops are nacked. ' +
    'The final outcome of each message is kept in an in-memory delivery log (the last `delivery_log_size`), logged at debug level and set as metadata `webhook_outcome`.',
  categories: ['Network'],
  status: 'beta',
  config: field.object('', '', [
    field.interp('url', 'The subscriber endpoint.', { examples: ['https://hooks.example.com/sluice', 'https://${! @tenant }.example.com/webhooks'] }),
    field.string('verb', 'The HTTP method.', { default: 'POST', examples: ['POST', 'PUT'] }),
    field.stringMap('headers', 'Headers added to each request. The `webhook-*` headers are always set by the output.', { default: {}, interpolated: true, examples: [{ 'X-Event-Type': '${! @event_type }' }] }),
    field.string('content_type', 'Content-Type of the requests, unless `headers` sets one. Empty = none.', { default: 'application/json' }),
    field.interp('id', 'The `webhook-id` of a message: the receiver\'s idempotency key. Empty = a random `msg_...` id per message, the same across its retries but not across redeliveries by the input; set it from the source (e.g. a Kafka offset) to make redeliveries recognisable. `.`, `%` and whitespace are percent-encoded (the id is part of the dot-delimited signed content).', { default: '', advanced: true, examples: ['${! @kafka_topic }-${! @kafka_partition }-${! @kafka_offset }'] }),
    field.stringList('secrets', 'Signing secrets, `whsec_<base64>` (at least 24 bytes). Each one adds a `v1,` signature to `webhook-signature`; list several while rotating. Empty = requests are not signed.', { default: [], secret: true, examples: [['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw']] }),
    metadataFilterField('metadata', 'Which metadata keys are sent as request headers (none by default).'),
    field.duration('timeout', 'Timeout of each attempt (connect, send, response).', { default: '10s' }),
    field.bool('follow_redirects', 'Whether 3xx responses are followed. Off by default, as Standard Webhooks recommends: a redirect then fails the delivery (update the URL instead).', { default: false, advanced: true }),
    field.object('retries', 'How failed attempts are retried.', [
      field.int('max_attempts', 'Attempts per message, the first included (1 = no retries).', { default: 8 }),
      field.duration('initial_interval', 'Wait before the first retry (before jitter).', { default: '1s' }),
      field.duration('max_interval', 'Longest wait between attempts, also the cap of `Retry-After`.', { default: '5m' }),
      field.float('multiplier', 'Factor by which the wait grows after each retry (at least 1).', { default: 2 }),
      field.string('jitter', '`equal`: half the wait plus a random share of the other half; `full`: a random wait between 0 and the wait; `none`: the wait itself.', { default: 'equal', options: [...JITTERS] }),
      field.intList('retry_on', 'Statuses that are retried. Other non-2xx statuses fail the delivery at once.', { default: [...DEFAULT_RETRY_ON] }),
      field.bool('retry_network_errors', 'Whether timeouts and connection errors are retried.', { default: true }),
      field.bool('honor_retry_after', 'Wait as long as a `Retry-After` response header asks (up to `max_interval`) when that is longer than the backoff.', { default: true }),
    ]),
    field.object('circuit_breaker', 'Pauses deliveries to an endpoint that keeps failing.', [
      field.int('failure_threshold', 'Consecutive failed attempts (retryable statuses, network errors) that open the circuit; 0 disables the breaker.', { default: 5 }),
      field.duration('open_for', 'How long the circuit stays open before one probe request is let through.', { default: '30s' }),
    ]),
    field.output('dead_letter', 'Where messages go after their last failed attempt (e.g. a Kafka topic, or `drop: {}` to discard them). Without it they are nacked to the input.', { optional: true, examples: [{ kafka: { addresses: ['localhost:9092'], topic: 'webhooks-dead' } }, { drop: {} }] }),
    field.bool('dead_letter_on_open', 'Send a message to `dead_letter` as soon as the endpoint\'s circuit is open, instead of counting the refusal as a failed attempt and waiting.', { default: false }),
    maxInFlightField(64),
    field.int('delivery_log_size', 'Final outcomes kept in the in-memory delivery log.', { default: 1000, advanced: true }),
    ...authFields(true),
    tlsFields(),
    field.string('proxy_url', 'An HTTP proxy for the requests (http:// only).', { optional: true, advanced: true }),
  ]),
  lint: (c) => {
    const out = secretsLint(c.secrets ?? []);
    if (c.retries.max_attempts < 1) out.push('retries.max_attempts must be at least 1');
    if (c.retries.multiplier < 1) out.push('retries.multiplier must be at least 1');
    if (c.dead_letter_on_open && c.dead_letter === undefined) out.push('dead_letter_on_open needs a dead_letter output');
    if (c.oauth2?.enabled && !c.oauth2.token_url) out.push('oauth2.token_url is required when oauth2 is enabled');
    if (c.jwt?.enabled && !c.jwt.private_key_file) out.push('jwt.private_key_file is required when jwt is enabled');
    return out;
  },
  examples: [
    {
      title: 'Signed webhooks with a dead-letter topic',
      summary: 'Kafka events to a subscriber; undeliverable ones go to another topic after eight attempts.',
      config:
        'input:\n  kafka:\n    addresses: [localhost:9092]\n    topics: [orders]\n    consumer_group: orders-webhook\noutput:\n  webhook:\n    url: https://hooks.example.com/orders\n    id: ${! @kafka_topic }-${! @kafka_partition }-${! @kafka_offset }\n    secrets: [${WEBHOOK_SECRET}]\n    retries:\n      max_attempts: 8\n      initial_interval: 1s\n      max_interval: 5m\n    circuit_breaker:\n      failure_threshold: 5\n      open_for: 30s\n    dead_letter:\n      kafka:\n        addresses: [localhost:9092]\n        topic: orders-webhook-dead\n',
    },
  ],
  build: async (conf, ctx) => {
    const deadLetter = conf.dead_letter === undefined ? undefined : await ctx.build.output(conf.dead_letter, `${ctx.path}.dead_letter`);
    try {
      return new WebhookOutput(conf, ctx, deadLetter);
    } catch (err) {
      await deadLetter?.close().catch(() => {});
      throw err;
    }
  },
});
