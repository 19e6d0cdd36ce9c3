/**
 * `memory` cache: key/value pairs in a map held in memory, reset when Sluice restarts.
 *
 * Each item expires `default_ttl` (or its own TTL) after it was last written. Expired items
 * are invisible at once and removed at the next compaction (on a write, at most every
 * `compaction_interval`); an empty `compaction_interval` turns expiry off entirely. Items from
 * `init_values` never expire until overwritten. `shards` is accepted and ignored: there are no
 * lock contentions to spread in a single-threaded process.
 */
import type { Cache } from '../../../engine/component.js';
import { defineCache } from '../../../engine/component.js';
import { field } from '../../../engine/spec.js';
import { parseDuration } from '../../../engine/backoff.js';
import { sluiceError } from '../../../engine/errors.js';

export interface MemoryCacheConfig {
  default_ttl: string;
  compaction_interval: string;
  init_values: Record<string, string>;
  shards: number;
}

interface Item {
  readonly value: Uint8Array;
  /** Epoch ms; 0 = never. */
  readonly expires: number;
}

export class MemoryCache implements Cache {
  readonly #items = new Map<string, Item>();
  readonly #defaultTtlMs: number;
  /** undefined: expiry disabled. */
  readonly #compactionMs: number | undefined;
  readonly #now: () => number;
  #lastCompaction: number;

  constructor(conf: MemoryCacheConfig, now: () => number = Date.now) {
    this.#now = now;
    this.#defaultTtlMs = parseDuration(conf.default_ttl) ?? 0;
    this.#compactionMs = conf.compaction_interval ? parseDuration(conf.compaction_interval) : undefined;
    this.#lastCompaction = now();
    const enc = new TextEncoder();
    for (const [k, v] of Object.entries(conf.init_values ?? {})) this.#items.set(k, { value: enc.encode(v), expires: 0 });
  }

  get size(): number {
    return this.#items.size;
  }

  #expired(item: Item, now: number): boolean {
    return this.#compactionMs !== undefined && item.expires !== 0 && item.expires <= now;
  }

  #compact(now: number): void {
    if (this.#compactionMs === undefined || now - this.#lastCompaction < this.#compactionMs) return;
    for (const [k, item] of this.#items) if (this.#expired(item, now)) this.#items.delete(k);
    this.#lastCompaction = now;
  }

  #expiry(ttlMs: number | undefined, now: number): number {
    const ttl = ttlMs ?? this.#defaultTtlMs;
    return ttl > 0 ? now + ttl : 0;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const item = this.#items.get(key);
    if (!item || this.#expired(item, this.#now())) return undefined;
    return item.value;
  }

  async set(key: string, value: Uint8Array, ttlMs?: number): Promise<void> {
    const now = this.#now();
    this.#compact(now);
    this.#items.set(key, { value, expires: this.#expiry(ttlMs, now) });
  }

  async add(key: string, value: Uint8Array, ttlMs?: number): Promise<void> {
    const now = this.#now();
    const item = this.#items.get(key);
    // An expired item no longer counts, even before compaction removed it.
    if (item && !this.#expired(item, now)) throw sluiceError('SLU_ERR_CACHE_KEY_EXISTS');
    this.#compact(now);
    this.#items.set(key, { value, expires: this.#expiry(ttlMs, now) });
  }

  async delete(key: string): Promise<void> {
    this.#compact(this.#now());
    this.#items.delete(key);
  }
}

export const spec = defineCache<MemoryCacheConfig>({
  name: 'memory',
  summary: 'Stores key/value pairs in a map held in memory. The cache is reset every time Sluice restarts.',
  description: [
    'Each item has a TTL counted from when it was last written; once it has passed the item is no longer returned, and it is removed at the next compaction. Compactions run on writes, at most every `compaction_interval`. Setting `compaction_interval` to an empty string disables expiry entirely.',
    '`init_values` prepopulates the cache; those items do not expire until they are overwritten, when the TTL applies as usual.',
  ].join('\n\n'),
  config: field.object('', '', [
    field.duration('default_ttl', 'The default TTL of each item.', { default: '5m' }),
    field.duration('compaction_interval', 'How often expired items are removed (on writes). Empty: items never expire.', { default: '60s' }),
    field.stringMap('init_values', 'Key/value pairs the cache starts with; they do not expire.', { default: {}, examples: [{ 'Nickelback': '1995', 'Spice Girls': '1994', 'The Human League': '1977' }] }),
    field.int('shards', 'Accepted for compatibility; ignored.', { default: 1, advanced: true }),
  ]),
  examples: [
    {
      title: 'Deduplicate by ID',
      config: 'pipeline:\n  processors:\n    - cache:\n        resource: seen\n        operator: add\n        key: ${! json("id") }\n        value: "t"\n    - mapping: root = if errored() { deleted() }\ncache_resources:\n  - label: seen\n    memory:\n      default_ttl: 10m\n',
    },
  ],
  build: (conf) => new MemoryCache(conf),
});
