// A child process for shared-limit.test.ts: one "gateway process" that shares PostgreSQL and
// Redis with its sibling and hammers the same keys when told to go.
import { openStore } from '../../src/store/store.js';
import { RedisState } from '../../src/state/redis.js';
import { RedisBus } from '../../src/state/bus.js';
import { AccessService } from '../../src/access/service.js';
import { silentLogger } from '../../src/engine/logger.js';

export interface HammerJob {
  readonly key: string;
  readonly apiId: string;
  readonly kind: 'requests' | 'messages';
  readonly n: number;
}

export interface HammerConfig {
  readonly store: string;
  readonly redis: string;
  readonly prefix: string;
  readonly jobs: readonly HammerJob[];
}

export interface HammerResult {
  readonly ok: number[];
  readonly sync: number[];
  readonly startedAt: number;
  readonly endedAt: number;
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2]!) as HammerConfig;
  const store = await openStore({ url: cfg.store });
  const state = await RedisState.connect({ url: cfg.redis, prefix: cfg.prefix });
  const bus = await RedisBus.create(state.redis, cfg.prefix);
  const access = new AccessService({ store, state, bus, logger: silentLogger });
  await access.start();
  const ids = await Promise.all(cfg.jobs.map((j) => access.resolveKey(j.key)));
  if (ids.some((x) => !x)) throw new Error('a key did not resolve');
  process.send!({ ready: true });
  // Both processes start at the same wall-clock moment, then run every job at once.
  const at = await new Promise<number>((resolve) => process.once('message', (m: { at: number }) => resolve(m.at)));
  await new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));
  const startedAt = Date.now();
  const results = await Promise.all(
    cfg.jobs.map(async (job, i) => {
      const id = ids[i]!;
      let okN = 0;
      let syncN = 0;
      if (job.kind === 'requests') {
        for (let done = 0; done < job.n; done += 10) {
          const batch = await Promise.all(Array.from({ length: Math.min(10, job.n - done) }, () => access.consumeRequest(id, job.apiId)));
          okN += batch.filter((r) => r.ok).length;
        }
      } else {
        for (let k = 0; k < job.n; k++) {
          const v = access.consumeMessages(id, job.apiId, 'delivered', 1, 100);
          if (!(v instanceof Promise)) syncN++;
          else if (k % 50 === 0) await new Promise((r) => setImmediate(r));
          if ((await v).ok) okN++;
        }
      }
      return { okN, syncN };
    }),
  );
  const ok = results.map((r) => r.okN);
  const sync = results.map((r) => r.syncN);
  const endedAt = Date.now();
  await access.close();
  await bus.close();
  await state.close();
  await store.close();
  process.send!({ ok, sync, startedAt, endedAt } satisfies HammerResult, () => process.exit(0));
}

main().catch((err: unknown) => {
  process.stderr.write(`hammer failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
