/**
 * `mapping` processor: a Bloblang mapping that builds a new document from each message
 * (`this` is the input, read-only; metadata starts as a copy). Assigning `deleted()` to root
 * drops the message; an error leaves the message unchanged and flags it.
 */
import type { ComponentContext, Processor } from '../../../engine/component.js';
import { defineProcessor } from '../../../engine/component.js';
import type { Mapping } from '../../../engine/bloblang-api.js';
import type { Batch, Message } from '../../../engine/message.js';
import { field } from '../../../engine/spec.js';

/** Runs `mode` of a compiled mapping over a batch, flagging failures (shared by mapping/bloblang/mutation). */
export function mappingProcessor(m: Mapping, mode: 'map' | 'mutate', ctx: ComponentContext): Processor {
  return {
    process(batch: Batch): Batch[] {
      const out: Message[] = [];
      for (let i = 0; i < batch.length; i++) {
        try {
          const r = mode === 'map' ? m.map(batch, i) : m.mutate(batch, i);
          if (r) out.push(r);
        } catch (err) {
          out.push(batch[i]!.setError(err, ctx.path));
          ctx.logger.debug('mapping failed', { error: (err as Error).message });
        }
      }
      return out.length ? [out] : [];
    },
  };
}

export const spec = defineProcessor<string>({
  name: 'mapping',
  summary: 'Builds a new document from each message with a Bloblang mapping.',
  description:
    'The mapping starts from an empty document with a copy of the metadata; `this` is the input message. When `root` is never assigned the content is unchanged. `root = deleted()` drops the message. A failing mapping leaves the message unchanged and flags it with the error (see `catch`).',
  categories: ['Mapping'],
  config: field.bloblang('', 'The Bloblang mapping.', { examples: ['root = this\nroot.id = uuid_v4()'] }),
  examples: [{ title: 'Reshape', config: 'pipeline:\n  processors:\n    - mapping: |\n        root.id = this.order_id\n        root.total = this.items.map_each(i -> i.price * i.qty).sum()\n' }],
  build: (conf, ctx) => mappingProcessor(ctx.bloblang.compileMapping(conf), 'map', ctx),
});
