/**
 * `generate` input: creates messages from a Bloblang mapping (run with an empty input), every
 * `interval`, `count` times (0 = forever; the stream ends after the last one is delivered).
 */
import { defineInput } from '../../../engine/component.js';
import { autoReplayNacks } from '../../../engine/acks.js';
import { Message } from '../../../engine/message.js';
import { field, autoReplayNacksField } from '../../../engine/spec.js';
import { parseDuration, sleep } from '../../../engine/backoff.js';
import { endOfInput } from '../../../engine/errors.js';

export interface GenerateConfig {
  mapping: string;
  interval: string;
  count: number;
  batch_size: number;
  auto_replay_nacks: boolean;
}

/** `1s`, `@every 1s`; cron expressions are reported by lint as not supported. */
export function intervalMs(interval: string): number {
  const s = interval.trim().replace(/^TZ=\S+\s+/, '');
  if (s === '') return 0;
  return parseDuration(s.startsWith('@every ') ? s.slice(7) : s) ?? 0;
}

export const spec = defineInput<GenerateConfig>({
  name: 'generate',
  summary: 'Generates messages from a Bloblang mapping at an interval.',
  categories: ['Utility'],
  config: field.object('', '', [
    field.bloblang('mapping', 'A Bloblang mapping that produces each message (it has no input: `this` is null).', {
      examples: ['root = {"id": uuid_v4(), "at": now()}'],
    }),
    field.string('interval', 'Time between messages (`1s`, `@every 500ms`); empty for as fast as possible.', { default: '1s' }),
    field.int('count', 'How many messages to generate; 0 for no end. With a count the stream ends after the last one is delivered.', { default: 0 }),
    field.int('batch_size', 'Messages per batch.', { default: 1 }),
    autoReplayNacksField(),
  ]),
  lint: (c) => {
    try {
      intervalMs(c.interval);
      return [];
    } catch {
      return [`interval "${c.interval}" is not a duration; cron expressions are not supported yet`];
    }
  },
  examples: [{ title: 'A tick every second', config: 'input:\n  generate:\n    interval: 1s\n    mapping: root = {"n": counter(), "at": now()}\n' }],
  build: (conf, ctx) => {
    const mapping = ctx.bloblang.compileMapping(conf.mapping);
    const every = intervalMs(conf.interval);
    let made = 0;
    let next = 0;
    return autoReplayNacks(
      {
        connect: async () => {},
        close: async () => {},
        async read(signal) {
          for (;;) {
            if (conf.count > 0 && made >= conf.count) throw endOfInput();
            if (every > 0) {
              const wait = next - Date.now();
              if (wait > 0) await sleep(wait, signal);
              if (signal.aborted) throw new Error('aborted');
              next = Math.max(next + every, Date.now());
            }
            const batch: Message[] = [];
            const n = conf.count > 0 ? Math.min(conf.batch_size, conf.count - made) : conf.batch_size;
            for (let i = 0; i < n; i++) {
              made++;
              const seed = [new Message()];
              const m = mapping.map(seed, 0);
              if (m) batch.push(m);
            }
            if (batch.length) return { batch, ack: () => {} };
          }
        },
      },
      conf.auto_replay_nacks,
    );
  },
});
