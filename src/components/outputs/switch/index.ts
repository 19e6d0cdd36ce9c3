/**
 * `switch` output: routes each message to the output of the first case whose `check` passes
 * (and the following cases while `continue` is set). Unmatched messages are dropped, or
 * rejected with `strict_mode`. Failed writes are retried with `retry_until_success`, otherwise
 * nacked to the input.
 */
import type { Output } from '../../../engine/component.js';
import { defineOutput } from '../../../engine/component.js';
import type { Mapping } from '../../../engine/bloblang-api.js';
import type { Batch } from '../../../engine/message.js';
import { field } from '../../../engine/spec.js';
import { Backoff, sleep } from '../../../engine/backoff.js';
import { sluiceError } from '../../../engine/errors.js';

interface SwitchConfig {
  retry_until_success: boolean;
  strict_mode: boolean;
  cases: { check: string; output: unknown; continue: boolean }[];
}

export const spec = defineOutput<SwitchConfig>({
  name: 'switch',
  summary: 'Routes each message to outputs by Bloblang checks.',
  categories: ['Utility'],
  config: field.object('', '', [
    field.bool('retry_until_success', 'Retry a failed write until it succeeds instead of nacking it.', { default: false }),
    field.bool('strict_mode', 'Reject messages that match no case (otherwise they are dropped).', { default: false }),
    field.objectList('cases', 'The cases, tried in order.', [
      field.bloblang('check', 'A Bloblang query returning a boolean; empty always matches.', { default: '' }),
      field.output('output', 'Where matching messages go.'),
      field.bool('continue', 'Also try the next cases after a match.', { default: false }),
    ]),
  ]),
  examples: [
    {
      title: 'Errors to a dead-letter topic',
      config: 'output:\n  switch:\n    cases:\n      - check: errored()\n        output:\n          kafka: {addresses: [localhost:9092], topic: dead-letters}\n      - output:\n          kafka: {addresses: [localhost:9092], topic: orders}\n',
    },
  ],
  build: async (conf, ctx) => {
    const cases: { check: Mapping | undefined; output: Output; cont: boolean }[] = [];
    for (let i = 0; i < conf.cases.length; i++) {
      const c = conf.cases[i]!;
      cases.push({
        check: c.check ? ctx.bloblang.compileMapping(c.check) : undefined,
        output: await ctx.build.output(c.output, `${ctx.path}.cases[${i}].output`),
        cont: c.continue,
      });
    }
    const closing = new AbortController();
    const write = async (o: Output, b: Batch) => {
      if (!conf.retry_until_success) return o.write(b);
      const backoff = new Backoff({ initialMs: 100, maxMs: 5000 });
      for (;;) {
        try {
          return await o.write(b);
        } catch (err) {
          if (closing.signal.aborted) throw err;
          await sleep(backoff.next(), closing.signal);
        }
      }
    };
    return {
      maxInFlight: Math.max(1, ...cases.map((c) => c.output.maxInFlight)),
      connect: async (signal) => {
        await Promise.all(cases.map((c) => c.output.connect(signal)));
      },
      close: async () => {
        closing.abort();
        await Promise.all(cases.map((c) => c.output.close()));
      },
      async write(batch) {
        const routed: Batch[] = cases.map(() => []);
        for (let i = 0; i < batch.length; i++) {
          let matched = false;
          for (let k = 0; k < cases.length; k++) {
            const c = cases[k]!;
            let pass = true;
            if (c.check) {
              try {
                pass = c.check.query(batch, i) === true;
              } catch {
                pass = false;
              }
            }
            if (!pass) continue;
            routed[k]!.push(matched ? batch[i]!.copy() : batch[i]!);
            matched = true;
            if (!c.cont) break;
          }
          if (!matched && conf.strict_mode) throw sluiceError('SLU_ERR_NACK', 'no switch case matched the message');
        }
        await Promise.all(routed.map((b, k) => (b.length ? write(cases[k]!.output, b) : undefined)));
      },
    };
  },
});
