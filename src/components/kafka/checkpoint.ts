/**
 * Offset tracking for one partition. Batches are tracked in the order they were read; each
 * records the offset to commit once it is delivered (its last offset + 1). Acks may arrive in
 * any order, but the committable offset only moves past a batch once it and every batch read
 * before it were acked: a commit never skips an undelivered message.
 */

interface Entry {
  readonly next: bigint;
  readonly count: number;
  done: boolean;
}

export type CheckpointEntry = Readonly<Pick<Entry, 'next' | 'count'>>;

export class Checkpointer {
  #entries: Entry[] = [];
  #head = 0;
  #pending = 0;
  #committable: bigint | undefined;

  /** Messages tracked and not yet acked. */
  get pending(): number {
    return this.#pending;
  }

  /** The highest offset that may be committed (every earlier message was acked), if any. */
  get committable(): bigint | undefined {
    return this.#committable;
  }

  /** Tracks a batch of `count` messages whose commit offset (last offset + 1) is `next`. */
  track(next: bigint, count: number): CheckpointEntry {
    const e: Entry = { next, count, done: false };
    this.#entries.push(e);
    this.#pending += count;
    return e;
  }

  /** Marks a batch acked; returns the new committable offset when it moved, else undefined. */
  release(entry: CheckpointEntry): bigint | undefined {
    const e = entry as Entry;
    if (e.done) return undefined;
    e.done = true;
    this.#pending -= e.count;
    let moved: bigint | undefined;
    while (this.#head < this.#entries.length && this.#entries[this.#head]!.done) {
      moved = this.#entries[this.#head]!.next;
      this.#head++;
    }
    if (this.#head > 256 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
    if (moved !== undefined && (this.#committable === undefined || moved > this.#committable)) {
      this.#committable = moved;
      return moved;
    }
    return undefined;
  }
}
