/**
 * `generate` input: creates messages from a Bloblang mapping (run with an empty input), every
 * `interval` (a duration or a cron schedule), `count` times (0 = forever; the stream ends after
 * the last one is delivered).
 */
import { defineInput } from '../../../engine/component.js';
import { autoReplayNacks } from '../../../engine/acks.js';
import { Message } from '../../../engine/message.js';
import { field, autoReplayNacksField } from '../../../engine/spec.js';
import { parseDuration, sleep } from '../../../engine/backoff.js';
import { endOfInput } from '../../../engine/errors.js';
import { parseCron, CronError, type CronSchedule } from './cron.js';

export interface GenerateConfig {
  mapping: string;
  interval: string;
  count: number;
  batch_size: number;
  auto_replay_nacks: boolean;
}

/** How `interval` schedules messages. */
export type Interval =
  | { kind: 'none' }
  /** A fixed period; the first message comes at once. */
  | { kind: 'every'; ms: number }
  /** A cron schedule; each batch waits for the next fire time (the first one too). */
  | { kind: 'cron'; cron: CronSchedule };

/**
 * Parses `interval` as Benthos does: a duration (`1s`, `@every 1s`), else a cron expression
 * (see ./cron.ts); '' for as fast as possible. Throws naming what is wrong.
 */
export function parseInterval(interval: string): Interval {
  const raw = interval.trim();
  if (raw === '') return { kind: 'none' };
  const s = raw.replace(/^(?:CRON_)?TZ=\S+\s+/, '');
  if (/^@every(\s|$)/i.test(s)) {
    const d = s.slice(6).trim();
    let ms: number | undefined;
    try {
      ms = parseDuration(d);
    } catch {
      // reported below
    }
    if (ms === undefined) throw new Error(`interval "${interval}": "@every" needs a duration such as 1s or 1m30s, got "${d}"`);
    return { kind: 'every', ms };
  }
  let ms: number | undefined;
  try {
    ms = parseDuration(s);
  } catch {
    // not a duration: a cron expression?
  }
  if (ms !== undefined) return { kind: 'every', ms };
  try {
    return { kind: 'cron', cron: parseCron(raw) };
  } catch (e) {
    if (!(e instanceof CronError)) throw e;
    throw new Error(`interval "${interval}" is neither a duration (1s, 500ms, @every 1m) nor a valid cron expression: ${e.message.replace(/^invalid cron expression "[^"]*": /, '')}`);
  }
}

/** Longest single timer wait: far-off fire times (e.g. @yearly) are reached in steps. */
const MAX_SLEEP_MS = 60_000;

export const spec = defineInput<GenerateConfig>({
  name: 'generate',
  summary: 'Generates messages from a Bloblang mapping at an interval.',
  categories: ['Utility'],
  config: field.object('', '', [
    field.bloblang('mapping', 'A Bloblang mapping that produces each message (it has no input: `this` is null).', {
      examples: ['root = {"id": uuid_v4(), "at": now()}'],
    }),
    field.string(
      'interval',
      'When to generate messages: a duration between them (`1s`, `500ms`, `@every 1m`; the first message comes at once), ' +
        'or a cron expression, after which each message waits for the next fire time. Cron expressions have 5 fields ' +
        '(`minute hour day-of-month month day-of-week`) or 6 with a leading `second` field, each `*`, `?`, a value, a range ' +
        '`a-b`, a step `*/n` or `a-b/n`, or a comma list of those; months and days of the week may be named (`JAN`, `MON`); ' +
        'when both day fields are restricted a day matching either fires. Descriptors `@yearly`, `@annually`, `@monthly`, ' +
        '`@weekly`, `@daily`, `@midnight` and `@hourly` work too. Cron expressions run in UTC unless prefixed with ' +
        '`TZ=<IANA zone> `, e.g. `TZ=Europe/London 30 3 * * *`. Empty for as fast as downstream takes them.',
      { default: '1s', examples: ['5s', '1m', '@every 1s', '0,30 */2 * * * *', 'TZ=Europe/London 30 3-6,20-23 * * *'] },
    ),
    field.int('count', 'How many messages to generate; 0 for no end. With a count the stream ends after the last one is delivered.', { default: 0 }),
    field.int('batch_size', 'Messages per batch.', { default: 1 }),
    autoReplayNacksField(),
  ]),
  lint: (c) => {
    try {
      parseInterval(c.interval);
      return [];
    } catch (e) {
      return [(e as Error).message];
    }
  },
  examples: [
    { title: 'A tick every second', config: 'input:\n  generate:\n    interval: 1s\n    mapping: root = {"n": counter(), "at": now()}\n' },
    {
      title: 'On a cron schedule',
      config: "input:\n  generate:\n    interval: 'TZ=Europe/London 0 30 9 * * MON-FRI' # 09:30:00 London time on weekdays\n    mapping: root = {\"at\": now()}\n",
    },
  ],
  build: (conf, ctx) => {
    const mapping = ctx.bloblang.compileMapping(conf.mapping);
    const interval = parseInterval(conf.interval);
    const every = interval.kind === 'every' ? interval.ms : 0;
    const cron = interval.kind === 'cron' ? interval.cron : undefined;
    let made = 0;
    let next = 0;
    let lastFire = 0;
    return autoReplayNacks(
      {
        connect: async () => {},
        close: async () => {},
        async read(signal) {
          for (;;) {
            if (conf.count > 0 && made >= conf.count) throw endOfInput();
            if (cron) {
              // Strictly after the previous fire time too, in case a timer fired a little early.
              const at = cron.next(new Date(Math.max(Date.now(), lastFire))).getTime();
              for (let wait = at - Date.now(); wait > 0 && !signal.aborted; wait = at - Date.now()) {
                await sleep(Math.min(wait, MAX_SLEEP_MS), signal);
              }
              if (signal.aborted) throw new Error('aborted');
              lastFire = at;
            } else if (every > 0) {
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
