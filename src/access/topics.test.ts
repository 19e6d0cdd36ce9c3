import { test } from 'node:test';
import assert from 'node:assert/strict';
import { topicAllowed, topicMatches } from './topics.js';

test('literal patterns match only themselves', () => {
  assert.equal(topicMatches('orders/eu', 'orders/eu'), true);
  assert.equal(topicMatches('orders/eu', 'orders/EU'), false);
  assert.equal(topicMatches('orders/eu', 'orders/eu/x'), false);
  assert.equal(topicMatches('orders/eu/x', 'orders/eu'), false);
});

test('+ matches exactly one level, including an empty one', () => {
  assert.equal(topicMatches('sensors/+/temp', 'sensors/kitchen/temp'), true);
  assert.equal(topicMatches('sensors/+/temp', 'sensors/a/b/temp'), false);
  assert.equal(topicMatches('sensors/+/temp', 'sensors//temp'), true);
  assert.equal(topicMatches('+', 'a'), true);
  assert.equal(topicMatches('+', 'a/b'), false);
  assert.equal(topicMatches('+/+', '/a'), true);
});

test('# matches the rest, zero levels included, and only as the last level', () => {
  assert.equal(topicMatches('sensors/#', 'sensors'), true);
  assert.equal(topicMatches('sensors/#', 'sensors/a'), true);
  assert.equal(topicMatches('sensors/#', 'sensors/a/b/c'), true);
  assert.equal(topicMatches('sensors/#', 'other/a'), false);
  assert.equal(topicMatches('#', 'anything/at/all'), true);
  assert.equal(topicMatches('a/#/b', 'a/x/b'), false);
});

test('dots separate levels when there is no slash', () => {
  assert.equal(topicMatches('orders.+.created', 'orders.eu.created'), true);
  assert.equal(topicMatches('orders.#', 'orders.eu.created'), true);
  assert.equal(topicMatches('orders.+', 'orders.eu.created'), false);
  // With a slash anywhere, dots are ordinary characters (MQTT topics like v1.2).
  assert.equal(topicMatches('fw/+/notes', 'fw/v1.2/notes'), true);
});

test('wildcards at the first level do not match $ topics', () => {
  assert.equal(topicMatches('#', '$SYS/broker/load'), false);
  assert.equal(topicMatches('+/broker/load', '$SYS/broker/load'), false);
  assert.equal(topicMatches('$SYS/#', '$SYS/broker/load'), true);
});

test('topicAllowed: any pattern matches; an empty list allows nothing', () => {
  assert.equal(topicAllowed(['a/+', 'b/#'], 'b/c/d'), true);
  assert.equal(topicAllowed(['a/+', 'b/#'], 'c'), false);
  assert.equal(topicAllowed([], 'a'), false);
});
