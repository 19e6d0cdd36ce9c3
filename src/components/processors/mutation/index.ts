/**
 * `mutation` processor: a Bloblang mapping that edits each message in place (`root` starts as
 * the input document, so assignment order matters).
 */
import { defineProcessor } from '../../../engine/component.js';
import { field } from '../../../engine/spec.js';
import { mappingProcessor } from '../mapping/index.js';

export const spec = defineProcessor<string>({
  name: 'mutation',
  summary: 'Edits each message in place with a Bloblang mapping.',
  description: 'Unlike `mapping`, `root` starts as the input document and metadata is edited directly; fields not assigned are kept.',
  categories: ['Mapping'],
  config: field.bloblang('', 'The Bloblang mapping.', { examples: ['root.seen_at = now()'] }),
  build: (conf, ctx) => mappingProcessor(ctx.bloblang.compileMapping(conf), 'mutate', ctx),
});
