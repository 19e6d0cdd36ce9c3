/**
 * Write coalescing for subscriber sockets, adaptive to the load.
 *
 * Under load several messages reach a socket within one event-loop turn: the socket is corked
 * on its second write of the turn and uncorked once the turn's work is done (setImmediate), so
 * the burst leaves in one syscall per socket, and the turns after it cork on the first write.
 * At low rates a turn carries one message per socket, and holding it back to the end of the turn
 * only adds the rest of the turn's work (the publisher's ack and HTTP reply) to its latency:
 * after a few turns in a row in which no socket was written twice, first writes go straight out
 * again. (Switching back at the first such turn cost throughput at 1000 subscribers, where
 * turns of one and of two messages alternate: each switch doubled the syscalls of a turn.)
 */
import type { Socket } from 'node:net';

const TURN = Symbol('sluice.turn');
type Tracked = Socket & { [TURN]?: number };

/** Turns in a row without a burst before writes go straight out again. */
const QUIET_TURNS = 8;

const corked: Socket[] = [];
let flushScheduled = false;
/** Writes go straight out (low rate) rather than corked until the end of the turn. */
let direct = true;
/** Writes to an already corked socket since the last flush: the sign of a burst. */
let coalesced = 0;
let quietTurns = 0;
/** Number of the current turn while writing directly; advanced at the end of each such turn. */
let turn = 1;
let turnEndScheduled = false;

/** Call before each write to a subscriber socket. */
export function corkForTurn(socket: Socket): void {
  if (socket.writableCorked) {
    coalesced++;
    return;
  }
  if (direct) {
    const s = socket as Tracked;
    if (s[TURN] !== turn) {
      s[TURN] = turn;
      if (!turnEndScheduled) {
        turnEndScheduled = true;
        setImmediate(endTurn);
      }
      return;
    }
    // The second write to this socket in one turn: a burst has started.
    direct = false;
    quietTurns = 0;
  }
  socket.cork();
  corked.push(socket);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flushAtTurnEnd);
  }
}

function endTurn(): void {
  turnEndScheduled = false;
  turn++;
}

function flushAtTurnEnd(): void {
  flushScheduled = false;
  for (const s of corked.splice(0)) while (s.writableCorked) s.uncork();
  quietTurns = coalesced === 0 ? quietTurns + 1 : 0;
  direct = quietTurns >= QUIET_TURNS;
  coalesced = 0;
}
