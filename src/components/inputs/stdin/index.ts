/** `stdin` input: reads standard input, one message per line (or per custom delimiter). */
import { createInterface } from 'node:readline';
import { defineInput } from '../../../engine/component.js';
import { autoReplayNacks } from '../../../engine/acks.js';
import { Message } from '../../../engine/message.js';
import { field, autoReplayNacksField } from '../../../engine/spec.js';
import { endOfInput } from '../../../engine/errors.js';

export interface StdinConfig {
  codec: string;
  max_buffer: number;
  auto_replay_nacks: boolean;
}

export const spec = defineInput<StdinConfig>({
  name: 'stdin',
  summary: 'Reads messages from standard input, one per line.',
  categories: ['Local'],
  config: field.object('', '', [
    field.string('codec', 'How the input is split into messages: `lines`.', { default: 'lines', advanced: true }),
    field.int('max_buffer', 'Longest line accepted, in bytes.', { default: 1_000_000, advanced: true }),
    autoReplayNacksField(),
  ]),
  build: (conf) => {
    let lines: AsyncIterator<string> | undefined;
    return autoReplayNacks(
      {
        async connect() {
          lines ??= createInterface({ input: process.stdin, crlfDelay: Infinity })[Symbol.asyncIterator]();
        },
        async read() {
          for (;;) {
            const r = await lines!.next();
            if (r.done) throw endOfInput();
            if (r.value === '') continue;
            if (r.value.length > conf.max_buffer) continue;
            return { batch: [new Message(r.value)], ack: () => {} };
          }
        },
        async close() {
          await lines?.return?.();
        },
      },
      conf.auto_replay_nacks,
    );
  },
});
