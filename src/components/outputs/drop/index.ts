/** `drop` output: acknowledges and discards every message. */
import { defineOutput } from '../../../engine/component.js';
import { field } from '../../../engine/spec.js';

export const spec = defineOutput<Record<string, never>>({
  name: 'drop',
  summary: 'Acknowledges every message and discards it.',
  categories: ['Utility'],
  config: field.object('', '', []),
  build: () => ({ maxInFlight: 1024, connect: async () => {}, close: async () => {}, write: () => {} }),
});
