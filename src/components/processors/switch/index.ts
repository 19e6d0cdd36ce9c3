/**
 * `switch` processor: each message goes through the processors of the first case whose `check`
 * is true (and the following ones while `fallthrough` is set). A check that errors flags the
 * message and stops its case search. Output keeps the input order.
 */
import type { Processor } from '../../../engine/component.js';
import { defineProcessor } from '../../../engine/component.js';
import type { Mapping } from '../../../engine/bloblang-api.js';
import type { Batch, Message } from '../../../engine/message.js';
import { field } from '../../../engine/spec.js';
import { runProcessors } from '../../../engine/pipeline.js';

interface Case {
  check: string;
  processors: unknown[];
  fallthrough: boolean;
}

interface BuiltCase {
  readonly check: Mapping | undefined;
  readonly processors: Processor[];
  readonly fallthrough: boolean;
}

export const spec = defineProcessor<Case[]>({
  name: 'switch',
  summary: 'Applies the processors of the first case whose check passes, per message.',
  categories: ['Composition'],
  config: field.objectList('', 'The cases, tried in order.', [
    field.bloblang('check', 'A Bloblang query returning a boolean; empty always passes.', { default: '' }),
    field.processors('processors', 'Processors for messages that pass the check.', { default: [] }),
    field.bool('fallthrough', 'Also run the next case after this one.', { default: false }),
  ]),
  examples: [
    {
      title: 'Route by type',
      config: 'pipeline:\n  processors:\n    - switch:\n        - check: this.type == "order"\n          processors:\n            - mapping: root.kind = "order"\n        - processors:\n            - mapping: root = deleted()\n',
    },
  ],
  build: async (cases, ctx) => {
    const built: BuiltCase[] = [];
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i]!;
      built.push({
        check: c.check ? ctx.bloblang.compileMapping(c.check) : undefined,
        processors: await ctx.build.processors(c.processors, `${ctx.path}[${i}].processors`),
        fallthrough: c.fallthrough,
      });
    }
    return {
      async process(batch: Batch): Promise<Batch[]> {
        const out: Message[] = [];
        for (let i = 0; i < batch.length; i++) {
          let current: Message[] = [batch[i]!];
          let matched = false;
          for (const c of built) {
            if (!matched) {
              let pass = true;
              if (c.check) {
                try {
                  pass = c.check.query(batch, i) === true;
                } catch (err) {
                  batch[i]!.setError(err, ctx.path);
                  break;
                }
              }
              if (!pass) continue;
            }
            matched = true;
            const r = await runProcessors(c.processors, current);
            current = r.flat();
            if (!c.fallthrough) break;
          }
          out.push(...current);
        }
        return out.length ? [out] : [];
      },
      async close() {
        await Promise.all(built.flatMap((c) => c.processors.map((p) => p.close?.())));
      },
    };
  },
});
