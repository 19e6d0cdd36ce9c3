// The webhook output's configuration: defaults, lint, build-time errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spec, DEFAULT_RETRY_ON, type WebhookOutputConfig } from './index.js';
import { Validator } from '../../../config/validate.js';
import { Registry } from '../../../engine/registry.js';
import { noBloblang } from '../../../engine/bloblang-api.js';
import { silentLogger } from '../../../engine/logger.js';
import { Message } from '../../../engine/message.js';
import type { ComponentContext, Output } from '../../../engine/component.js';
import { builtinComponents } from '../../index.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

function validate(conf: Record<string, unknown>): { config: WebhookOutputConfig; issues: string[] } {
  const v = new Validator({ registry: new Registry().addAll(builtinComponents) });
  const node = v.component('output', { webhook: conf }, 'output');
  return { config: node.config as WebhookOutputConfig, issues: v.issues.map((i) => `${i.path}: ${i.message}`) };
}

function ctx(built: Output[] = []): ComponentContext {
  return {
    logger: silentLogger,
    bloblang: noBloblang,
    resources: { get: (() => { throw new Error('no resources'); }) as ComponentContext['resources']['get'], has: () => false },
    build: {
      output: async () => {
        const o: Output = { maxInFlight: 1, connect: async () => {}, write: () => {}, close: async () => void built.push(o) };
        return o;
      },
    } as unknown as ComponentContext['build'],
    http: undefined,
    path: 'output.webhook',
    stream: 'unit',
    signal: new AbortController().signal,
  };
}

test('defaults', () => {
  const { config, issues } = validate({ url: 'https://hooks.example.com/x', secrets: [SECRET] });
  assert.deepEqual(issues, []);
  assert.equal(config.verb, 'POST');
  assert.equal(config.timeout, '10s');
  assert.equal(config.follow_redirects, false);
  assert.deepEqual(config.retries, {
    max_attempts: 8,
    initial_interval: '1s',
    max_interval: '5m',
    multiplier: 2,
    jitter: 'equal',
    retry_on: [...DEFAULT_RETRY_ON],
    retry_network_errors: true,
    honor_retry_after: true,
  });
  assert.deepEqual(config.circuit_breaker, { failure_threshold: 5, open_for: '30s' });
  assert.equal(config.dead_letter, undefined);
  assert.equal(config.dead_letter_on_open, false);
  assert.equal(config.max_in_flight, 64);
  assert.equal(config.delivery_log_size, 1000);
  assert.deepEqual(DEFAULT_RETRY_ON, [408, 425, 429, 500, 502, 503, 504]);
});

test('lint: malformed secrets (never quoted), impossible retries, dead_letter_on_open alone', () => {
  const { issues } = validate({
    url: 'https://hooks.example.com/x',
    secrets: [SECRET, 'whsec_c2hvcnQ=', 'plain-password!'],
    retries: { max_attempts: 0, multiplier: 0.5, jitter: 'sometimes' },
    dead_letter_on_open: true,
  });
  const text = issues.join('\n');
  assert.match(text, /secrets\[1\] is 5 bytes long/);
  assert.match(text, /secrets\[2\] is not a whsec_<base64> secret/);
  assert.ok(!text.includes('plain-password') && !text.includes('c2hvcnQ'), 'secrets are not echoed');
  assert.match(text, /max_attempts must be at least 1/);
  assert.match(text, /multiplier must be at least 1/);
  assert.match(text, /jitter: value "sometimes" is not one of: equal, full, none/);
  assert.match(text, /dead_letter_on_open needs a dead_letter output/);
  assert.ok(!/secrets\[0\]/.test(text));
});

test('dead_letter is a validated output', () => {
  assert.deepEqual(validate({ url: 'http://h/x', dead_letter: { drop: {} }, dead_letter_on_open: true }).issues, []);
  const { issues } = validate({ url: 'http://h/x', dead_letter: { nosuch: {} } });
  assert.match(issues.join('\n'), /output\.webhook\.dead_letter\.nosuch: unknown output type "nosuch"/);
});

test('build: a bad static URL or secret fails, and the dead-letter output built for it is closed', async () => {
  const closed: Output[] = [];
  const { config } = validate({ url: 'not a url', dead_letter: { drop: {} } });
  await assert.rejects(Promise.resolve(spec.build(config, ctx(closed))), /url "not a url" is not a valid URL/);
  assert.equal(closed.length, 1);
  const bad = { ...validate({ url: 'http://h/x' }).config, secrets: ['whsec_???'] };
  await assert.rejects(Promise.resolve(spec.build(bad, ctx())), (err: Error) => /secrets\[0\] is not a whsec_<base64> secret/.test(err.message) && !err.message.includes('???'));
});

test('close() with nothing in flight resolves at once and closes the dead-letter output', async () => {
  const closed: Output[] = [];
  const { config } = validate({ url: 'http://127.0.0.1:9/x', secrets: [SECRET], dead_letter: { drop: {} } });
  const o = await spec.build(config, ctx(closed));
  await o.connect(new AbortController().signal);
  const t0 = Date.now();
  await o.close();
  assert.ok(Date.now() - t0 < 1000, 'no retry backoff is waited for');
  assert.equal(closed.length, 1);
  await assert.rejects(Promise.resolve(o.write([new Message('x')])), /output closed before the message was delivered/, 'a write after close fails (nack)');
});
