// KV buckets for tests against the NATS server on 127.0.0.1:4222 (JetStream on): one connection
// per test file, a uniquely named bucket per call, every bucket destroyed when the file ends.
import { before, after } from 'node:test';
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';

export const NATS_URL = 'nats://127.0.0.1:4222';

/** Call at the top level of a test file; `bucket()` then creates a fresh bucket. */
export function useKvBuckets(prefix: string, defaultHistory = 1): { bucket(history?: number): Promise<{ name: string; kv: KV }> } {
  const run = randomUUID().slice(0, 8);
  let nc: NatsConnection | undefined;
  const buckets: KV[] = [];
  let n = 0;
  before(async () => {
    nc = await connect({ servers: NATS_URL });
  });
  after(async () => {
    for (const b of buckets) await b.destroy().catch(() => undefined);
    await nc?.close();
  });
  return {
    async bucket(history = defaultHistory) {
      if (!nc) throw new Error('useKvBuckets: bucket() called outside a test');
      const name = `sluice_${prefix}_${run}_${++n}`;
      const kv = await new Kvm(nc).create(name, { history });
      buckets.push(kv);
      return { name, kv };
    },
  };
}
