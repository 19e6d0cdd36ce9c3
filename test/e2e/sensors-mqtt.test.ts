// The Tyk OAS fixture ../shared/fixtures/apis/sensors-mqtt.yaml, unchanged, against Mosquitto on
// 127.0.0.1:1883: readings published with mosquitto_pub reach SSE subscribers of /sensors/live
// (mapped by Bloblang) and WebSocket subscribers of /sensors/live/ws (raw); readings POSTed to
// /sensors/report are published back to MQTT on the interpolated topic, answered once the
// broker acknowledged them. Sensor ids are unique per run, so other traffic on sensors/# is
// ignored.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, parse } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { Gateway } from '../../src/gateway/server.js';
import { ApiManager } from '../../src/gateway/apis.js';
import { loadApiDefinition } from '../../src/config/load.js';
import { formatIssue } from '../../src/config/source.js';
import { createBloblang, createRegistry } from '../../src/cli/wiring.js';
import { testLogger, waitUntil, sleep } from '../support/streams.js';
import { sse } from './sse-client.js';

const exec = promisify(execFile);

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

const run = randomUUID().slice(0, 8);

let gateway: Gateway;
let apis: ApiManager;
let base: string;

before(async () => {
  const FIXTURE = fixturePath('sensors-mqtt.yaml');
  const logger = testLogger();
  const registry = createRegistry();
  const bloblang = await createBloblang();
  gateway = new Gateway({ host: '127.0.0.1', port: 0, logger, version: 'test' });
  apis = new ApiManager({ gateway, registry, bloblang, logger });
  const { port } = await gateway.listen();
  base = `http://127.0.0.1:${port}`;
  const { api, issues } = loadApiDefinition(readFileSync(FIXTURE, 'utf8'), { registry, bloblang, fallbackId: 'sensors' });
  assert.ok(api, `the fixture is valid:\n${issues.map((i) => formatIssue(i)).join('\n')}`);
  await apis.load(api);
  await waitUntil(() => [...apis.streams(api.id)!.values()].every((s) => s.state === 'running'), 15_000, 'sensors streams running (MQTT connected and subscribed)');
});

after(async () => {
  await apis?.stopAll(2000);
  await gateway?.close();
});

function wsClient(url: string): Promise<{ ws: WebSocket; got: string[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const got: string[] = [];
    ws.on('message', (d, isBinary) => {
      assert.equal(isBinary, false, 'ws_message_type: text');
      got.push(d.toString());
    });
    ws.once('open', () => resolve({ ws, got }));
    ws.once('error', reject);
  });
}

describe('sensors-mqtt.yaml', () => {
  test('MQTT readings reach SSE (mapped) and WebSocket (raw) subscribers', async () => {
    const sensor = `e2e-${run}-a`;
    const live = sse(`${base}/sensors/live`);
    await live.ready;
    const ws = await wsClient(`${base.replace('http', 'ws')}/sensors/live/ws`);
    try {
      await exec('mosquitto_pub', ['-h', '127.0.0.1', '-p', '1883', '-q', '1', '-t', `sensors/${sensor}/temperature`, '-m', '{"value":20}']);
      await exec('mosquitto_pub', ['-h', '127.0.0.1', '-p', '1883', '-q', '1', '-t', `sensors/${sensor}/humidity`, '-m', '{"value":55}']);
      const mine = () => live.events.map((e) => JSON.parse(e) as { sensor?: string }).filter((e) => e.sensor === sensor);
      await waitUntil(() => mine().length >= 1 && ws.got.filter((m) => m.includes('"value"')).length >= 2, 10_000, 'SSE and WebSocket deliveries');
      assert.deepEqual(mine(), [{ sensor, celsius: 20, fahrenheit: 68 }], 'only temperature topics are mapped onto /live');
      assert.ok(ws.got.includes('{"value":20}') && ws.got.includes('{"value":55}'), 'sensors/# reaches the WebSocket unmapped');
    } finally {
      live.close();
      ws.ws.close();
    }
  });

  test('POST /sensors/report publishes to sensors/<sensor>/temperature, and back to /live', async () => {
    const sensor = `e2e-${run}-b`;
    const topic = `sensors/${sensor}/temperature`;
    const sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', '1883', '-q', '1', '-C', '1', '-W', '10', '-v', '-t', topic]);
    let out = '';
    sub.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<void>((r) => sub.once('exit', () => r()));
    const live = sse(`${base}/sensors/live`);
    await live.ready;
    await sleep(300); // mosquitto_sub subscribes
    try {
      const body = JSON.stringify({ sensor, value: 100 });
      const res = await fetch(`${base}/sensors/report`, { method: 'POST', body });
      assert.equal(res.status, 200, 'answered once the broker acknowledged the publish');
      await exited;
      assert.equal(out.trim(), `${topic} ${body}`);
      await waitUntil(() => live.events.some((e) => e.includes(sensor)), 10_000, 'the reading back on /live');
      assert.deepEqual(JSON.parse(live.events.find((e) => e.includes(sensor))!), { sensor, celsius: 100, fahrenheit: 212 });
    } finally {
      sub.kill();
      live.close();
    }
  });
});
