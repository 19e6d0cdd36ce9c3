/**
 * `try` processor: runs its child processors in order; once a message is flagged with an error
 * (before or inside), the remaining children skip it.
 */
import type { Processor } from '../../../engine/component.js';
import { defineProcessor } from '../../../engine/component.js';
import type { Batch, Message } from '../../../engine/message.js';
import { field } from '../../../engine/spec.js';

class TryProcessor implements Processor {
  readonly #children: Processor[];
  constructor(children: Processor[]) {
    this.#children = children;
  }

  async process(batch: Batch): Promise<Batch[]> {
    let current: Message[] = batch;
    for (const child of this.#children) {
      if (!current.some((m) => !m.error)) break;
      // Runs of consecutive healthy messages go through the child together; failed messages
      // stay where they are, so the batch order is kept.
      const next: Message[] = [];
      let run: Message[] = [];
      const flush = async () => {
        if (!run.length) return;
        try {
          for (const b of await child.process(run)) next.push(...b);
        } catch (err) {
          for (const m of run) next.push(m.setError(err));
        }
        run = [];
      };
      for (const m of current) {
        if (m.error) {
          await flush();
          next.push(m);
        } else run.push(m);
      }
      await flush();
      current = next;
    }
    return current.length ? [current] : [];
  }

  async close(): Promise<void> {
    await Promise.all(this.#children.map((c) => c.close?.()));
  }
}

export const spec = defineProcessor<unknown[]>({
  name: 'try',
  summary: 'Applies its processors in order, skipping the rest for a message as soon as it has failed.',
  categories: ['Composition'],
  config: field.processors('', 'Processors to apply.', { default: [] }),
  build: async (conf, ctx) => new TryProcessor(await ctx.build.processors(conf, ctx.path)),
});
