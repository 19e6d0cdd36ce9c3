/**
 * A small FIFO between a push-style client callback (a subscription) and an input's `read()`.
 * `take(signal)` waits for the next item; it resolves `undefined` when the signal aborts or the
 * queue is ended (the input then decides between `notConnected()` and returning to the engine).
 */
export class AsyncQueue<T> {
  #items: T[] = [];
  #head = 0;
  #waiter: (() => void) | undefined;
  #ended = false;

  get size(): number {
    return this.#items.length - this.#head;
  }

  get ended(): boolean {
    return this.#ended;
  }

  push(item: T): void {
    this.#items.push(item);
    this.#wake();
  }

  /** Puts an item back at the front (e.g. one a read could not hand over). */
  unshift(item: T): void {
    if (this.#head > 0) this.#items[--this.#head] = item;
    else this.#items.unshift(item);
    this.#wake();
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head]!;
    this.#items[this.#head++] = undefined as T;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Removes and returns everything queued. */
  drain(): T[] {
    const out = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    return out;
  }

  /** No more items will come; a waiting `take` resolves undefined once the queue is empty. */
  end(): void {
    this.#ended = true;
    this.#wake();
  }

  async take(signal: AbortSignal): Promise<T | undefined> {
    for (;;) {
      const item = this.shift();
      if (item !== undefined) return item;
      if (this.#ended || signal.aborted) return undefined;
      await new Promise<void>((resolve) => {
        const done = () => {
          this.#waiter = undefined;
          signal.removeEventListener('abort', done);
          resolve();
        };
        this.#waiter = done;
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }

  #wake(): void {
    this.#waiter?.();
  }
}
