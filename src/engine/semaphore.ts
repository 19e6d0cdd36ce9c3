/** Counts units of in-flight work; `acquire` waits while all are taken. */
export class Semaphore {
  #free: number;
  readonly #capacity: number;
  #waiters: Array<() => void> = [];
  #idle: Array<() => void> = [];

  constructor(capacity: number) {
    this.#capacity = Math.max(1, capacity);
    this.#free = this.#capacity;
  }

  get inUse(): number {
    return this.#capacity - this.#free;
  }

  get capacity(): number {
    return this.#capacity;
  }

  /** Returns true when a unit was taken at once (no promise allocated on the fast path). */
  tryAcquire(): boolean {
    if (this.#free > 0) {
      this.#free--;
      return true;
    }
    return false;
  }

  acquire(signal?: AbortSignal): Promise<boolean> {
    if (this.tryAcquire()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const onAbort = () => {
        const i = this.#waiters.indexOf(grant);
        if (i >= 0) this.#waiters.splice(i, 1);
        resolve(false);
      };
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve(true);
      };
      if (signal?.aborted) return resolve(false);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(grant);
    });
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next) return next();
    this.#free++;
    if (this.#free === this.#capacity) for (const f of this.#idle.splice(0)) f();
  }

  /** Resolves when no unit is in use. */
  whenIdle(): Promise<void> {
    if (this.#free === this.#capacity) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }
}
