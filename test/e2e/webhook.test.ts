// The `webhook` output in real streams (test_source → webhook) against node:http receivers
// started here. The receivers check the Standard Webhooks signature with their own HMAC code,
// independent of the output's. Intervals are milliseconds so the whole file runs in seconds.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Message } from '../../src/engine/message.js';
import type { Stream } from '../../src/engine/stream.js';
import { webhookDeliveryLog, type WebhookDelivery } from '../../src/components/outputs/webhook/index.js';
import { newSink, newSource, type Source } from '../support/test-components.js';
import { runStream, sleep, waitUntil } from '../support/streams.js';

interface Hit {
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  readonly at: number;
}

/** A status (and headers) to answer with, or 'hang' to never answer. */
type Reply = { status: number; headers?: Record<string, string> } | 'hang';

/** Answers each path with what its handler returns (200 by default) and records every request. */
class Receiver {
  readonly hits: Hit[] = [];
  readonly #routes = new Map<string, (hit: Hit, n: number) => Reply>();
  readonly #server = http.createServer((req, res) => {
    res.on('error', () => {});
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!;
      const hit: Hit = { path, headers: req.headers, body: Buffer.concat(chunks), at: Date.now() };
      this.hits.push(hit);
      const reply = this.#routes.get(path)?.(hit, this.of(path).length) ?? { status: 200 };
      if (reply === 'hang') return;
      res.writeHead(reply.status, reply.headers);
      res.end(reply.status >= 300 ? `status ${reply.status}` : 'ok');
    });
  });
  base = '';

  async start(): Promise<void> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    this.base = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  route(path: string, handler: (hit: Hit, n: number) => Reply): string {
    this.#routes.set(path, handler);
    return this.base + path;
  }

  of(path: string): Hit[] {
    return this.hits.filter((h) => h.path === path);
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((r) => this.#server.close(() => r()));
  }
}

const newSecret = () => 'whsec_' + randomBytes(32).toString('base64');

/** A receiver's check: some `v1,` entry is the HMAC-SHA256 of "{id}.{timestamp}.{body}" under `secret`. */
function signedWith(secret: string, hit: Hit): boolean {
  const id = String(hit.headers['webhook-id'] ?? '');
  const ts = String(hit.headers['webhook-timestamp'] ?? '');
  const sigs = String(hit.headers['webhook-signature'] ?? '');
  if (!id || !/^\d+$/.test(ts) || Math.abs(Date.now() / 1000 - Number(ts)) > 300) return false;
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const want = createHmac('sha256', key).update(Buffer.concat([Buffer.from(`${id}.${ts}.`), hit.body])).digest();
  return sigs.split(' ').some((s) => {
    if (!s.startsWith('v1,')) return false;
    const got = Buffer.from(s.slice(3), 'base64');
    return got.length === want.length && timingSafeEqual(got, want);
  });
}

const fast = { initial_interval: '20ms', max_interval: '200ms' };

async function start(name: string, output: Record<string, unknown>): Promise<{ s: Stream; source: Source; log: () => WebhookDelivery[] }> {
  const { id, source } = newSource();
  const s = await runStream({ input: { test_source: { id } }, output: { webhook: output }, shutdown_timeout: '2s' }, { name });
  return { s, source, log: () => webhookDeliveryLog(name, 'output.webhook') };
}

async function stop(s: Stream, source: Source, timeoutMs = 2000): Promise<void> {
  source.end();
  await s.stop(timeoutMs);
  await waitUntil(() => s.state === 'stopped', 5000, 'stream stopped');
}

