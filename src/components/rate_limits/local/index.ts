/**
 * `local` rate limit: at most `count` accesses per `interval`, counted in fixed windows in
 * this process. `access()` returns 0 when allowed, else the milliseconds until the window
 * ends.
 */
import type { RateLimit } from '../../../engine/component.js';
import { defineRateLimit } from '../../../engine/component.js';
import { field } from '../../../engine/spec.js';
import { parseDuration } from '../../../engine/backoff.js';

export interface LocalRateLimitConfig {
  count: number;
  interval: string;
}

export class LocalRateLimit implements RateLimit {
  readonly #size: number;
  readonly #periodMs: number;
  readonly #now: () => number;
  #remaining: number;
  #windowStart: number;

  constructor(conf: LocalRateLimitConfig, now: () => number = Date.now) {
    this.#size = conf.count;
    this.#periodMs = parseDuration(conf.interval) ?? 1000;
    this.#now = now;
    this.#remaining = conf.count;
    this.#windowStart = now();
  }

  access(): number {
    const now = this.#now();
    const elapsed = now - this.#windowStart;
    if (elapsed >= this.#periodMs) {
      this.#windowStart = now;
      this.#remaining = this.#size;
    }
    if (this.#remaining > 0) {
      this.#remaining--;
      return 0;
    }
    return Math.max(1, this.#periodMs - (now - this.#windowStart));
  }
}

export const spec = defineRateLimit<LocalRateLimitConfig>({
  name: 'local',
  summary: 'Limits accesses to `count` per `interval`, counted in this Sluice process.',
  description: 'Accesses are counted in fixed windows of `interval`. Once `count` is reached, callers wait (or, for `http_server`, get 429 with Retry-After) until the window ends. Each Sluice process counts on its own.',
  config: field.object('', '', [
    field.int('count', 'The most accesses allowed per interval.', { default: 1000 }),
    field.duration('interval', 'The time window of the limit.', { default: '1s' }),
  ]),
  lint: (conf) => {
    const out: string[] = [];
    if (conf.count <= 0) out.push('count must be larger than zero');
    try {
      if (!((parseDuration(conf.interval) ?? 0) > 0)) out.push('interval must be a positive duration');
    } catch {
      // reported by the field check
    }
    return out;
  },
  examples: [
    {
      title: 'Ten requests a second',
      config: 'rate_limit_resources:\n  - label: ten_per_second\n    local:\n      count: 10\n      interval: 1s\n',
    },
  ],
  build: (conf) => new LocalRateLimit(conf),
});
