// Unit tests of the NATS components' config and metadata logic (no server needed).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { headers } from '@nats-io/transport-node';
import { Message } from '../engine/message.js';
import { Registry } from '../engine/registry.js';
import { Validator } from '../config/validate.js';
import { MetadataFilter, buildHeaders, headersToMeta, parseNatsUrls } from './nats-common.js';
import { natsMessage, nakPayload, spec as natsInput } from './inputs/nats/index.js';
import { consumerConfig, jetStreamMessage, spec as jsInput, type NatsJetStreamInputConfig } from './inputs/nats_jetstream/index.js';
import { spec as natsOutput } from './outputs/nats/index.js';
import { spec as jsOutput } from './outputs/nats_jetstream/index.js';

const registry = new Registry().add(natsInput).add(jsInput).add(natsOutput).add(jsOutput);

function validate(kind: 'input' | 'output', value: unknown) {
  const v = new Validator({ registry });
  const node = v.component(kind, value, kind);
  return { config: node.config as Record<string, unknown>, issues: v.issues.map((i) => `${i.path}: ${i.message}`) };
}

describe('NATS URLs', () => {
  test('comma lists are split, schemes and ports defaulted', () => {
    assert.deepEqual(parseNatsUrls(['nats://a:4222,nats://b:5222', 'c']).servers, ['a:4222', 'b:5222', 'c:4222']);
    assert.deepEqual(parseNatsUrls(['tls://secure:4443']).servers, ['tls://secure:4443']);
  });
  test('credentials are taken out of the URL', () => {
    const p = parseNatsUrls(['nats://ada:s%40cret@127.0.0.1:4222']);
    assert.deepEqual(p.servers, ['127.0.0.1:4222']);
    assert.equal(p.user, 'ada');
    assert.equal(p.pass, 's@cret');
    assert.equal(parseNatsUrls(['nats://tok3n@h:1']).token, 'tok3n');
  });
  test('no URL at all is an error', () => {
    assert.throws(() => parseNatsUrls([' ']), /at least one/);
  });
});

describe('metadata filter and headers', () => {
  test('prefixes and patterns select keys; nothing by default', () => {
    const m = new Message('x', { kafka_key: 'k', app_id: '7', other: 'o' });
    assert.deepEqual(new MetadataFilter(undefined).pick(m), []);
    assert.deepEqual(new MetadataFilter({ include_prefixes: ['kafka_'], include_patterns: ['_id$'] }).pick(m), [['kafka_key', 'k'], ['app_id', '7']]);
  });
  test('headers round trip into metadata: first value, empty values skipped', () => {
    const h = headers();
    h.append('A', '1');
    h.append('A', '2');
    h.append('Empty', '');
    const m = new Message('x');
    headersToMeta(m, h);
    assert.equal(m.metaGetString('A'), '1');
    assert.equal(m.metaGetString('Empty'), undefined);
    assert.equal(buildHeaders([]), undefined);
    assert.equal(buildHeaders([['K', 'v']])!.get('K'), 'v');
  });
});

describe('nats input', () => {
  test('metadata keys as Benthos sets them', () => {
    const h = headers();
    h.set('Content-Type', 'text/plain');
    const m = natsMessage({ subject: 'a.b', reply: '_INBOX.x', data: new TextEncoder().encode('hi'), headers: h });
    assert.equal(m.text(), 'hi');
    assert.deepEqual(m.metaStrings(), { nats_subject: 'a.b', nats_reply_subject: '_INBOX.x', 'Content-Type': 'text/plain' });
    assert.equal(natsMessage({ subject: 's', data: new Uint8Array(), headers: undefined }).metaGetString('nats_reply_subject'), '');
  });
  test('nak payload carries the delay in nanoseconds', () => {
    const d = new TextDecoder();
    assert.equal(d.decode(nakPayload(undefined)), '-NAK');
    assert.equal(d.decode(nakPayload(1500)), '-NAK {"delay":1500000000}');
  });
  test('defaults and lint', () => {
    const { config, issues } = validate('input', { nats: { urls: ['nats://127.0.0.1:4222'], subject: 'foo' } });
    assert.deepEqual(issues, []);
    assert.equal(config.prefetch_count, 524288);
    assert.equal(config.auto_replay_nacks, true);
    assert.equal(config.queue, undefined);
    assert.deepEqual(validate('input', { nats: { urls: ['x'], subject: 'f', prefetch_count: -1 } }).issues, ['input.nats: prefetch_count must be greater than or equal to zero']);
    assert.match(validate('input', { nats: { subject: 'f' } }).issues.join(), /urls.*required/);
  });
});

