// The Tyk OAS fixture ../shared/fixtures/apis/audit-redis.yaml, unchanged, against the Redis
// server on 127.0.0.1:6379: entries XADDed to the `audit` stream reach SSE subscribers of
// /audit/events (high severity ones marked by the switch + mapping) and the `audit-archive`
// list, and are XACKed once both outputs took them. The fixture's keys are emptied first.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Gateway } from '../../src/gateway/server.js';
import { ApiManager } from '../../src/gateway/apis.js';
import { loadApiDefinition } from '../../src/config/load.js';
import { createBloblang, createRegistry } from '../../src/cli/wiring.js';
import { formatIssue } from '../../src/config/source.js';
import { sharedRoot } from '../support/paths.js';
import { testLogger, waitUntil } from '../support/streams.js';
import { sse } from './sse-client.js';

const FIXTURE = join(sharedRoot, 'fixtures', 'apis', 'audit-redis.yaml');

let gateway: Gateway;
let apis: ApiManager;
let base: string;
let redis: Redis;

before(async () => {
  assert.ok(existsSync(FIXTURE), `fixture missing: ${FIXTURE} (the shared folder must sit beside the repository, as ../shared)`);
  redis = new Redis('redis://127.0.0.1:6379');
  await redis.del('audit', 'audit-archive');
  const logger = testLogger();
  const registry = createRegistry();
  const bloblang = await createBloblang();
  gateway = new Gateway({ host: '127.0.0.1', port: 0, logger, version: 'test' });
  apis = new ApiManager({ gateway, registry, bloblang, logger });
  const { port } = await gateway.listen();
  base = `http://127.0.0.1:${port}`;
  const { api, issues } = loadApiDefinition(readFileSync(FIXTURE, 'utf8'), { registry, bloblang, fallbackId: 'audit' });
  assert.ok(api, `the fixture is valid:\n${issues.map((i) => formatIssue(i)).join('\n')}`);
  await apis.load(api);
  await waitUntil(() => [...apis.streams(api.id)!.values()].every((s) => s.state === 'running'), 10_000, 'audit streams running');
});

after(async () => {
  await apis?.stopAll(2000);
  await gateway?.close();
  await redis?.del('audit', 'audit-archive');
  await redis?.quit();
});

describe('audit-redis.yaml', () => {
  test('stream entries fan out to SSE and the archive list, alerts marked, then acked', async () => {
    const sub = sse(`${base}/audit/events`);
    await sub.ready;
    try {
      await redis.xadd('audit', '*', 'body', JSON.stringify({ severity: 'high', msg: 'root login' }), 'host', 'db1');
      await redis.xadd('audit', '*', 'body', JSON.stringify({ severity: 'low', msg: 'logout' }));
      await waitUntil(() => sub.events.length >= 2, 10_000, 'SSE events');
      assert.deepEqual(sub.events.map((e) => JSON.parse(e)), [
        { severity: 'high', msg: 'root login', alert: true },
        { severity: 'low', msg: 'logout' },
      ]);
      await waitUntil(() => false, 100).catch(() => undefined);
      const archived = (await redis.lrange('audit-archive', 0, -1)).map((e) => JSON.parse(e));
      assert.deepEqual(archived, [
        { severity: 'high', msg: 'root login', alert: true },
        { severity: 'low', msg: 'logout' },
      ]);
      await waitUntil(() => false, 1500).catch(() => undefined);
      const [pending] = (await redis.xpending('audit', 'sluice-audit')) as [number];
      assert.equal(Number(pending), 0, 'XACKed after both outputs took them (commit_period 1s)');
    } finally {
      sub.close();
    }
  });
});
