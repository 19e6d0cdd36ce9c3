/**
 * `branch` processor: runs child processors on a copy of each message (shaped by
 * `request_map`) and maps their result back onto the original with `result_map`, so an
 * enrichment call (http, cache, sql) can add fields without replacing the message.
 *
 * - `request_map` empty: the branch gets a copy of the message. A request_map that deletes the
 *   message skips the branch for it; one that fails flags the message and skips it.
 * - The child processors must keep the number and order of messages.
 * - `result_map` empty: the original is left unchanged. Otherwise `this` is the branch result,
 *   `root` starts as the original document and `@` is the original's metadata.
 * - A child that flags a message skips its result_map; the original is flagged with the error.
 */
import { defineProcessor } from '../../../engine/component.js';
import type { Batch, Message } from '../../../engine/message.js';
import { field } from '../../../engine/spec.js';
import { runProcessors } from '../../../engine/pipeline.js';

interface BranchConfig {
  request_map: string;
  processors: unknown[];
  result_map: string;
}

export const spec = defineProcessor<BranchConfig>({
  name: 'branch',
  summary: 'Runs processors on a copy of each message and maps the result back onto the original.',
  categories: ['Composition'],
  config: field.object('', '', [
    field.bloblang('request_map', 'Builds the message the branch processes; empty = a copy of the message.', { default: '' }),
    field.processors('processors', 'Processors applied to the branch messages (they must keep count and order).'),
    field.bloblang('result_map', 'Maps the branch result onto the original (`this` = result, `root` = original); empty = original unchanged.', { default: '' }),
  ]),
  examples: [
    {
      title: 'Enrich from an HTTP service',
      config:
        'pipeline:\n  processors:\n    - branch:\n        request_map: root = {"id": this.user_id}\n        processors:\n          - http:\n              url: http://localhost:8081/users\n              verb: POST\n        result_map: root.user = this\n',
    },
  ],
  build: async (conf, ctx) => {
    const request = conf.request_map ? ctx.bloblang.compileMapping(conf.request_map) : undefined;
    const result = conf.result_map ? ctx.bloblang.compileMapping(conf.result_map) : undefined;
    const children = await ctx.build.processors(conf.processors, `${ctx.path}.processors`);
    return {
      async process(batch: Batch): Promise<Batch[]> {
        // Which originals go into the branch, and the branch message for each.
        const idx: number[] = [];
        const parts: Message[] = [];
        for (let i = 0; i < batch.length; i++) {
          const orig = batch[i]!;
          if (!request) {
            idx.push(i);
            parts.push(orig.copy().clearError());
            continue;
          }
          try {
            const req = request.map(batch, i);
            if (!req) continue;
            idx.push(i);
            parts.push(req.clearError());
          } catch (err) {
            orig.setError(err, ctx.path);
          }
        }
        if (!parts.length) return [batch];
        const out = (await runProcessors(children, parts)).flat();
        if (out.length !== parts.length) {
          const err = new Error(`branch processors changed the number of messages from ${parts.length} to ${out.length}`);
          for (const i of idx) batch[i]!.setError(err, ctx.path);
          return [batch];
        }
        const kept: (Message | null)[] = [...batch];
        for (let k = 0; k < idx.length; k++) {
          const i = idx[k]!;
          const res = out[k]!;
          if (res.error) {
            batch[i]!.setError(res.error, ctx.path);
            continue;
          }
          if (!result) continue;
          try {
            kept[i] = result.mapOnto(batch[i]!, out, k);
          } catch (err) {
            batch[i]!.setError(err, ctx.path);
          }
        }
        const final = kept.filter((m): m is Message => m !== null);
        return final.length ? [final] : [];
      },
      async close() {
        await Promise.all(children.map((c) => c.close?.()));
      },
    };
  },
});
