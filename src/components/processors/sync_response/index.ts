/** `sync_response` processor: stores a copy of each message as the response of its request, and passes it on. */
import { defineProcessor } from '../../../engine/component.js';
import { field } from '../../../engine/spec.js';

export const spec = defineProcessor<Record<string, never>>({
  name: 'sync_response',
  summary: 'Sets the message, as it is at this point, as the response of the request/response input that received it.',
  categories: ['Utility'],
  config: field.object('', '', []),
  build: () => ({
    process(batch) {
      for (const m of batch) m.context?.syncResponse?.add(m.copy());
      return [batch];
    },
  }),
});
