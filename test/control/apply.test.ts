// Config as code: `sluice apply DIR` (+ --dry-run), `sluice export DIR`, `sluice keys ...` and
// `sluice policies ...`, run as a user runs them, against a live gateway.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestGateway, type TestGateway } from '../../src/control/testing.js';
import { MemoryStore } from '../../src/store/memory.js';
import { MemoryState } from '../../src/state/memory.js';
import { MemoryBus } from '../../src/state/bus.js';
import { applyDir } from '../../src/cli/commands/apply.js';
import { exportDir } from '../../src/cli/commands/export.js';
import { keysCommand, type KeysIo } from '../../src/cli/commands/keys.js';
import { policiesCommand } from '../../src/cli/commands/policies.js';
import { keyHash } from '../../src/access/hash.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function sluice(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [cli, ...args], { env: { ...process.env, SLUICE_SECRET: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function api(id: string, listen: string, title = id): Record<string, unknown> {
  return {
    openapi: '3.0.3',
    info: { title, version: '1.0.0' },
    paths: {},
    'x-tyk-api-gateway': { info: { id, name: id, state: { active: true } }, server: { listenPath: { value: `/${listen}/` } } },
    'x-tyk-streaming': { streams: { echo: { input: { http_server: { path: '/echo' } }, output: { sync_response: {} } } } },
  };
}

let gw: TestGateway;
let dir: string;
let conn: string[];
const temps: string[] = [];
const tempDir = (prefix: string): string => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
};

before(async () => {
  gw = await startTestGateway({ use: { store: new MemoryStore(), state: new MemoryState(), bus: new MemoryBus() } });
  conn = ['--url', gw.base, '--secret', gw.secret];
  // The running gateway: demo (to be changed) and old (to be deleted).
  assert.equal((await gw.req('POST', '/tyk/apis/oas', api('demo', 'demo'))).status, 200);
  assert.equal((await gw.req('POST', '/tyk/apis/oas', api('old', 'old'))).status, 200);
  // The folder: orders (new, YAML, id from the file name), demo (changed title), a policy.
  dir = tempDir('sluice-apply-');
  writeFileSync(
    join(dir, 'orders.yaml'),
    [
      'openapi: 3.0.3',
      'info: {title: orders, version: "1.0.0"}',
      'paths: {}',
      'x-tyk-api-gateway:',
      '  info: {name: orders, state: {active: true}}',
      '  server: {listenPath: {value: /orders/}}',
      'x-tyk-streaming:',
      '  streams:',
      '    echo:',
      '      input: {http_server: {path: /echo}}',
      '      output: {sync_response: {}}',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'demo.json'), JSON.stringify(api('demo', 'demo', 'demo v2'), null, 2));
  mkdirSync(join(dir, 'policies'));
  writeFileSync(join(dir, 'policies', 'gold.json'), JSON.stringify({ name: 'Gold', rate: 100, per: 1, access_rights: { orders: { api_id: 'orders' } } }));
});

