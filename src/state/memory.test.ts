import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryState } from './memory.js';
import { Leases } from './leases.js';
import { grantFor, windowEnd, type HotState } from './types.js';
import { MemoryBus, type ChangeMessage } from './bus.js';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('window helpers', () => {
  test('aligned windows end on multiples of the window, lazy ones a window after the first use', () => {
    assert.equal(windowEnd(12_345, 1000, 'aligned'), 13_000);
    assert.equal(windowEnd(12_345, 1000, 'lazy'), 13_345);
    assert.equal(windowEnd(12_345, 0, 'lazy'), -1);
  });

  test('grantFor gives want, shrinks to min near the end, and nothing below min', () => {
    assert.equal(grantFor(1000, 50, 1), 50);
    assert.equal(grantFor(150, 50, 1), 1); // 150 < 4 * 50: only what is needed
    assert.equal(grantFor(0, 50, 1), 0);
    assert.equal(grantFor(3, 5, 5), 0);
    assert.equal(grantFor(5, 5, 5), 5);
  });
});

describe('MemoryState', () => {
  test('sliding window: limit hits per window, capacity returns as hits age out', async () => {
    const c = clock();
    const s = new MemoryState({ now: c.now });
    for (let i = 0; i < 3; i++) {
      assert.equal((await s.slidingHit('k', 3, 1000)).allowed, true);
      c.advance(100);
    }
    const blocked = await s.slidingHit('k', 3, 1000);
    assert.equal(blocked.allowed, false);
    assert.equal(blocked.remaining, 0);
    assert.equal(blocked.resetInMs, 700); // first hit at t0 leaves at t0+1000; now t0+300
    c.advance(701);
    const again = await s.slidingHit('k', 3, 1000);
    assert.equal(again.allowed, true);
    assert.equal(again.remaining, 0);
    await s.close();
  });

  test('take: fixed window grants up to the limit and renews at the boundary', async () => {
    const c = clock(10_000);
    const s = new MemoryState({ now: c.now });
    assert.deepEqual(await s.take('q', 5, 1000, 3, 3, 'aligned'), { granted: 3, remaining: 2, resetInMs: 1000, window: 11_000 });
    assert.equal((await s.take('q', 5, 1000, 3, 3, 'aligned')).granted, 0);
    assert.equal((await s.take('q', 5, 1000, 2, 2, 'aligned')).granted, 2);
    c.advance(1000);
    assert.equal((await s.take('q', 5, 1000, 5, 5, 'aligned')).granted, 5);
    await s.close();
  });

  test('take: a lazy quota renews only on the first use after it ended; window 0 never renews', async () => {
    const c = clock(0);
    const s = new MemoryState({ now: c.now });
    assert.equal((await s.take('q', 2, 500, 1, 1, 'lazy')).granted, 1);
    c.advance(400);
    assert.equal((await s.take('q', 2, 500, 1, 1, 'lazy')).granted, 1);
    assert.equal((await s.take('q', 2, 500, 1, 1, 'lazy')).granted, 0);
    c.advance(5000);
    const r = await s.take('q', 2, 500, 1, 1, 'lazy');
    assert.equal(r.granted, 1);
    assert.equal(r.window, 5900);
    assert.deepEqual(await s.peek('q'), { used: 1, resetInMs: 500 });
    assert.equal((await s.take('never', 1, 0, 1, 1, 'lazy')).resetInMs, -1);
    c.advance(1e9);
    assert.equal((await s.take('never', 1, 0, 1, 1, 'lazy')).granted, 0);
    await s.reset(['never']);
    assert.equal((await s.take('never', 1, 0, 1, 1, 'lazy')).granted, 1);
    await s.close();
  });

  test('giveBack returns units only to the same window', async () => {
    const c = clock(0);
    const s = new MemoryState({ now: c.now });
    const r = await s.take('g', 10, 1000, 10, 10, 'aligned');
    await s.giveBack('g', 4, r.window);
    assert.equal((await s.peek('g'))?.used, 6);
    await s.giveBack('g', 4, r.window + 1);
    assert.equal((await s.peek('g'))?.used, 6);
    await s.close();
  });
});

describe('Leases', () => {
  test('spends locally after one lease, never more than the limit across holders', async () => {
    const s = new MemoryState();
    const a = new Leases(s);
    const b = new Leases(s);
    let ok = 0;
    let syncOk = 0;
    for (let i = 0; i < 300; i++) {
      for (const l of [a, b]) {
        const v = l.spend('m', 200, 60_000, 'aligned', 1);
        if (!(v instanceof Promise)) syncOk++;
        if ((await v).ok) ok++;
      }
    }
    assert.equal(ok, 200);
    assert.ok(syncOk > 150, `most spends were synchronous (${syncOk})`);
    await a.close();
    await b.close();
    await s.close();
  });

  test('an idle lease goes back to the counter', async () => {
    const s = new MemoryState();
    const a = new Leases(s, { idleReturnMs: 100 });
    assert.equal((await a.spend('m', 1000, 60_000, 'lazy', 1)).ok, true);
    assert.equal(a.held('m'), 49);
    assert.equal((await s.peek('m'))?.used, 50);
    await new Promise((r) => setTimeout(r, 350));
    assert.equal(a.held('m'), 0);
    assert.equal((await s.peek('m'))?.used, 1);
    await a.close();
    await s.close();
  });

  test('a refusal carries the wait until the window ends; a request larger than the limit never passes', async () => {
    const c = clock(0);
    const s = new MemoryState({ now: c.now });
    const a = new Leases(s, { now: c.now });
    assert.equal((await a.spend('m', 10, 1000, 'aligned', 10)).ok, true);
    c.advance(250);
    assert.deepEqual(await a.spend('m', 10, 1000, 'aligned', 1), { ok: false, retryAfterMs: 750 });
    c.advance(750);
    assert.equal((await a.spend('m', 10, 1000, 'aligned', 1)).ok, true);
    assert.deepEqual(await a.spend('m', 10, 1000, 'aligned', 11), { ok: false, retryAfterMs: -1 });
    await a.close();
    await s.close();
  });

  test('concurrent spends on one key share one refill', async () => {
    const s = new MemoryState();
    let takes = 0;
    const counting: HotState = {
      kind: 'memory',
      slidingHit: (...a) => s.slidingHit(...a),
      take: (...a) => {
        takes++;
        return s.take(...a);
      },
      giveBack: (...a) => s.giveBack(...a),
      peek: (k) => s.peek(k),
      reset: (k) => s.reset(k),
      close: () => s.close(),
    };
    const a = new Leases(counting);
    const results = await Promise.all(Array.from({ length: 20 }, () => a.spend('m', 1000, 60_000, 'aligned', 1)));
    assert.ok(results.every((r) => r.ok));
    assert.equal(takes, 1);
    await a.close();
    await s.close();
  });
});

describe('MemoryBus', () => {
  test('delivers to local subscribers until they unsubscribe', async () => {
    const bus = new MemoryBus();
    const got: [ChangeMessage, string][] = [];
    const off = bus.subscribe((m, from) => got.push([m, from]));
    await bus.publish({ kind: 'key', keyHash: 'h', action: 'deleted' });
    off();
    await bus.publish({ kind: 'reload' });
    assert.deepEqual(got, [[{ kind: 'key', keyHash: 'h', action: 'deleted' }, 'local']]);
  });
});
