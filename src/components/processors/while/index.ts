/**
 * `while` processor: repeats its processors on each message while `check` is true (or at least
 * once with `at_least_once`), up to `max_loops` (0 = unlimited).
 */
import { defineProcessor } from '../../../engine/component.js';
import type { Batch, Message } from '../../../engine/message.js';
import { field } from '../../../engine/spec.js';
import { runProcessors } from '../../../engine/pipeline.js';

interface WhileConfig {
  at_least_once: boolean;
  max_loops: number;
  check: string;
  processors: unknown[];
}

export const spec = defineProcessor<WhileConfig>({
  name: 'while',
  summary: 'Repeats processors on a message while a Bloblang check is true.',
  categories: ['Composition'],
  config: field.object('', '', [
    field.bool('at_least_once', 'Run the processors once before the first check.', { default: false }),
    field.int('max_loops', 'Most iterations per message; 0 = no limit.', { default: 0 }),
    field.bloblang('check', 'A Bloblang query returning a boolean.', { default: '' }),
    field.processors('processors', 'The processors to repeat.'),
  ]),
  build: async (conf, ctx) => {
    const check = conf.check ? ctx.bloblang.compileMapping(conf.check) : undefined;
    const procs = await ctx.build.processors(conf.processors, `${ctx.path}.processors`);
    return {
      async process(batch: Batch): Promise<Batch[]> {
        const out: Message[] = [];
        for (const msg of batch) {
          let current: Message[] = [msg];
          let loops = 0;
          for (;;) {
            if (conf.max_loops > 0 && loops >= conf.max_loops) break;
            if (!(conf.at_least_once && loops === 0)) {
              if (!check || current.length === 0) break;
              let again = false;
              try {
                again = check.query(current, 0) === true;
              } catch (err) {
                for (const m of current) m.setError(err, ctx.path);
                break;
              }
              if (!again) break;
            }
            current = (await runProcessors(procs, current)).flat();
            loops++;
          }
          out.push(...current);
        }
        return out.length ? [out] : [];
      },
    };
  },
});
