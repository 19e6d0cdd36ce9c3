import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { MIN_SECRET_BYTES, safeWebhookId, secretKey, secretProblem, signV1, signatureHeader, verifyWebhook, webhookHeaders } from './signature.js';

// The signing test vector published with the Standard Webhooks reference libraries.
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

const newSecret = () => 'whsec_' + randomBytes(32).toString('base64');

test('signs the Standard Webhooks test vector', () => {
  assert.equal(signV1(secretKey(VECTOR.secret), VECTOR.id, VECTOR.timestamp, VECTOR.body), VECTOR.signature);
  // The whsec_ prefix is optional; bytes and strings sign alike.
  assert.equal(signV1(secretKey(VECTOR.secret.slice(6)), VECTOR.id, VECTOR.timestamp, Buffer.from(VECTOR.body)), VECTOR.signature);
});

test('the signed content is "{id}.{timestamp}.{body}" with the base64-decoded key', () => {
  const secret = newSecret();
  const body = Buffer.from([0x7b, 0x00, 0xff, 0x7d]); // not UTF-8: signed as raw bytes
  const expected = createHmac('sha256', Buffer.from(secret.slice(6), 'base64'))
    .update(Buffer.concat([Buffer.from('msg_1.1700000000.'), body]))
    .digest('base64');
  assert.equal(signV1(secretKey(secret), 'msg_1', 1700000000, body), `v1,${expected}`);
});

test('one v1 signature per secret, space separated, in order', () => {
  const a = newSecret();
  const b = newSecret();
  const h = signatureHeader([secretKey(a), secretKey(b)], 'msg_x', 1700000000, 'hello');
  const parts = h.split(' ');
  assert.equal(parts.length, 2);
  assert.equal(parts[0], signV1(secretKey(a), 'msg_x', 1700000000, 'hello'));
  assert.equal(parts[1], signV1(secretKey(b), 'msg_x', 1700000000, 'hello'));
  const headers = webhookHeaders([secretKey(a), secretKey(b)], 'msg_x', 1700000000, 'hello');
  assert.deepEqual(Object.keys(headers).sort(), ['webhook-id', 'webhook-signature', 'webhook-timestamp']);
  assert.equal(headers['webhook-timestamp'], '1700000000');
  assert.equal(headers['webhook-signature'], h);
  assert.deepEqual(webhookHeaders([], 'msg_x', 1, 'hello'), { 'webhook-id': 'msg_x', 'webhook-timestamp': '1' }, 'no secrets: no signature header');
});

test('verifyWebhook: accepts any one valid v1 signature and rejects the rest', () => {
  const now = 1_700_000_000_000;
  const ts = now / 1000;
  const current = newSecret();
  const old = newSecret();
  const body = '{"type":"order.created"}';
  const headers = webhookHeaders([secretKey(old), secretKey(current)], 'msg_abc', ts, body);
  assert.ok(verifyWebhook(current, headers, body, { now }));
  assert.ok(verifyWebhook(old, headers, body, { now }));
  assert.ok(!verifyWebhook(newSecret(), headers, body, { now }), 'unknown secret');
  assert.ok(!verifyWebhook(current, headers, body + ' ', { now }), 'tampered body');
  assert.ok(!verifyWebhook(current, { ...headers, 'webhook-id': 'msg_other' }, body, { now }), 'other id');
  assert.ok(!verifyWebhook(current, headers, body, { now: now + 301_000 }), 'too old');
  assert.ok(!verifyWebhook(current, headers, body, { now: now - 301_000 }), 'from the future');
  assert.ok(!verifyWebhook(current, { ...headers, 'webhook-signature': undefined }, body, { now }), 'missing signature');
  assert.ok(!verifyWebhook(current, { ...headers, 'webhook-timestamp': 'soon' }, body, { now }), 'bad timestamp');
  const good = signV1(secretKey(current), 'msg_abc', ts, body);
  assert.ok(!verifyWebhook(current, { ...headers, 'webhook-signature': 'v1a,' + good.slice(3) }, body, { now }), 'other versions are ignored');
  assert.ok(verifyWebhook(current, { ...headers, 'webhook-signature': `v2,xxxx v1,AAAA ${good}` }, body, { now }));
});

test('secrets: whsec_<base64> of at least 24 bytes; problems never quote the secret', () => {
  assert.equal(secretProblem(VECTOR.secret), undefined);
  assert.equal(secretProblem(VECTOR.secret.slice(6)), undefined);
  assert.equal(MIN_SECRET_BYTES, 24);
  const short = 'whsec_' + Buffer.from('sixteen-bytes!!!').toString('base64');
  assert.match(secretProblem(short)!, /16 bytes/);
  for (const bad of ['whsec_', 'whsec_not base64!', 'hunter2-is-my-password', '']) {
    const p = secretProblem(bad);
    assert.ok(p, `${bad} is refused`);
    if (bad.length > 6) assert.ok(!p.includes(bad), 'the secret is not quoted');
  }
  assert.throws(() => secretKey('whsec_***'), (err: Error) => !err.message.includes('***'));
});

test('safeWebhookId: no dots in ids, and distinct ids stay distinct', () => {
  assert.equal(safeWebhookId('msg_2KWPBgLlAfxdpx2AI54pPJ85f4W'), 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W');
  assert.equal(safeWebhookId('orders.v1-0-42'), 'orders%2Ev1-0-42');
  assert.equal(safeWebhookId('a b%'), 'a%20b%25');
  const inputs = ['a.b', 'a%2Eb', 'a_b', 'a b', 'a\u2000b', 'a 00b', 'a%b'];
  const out = new Set(inputs.map(safeWebhookId));
  assert.equal(out.size, inputs.length);
  for (const o of out) assert.ok(!o.includes('.') && !/\s/.test(o));
});
