/** `reject` output: fails every message with an (interpolated) error, so it is nacked to its input. */
import { defineOutput } from '../../../engine/component.js';
import { field } from '../../../engine/spec.js';
import { sluiceError } from '../../../engine/errors.js';

export const spec = defineOutput<string>({
  name: 'reject',
  summary: 'Rejects every message with an error; the input nacks it (useful inside switch and fallback).',
  categories: ['Utility'],
  config: field.interp('', 'The error message (interpolated per message).'),
  build: (conf, ctx) => {
    const msg = ctx.bloblang.interpolate(conf);
    return {
      maxInFlight: 64,
      connect: async () => {},
      close: async () => {},
      write(batch) {
        throw sluiceError('SLU_ERR_NACK', msg.render(batch, 0));
      },
    };
  },
});