after(async () => {
  await gw.close();
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

describe('sluice apply', () => {
  test('--dry-run prints the diff and changes nothing', async () => {
    const r = await sluice(['apply', dir, '--dry-run', ...conn]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, ['+ api orders', '~ api demo', '- api old', '+ policy gold', '4 changes (dry run: nothing applied)', ''].join('\n'));
    assert.equal((await gw.req('GET', '/tyk/apis/oas/orders')).status, 404);
    assert.equal((await gw.req('GET', '/tyk/apis/oas/old')).status, 200);
  });

  test('applies the changes, live', async () => {
    const r = await sluice(['apply', dir, ...conn]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, ['+ api orders', '~ api demo', '+ policy gold', '- api old', '4 changes applied', ''].join('\n'));
    assert.equal(await (await fetch(`${gw.base}/orders/echo`, { method: 'POST', body: 'hi' })).text(), 'hi');
    assert.equal((await fetch(`${gw.base}/old/echo`, { method: 'POST', body: 'x' })).status, 404);
    assert.equal(((await gw.req('GET', '/tyk/apis/oas/demo')).body as { info: { title: string } }).info.title, 'demo v2');
    assert.equal(((await gw.req('GET', '/tyk/policies/gold')).body as { rate: number }).rate, 100);
  });

  test('is idempotent: a second apply prints no changes', async () => {
    const r = await sluice(['apply', dir, ...conn]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'no changes\n');
  });

  test('export writes what runs; applying the export changes nothing', async () => {
    const out = tempDir('sluice-export-');
    const lines: string[] = [];
    assert.deepEqual(await exportDir(out, { url: gw.base, secret: gw.secret, out: (l) => lines.push(l) }), { apis: 2, policies: 1 });
    assert.match(lines[0]!, /exported 2 APIs and 1 policy/);
    assert.deepEqual(readdirSync(out).sort(), ['demo.json', 'orders.json', 'policies']);
    assert.equal(JSON.parse(readFileSync(join(out, 'policies', 'gold.json'), 'utf8')).id, 'gold');
    lines.length = 0;
    const again = await applyDir(out, { url: gw.base, secret: gw.secret, out: (l) => lines.push(l) });
    assert.deepEqual(again.changes, []);
    assert.deepEqual(lines, ['no changes']);
  });

  test('a folder with a broken file applies nothing and says where', async () => {
    const bad = tempDir('sluice-bad-');
    writeFileSync(join(bad, 'a.yaml'), 'openapi: [\n');
    await assert.rejects(applyDir(bad, { url: gw.base, secret: gw.secret }), /a\.yaml/);
    assert.equal((await gw.req('GET', '/tyk/apis/oas/demo')).status, 200);
  });

  test('a definition the server refuses is reported and the rest applied', async () => {
    const d = tempDir('sluice-partial-');
    writeFileSync(join(d, 'demo.json'), JSON.stringify(api('demo', 'demo', 'demo v2')));
    writeFileSync(join(d, 'orders.json'), JSON.stringify(api('orders', 'orders')));
    const broken = api('broken', 'broken');
    (broken['x-tyk-streaming'] as { streams: Record<string, unknown> }).streams = { s: { input: { nope: {} }, output: { drop: {} } } };
    writeFileSync(join(d, 'broken.json'), JSON.stringify(broken));
    const r = await applyDir(d, { url: gw.base, secret: gw.secret, keepOthers: true, out: () => undefined });
    assert.equal(r.failures.length, 1);
    assert.match(r.failures[0]!, /^\+ api broken: POST \/api\/apis: 400 .*x-tyk-streaming\.streams\.s\.input/);
  });

  test('without the secret, or with the gateway down: a clear message', async () => {
    await assert.rejects(applyDir(dir, { url: gw.base, dataDir: tempDir('nodata-'), env: {}, dryRun: true }), /no secret/);
    await assert.rejects(applyDir(dir, { url: 'http://127.0.0.1:1', secret: 'x', env: {} }), /cannot reach the management API at http:\/\/127\.0\.0\.1:1/);
  });
});

function capture(): { io: KeysIo; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l) => out.push(l), err: (l) => err.push(l), env: {} }, out, err };
}

describe('sluice keys and sluice policies', () => {
  test('keys create prints the key once; list shows hashes; revoke by hash or key', async () => {
    const c = await sluice(['keys', 'create', '--api', 'orders', '--rate', '10', '--per', '1', '--alias', 'cli', ...conn]);
    assert.equal(c.code, 0, c.stderr);
    const key = /^key: +(\S+)$/m.exec(c.stdout)![1]!;
    const hash = /^key_hash: +(\S+)$/m.exec(c.stdout)![1]!;
    assert.equal(hash, keyHash(key));
    const l = capture();
    assert.equal(await keysCommand(['list', ...conn], l.io), 0);
    assert.ok(l.out.includes(`${hash}  cli  -  orders  active`), l.out.join('\n'));
    assert.ok(!l.out.join('\n').includes(key));
    const c2 = capture();
    assert.equal(await keysCommand(['create', '--policy', 'gold', ...conn], c2.io), 0, c2.err.join('\n'));
    const key2 = /^key: +(\S+)$/.exec(c2.out[0]!)![1]!;
    const r = capture();
    assert.equal(await keysCommand(['revoke', hash, key2, ...conn], r.io), 0, r.err.join('\n'));
    assert.deepEqual(r.out, [`revoked ${hash}`, `revoked ${keyHash(key2)}`]);
    const again = capture();
    assert.equal(await keysCommand(['revoke', hash, ...conn], again.io), 1);
    assert.match(again.err.join('\n'), /no such key/);
  });

  test('policies create (a file), list, delete', async () => {
    const f = join(dir, 'silver.yaml');
    writeFileSync(f, 'name: Silver\nrate: 5\nper: 1\naccess_rights:\n  orders: {api_id: orders}\n');
    const c = capture();
    assert.equal(await policiesCommand(['create', f, ...conn], c.io), 0, c.err.join('\n'));
    assert.deepEqual(c.out, ['+ policy silver']);
    const c2 = capture();
    await policiesCommand(['create', f, ...conn], c2.io);
    assert.deepEqual(c2.out, ['~ policy silver']);
    const l = await sluice(['policies', 'list', ...conn]);
    assert.match(l.stdout, /^silver  Silver  rate 5\/1s  quota -  orders  active$/m);
    const d = capture();
    await policiesCommand(['delete', 'silver', ...conn], d.io);
    assert.deepEqual(d.out, ['- policy silver']);
    assert.equal(await policiesCommand(['delete', 'silver', ...conn], capture().io), 1);
  });

  test('usage errors exit 2', async () => {
    assert.equal(await keysCommand([], capture().io), 2);
    assert.equal(await policiesCommand(['frob'], capture().io), 2);
    assert.equal(await keysCommand(['revoke', ...conn], capture().io), 2);
  });
});
