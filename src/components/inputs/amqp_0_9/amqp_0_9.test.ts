// Unit tests of the amqp_0_9 input and output: configuration (defaults, lint), the mapping between
// AMQP headers/properties and metadata, and connection failures that name the address and never
// hang. No broker needed.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import type { ConsumeMessage } from 'amqplib';
import { Validator } from '../../../config/validate.js';
import type { ComponentNode } from '../../../engine/registry.js';
import { Message } from '../../../engine/message.js';
import { testRegistry } from '../../../../test/support/test-components.js';
import { nackAction } from './index.js';
import { parsePriority } from '../../outputs/amqp_0_9/index.js';
import { amqpHeaders, amqpMetadata, dialAmqp, expandAmqpUrls, formatFloat, redactAmqpUrl, setAmqpMeta } from '../../amqp-common.js';
import type { TlsConfig } from '../../tls-common.js';

function validate(kind: 'input' | 'output', config: unknown): { node: ComponentNode; issues: string[] } {
  const v = new Validator({ registry: testRegistry() });
  const node = v.component(kind, config, kind);
  return { node, issues: v.issues.map((i) => `${i.path}: ${i.message}`) };
}

describe('amqp_0_9 config', () => {
  test('input defaults match Benthos', () => {
    const { node, issues } = validate('input', { amqp_0_9: { urls: ['amqp://guest:guest@localhost:5672/'], queue: 'q' } });
    assert.deepEqual(issues, []);
    const c = node.config as Record<string, unknown>;
    assert.deepEqual(c.queue_declare, { enabled: false, durable: true, auto_delete: false });
    assert.equal(c.bindings_declare, undefined);
    assert.equal(c.consumer_tag, '');
    assert.equal(c.auto_ack, false);
    assert.deepEqual(c.nack_reject_patterns, []);
    assert.equal(c.prefetch_count, 10);
    assert.equal(c.prefetch_size, 0);
    assert.equal((c.tls as { enabled: boolean }).enabled, false);
  });

  test('output defaults match Benthos', () => {
    const { node, issues } = validate('output', { amqp_0_9: { urls: ['amqp://localhost:5672/'], exchange: 'ex' } });
    assert.deepEqual(issues, []);
    const c = node.config as Record<string, unknown>;
    assert.deepEqual(c.exchange_declare, { enabled: false, type: 'direct', durable: true });
    assert.equal(c.key, '');
    assert.equal(c.type, '');
    assert.equal(c.content_type, 'application/octet-stream');
    for (const k of ['content_encoding', 'correlation_id', 'reply_to', 'expiration', 'message_id', 'user_id', 'app_id', 'priority', 'timeout']) assert.equal(c[k], '', k);
    assert.deepEqual(c.metadata, { exclude_prefixes: [] });
    assert.equal(c.max_in_flight, 64);
    assert.equal(c.persistent, false);
    assert.equal(c.mandatory, false);
    assert.equal(c.immediate, false);
  });

  test('required fields and lint', () => {
    assert.match(validate('input', { amqp_0_9: { urls: ['amqp://h/'] } }).issues.join('\n'), /queue is required/);
    assert.match(validate('output', { amqp_0_9: { urls: ['amqp://h/'] } }).issues.join('\n'), /exchange is required/);
    assert.match(validate('input', { amqp_0_9: { urls: ['amqp://h/'], queue: 'q', nack_reject_patterns: ['('] } }).issues.join('\n'), /nack_reject_patterns\[0\] is not a valid regular expression/);
    assert.match(validate('output', { amqp_0_9: { urls: ['amqp://h/'], exchange: 'e', priority: '12' } }).issues.join('\n'), /must be <= 9 and >= 0, got 12/);
    assert.match(validate('output', { amqp_0_9: { urls: ['amqp://h/'], exchange: 'e', exchange_declare: { type: 'nope' } } }).issues.join('\n'), /not one of/);
    assert.deepEqual(validate('input', { amqp_0_9: { urls: ['amqp://h/'], queue: 'q', bindings_declare: [{ exchange: 'x', key: 'k' }] } }).issues, []);
  });

  test('urls expand on commas; credentials are hidden in logs', () => {
    assert.deepEqual(expandAmqpUrls(['amqp://a:5672/, amqp://b:5672/', 'amqp://c/']), ['amqp://a:5672/', 'amqp://b:5672/', 'amqp://c/']);
    assert.equal(redactAmqpUrl('amqp://guest:guest@h:5672/'), 'amqp://***@h:5672/');
  });

  test('priority is an integer 0..9, empty meaning none', () => {
    assert.equal(parsePriority(''), undefined);
    assert.equal(parsePriority('7'), 7);
    assert.equal(parsePriority('+3'), 3);
    assert.throws(() => parsePriority('x'), /failed to parse valid integer/);
    assert.throws(() => parsePriority('10'), /must be <= 9/);
  });

  test('nack_reject_patterns decide between requeue and reject', () => {
    const patterns = [/^reject me please:.+$/];
    assert.equal(nackAction(new Error('reject me please: bad input'), patterns), 'reject');
    assert.equal(nackAction(new Error('http 503'), patterns), 'requeue');
    assert.equal(nackAction(new Error('anything'), []), 'requeue');
  });
});

