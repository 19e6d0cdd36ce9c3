/**
 * Acknowledgement helpers.
 *
 * Inputs whose source has no native "nack and redeliver" (HTTP, generate, pub/sub without
 * persistence...) wrap themselves with `autoReplayNacks`: a nacked batch is read again (after a
 * short backoff) before anything new, until it is delivered. With `auto_replay_nacks: false` the
 * nack is turned into an ack and the batch is dropped, as Benthos does.
 */
import type { AckFn, Input, ReadResult } from './component.js';
import type { Batch } from './message.js';
import { Backoff, sleep } from './backoff.js';

interface Replay {
  readonly batch: Batch;
  readonly ack: AckFn;
}

export function autoReplayNacks(input: Input, enabled = true): Input {
  const queue: Replay[] = [];
  const backoff = new Backoff({ initialMs: 50, maxMs: 2_000 });
  let wake: (() => void) | undefined;

  const wrap = (batch: Batch, ack: AckFn): ReadResult => {
    // Keep pristine copies to replay (processors may change the messages they are given);
    // without replay there is nothing to keep.
    const pristine = enabled ? batch.map((m) => m.copy()) : batch;
    return {
      batch,
      ack: (err) => {
        if (!err) {
          backoff.reset();
          return ack();
        }
        if (!enabled) return ack();
        queue.push({ batch: pristine, ack });
        wake?.();
      },
    };
  };

  // An inner read that lost the race to a replay is kept for the next call, so nothing is lost.
  let inner: Promise<ReadResult> | undefined;
  return {
    connect: (signal) => input.connect(signal),
    close: () => input.close(),
    async read(signal) {
      let replay = queue.shift();
      if (!replay) {
        inner ??= input.read(signal);
        const woke = new Promise<undefined>((resolve) => (wake = () => resolve(undefined)));
        let r: ReadResult | undefined;
        try {
          r = await Promise.race([inner, woke]);
        } catch (err) {
          // A failed read (e.g. a lost connection) is not kept: the next read starts afresh.
          inner = undefined;
          wake = undefined;
          throw err;
        }
        wake = undefined;
        if (r !== undefined) {
          inner = undefined;
          return wrap(r.batch, r.ack);
        }
        replay = queue.shift()!;
      }
      await sleep(backoff.next(), signal);
      return wrap(replay.batch, replay.ack);
    },
  };
}

/** Combines acks of batches that were split from one: the source ack fires once all settled. */
export function joinAcks(count: number, ack: AckFn): AckFn {
  let pending = count;
  let firstErr: Error | undefined;
  return (err) => {
    if (err && !firstErr) firstErr = err;
    if (--pending === 0) return ack(firstErr);
  };
}

export const noopAck: AckFn = () => {};
