/**
 * `cache` processor: runs one operation per message against a cache resource.
 *
 * - `set` / `add` store `value` (interpolated) under `key` (interpolated), with `ttl` when given;
 *   `add` fails when the key exists. The message is unchanged.
 * - `get` replaces the message content with the cached value.
 * - `delete` removes the key; `exists` replaces the content with `true` or `false`.
 *
 * A failure (missing key on `get`, existing key on `add`, an unreachable cache) flags the message
 * with an error and passes it on, as Benthos does. Messages of a batch are handled in order.
 */
import type { Cache, ComponentContext, Processor } from '../../../engine/component.js';
import { defineProcessor } from '../../../engine/component.js';
import type { InterpolatedString } from '../../../engine/bloblang-api.js';
import type { Batch } from '../../../engine/message.js';
import { field } from '../../../engine/spec.js';
import { parseDuration } from '../../../engine/backoff.js';
import { hasCode, sluiceError } from '../../../engine/errors.js';

export type CacheOperator = 'set' | 'add' | 'get' | 'delete' | 'exists';

export interface CacheProcessorConfig {
  resource: string;
  operator: CacheOperator;
  key: string;
  value?: string;
  ttl?: string;
}

const encoder = new TextEncoder();

export class CacheProcessor implements Processor {
  readonly #conf: CacheProcessorConfig;
  readonly #ctx: ComponentContext;
  readonly #key: InterpolatedString;
  readonly #value: InterpolatedString | undefined;
  readonly #ttl: InterpolatedString | undefined;

  constructor(conf: CacheProcessorConfig, ctx: ComponentContext) {
    if (!ctx.resources.has('cache', conf.resource)) throw sluiceError('SLU_ERR_RESOURCE_UNKNOWN', 'cache', conf.resource);
    this.#conf = conf;
    this.#ctx = ctx;
    this.#key = ctx.bloblang.interpolate(conf.key);
    this.#value = conf.value !== undefined ? ctx.bloblang.interpolate(conf.value) : undefined;
    this.#ttl = conf.ttl ? ctx.bloblang.interpolate(conf.ttl) : undefined;
  }

  async process(batch: Batch): Promise<Batch[]> {
    const cache = this.#ctx.resources.get('cache', this.#conf.resource);
    for (let i = 0; i < batch.length; i++) await this.#one(cache, batch, i);
    return [batch];
  }

  async #one(cache: Cache, batch: Batch, i: number): Promise<void> {
    const msg = batch[i]!;
    let key: string;
    let ttlMs: number | undefined;
    try {
      key = this.#key.render(batch, i);
    } catch (err) {
      msg.setError(new Error(`key interpolation error: ${(err as Error).message}`), this.#ctx.path);
      return;
    }
    if (this.#ttl) {
      try {
        const t = this.#ttl.render(batch, i);
        ttlMs = t ? parseDuration(t) : undefined;
      } catch (err) {
        msg.setError(new Error(`ttl must be a duration: ${(err as Error).message}`), this.#ctx.path);
        return;
      }
    }
    try {
      switch (this.#conf.operator) {
        case 'set':
        case 'add': {
          const value = this.#value ? encoder.encode(this.#value.render(batch, i)) : new Uint8Array(0);
          if (this.#conf.operator === 'set') await cache.set(key, value, ttlMs);
          else await cache.add(key, value, ttlMs);
          break;
        }
        case 'get': {
          const v = await cache.get(key);
          if (v === undefined) throw sluiceError('SLU_ERR_CACHE_KEY_NOT_FOUND');
          msg.setBytes(v);
          break;
        }
        case 'delete':
          await cache.delete(key);
          break;
        case 'exists':
          msg.setBytes((await cache.get(key)) === undefined ? 'false' : 'true');
          break;
      }
    } catch (err) {
      const e = hasCode(err, 'SLU_ERR_CACHE_KEY_EXISTS')
        ? new Error(`key already exists: ${key}`, { cause: err })
        : new Error(`operator failed for key '${key}': ${(err as Error).message}`, { cause: err });
      msg.setError(e, this.#ctx.path);
    }
  }
}

export const spec = defineProcessor<CacheProcessorConfig>({
  name: 'cache',
  summary: 'Performs an operation against a cache resource for each message: store, retrieve, delete or check data.',
  description: [
    'Operators: `set` stores `value` under `key`; `add` does the same but fails when the key exists; `get` replaces the message with the cached value (and fails when the key does not exist); `delete` removes the key; `exists` replaces the message with `true` or `false`.',
    '`key`, `value` and `ttl` are interpolated per message. A failed operation flags the message with an error (see `catch`, `try`, `errored()`), and the message passes on unchanged.',
    'Deduplicate with `add` and drop the flagged messages: `- mapping: root = if errored() { deleted() }`.',
  ].join('\n\n'),
  categories: ['Integration'],
  config: field.object('', '', [
    field.string('resource', 'The label of the cache resource to use.'),
    field.string('operator', 'The operation to perform.', { options: ['set', 'add', 'get', 'delete', 'exists'] }),
    field.interp('key', 'The key of the operation.'),
    field.interp('value', 'The value to store (set, add).', { optional: true }),
    field.interp('ttl', 'The TTL of the item, a duration such as 60s. Caches without per-item TTLs use their own setting.', { optional: true, advanced: true, examples: ['60s', '5m', '36h'] }),
  ]),
  examples: [
    {
      title: 'Deduplication',
      config: 'pipeline:\n  processors:\n    - cache:\n        resource: foocache\n        operator: add\n        key: \'${! json("message.id") }\'\n        value: "storeme"\n    - mapping: root = if errored() { deleted() }\ncache_resources:\n  - label: foocache\n    redis:\n      url: redis://localhost:6379\n',
    },
    {
      title: 'Hydration',
      config: 'pipeline:\n  processors:\n    - branch:\n        processors:\n          - cache:\n              resource: foocache\n              operator: get\n              key: \'${! json("message.document_id") }\'\n        result_map: \'root.message.document = this\'\n',
    },
  ],
  build: (conf, ctx) => new CacheProcessor(conf, ctx),
});