describe('nats_jetstream input', () => {
  const base: NatsJetStreamInputConfig = {
    urls: ['nats://127.0.0.1:4222'],
    tls: { enabled: false, skip_cert_verify: false, enable_renegotiation: false, root_cas: '', root_cas_file: '', client_certs: [] },
    deliver: 'all',
    ack_wait: '30s',
    max_ack_pending: 1024,
  };
  test('consumer config: explicit acks, deliver policy, ack_wait in ns, filter', () => {
    const c = consumerConfig({ ...base, subject: 'a.>', deliver: 'last_per_subject', ack_wait: '100ms' }, 'dur');
    assert.deepEqual(c, { ack_policy: 'explicit', deliver_policy: 'last_per_subject', ack_wait: 100_000_000, max_ack_pending: 1024, filter_subject: 'a.>', durable_name: 'dur' });
    const e = consumerConfig({ ...base, deliver: 'new', max_ack_pending: 0 }, undefined);
    assert.equal(e.deliver_policy, 'new');
    assert.equal(e.durable_name, undefined);
    assert.equal(e.max_ack_pending, undefined);
    assert.ok(e.inactive_threshold! > 0, 'ephemeral consumers expire');
  });
  test('metadata keys as Benthos sets them', () => {
    const h = headers();
    h.set('X-Trace', 'abc');
    const m = jetStreamMessage({
      subject: 'orders.new',
      data: new TextEncoder().encode('{}'),
      headers: h,
      timestampNanos: 1700000000123456789n,
      info: { domain: 'hub', stream: 'S', consumer: 'C', deliveryCount: 3, streamSequence: 42, deliverySequence: 7, timestampNanos: 0, pending: 5, redelivered: true },
    });
    assert.deepEqual(m.metaStrings(), {
      nats_subject: 'orders.new',
      nats_sequence_stream: '42',
      nats_sequence_consumer: '7',
      nats_num_delivered: '3',
      nats_num_pending: '5',
      nats_domain: 'hub',
      nats_timestamp_unix_nano: '1700000000123456789',
      'X-Trace': 'abc',
    });
  });
  test('defaults and lint as Benthos', () => {
    const { config, issues } = validate('input', { nats_jetstream: { urls: ['nats://h:4222'], subject: 'a' } });
    assert.deepEqual(issues, []);
    assert.equal(config.deliver, 'all');
    assert.equal(config.ack_wait, '30s');
    assert.equal(config.max_ack_pending, 1024);
    assert.deepEqual(validate('input', { nats_jetstream: { urls: ['x'] } }).issues, ['input.nats_jetstream: subject is empty (set subject, or bind to an existing consumer)']);
    assert.deepEqual(validate('input', { nats_jetstream: { urls: ['x'], bind: true } }).issues, ['input.nats_jetstream: stream or durable is required when bind is true']);
    assert.deepEqual(validate('input', { nats_jetstream: { urls: ['x'], bind: true, stream: 's', durable: 'd' } }).issues, []);
    assert.match(validate('input', { nats_jetstream: { urls: ['x'], subject: 'a', deliver: 'oldest' } }).issues.join(), /not one of: all, last, last_per_subject, new/);
  });
});

describe('nats outputs', () => {
  test('defaults as Benthos: max_in_flight 64 (core) and 1024 (JetStream), no headers, empty metadata filter', () => {
    const core = validate('output', { nats: { urls: ['x'], subject: 'a' } });
    assert.deepEqual(core.issues, []);
    assert.equal(core.config.max_in_flight, 64);
    assert.deepEqual(core.config.headers, {});
    assert.deepEqual(core.config.metadata, { include_prefixes: [], include_patterns: [] });
    const js = validate('output', { nats_jetstream: { urls: ['x'], subject: 'a', auth: { user_credentials_file: './user.creds' } } });
    assert.deepEqual(js.issues, []);
    assert.equal(js.config.max_in_flight, 1024);
    assert.match(validate('output', { nats_jetstream: { urls: ['x'] } }).issues.join(), /subject is required/);
  });
});
