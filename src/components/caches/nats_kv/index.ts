/**
 * `nats_kv` cache: a NATS KV bucket as a cache resource. `get` reads the latest value (a deleted
 * or purged key is missing), `set` puts, `add` creates (failing when the key holds a value) and
 * `delete` leaves a delete marker. TTLs are ignored, as Benthos does: expiry is the bucket's own
 * `ttl` setting. The connection opens on first use and reopens after it was lost; a failed
 * operation throws an error naming the servers, which the processor using the cache reports.
 */
import type { Cache, ComponentContext } from '../../../engine/component.js';
import { defineCache } from '../../../engine/component.js';
import { field } from '../../../engine/spec.js';
import { sluiceError } from '../../../engine/errors.js';
import type { KV } from '@nats-io/kv';
import {
  connectionNameNote,
  isWrongLastSequence,
  LazyKvBucket,
  natsAuthNote,
  natsKvBucketField,
  natsTailFields,
  natsUrlsField,
  type NatsConnectionConfig,
} from '../../nats-common.js';

export interface NatsKvCacheConfig extends NatsConnectionConfig {
  bucket: string;
}

/** How long each operation waits for JetStream. */
const API_TIMEOUT_MS = 5_000;

class NatsKvCache implements Cache {
  readonly #bucket: LazyKvBucket;

  constructor(conf: NatsKvCacheConfig, ctx: ComponentContext) {
    this.#bucket = new LazyKvBucket(conf, ctx, API_TIMEOUT_MS, 'nats_kv cache');
  }

  async #run<T>(what: string, op: (kv: KV) => Promise<T>): Promise<T> {
    const kv = await this.#bucket.get();
    try {
      return await op(kv);
    } catch (err) {
      this.#bucket.dropIfClosed(err);
      if (isWrongLastSequence(err)) throw err;
      throw new Error(`nats_kv cache ${what} at ${this.#bucket.address}: ${(err as Error).message}`, { cause: err });
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const e = await this.#run('get', (kv) => kv.get(key));
    return e && e.operation === 'PUT' ? e.value : undefined;
  }

  async set(key: string, value: Uint8Array): Promise<void> {
    await this.#run('set', (kv) => kv.put(key, value));
  }

  async add(key: string, value: Uint8Array): Promise<void> {
    try {
      await this.#run('add', (kv) => kv.create(key, value));
    } catch (err) {
      if (isWrongLastSequence(err)) throw sluiceError('SLU_ERR_CACHE_KEY_EXISTS');
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.#run('delete', (kv) => kv.delete(key));
  }

  async close(): Promise<void> {
    await this.#bucket.close();
  }
}

export const spec = defineCache<NatsKvCacheConfig>({
  name: 'nats_kv',
  summary: 'Cache key/values in a NATS key-value bucket.',
  description: [
    'The bucket must exist. `add` fails when the key already holds a value; `delete` leaves a delete marker (the bucket keeps its history). Per-item TTLs are ignored: set a `ttl` on the bucket to expire entries.',
    connectionNameNote,
    natsAuthNote,
  ].join('\n\n'),
  config: field.object('', '', [natsUrlsField(), natsKvBucketField(), ...natsTailFields()]),
  lint: (conf) => (conf.bucket === '' ? ['bucket must not be empty'] : []),
  examples: [
    {
      title: 'Deduplicate across Sluice processes',
      config: 'cache_resources:\n  - label: seen\n    nats_kv:\n      urls: [nats://127.0.0.1:4222]\n      bucket: seen_ids\npipeline:\n  processors:\n    - dedupe:\n        cache: seen\n        key: ${! meta("id") }\n',
    },
  ],
  build: (conf, ctx) => new NatsKvCache(conf, ctx),
});
