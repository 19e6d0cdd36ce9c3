// The connector contract suite for redis_streams against 127.0.0.1:6379, and a private
// redis-server with an append-only file for the restart case.
import { after } from 'node:test';
import { Redis } from 'ioredis';
import { contractSuite, type PrivateBroker } from './suite.js';
import { startPrivateRedis } from '../support/redis-server.js';

const used: string[] = [];
after(async () => {
  const r = new Redis('redis://127.0.0.1:6379');
  if (used.length) await r.del(...used);
  await r.quit();
});

contractSuite({
  name: 'redis_streams',
  address: '127.0.0.1:6379',
  configs: (id, addr) => {
    used.push(id);
    return {
      input: { redis_streams: { url: `redis://${addr}`, streams: [id], consumer_group: 'contract', client_id: 'c1', commit_period: '100ms', timeout: '200ms' } },
      output: { redis_streams: { url: `redis://${addr}`, stream: id } },
    };
  },
  supports: { metadata: true, nackRedelivery: true, batches: true, ordered: true, persistent: true },
  privateBroker: (): Promise<PrivateBroker> => startPrivateRedis({ persistent: true }),
});
