/** `stdout` output: writes each message to standard output, followed by a delimiter. */
import { defineOutput } from '../../../engine/component.js';
import { field } from '../../../engine/spec.js';

export interface StdoutConfig {
  codec: string;
}

export const spec = defineOutput<StdoutConfig>({
  name: 'stdout',
  summary: 'Prints messages to standard output, one per line.',
  categories: ['Local'],
  config: field.object('', '', [
    field.string('codec', '`lines` (newline after each message), `delim:<x>` or `all-bytes`.', { default: 'lines' }),
  ]),
  build: (conf) => {
    const delim = conf.codec === 'all-bytes' ? '' : conf.codec.startsWith('delim:') ? conf.codec.slice(6) : '\n';
    return {
      maxInFlight: 1,
      connect: async () => {},
      close: async () => {},
      write(batch) {
        const parts: Uint8Array[] = [];
        for (const m of batch) parts.push(m.bytes(), Buffer.from(delim));
        const buf = Buffer.concat(parts);
        // Respect back pressure from a slow pipe instead of buffering without bound.
        if (process.stdout.write(buf)) return;
        return new Promise<void>((resolve) => process.stdout.once('drain', () => resolve()));
      },
    };
  },
});
