/**
 * `sync_response` output: hands the processed message back to the request/response input it
 * came from (e.g. `http_server`), which returns it as the HTTP response.
 */
import { defineOutput } from '../../../engine/component.js';
import { field } from '../../../engine/spec.js';

export const spec = defineOutput<Record<string, never>>({
  name: 'sync_response',
  summary: 'Returns each message to the input that received it, as its response (http_server: the HTTP response body).',
  categories: ['Utility'],
  config: field.object('', '', []),
  build: () => ({
    maxInFlight: 64,
    connect: async () => {},
    close: async () => {},
    write(batch) {
      for (const m of batch) m.context?.syncResponse?.add(m);
    },
  }),
});
