/**
 * `dedupe` processor: drops messages whose key was seen before, using a cache resource's atomic
 * `add` (so it works across processes when the cache is shared, e.g. Redis).
 */
import { defineProcessor } from '../../../engine/component.js';
import type { Batch, Message } from '../../../engine/message.js';
import { field } from '../../../engine/spec.js';
import { hasCode } from '../../../engine/errors.js';

interface DedupeConfig {
  cache: string;
  key: string;
  drop_on_err: boolean;
}

const EMPTY = new Uint8Array([116]);

export const spec = defineProcessor<DedupeConfig>({
  name: 'dedupe',
  summary: 'Drops messages whose key has been seen before (within the cache entry lifetime).',
  categories: ['Utility'],
  config: field.object('', '', [
    field.string('cache', 'Label of a cache resource.'),
    field.interp('key', 'The key to deduplicate on (interpolated).', { examples: ['${! meta("kafka_key") }', '${! content().hash("xxhash64") }'] }),
    field.bool('drop_on_err', 'Drop messages when the cache fails (otherwise keep them).', { default: true }),
  ]),
  build: (conf, ctx) => {
    const key = ctx.bloblang.interpolate(conf.key);
    return {
      async process(batch: Batch): Promise<Batch[]> {
        const cache = ctx.resources.get('cache', conf.cache);
        const out: Message[] = [];
        for (let i = 0; i < batch.length; i++) {
          try {
            await cache.add(key.render(batch, i), EMPTY);
            out.push(batch[i]!);
          } catch (err) {
            if (hasCode(err, 'SLU_ERR_CACHE_KEY_EXISTS')) continue;
            ctx.logger.warn('dedupe cache failed', { error: (err as Error).message });
            if (!conf.drop_on_err) out.push(batch[i]!);
          }
        }
        return out.length ? [out] : [];
      },
    };
  },
});