describe('webhook output', { concurrency: false }, () => {
  const rx = new Receiver();
  before(() => rx.start());
  after(() => rx.close());

  test('a receiver that fails twice (503) then accepts: delivered on the third attempt, every attempt signed', async () => {
    const secret = newSecret();
    const url = rx.route('/flaky', (hit, n) => (!signedWith(secret, hit) ? { status: 401 } : n <= 2 ? { status: 503 } : { status: 200 }));
    const { s, source, log } = await start('wh-flaky', { url, secrets: [secret], retries: fast });
    source.push(new Message('{"type":"order.created","data":{"id":1}}'));
    await source.waitAcks(1, 5000);
    assert.equal(source.acks[0]!.error, undefined, 'acked once delivered');
    const hits = rx.of('/flaky');
    assert.equal(hits.length, 3);
    assert.ok(hits.every((h) => signedWith(secret, h)), 'every attempt verifies with the secret');
    assert.equal(new Set(hits.map((h) => h.headers['webhook-id'])).size, 1, 'one webhook-id across attempts');
    assert.match(String(hits[0]!.headers['webhook-id']), /^msg_[A-Za-z0-9_-]+$/);
    assert.equal(hits[0]!.headers['content-type'], 'application/json');
    assert.equal(hits[2]!.body.toString(), '{"type":"order.created","data":{"id":1}}');
    const gaps = hits.slice(1).map((h, i) => h.at - hits[i]!.at);
    assert.ok(gaps[0]! >= 9 && gaps[1]! >= 19, `equal jitter keeps at least half the backoff: ${gaps.join(', ')} ms`);
    const [d] = log();
    assert.equal(d?.outcome, 'delivered');
    assert.equal(d?.attempts, 3);
    assert.equal(d?.status, 200);
    assert.equal(d?.id, hits[0]!.headers['webhook-id']);
    assert.equal(d?.url, url);
    assert.equal(d?.last_error, '');
    assert.ok(d!.latency_ms >= 25);
    const m = source.acks[0]!.batch[0]!;
    assert.equal(m.metaGet('webhook_outcome'), 'delivered');
    assert.equal(m.metaGet('webhook_attempts'), 3);
    await stop(s, source);
  });

  test('a receiver that always fails: dead-lettered after max_attempts, with the failure as metadata', async () => {
    rx.route('/down', () => ({ status: 500 }));
    const { id: sinkId, sink } = newSink();
    const { s, source, log } = await start('wh-down', {
      url: `${rx.base.replace('http://', 'http://bob:hunter2@')}/down?token=abc`,
      secrets: [newSecret()],
      retries: { ...fast, max_attempts: 4 },
      dead_letter: { test_sink: { id: sinkId } },
    });
    source.push('lost-1');
    await sink.waitFor(1, 5000);
    await source.waitAcks(1, 5000);
    assert.equal(source.acks[0]!.error, undefined, 'the dead-letter output took it: acked');
    assert.equal(rx.of('/down').length, 4);
    const dl = sink.messages[0]!;
    assert.equal(dl.text(), 'lost-1');
    assert.equal(dl.metaGet('webhook_attempts'), 4);
    assert.equal(dl.metaGet('webhook_status'), 500);
    assert.match(String(dl.metaGet('webhook_error')), /\(500\)/);
    assert.ok(!String(dl.metaGet('webhook_url')).includes('hunter2') && !String(dl.metaGet('webhook_url')).includes('abc'), 'credentials redacted');
    const [d] = log();
    assert.equal(d?.outcome, 'dead_lettered');
    assert.equal(d?.attempts, 4);
    assert.ok(!d!.url.includes('hunter2') && !d!.url.includes('token=abc'), `redacted: ${d!.url}`);
    await stop(s, source);
  });

  test('a non-retryable status (400) fails at once; without dead_letter the message is nacked', async () => {
    const url = rx.route('/bad', () => ({ status: 400 }));
    const { s, source, log } = await start('wh-bad', { url, retries: fast });
    source.push('bad-1');
    await source.waitAcks(1, 5000);
    assert.equal(rx.of('/bad').length, 1, 'no retries');
    assert.match(source.acks[0]!.error?.message ?? '', /not delivered after 1 attempt.*\(400\)/);
    assert.equal(log()[0]?.outcome, 'failed');
    await stop(s, source);
  });

  test('timeouts and connection errors are retried, then dead-lettered with status 0', async () => {
    rx.route('/hang', () => 'hang');
    const { id: sinkId, sink } = newSink();
    const { s, source, log } = await start('wh-network', {
      url: `${rx.base}/\${! @route }`,
      timeout: '100ms',
      retries: { ...fast, max_attempts: 2 },
      dead_letter: { test_sink: { id: sinkId } },
    });
    source.push(new Message('slow', { route: 'hang' }));
    await sink.waitFor(1, 5000);
    assert.equal(rx.of('/hang').length, 2, 'the timed-out attempt was retried');
    assert.match(String(sink.messages[0]!.metaGet('webhook_error')), /timed out after 100ms/);
    assert.equal(sink.messages[0]!.metaGet('webhook_status'), 0);
    assert.equal(log()[0]?.attempts, 2);
    await stop(s, source);

    const refused = await start('wh-refused', { url: 'http://127.0.0.1:9/nothing-listens', retries: { ...fast, max_attempts: 3, retry_network_errors: false } });
    refused.source.push('nowhere');
    await refused.source.waitAcks(1, 5000);
    assert.match(refused.source.acks[0]!.error?.message ?? '', /not delivered after 1 attempt.*ECONNREFUSED/, 'retry_network_errors: false gives up at once');
    await stop(refused.s, refused.source);
  });

  test('secret rotation: two signatures; a receiver that knows only the new secret verifies', async () => {
    const oldSecret = newSecret();
    const newOne = newSecret();
    const url = rx.route('/rotating', (hit) => ({ status: signedWith(newOne, hit) ? 204 : 401 }));
    const { s, source } = await start('wh-rotate', { url, secrets: [oldSecret, newOne], retries: { ...fast, max_attempts: 1 } });
    source.push('{"rotated":true}');
    await source.waitAcks(1, 5000);
    assert.equal(source.acks[0]!.error, undefined);
    const [hit] = rx.of('/rotating');
    assert.equal(String(hit!.headers['webhook-signature']).split(' ').length, 2);
    assert.ok(signedWith(oldSecret, hit!), 'receivers not yet switched still verify');
    assert.ok(!signedWith(newSecret(), hit!), 'any other secret does not');
    await stop(s, source);
  });

  test('circuit breaker: opens after N failures, dead-letters while open, half-opens with one probe later', async () => {
    let down = true;
    const url = rx.route('/cb', () => ({ status: down ? 503 : 200 }));
    const { id: sinkId, sink } = newSink();
    const { s, source, log } = await start('wh-circuit', {
      url,
      retries: { ...fast, max_attempts: 1 },
      circuit_breaker: { failure_threshold: 3, open_for: '400ms' },
      dead_letter: { test_sink: { id: sinkId } },
      dead_letter_on_open: true,
      max_in_flight: 1,
    });
    for (let i = 1; i <= 5; i++) {
      source.push(`m${i}`);
      await source.waitAcks(i, 5000);
    }
    assert.equal(rx.of('/cb').length, 3, 'after 3 failures nothing more reaches the endpoint');
    assert.deepEqual(sink.texts(), ['m1', 'm2', 'm3', 'm4', 'm5']);
    assert.match(String(sink.messages[3]!.metaGet('webhook_error')), /circuit breaker open/);
    assert.equal(sink.messages[3]!.metaGet('webhook_status'), 0);
    down = false;
    await sleep(450);
    source.push('m6');
    await source.waitAcks(6, 5000);
    source.push('m7');
    await source.waitAcks(7, 5000);
    assert.deepEqual(rx.of('/cb').slice(3).map((h) => h.body.toString()), ['m6', 'm7'], 'the probe went through and closed the circuit');
    assert.deepEqual(log().map((d) => d.outcome), ['dead_lettered', 'dead_lettered', 'dead_lettered', 'dead_lettered', 'dead_lettered', 'delivered', 'delivered']);
    assert.ok(source.acks.every((a) => a.error === undefined));
    await stop(s, source);
  });

  test('circuit breaker without dead_letter_on_open: a refused attempt waits for the half-open probe', async () => {
    const url = rx.route('/recovering', (_hit, n) => ({ status: n <= 2 ? 503 : 200 }));
    const { s, source, log } = await start('wh-halfopen', {
      url,
      retries: { initial_interval: '10ms', max_interval: '50ms', max_attempts: 5 },
      circuit_breaker: { failure_threshold: 2, open_for: '300ms' },
    });
    const t0 = Date.now();
    source.push('patient');
    await source.waitAcks(1, 5000);
    assert.equal(source.acks[0]!.error, undefined);
    assert.equal(rx.of('/recovering').length, 3, 'two failures, then the probe');
    const [d] = log();
    assert.equal(d?.outcome, 'delivered');
    assert.equal(d?.attempts, 4, 'the refused attempt counts');
    assert.ok(Date.now() - t0 >= 280, 'waited for the circuit to half-open');
    await stop(s, source);
  });

  test('Retry-After is honoured', async () => {
    const url = rx.route('/busy', (_hit, n) => (n === 1 ? { status: 429, headers: { 'Retry-After': '1' } } : { status: 200 }));
    const { s, source } = await start('wh-busy', { url, retries: { initial_interval: '10ms', max_interval: '5s' } });
    source.push('later');
    await source.waitAcks(1, 5000);
    const [a, b] = rx.of('/busy');
    assert.ok(b!.at - a!.at >= 950, `waited ${b!.at - a!.at} ms`);
    await stop(s, source);
  });

  test('a message waiting for a retry does not hold up the others; stopping nacks it and leaves no timers', async () => {
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    rx.route('/slowfail', () => ({ status: 503 }));
    rx.route('/fine', () => ({ status: 200 }));
    const { s, source, log } = await start('wh-inflight', {
      url: `${rx.base}/\${! @route }`,
      retries: { initial_interval: '30s', max_interval: '60s' },
      max_in_flight: 4,
    });
    source.push(new Message('stuck', { route: 'slowfail' }));
    await waitUntil(() => rx.of('/slowfail').length === 1, 5000, 'first attempt');
    source.push(new Message('a', { route: 'fine' }), [new Message('b', { route: 'fine' }), new Message('c', { route: 'fine' })]);
    await source.waitAcks(2, 5000);
    assert.deepEqual(rx.of('/fine').map((h) => h.body.toString()).sort(), ['a', 'b', 'c']);
    assert.ok(source.acks.every((a) => a.error === undefined), 'the others were delivered while one waits');
    assert.equal(log().length, 3);
    const t0 = Date.now();
    await stop(s, source, 200);
    assert.ok(Date.now() - t0 < 2000, 'the 30 s backoff was cancelled');
    await source.waitAcks(3, 2000);
    const stuck = source.acks.find((a) => a.batch[0]!.text() === 'stuck');
    assert.match(stuck?.error?.message ?? '', /output closed while retrying/, 'nacked, so the source redelivers it');
    assert.equal(rx.of('/slowfail').length, 1);
    assert.deepEqual(webhookDeliveryLog('wh-inflight', 'output.webhook'), [], 'a stopped output leaves the registry');
    await sleep(20);
    const timersAfter = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    assert.ok(timersAfter <= timersBefore, `no timers left behind (${timersBefore} before, ${timersAfter} after)`);
  });
});
