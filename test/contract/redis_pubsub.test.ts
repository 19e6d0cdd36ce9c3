// The connector contract suite for redis_pubsub against 127.0.0.1:6379. Pub/Sub keeps nothing
// and carries no metadata, so those cases are skipped.
import { contractSuite } from './suite.js';

contractSuite({
  name: 'redis_pubsub',
  address: '127.0.0.1:6379',
  configs: (id, addr) => ({
    input: { redis_pubsub: { url: `redis://${addr}`, channels: [id] } },
    output: { redis_pubsub: { url: `redis://${addr}`, channel: id } },
  }),
  supports: { metadata: false, nackRedelivery: true, batches: true, ordered: true, persistent: false },
});
