/** `bloblang` processor: the former name of `mapping`, same semantics. */
import { defineProcessor } from '../../../engine/component.js';
import { field } from '../../../engine/spec.js';
import { mappingProcessor } from '../mapping/index.js';

export const spec = defineProcessor<string>({
  name: 'bloblang',
  summary: 'The former name of the `mapping` processor; identical behaviour.',
  categories: ['Mapping'],
  status: 'deprecated',
  config: field.bloblang('', 'The Bloblang mapping.'),
  build: (conf, ctx) => mappingProcessor(ctx.bloblang.compileMapping(conf), 'map', ctx),
});
