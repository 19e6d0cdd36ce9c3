// End to end: the Tyk OAS fixture ../shared/fixtures/apis/orders-kafka.json, unchanged except for
// the Kafka addresses (SLUICE_KAFKA_ADDRESSES, default 127.0.0.1:9092) and, so that runs never
// share state, a per-run topic and consumer group. HTTP POST → mapping → kafka output → Kafka →
// kafka input → SSE (and WebSocket) subscribers.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EventSource } from 'eventsource';
import WebSocket from 'ws';
import { Gateway } from '../../src/gateway/server.js';
import { ApiManager } from '../../src/gateway/apis.js';
import { createGuard } from '../../src/gateway/guard.js';
import { createMemoryLookup } from '../../src/access/auth/index.js';
import { loadApiDefinition } from '../../src/config/load.js';
import { formatIssue } from '../../src/config/source.js';
import { createBloblang, createRegistry } from '../../src/cli/wiring.js';
import { sharedRoot } from '../support/paths.js';
import { testLogger, waitUntil } from '../support/streams.js';
import { ensureKafka, kcatRead, uniqueName } from '../../src/components/kafka/testing.js';

// ../shared beside the repository; the working directory's one when tests were compiled elsewhere.
const FIXTURE = [sharedRoot, resolve(process.cwd(), '..', 'shared')]
  .map((root) => join(root, 'fixtures', 'apis', 'orders-kafka.json'))
  .find((f) => existsSync(f)) ?? join(sharedRoot, 'fixtures', 'apis', 'orders-kafka.json');
const ADDRESSES = (process.env['SLUICE_KAFKA_ADDRESSES'] ?? '127.0.0.1:9092').split(',').map((a) => a.trim()).filter(Boolean);

type Json = Record<string, unknown>;

/** The fixture with its Kafka addresses, topic and group replaced. */
function loadFixture(topic: string, group: string): string {
  if (!existsSync(FIXTURE)) {
    throw new Error(`fixture ${FIXTURE} is missing: the shared fixtures folder must sit beside the repository (../shared/fixtures)`);
  }
  const doc = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Json;
  const streams = ((doc['x-tyk-streaming'] as Json).streams as Record<string, Json>);
  const out = (streams.ingest!.output as Json).kafka as Json;
  const input = (streams.feed!.input as Json).kafka as Json;
  assert.deepEqual(out.topic, 'orders', 'fixture shape: ingest writes to orders');
  assert.deepEqual(input.topics, ['orders'], 'fixture shape: feed reads orders');
  out.addresses = ADDRESSES;
  out.topic = topic;
  input.addresses = ADDRESSES;
  input.topics = [topic];
  input.consumer_group = group;
  return JSON.stringify(doc);
}

const KEY = 'orders-e2e-key';
let gateway: Gateway;
let apis: ApiManager;
let base: string;
let topic: string;

before(async () => {
  await ensureKafka();
  topic = uniqueName('orders');
  const logger = testLogger();
  const registry = createRegistry();
  const bloblang = await createBloblang();
  gateway = new Gateway({ host: '127.0.0.1', port: 0, logger, version: 'test' });
  // The fixture requires an auth token (header, or `token` in the query): one key for this run.
  const lookup = createMemoryLookup();
  lookup.setKey(KEY, {});
  apis = new ApiManager({ gateway, registry, bloblang, logger, guardFor: (def) => createGuard(def, { lookup, logger }) });
  const { api, issues } = loadApiDefinition(loadFixture(topic, uniqueName('orders_feed')), { registry, bloblang, fallbackId: 'orders' });
  assert.ok(api, `the fixture is valid: ${issues.map((i) => formatIssue(i)).join('; ')}`);
  await apis.load(api);
  base = `http://127.0.0.1:${(await gateway.listen()).port}`;
  await waitUntil(() => [...apis.streams(api.id)!.values()].every((s) => s.state === 'running'), 20_000, 'orders streams running');
});

after(async () => {
  await apis?.stopAll(2000);
  await gateway?.close();
});

describe('orders-kafka fixture', () => {
  test('a POSTed order is mapped, written to Kafka keyed by customer, and pushed to SSE and WebSocket subscribers', async () => {
    assert.equal((await fetch(`${base}/orders/feed`)).status, 401, 'the fixture requires a key');
    const es = new EventSource(`${base}/orders/feed?token=${KEY}`);
    const sse: string[] = [];
    es.onmessage = (e) => sse.push(String(e.data));
    const ws = new WebSocket(`${base.replace('http', 'ws')}/orders/feed/ws?token=${KEY}`);
    const wsGot: string[] = [];
    ws.on('message', (d) => wsGot.push(d.toString()));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    await waitUntil(() => es.readyState === EventSource.OPEN, 5_000, 'SSE connected');
    try {
      const orders = [
        { customer: 'c-17', item: 'book', qty: 1 },
        { customer: 'c-42', item: 'pen', qty: 3 },
      ];
      for (const o of orders) {
        const res = await fetch(`${base}/orders/submit`, { method: 'POST', body: JSON.stringify(o), headers: { Authorization: KEY } });
        assert.equal(res.status, 200, await res.text());
      }
      await waitUntil(() => sse.length >= 2 && wsGot.length >= 2, 20_000, 'both orders delivered to both subscribers');
      for (const [i, o] of orders.entries()) {
        const got = JSON.parse(sse[i]!) as Json;
        assert.equal(got.customer, o.customer);
        assert.equal(got.item, o.item);
        assert.equal(typeof got.received_at, 'string', 'the mapping added received_at');
        assert.deepEqual(JSON.parse(wsGot[i]!), got);
      }
      const records = await kcatRead(topic);
      assert.deepEqual(records.map((r) => r.key), ['c-17', 'c-42'], 'records are keyed by customer');
    } finally {
      es.close();
      ws.close();
    }
  });
});
