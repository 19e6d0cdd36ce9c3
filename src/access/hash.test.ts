import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constantTimeEqual, generateKey, hashPassword, isKeyHash, isPasswordHash, keyHash, verifyPassword } from './hash.js';

test('keyHash is SHA-256 hex, as Tyk with hash_key_function sha256', () => {
  assert.equal(keyHash('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.ok(isKeyHash(keyHash('x')));
  assert.ok(!isKeyHash('xyz'));
});

test('generated keys are 128 random bits after the org id', () => {
  const a = generateKey();
  const b = generateKey('org1');
  assert.match(a, /^[0-9a-f]{32}$/);
  assert.match(b, /^org1[0-9a-f]{32}$/);
  assert.notEqual(a, generateKey());
});

test('constantTimeEqual', () => {
  assert.equal(constantTimeEqual('secret', 'secret'), true);
  assert.equal(constantTimeEqual('secret', 'secreT'), false);
  assert.equal(constantTimeEqual('secret', 'secret-longer'), false);
  assert.equal(constantTimeEqual('', ''), true);
});

test('passwords: scrypt with a salt, verified in constant time', async () => {
  const h1 = await hashPassword('correct horse');
  const h2 = await hashPassword('correct horse');
  assert.notEqual(h1, h2);
  assert.ok(isPasswordHash(h1));
  assert.ok(!h1.includes('correct'));
  assert.equal(await verifyPassword('correct horse', h1), true);
  assert.equal(await verifyPassword('wrong', h1), false);
  assert.equal(await verifyPassword('correct horse', 'plain'), false);
  // A stored value asking for absurd parameters is refused, not computed.
  assert.equal(await verifyPassword('x', 'scrypt$1073741824$8$1$AAAA$AAAAAAAAAAAAAAAAAAAAAA'), false);
});
