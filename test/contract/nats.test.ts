// The connector contract suite for core `nats` against 127.0.0.1:4222. Core NATS keeps nothing
// for absent subscribers (at-most-once), so the persistence and restart cases are skipped.
import { contractSuite } from './suite.js';

contractSuite({
  name: 'nats',
  address: '127.0.0.1:4222',
  configs: (id, addr) => ({
    input: { nats: { urls: [`nats://${addr}`], subject: `sluice.contract.core.${id}` } },
    output: { nats: { urls: [`nats://${addr}`], subject: `sluice.contract.core.${id}`, metadata: { include_patterns: ['.*'] } } },
  }),
  supports: { metadata: true, nackRedelivery: true, batches: true, ordered: true, persistent: false },
});
