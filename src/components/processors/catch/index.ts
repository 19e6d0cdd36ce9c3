/**
 * `catch` processor: runs its child processors on the messages that carry an error flag, then
 * clears the flag. Messages without an error pass untouched.
 */
import type { Processor } from '../../../engine/component.js';
import { defineProcessor } from '../../../engine/component.js';
import type { Batch, Message } from '../../../engine/message.js';
import { field } from '../../../engine/spec.js';
import { runProcessors } from '../../../engine/pipeline.js';

class CatchProcessor implements Processor {
  readonly #children: Processor[];
  constructor(children: Processor[]) {
    this.#children = children;
  }

  process(batch: Batch): Batch[] | Promise<Batch[]> {
    if (!batch.some((m) => m.error)) return [batch];
    // Each failed message goes through the children on its own, so one failure does not
    // affect its neighbours; results keep the batch order.
    const parts: (Message[] | Promise<Message[]>)[] = batch.map((m) => {
      if (!m.error) return [m];
      const r = runProcessors(this.#children, [m]);
      return Array.isArray(r) ? clear(r) : r.then(clear);
    });
    if (parts.every((p) => Array.isArray(p))) return [(parts as Message[][]).flat()];
    return Promise.all(parts).then((ms) => [ms.flat()]);
  }

  async close(): Promise<void> {
    await Promise.all(this.#children.map((c) => c.close?.()));
  }
}

function clear(batches: Batch[]): Message[] {
  const out: Message[] = [];
  for (const b of batches) for (const m of b) out.push(m.clearError());
  return out;
}

export const spec = defineProcessor<unknown[]>({
  name: 'catch',
  summary: 'Applies its processors only to messages that failed an earlier step, then clears their error flag.',
  categories: ['Composition'],
  config: field.processors('', 'Processors applied to failed messages.', { default: [] }),
  build: async (conf, ctx) => new CatchProcessor(await ctx.build.processors(conf, ctx.path)),
});
