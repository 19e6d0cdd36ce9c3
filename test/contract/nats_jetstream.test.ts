// The connector contract suite for nats_jetstream, against the NATS server on 127.0.0.1:4222
// and a private nats-server for the restart case. Subjects `sluice.contract.js.<id>` are
// captured by a stream this file creates (and deletes) on each server.
import { before, after } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { contractSuite, type PrivateBroker } from './suite.js';
import { startPrivateNats } from '../support/nats-server.js';

const STREAM = `SLUICE_CONTRACT_${process.pid}`;
const SHARED = '127.0.0.1:4222';

async function withStream(address: string, fn: 'add' | 'delete'): Promise<void> {
  const nc = await connect({ servers: address });
  try {
    const jsm = await jetstreamManager(nc);
    if (fn === 'add') await jsm.streams.add({ name: STREAM, subjects: ['sluice.contract.js.>'], max_age: 3600 * 1e9 });
    else await jsm.streams.delete(STREAM).catch(() => undefined);
  } finally {
    await nc.close();
  }
}

before(() => withStream(SHARED, 'add'));
after(() => withStream(SHARED, 'delete'));

async function privateBroker(): Promise<PrivateBroker> {
  const b = await startPrivateNats();
  await withStream(b.address, 'add');
  return b;
}

contractSuite({
  name: 'nats_jetstream',
  address: SHARED,
  configs: (id, addr) => ({
    input: { nats_jetstream: { urls: [`nats://${addr}`], subject: `sluice.contract.js.${id}`, durable: id, ack_wait: '3s' } },
    output: { nats_jetstream: { urls: [`nats://${addr}`], subject: `sluice.contract.js.${id}`, metadata: { include_patterns: ['.*'] } } },
  }),
  supports: { metadata: true, nackRedelivery: true, batches: true, ordered: true, persistent: true },
  privateBroker,
});
