/** `rate_limit` processor: waits until the named rate_limit resource allows each message. */
import { defineProcessor } from '../../../engine/component.js';
import type { Batch } from '../../../engine/message.js';
import { field } from '../../../engine/spec.js';
import { sleep } from '../../../engine/backoff.js';

export const spec = defineProcessor<{ resource: string }>({
  name: 'rate_limit',
  summary: 'Holds each message until a rate_limit resource allows it (back pressure, nothing dropped).',
  categories: ['Utility'],
  config: field.object('', '', [field.string('resource', 'Label of a rate_limit resource.')]),
  build: (conf, ctx) => ({
    async process(batch: Batch): Promise<Batch[]> {
      const rl = ctx.resources.get('rate_limit', conf.resource);
      for (let i = 0; i < batch.length; i++) {
        for (;;) {
          const wait = await rl.access();
          if (wait <= 0) break;
          await sleep(wait, ctx.signal);
          if (ctx.signal.aborted) break;
        }
      }
      return [batch];
    },
  }),
});
