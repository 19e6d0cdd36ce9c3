import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { corkForTurn } from './turn-cork.js';

/** Just enough of a socket: counts the writes that would leave as syscalls. */
class FakeSocket {
  corks = 0;
  syscalls = 0;
  get writableCorked(): number {
    return this.corks;
  }
  cork(): void {
    this.corks++;
  }
  uncork(): void {
    if (--this.corks === 0) this.syscalls++;
  }
  /** What the subscriber does: announce the write, then write. */
  send(): void {
    corkForTurn(this as unknown as Socket);
    if (this.corks === 0) this.syscalls++;
  }
}
const nextTurn = () => new Promise<void>((r) => setImmediate(r));
const quietTurns = async (s: FakeSocket) => {
  for (let i = 0; i < 10; i++) {
    s.send();
    await nextTurn();
    await nextTurn();
  }
};

test('at a low rate a message is written at once, not held to the end of the turn', async () => {
  const s = new FakeSocket();
  await quietTurns(s);
  const before = s.syscalls;
  s.send();
  assert.equal(s.syscalls, before + 1, 'written straight away');
  await nextTurn();
});

test('a burst within one turn is coalesced: one write for the rest of the turn', async () => {
  const s = new FakeSocket();
  const t = new FakeSocket();
  await quietTurns(s);
  const before = s.syscalls;
  for (let i = 0; i < 10; i++) {
    s.send();
    t.send();
  }
  assert.equal(s.syscalls - before, 1, 'only the first write went out at once');
  await nextTurn();
  await nextTurn();
  assert.equal(s.syscalls - before, 2, 'the other nine left together at the end of the turn');
  assert.equal(t.writableCorked, 0);
});

test('while the load lasts every turn is coalesced; a quiet turn goes back to writing at once', async () => {
  const s = new FakeSocket();
  await quietTurns(s);
  for (let i = 0; i < 5; i++) s.send();
  await nextTurn();
  let before = s.syscalls;
  for (let i = 0; i < 5; i++) s.send();
  assert.equal(s.syscalls, before, 'busy turn: nothing written before the end of the turn');
  await nextTurn();
  assert.equal(s.syscalls, before + 1, 'then all five in one write');
  s.send();
  await nextTurn();
  before = s.syscalls;
  s.send();
  assert.equal(s.syscalls, before, 'one quiet turn is not enough to stop coalescing');
  await nextTurn();
  await quietTurns(s);
  before = s.syscalls;
  s.send();
  assert.equal(s.syscalls, before + 1, 'after several turns with one write per socket, writes go straight out again');
  await nextTurn();
});
