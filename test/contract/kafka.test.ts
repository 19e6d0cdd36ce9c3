// The shared connector contract suite for the kafka_franz input and output, against the broker
// on 127.0.0.1:9092 and, for the restart case, a private broker (test/support/kafka-broker.ts).
import { before } from 'node:test';
import { contractSuite } from './suite.js';
import { startPrivateKafka } from '../support/kafka-broker.js';
import { KAFKA, ensureKafka } from '../../src/components/kafka/testing.js';

before(() => ensureKafka());

contractSuite({
  name: 'kafka',
  address: KAFKA,
  configs: (id, addr) => ({
    input: {
      kafka_franz: {
        seed_brokers: [addr],
        topics: [id],
        consumer_group: id,
        commit_period: '200ms',
        fetch_max_wait: '250ms',
      },
    },
    output: {
      kafka_franz: {
        seed_brokers: [addr],
        topic: id,
        metadata: { include_patterns: ['.*'] },
        timeout: '5s',
      },
    },
  }),
  supports: { metadata: true, nackRedelivery: true, batches: true, ordered: true, persistent: true },
  privateBroker: async () => {
    const k = await startPrivateKafka();
    return { address: k.bootstrap, kill: () => k.kill(), restart: () => k.restart(), stop: () => k.stop() };
  },
  timeoutMs: 30_000,
});
