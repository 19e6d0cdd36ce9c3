import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeliveryLog, registerDeliveryLog, webhookDeliveryLog, webhookOutputs, type WebhookDelivery } from './delivery-log.js';

const rec = (id: string, time = new Date().toISOString()): WebhookDelivery => ({
  id,
  url: 'http://h/x',
  status: 200,
  attempts: 1,
  latency_ms: 1,
  outcome: 'delivered',
  last_error: '',
  time,
});

test('keeps the last N records, oldest first', () => {
  const log = new DeliveryLog(3);
  for (let i = 1; i <= 5; i++) log.add(rec(`m${i}`));
  assert.deepEqual(log.entries().map((r) => r.id), ['m3', 'm4', 'm5']);
  assert.equal(log.size, 3);
  const none = new DeliveryLog(0);
  none.add(rec('x'));
  assert.deepEqual(none.entries(), []);
});

test('registry: read by stream and path, by stream, or all; unregistering forgets the output', () => {
  const a = new DeliveryLog(10);
  const b = new DeliveryLog(10);
  const offA = registerDeliveryLog({ stream: 'dl-s1', path: 'output.webhook' }, a);
  const offB = registerDeliveryLog({ stream: 'dl-s2', path: 'output.broker.outputs[0].webhook' }, b);
  a.add(rec('a1', '2025-01-01T00:00:01.000Z'));
  b.add(rec('b1', '2025-01-01T00:00:00.000Z'));
  assert.deepEqual(webhookDeliveryLog('dl-s1', 'output.webhook').map((r) => r.id), ['a1']);
  assert.deepEqual(webhookDeliveryLog('dl-s2').map((r) => r.id), ['b1']);
  const all = webhookDeliveryLog().filter((r) => r.id === 'a1' || r.id === 'b1');
  assert.deepEqual(all.map((r) => r.id), ['b1', 'a1'], 'merged in time order');
  assert.ok(webhookOutputs().some((k) => k.stream === 'dl-s2' && k.path === 'output.broker.outputs[0].webhook'));
  // A rebuilt output replaces the log; the old one's unregister then leaves the new one alone.
  const a2 = new DeliveryLog(10);
  const offA2 = registerDeliveryLog({ stream: 'dl-s1', path: 'output.webhook' }, a2);
  offA();
  assert.deepEqual(webhookDeliveryLog('dl-s1', 'output.webhook'), []);
  assert.ok(webhookOutputs().some((k) => k.stream === 'dl-s1'));
  offA2();
  offB();
  assert.ok(!webhookOutputs().some((k) => k.stream === 'dl-s1' || k.stream === 'dl-s2'));
  assert.deepEqual(webhookDeliveryLog('dl-s2'), []);
});
