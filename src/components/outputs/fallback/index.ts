/**
 * `fallback` output: tries its outputs in order; a batch goes to the next one only when the
 * previous failed (the error is added as metadata `fallback_error`). The usual dead-letter
 * pattern: the last output is the dead-letter queue.
 */
import type { Output } from '../../../engine/component.js';
import { defineOutput } from '../../../engine/component.js';
import { field } from '../../../engine/spec.js';

export const spec = defineOutput<unknown[]>({
  name: 'fallback',
  summary: 'Tries outputs in order until one accepts the message (dead-letter queues).',
  categories: ['Utility'],
  config: field.outputs('', 'The outputs, in order of preference.'),
  lint: (c) => (c.length === 0 ? ['fallback needs at least one output'] : []),
  build: async (conf, ctx) => {
    const outputs: Output[] = [];
    for (let i = 0; i < conf.length; i++) outputs.push(await ctx.build.output(conf[i], `${ctx.path}[${i}]`));
    return {
      maxInFlight: Math.max(1, ...outputs.map((o) => o.maxInFlight)),
      connect: async (signal) => {
        await Promise.all(outputs.map((o) => o.connect(signal)));
      },
      close: async () => {
        await Promise.all(outputs.map((o) => o.close()));
      },
      async write(batch) {
        let last: unknown;
        for (const o of outputs) {
          try {
            await o.write(batch);
            return;
          } catch (err) {
            last = err;
            for (const m of batch) m.metaSet('fallback_error', (err as Error).message);
          }
        }
        throw last instanceof Error ? last : new Error(String(last));
      },
    };
  },
});