describe('amqp_0_9 metadata', () => {
  test('header values are formatted and flattened as Benthos does', () => {
    const meta: Record<string, string> = {};
    setAmqpMeta(meta, 'x-trace-id', 'abc');
    setAmqpMeta(meta, 'flag', true);
    setAmqpMeta(meta, 'n', 42);
    setAmqpMeta(meta, 'ratio', 0.25);
    setAmqpMeta(meta, 'big', 1e21);
    setAmqpMeta(meta, 'small', 1e-7);
    setAmqpMeta(meta, 'f32', Math.fround(0.1));
    setAmqpMeta(meta, 'empty', '');
    setAmqpMeta(meta, 'nothing', null);
    setAmqpMeta(meta, 'bytes', Buffer.from('raw'));
    setAmqpMeta(meta, 'nested', { inner: 'v', 'deep-er': { x: 1 } });
    setAmqpMeta(meta, 'list', ['a', 2]);
    setAmqpMeta(meta, 'when', { '!': 'timestamp', value: 1700000000 });
    setAmqpMeta(meta, 'price', { '!': 'decimal', value: { places: 2, digits: 12345 } });
    assert.deepEqual(meta, {
      x_trace_id: 'abc',
      flag: 'true',
      n: '42',
      ratio: '0.25',
      big: '1000000000000000000000',
      small: '0.0000001',
      f32: '0.1',
      bytes: 'raw',
      nested_inner: 'v',
      nested_deep_er_x: '1',
      list_0: 'a',
      list_1: '2',
      when: '2023-11-14T22:13:20Z',
      price: '123.45',
    });
  });

  test('formatFloat never uses exponents', () => {
    assert.equal(formatFloat(1.5), '1.5');
    assert.equal(formatFloat(-2.5e-8), '-0.000000025');
    assert.equal(formatFloat(1.2345e22), '12345000000000000000000');
    assert.equal(formatFloat(Infinity), '+Inf');
  });

  test('delivery properties and fields become amqp_* keys; headers come first', () => {
    const msg = {
      fields: { deliveryTag: 7, redelivered: false, exchange: 'orders', routingKey: 'orders.created', consumerTag: 'ctag-1' },
      properties: {
        contentType: 'application/json',
        contentEncoding: undefined,
        headers: { 'amqp-routing-key': 'from-header', 'x-tenant': 't1' },
        deliveryMode: 2,
        priority: undefined,
        correlationId: 'corr',
        replyTo: undefined,
        expiration: '60000',
        messageId: 'm-1',
        timestamp: 1700000000,
        type: 'created',
        userId: 'guest',
        appId: 'shop',
        clusterId: undefined,
      },
    } as unknown as ConsumeMessage;
    assert.deepEqual(amqpMetadata(msg), {
      amqp_routing_key: 'orders.created',
      x_tenant: 't1',
      amqp_content_type: 'application/json',
      amqp_delivery_mode: '2',
      amqp_priority: '0',
      amqp_correlation_id: 'corr',
      amqp_expiration: '60000',
      amqp_message_id: 'm-1',
      amqp_timestamp: '1700000000',
      amqp_type: 'created',
      amqp_user_id: 'guest',
      amqp_app_id: 'shop',
      amqp_consumer_tag: 'ctag-1',
      amqp_delivery_tag: '7',
      amqp_redelivered: 'false',
      amqp_exchange: 'orders',
    });
  });

  test('the default exchange is not set as metadata (empty)', () => {
    const msg = { fields: { deliveryTag: 1, redelivered: true, exchange: '', routingKey: 'q', consumerTag: 'c' }, properties: { headers: {} } } as unknown as ConsumeMessage;
    const meta = amqpMetadata(msg);
    assert.equal(meta.amqp_exchange, undefined);
    assert.equal(meta.amqp_redelivered, 'true');
    assert.equal(meta.amqp_routing_key, 'q');
  });

  test('metadata goes out as headers with _ written as -, minus excluded prefixes', () => {
    const m = new Message('x', { tenant_id: 't1', amqp_routing_key: 'k', n: 5 });
    m.metaSet('obj', { a: 1 });
    assert.deepEqual(amqpHeaders(m, ['amqp_']), { 'tenant-id': 't1', n: 5, obj: { a: 1 } });
    assert.equal(amqpHeaders(new Message('x'), []), undefined);
  });
});

const noTls: TlsConfig = { enabled: false, skip_cert_verify: false, enable_renegotiation: false, root_cas: '', root_cas_file: '', client_certs: [] };

async function listen(onConn: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(onConn);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  return { server, port: typeof a === 'object' && a ? a.port : 0 };
}

describe('amqp_0_9 connection failures', () => {
  test('every URL is tried; the error names each address and why', async () => {
    const { server, port } = await listen(() => {});
    await new Promise<void>((r) => server.close(() => r()));
    const started = Date.now();
    await assert.rejects(dialAmqp([`amqp://guest:secret@127.0.0.1:${port}/,amqp://127.0.0.1:${port}/vh`], noTls, new AbortController().signal), (err: Error) => {
      assert.match(err.message, new RegExp(`amqp://\\*\\*\\*@127\\.0\\.0\\.1:${port}/: .*ECONNREFUSED`));
      assert.match(err.message, new RegExp(`amqp://127\\.0\\.0\\.1:${port}/vh: `));
      assert.doesNotMatch(err.message, /secret/);
      return true;
    });
    assert.ok(Date.now() - started < 10_000, 'well before the default dial timeout');
  });

  test('a server that never answers the handshake times out', async () => {
    const sockets: Socket[] = [];
    const { server, port } = await listen((s) => sockets.push(s));
    try {
      const started = Date.now();
      await assert.rejects(dialAmqp([`amqp://127.0.0.1:${port}/`], noTls, new AbortController().signal, 300), /timed out|ETIMEDOUT/);
      assert.ok(Date.now() - started < 8000, 'bounded by the dial timeout');
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
  });
});
