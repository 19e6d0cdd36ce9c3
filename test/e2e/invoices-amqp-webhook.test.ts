// The Tyk OAS fixture ../shared/fixtures/apis/invoices-amqp-webhook.json, unchanged, against
// RabbitMQ on 127.0.0.1:5672 and an ERP receiver started here (ERP_URL points the fixture's
// http_client at it): invoices on the `invoices` queue are totalled, turned into XML and POSTed
// to the ERP, and acked only after the ERP answered 2xx (a failing ERP gets the message again
// through http_client retries, then AMQP nack → requeue → redelivery); invoices published to
// amq.fanout reach SSE subscribers of /invoices/stream. Invoice ids are unique per run, so other
// traffic on the fixture's shared queues is ignored.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, parse } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect as amqpConnect, type ChannelModel, type Channel } from 'amqplib';
import { Gateway } from '../../src/gateway/server.js';
import { ApiManager } from '../../src/gateway/apis.js';
import { loadApiDefinition } from '../../src/config/load.js';
import { formatIssue } from '../../src/config/source.js';
import { createBloblang, createRegistry } from '../../src/cli/wiring.js';
import { testLogger, waitUntil } from '../support/streams.js';
import { sse } from './sse-client.js';

/**
 * The fixture, from ../shared beside the repository root. The root is the nearest folder with
 * Sluice's package.json above this module or above the working directory (tests may be compiled
 * to a folder outside the repository).
 */
function fixturePath(name: string): string {
  const tried: string[] = [];
  for (const start of [dirname(fileURLToPath(import.meta.url)), process.cwd()]) {
    for (let dir = start; ; dir = dirname(dir)) {
      const pkg = join(dir, 'package.json');
      if (existsSync(pkg) && /"name":\s*"sluice"/.test(readFileSync(pkg, 'utf8'))) {
        const f = join(dir, '..', 'shared', 'fixtures', 'apis', name);
        if (existsSync(f)) return f;
        tried.push(f);
      }
      if (dir === parse(dir).root) break;
    }
  }
  assert.fail(`fixture missing: ${name} (looked for ${tried.join(', ') || 'a repository root'}; the shared folder must sit beside the repository, as ../shared)`);
}

interface Hit {
  readonly body: string;
  readonly contentType: string | undefined;
  readonly status: number;
}

const run = randomUUID().slice(0, 8);
/** ERP answers: how many times to fail each invoice id before accepting it. */
const failures = new Map<string, number>();
const hits: Hit[] = [];
const erp = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString();
    const id = /inv-[\w-]+/.exec(body)?.[0] ?? '';
    const left = failures.get(id) ?? 0;
    const status = left > 0 ? 503 : 200;
    if (left > 0) failures.set(id, left - 1);
    hits.push({ body, contentType: req.headers['content-type'], status });
    res.writeHead(status).end(status === 200 ? 'ok' : 'unavailable');
  });
});

let gateway: Gateway;
let apis: ApiManager;
let base: string;
let amqp: ChannelModel;
let ch: Channel;

before(async () => {
  const FIXTURE = fixturePath('invoices-amqp-webhook.json');
  await new Promise<void>((r) => erp.listen(0, '127.0.0.1', r));
  const erpUrl = `http://127.0.0.1:${(erp.address() as AddressInfo).port}/erp/invoices`;
  amqp = await amqpConnect('amqp://guest:guest@127.0.0.1:5672/');
  ch = await amqp.createChannel();
  const logger = testLogger();
  const registry = createRegistry();
  const bloblang = await createBloblang();
  gateway = new Gateway({ host: '127.0.0.1', port: 0, logger, version: 'test' });
  apis = new ApiManager({ gateway, registry, bloblang, logger });
  const { port } = await gateway.listen();
  base = `http://127.0.0.1:${port}`;
  const { api, issues } = loadApiDefinition(readFileSync(FIXTURE, 'utf8'), { registry, bloblang, fallbackId: 'invoices', env: { ...process.env, ERP_URL: erpUrl } });
  assert.ok(api, `the fixture is valid:\n${issues.map((i) => formatIssue(i)).join('\n')}`);
  await apis.load(api);
  await waitUntil(() => [...apis.streams(api.id)!.values()].every((s) => s.state === 'running'), 15_000, 'invoices streams running (queues declared and consumed)');
});

after(async () => {
  await apis?.stopAll(2000);
  await gateway?.close();
  await amqp?.close();
  erp.closeAllConnections();
  await new Promise<void>((r) => erp.close(() => r()));
});

const invoice = (id: string) => ({ id, customer: 'ACME', lines: [{ sku: 'a', qty: 2, price: 10 }, { sku: 'b', qty: 1, price: 5 }] });

describe('invoices-amqp-webhook.json', () => {
  test('an invoice on the queue reaches the ERP as XML with its total', async () => {
    const id = `inv-${run}-1`;
    ch.sendToQueue('invoices', Buffer.from(JSON.stringify(invoice(id))), { persistent: true, contentType: 'application/json' });
    await waitUntil(() => hits.some((h) => h.body.includes(id)), 10_000, 'ERP delivery');
    const hit = hits.find((h) => h.body.includes(id))!;
    assert.equal(hit.contentType, 'application/xml');
    assert.match(hit.body, /^<invoice>/);
    assert.match(hit.body, new RegExp(`<id>${id}</id>`));
    assert.match(hit.body, /<total>25<\/total>/);
    assert.match(hit.body, /<customer>ACME<\/customer>/);
  });

  test('a failing ERP: retries, then nack → requeue → redelivery, acked only after a 2xx', async () => {
    const id = `inv-${run}-2`;
    // 1 attempt + 3 retries fail: the message is nacked and requeued; the redelivery succeeds.
    failures.set(id, 4);
    ch.sendToQueue('invoices', Buffer.from(JSON.stringify(invoice(id))), { persistent: true });
    await waitUntil(() => hits.some((h) => h.body.includes(id) && h.status === 200), 20_000, 'eventual ERP acceptance');
    const mine = hits.filter((h) => h.body.includes(id));
    assert.deepEqual(mine.map((h) => h.status), [503, 503, 503, 503, 200]);
    const streams = apis.streams('invoices')!;
    assert.ok(streams.get('to-erp')!.stats.nacked >= 1, 'the exhausted retries nacked the message back to RabbitMQ');
  });

  test('invoices published to amq.fanout reach /invoices/stream subscribers', async () => {
    const id = `inv-${run}-3`;
    const live = sse(`${base}/invoices/stream`);
    await live.ready;
    try {
      ch.publish('amq.fanout', '', Buffer.from(JSON.stringify(invoice(id))));
      await waitUntil(() => live.events.some((e) => e.includes(id)), 10_000, 'SSE delivery');
      assert.deepEqual(JSON.parse(live.events.find((e) => e.includes(id))!), invoice(id));
    } finally {
      live.close();
    }
  });
});
