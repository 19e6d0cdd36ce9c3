import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CircuitBreakers, endpointKey, type CircuitState, type Permit } from './circuit.js';

function setup(threshold = 3, openForMs = 1000) {
  let now = 0;
  const changes: string[] = [];
  const cb = new CircuitBreakers({
    threshold,
    openForMs,
    now: () => now,
    onChange: (key: string, from: CircuitState, to: CircuitState) => changes.push(`${key}:${from}>${to}`),
  });
  return { cb, changes, advance: (ms: number) => void (now += ms) };
}

function allowed(p: Permit): Extract<Permit, { allowed: true }> {
  assert.ok(p.allowed, 'request allowed');
  return p;
}

function refused(p: Permit): Extract<Permit, { allowed: false }> {
  assert.ok(!p.allowed, 'request refused');
  return p;
}

const fail = (cb: CircuitBreakers, key: string, n: number) => {
  for (let i = 0; i < n; i++) allowed(cb.acquire(key)).done(false);
};

test('closed → open after N consecutive failures; a success resets the count', () => {
  const { cb, changes } = setup(3);
  fail(cb, 'a', 2);
  allowed(cb.acquire('a')).done(true);
  fail(cb, 'a', 2);
  assert.equal(cb.state('a'), 'closed');
  fail(cb, 'a', 1);
  assert.equal(cb.state('a'), 'open');
  assert.deepEqual(changes, ['a:closed>open']);
  const r = refused(cb.acquire('a'));
  assert.equal(r.state, 'open');
  assert.equal(r.retryInMs, 1000);
  assert.equal(cb.state('b'), 'closed', 'endpoints are independent');
  assert.ok(allowed(cb.acquire('b')));
});

test('open → half-open after open_for: exactly one probe; its success closes the circuit', () => {
  const { cb, changes, advance } = setup(2, 1000);
  fail(cb, 'a', 2);
  advance(400);
  assert.equal(refused(cb.acquire('a')).retryInMs, 600);
  advance(600);
  assert.equal(cb.state('a'), 'half_open');
  const probe = allowed(cb.acquire('a'));
  assert.equal(probe.probe, true);
  const other = refused(cb.acquire('a'));
  assert.equal(other.state, 'half_open');
  assert.equal(other.retryInMs, undefined, 'no time can be promised while the probe is out');
  probe.done(true);
  assert.equal(cb.state('a'), 'closed');
  assert.equal(allowed(cb.acquire('a')).probe, false);
  assert.deepEqual(changes, ['a:closed>open', 'a:open>half_open', 'a:half_open>closed']);
  assert.equal(cb.size, 0, 'a healthy endpoint is not tracked');
});

test('a failed probe re-opens the circuit for another open_for', () => {
  const { cb, changes, advance } = setup(1, 1000);
  fail(cb, 'a', 1);
  advance(1000);
  allowed(cb.acquire('a')).done(false);
  assert.equal(cb.state('a'), 'open');
  assert.equal(refused(cb.acquire('a')).retryInMs, 1000, 'the timer restarted');
  advance(1000);
  allowed(cb.acquire('a')).done(true);
  assert.deepEqual(changes, ['a:closed>open', 'a:open>half_open', 'a:half_open>open', 'a:open>half_open', 'a:half_open>closed']);
});

test('late results of requests sent before the circuit opened do not move it', () => {
  const { cb, advance } = setup(2, 1000);
  const early1 = allowed(cb.acquire('a'));
  const early2 = allowed(cb.acquire('a'));
  fail(cb, 'a', 2);
  assert.equal(cb.state('a'), 'open');
  early1.done(true);
  assert.equal(cb.state('a'), 'open', 'only the probe closes an open circuit');
  advance(1000);
  const probe = allowed(cb.acquire('a'));
  early2.done(false);
  assert.equal(cb.state('a'), 'half_open', 'a late failure does not re-open while probing');
  probe.done(true);
  probe.done(false);
  assert.equal(cb.state('a'), 'closed', 'a permit settles once');
});

test('a cancelled probe lets the next request probe', () => {
  const { cb, advance } = setup(1, 100);
  fail(cb, 'a', 1);
  advance(100);
  const probe = allowed(cb.acquire('a'));
  refused(cb.acquire('a'));
  probe.cancel();
  const next = allowed(cb.acquire('a'));
  assert.equal(next.probe, true);
  next.done(true);
  assert.equal(cb.state('a'), 'closed');
});

test('threshold 0 disables the breaker', () => {
  const { cb } = setup(0);
  assert.equal(cb.enabled, false);
  fail(cb, 'a', 100);
  assert.equal(cb.state('a'), 'closed');
  assert.equal(cb.size, 0);
});

test('the number of tracked endpoints is bounded', () => {
  const cb = new CircuitBreakers({ threshold: 5, openForMs: 1000, maxEndpoints: 10 });
  for (let i = 0; i < 100; i++) fail(cb, `e${i}`, 1);
  assert.ok(cb.size <= 10);
});

test('endpoint key: scheme, host and path; no credentials or query', () => {
  assert.equal(endpointKey(new URL('https://user:pw@hooks.example.com:8443/a/b?token=x#f')), 'https://hooks.example.com:8443/a/b');
  assert.equal(endpointKey(new URL('http://h/a?x=1')), endpointKey(new URL('http://h/a?x=2')));
  assert.notEqual(endpointKey(new URL('http://h/a')), endpointKey(new URL('http://h/b')));
});
