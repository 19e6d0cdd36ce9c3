/** `noop` processor: passes messages on unchanged. */
import { defineProcessor } from '../../../engine/component.js';
import { field } from '../../../engine/spec.js';

export const spec = defineProcessor<Record<string, never>>({
  name: 'noop',
  summary: 'Does nothing.',
  categories: ['Utility'],
  config: field.object('', '', []),
  build: () => ({ process: (batch) => [batch] }),
});
