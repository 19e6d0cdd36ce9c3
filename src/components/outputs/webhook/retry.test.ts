import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cappedDelay, nextWait, parseRetryAfter, retryDelay, type RetrySchedule } from './retry.js';

const schedule = (jitter: RetrySchedule['jitter']): RetrySchedule => ({ initialMs: 1000, maxMs: 300_000, multiplier: 2, jitter });

test('capped exponential schedule: 1s, 2s, 4s, ... up to max_interval', () => {
  const s = schedule('none');
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map((k) => cappedDelay(s, k)), [1000, 2000, 4000, 8000, 16000, 32000, 64000]);
  assert.equal(cappedDelay(s, 9), 256_000);
  assert.equal(cappedDelay(s, 10), 300_000, 'capped');
  assert.equal(cappedDelay(s, 5000), 300_000, 'no overflow');
  assert.equal(retryDelay(s, 3), 4000, 'no jitter: exact');
  assert.equal(cappedDelay({ ...s, multiplier: 1.5 }, 3), 2250);
  assert.equal(cappedDelay({ ...s, multiplier: 0.5 }, 3), 1000, 'a multiplier below 1 does not shrink the wait');
});

test('full jitter: between 0 and the capped wait', () => {
  const s = schedule('full');
  for (let k = 1; k <= 12; k++) {
    const d = cappedDelay(s, k);
    assert.equal(retryDelay(s, k, () => 0), 0);
    assert.equal(retryDelay(s, k, () => 0.999999), Math.round(d * 0.999999));
    for (let i = 0; i < 200; i++) {
      const w = retryDelay(s, k);
      assert.ok(w >= 0 && w <= d, `retry ${k}: ${w} within [0, ${d}]`);
    }
  }
});

test('equal jitter: between half and all of the capped wait', () => {
  const s = schedule('equal');
  for (let k = 1; k <= 12; k++) {
    const d = cappedDelay(s, k);
    assert.equal(retryDelay(s, k, () => 0), Math.round(d / 2));
    assert.equal(retryDelay(s, k, () => 0.5), Math.round(d * 0.75));
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < 500; i++) {
      const w = retryDelay(s, k);
      assert.ok(w >= d / 2 && w <= d, `retry ${k}: ${w} within [${d / 2}, ${d}]`);
      min = Math.min(min, w);
      max = Math.max(max, w);
    }
    assert.ok(max - min > d / 4, 'the waits are spread');
  }
});

test('Retry-After: delta seconds or an HTTP date', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('120', now), 120_000);
  assert.equal(parseRetryAfter(' 0 ', now), 0);
  assert.equal(parseRetryAfter(['3', '9'], now), 3000);
  assert.equal(parseRetryAfter('Sunday, 01-Jan-25 00:00:10 GMT', now), 10_000, 'RFC 850 form');
  assert.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now), 30_000);
  assert.equal(parseRetryAfter('Tue, 31 Dec 2024 23:00:00 GMT', now), 0, 'a past date means now');
  for (const bad of [undefined, '', '-5', '1.5', 'soon', '12abc', 'a 1', 'Wed 5']) assert.equal(parseRetryAfter(bad, now), undefined, String(bad));
});

test('nextWait: Retry-After lengthens the backoff, up to max_interval', () => {
  const s: RetrySchedule = { initialMs: 100, maxMs: 10_000, multiplier: 2, jitter: 'none' };
  assert.equal(nextWait(s, 1, undefined), 100);
  assert.equal(nextWait(s, 1, 2000), 2000, 'the receiver asked for longer');
  assert.equal(nextWait(s, 3, 50), 400, 'a shorter Retry-After does not shorten the backoff');
  assert.equal(nextWait(s, 1, 3_600_000), 10_000, 'capped at max_interval');
});
