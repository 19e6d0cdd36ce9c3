/**
 * Runs a chain of processors over a batch. Synchronous processors stay synchronous end to end
 * (no promise is created on the hot path); the first asynchronous result switches the rest of
 * the chain to async.
 *
 * A processor that throws has failed on the whole batch: every message is flagged with the
 * error and passed on unchanged, as Benthos does.
 */
import type { Processor } from './component.js';
import type { Batch } from './message.js';

export function runProcessors(processors: readonly Processor[], batch: Batch, from = 0): Batch[] | Promise<Batch[]> {
  let batches: Batch[] = [batch];
  for (let i = from; i < processors.length; i++) {
    const p = processors[i]!;
    const next: Batch[] = [];
    for (let j = 0; j < batches.length; j++) {
      const b = batches[j]!;
      const r = callProcessor(p, b);
      if (Array.isArray(r)) {
        for (const x of r) if (x.length) next.push(x);
      } else {
        // Async from here on: finish this processor for the remaining batches, then continue.
        return finishAsync(processors, i, batches, j, next, r);
      }
    }
    batches = next;
    if (batches.length === 0) return batches;
  }
  return batches;
}

function callProcessor(p: Processor, b: Batch): Batch[] | Promise<Batch[]> {
  try {
    const r = p.process(b);
    if (Array.isArray(r)) return r;
    return r.catch((err: unknown) => [flagAll(b, err)]);
  } catch (err) {
    return [flagAll(b, err)];
  }
}

async function finishAsync(
  processors: readonly Processor[],
  i: number,
  batches: Batch[],
  j: number,
  next: Batch[],
  pending: Promise<Batch[]>,
): Promise<Batch[]> {
  for (const x of await pending) if (x.length) next.push(x);
  for (let k = j + 1; k < batches.length; k++) {
    for (const x of await callProcessor(processors[i]!, batches[k]!)) if (x.length) next.push(x);
  }
  if (i + 1 >= processors.length) return next;
  const out: Batch[] = [];
  for (const b of next) out.push(...(await runProcessors(processors, b, i + 1)));
  return out;
}

export function flagAll(batch: Batch, err: unknown, source?: string): Batch {
  for (const m of batch) m.setError(err, source);
  return batch;
}
