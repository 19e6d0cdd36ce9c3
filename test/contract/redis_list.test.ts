// The connector contract suite for redis_list against 127.0.0.1:6379. Lists carry no metadata.
// No restart case: BLPOP has no acknowledgement, so the item being popped when Redis is killed
// can be lost (as with Benthos); the component's own test bounds that loss to one item.
import { after } from 'node:test';
import { Redis } from 'ioredis';
import { contractSuite } from './suite.js';

const used: string[] = [];
after(async () => {
  const r = new Redis('redis://127.0.0.1:6379');
  if (used.length) await r.del(...used);
  await r.quit();
});

contractSuite({
  name: 'redis_list',
  address: '127.0.0.1:6379',
  configs: (id, addr) => {
    used.push(id);
    return {
      input: { redis_list: { url: `redis://${addr}`, key: id, timeout: '200ms' } },
      output: { redis_list: { url: `redis://${addr}`, key: id } },
    };
  },
  supports: { metadata: false, nackRedelivery: true, batches: true, ordered: true, persistent: true },
});
