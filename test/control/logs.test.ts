// A full run of `sluice start` (embedded store, generated secret, debug JSON logs) driven
// through the management API and `sluice apply`; then its whole output is scanned: the
// secret appears once (the first-start announcement on stdout), keys and passwords never.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freshDataDir } from '../../src/store/testing.js';
import { applyDir } from '../../src/cli/commands/apply.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

interface Run {
  readonly proc: ChildProcess;
  readonly base: string;
  readonly output: () => { stdout: string; stderr: string };
  stop(): Promise<number | null>;
}

async function start(cwd: string, dataDir: string): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.SLUICE_SECRET;
  const proc = spawn(process.execPath, [cli, 'start', '--port', '0', '--apis', join(cwd, 'apis'), '--data', dataDir, '--log-level', 'debug', '--log-format', 'json'], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(proc);
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  // Generous: on a loaded machine, opening the embedded database (WASM) can take a while.
  const deadline = Date.now() + 60_000;
  while (!/listening on (http:\/\/\S+)/.test(stdout)) {
    if (Date.now() > deadline || proc.exitCode !== null) {
      proc.kill('SIGKILL');
      throw new Error(`sluice start did not come up:\n${stdout}\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const base = /listening on (http:\/\/\S+)/.exec(stdout)![1]!;
  return {
    proc,
    base,
    output: () => ({ stdout, stderr }),
    stop: () =>
      new Promise((resolve) => {
        proc.once('exit', (code) => resolve(code));
        proc.kill('SIGINT');
      }),
  };
}

const running = new Set<ChildProcess>();
after(() => {
  for (const p of running) if (p.exitCode === null) p.kill('SIGKILL');
});

test('logs of a full run never contain the secret, keys or passwords', { timeout: 150_000 }, async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'sluice-logs-'));
  mkdirSync(join(cwd, 'apis'));
  writeFileSync(
    join(cwd, 'apis', 'demo.yaml'),
    'openapi: 3.0.3\ninfo: {title: demo, version: "1"}\npaths: {}\nx-tyk-api-gateway:\n  info: {id: demo, name: demo, state: {active: true}}\n  server: {listenPath: {value: /demo/}}\nx-tyk-streaming:\n  streams:\n    s:\n      input: {http_server: {path: /echo}}\n      output: {sync_response: {}}\n',
  );
  const dataDir = await freshDataDir();
  const run = await start(cwd, dataDir);
  const secretFile = join(dataDir, 'secret');
  const secret = readFileSync(secretFile, 'utf8').trim();
  assert.equal(statSync(secretFile).mode & 0o777, 0o600);
  assert.ok(secret.length >= 32);

  const secrets: string[] = [];
  const call = async (method: string, path: string, body?: unknown, auth = secret) => {
    const res = await fetch(run.base + path, {
      method,
      headers: { 'x-tyk-authorization': auth, 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined };
  };

  // Refused attempts, with secret-looking wrong values.
  const wrong = 'WRONG-' + secret.slice(0, 10) + '-attempt';
  secrets.push(wrong);
  assert.equal((await call('GET', '/tyk/keys', undefined, wrong)).status, 403);
  assert.equal((await call('GET', '/api/keys', undefined, '')).status, 403);

  // Keys: generated, custom, and a basic-auth user with a password.
  await call('POST', '/tyk/policies', { id: 'gold', rate: 100, per: 1, access_rights: { demo: { api_id: 'demo' } } });
  const k1 = (await call('POST', '/tyk/keys', { apply_policies: ['gold'], alias: 'first' })).body!;
  const custom = 'custom-key-' + Math.random().toString(36).slice(2, 12);
  const k2 = (await call('POST', `/tyk/keys/${custom}`, { access_rights: { demo: { api_id: 'demo' } } })).body!;
  const password = 'Sup3r-Secret-Pw-' + Math.random().toString(36).slice(2);
  const k3 = (await call('POST', '/tyk/keys/alice', { basic_auth_data: { password, hash_type: '' }, access_rights: { demo: { api_id: 'demo' } } })).body!;
  const k4 = (await call('POST', '/api/keys', { access_rights: { demo: { api_id: 'demo' } } })).body!;
  for (const k of [k1, k2, k4]) {
    assert.equal(typeof k.key, 'string');
    secrets.push(String(k.key));
  }
  assert.equal(k3.key, '');
  secrets.push(password);

  // Keys in URLs, keys in bodies, malformed bodies holding keys, failures.
  assert.equal((await call('GET', `/tyk/keys/${k1.key}`)).status, 200);
  assert.equal((await call('PUT', `/tyk/keys/${custom}`, { access_rights: { demo: { api_id: 'demo' } }, alias: 'renamed' })).status, 200);
  assert.equal((await call('POST', '/tyk/keys', `{"alias": "${k1.key}", "rate": oops}`)).status, 400);
  assert.equal((await call('POST', '/tyk/keys', { alias: String(k1.key), password })).status, 400);
  assert.equal((await call('PUT', `/tyk/keys/${k4.key}-nope`, { access_rights: {} })).status, 404);
  assert.equal((await call('GET', `/tyk/keys/${custom}x`)).status, 404);
  assert.equal((await call('DELETE', `/tyk/keys/${k1.key}`)).status, 200);
  assert.equal((await call('POST', `/tyk/keys/policy/${k2.key_hash}`, { apply_policies: ['missing'] })).status, 400);

  // APIs through the management API and through `sluice apply`.
  const doc = {
    openapi: '3.0.3', info: { title: 'orders', version: '1' }, paths: {},
    'x-tyk-api-gateway': { info: { id: 'orders', name: 'orders', state: { active: true } }, server: { listenPath: { value: '/orders/' } } },
    'x-tyk-streaming': { streams: { s: { input: { http_server: { path: '/echo' } }, output: { sync_response: {} } } } },
  };
  assert.equal((await call('POST', '/tyk/apis/oas', doc)).status, 200);
  const applyDirPath = mkdtempSync(join(tmpdir(), 'sluice-logs-apply-'));
  writeFileSync(join(applyDirPath, 'orders.json'), JSON.stringify({ ...doc, info: { title: 'orders v2', version: '1' } }));
  const r = await applyDir(applyDirPath, { url: run.base, secret, out: () => undefined });
  assert.deepEqual(r.failures, []);
  assert.equal((await call('GET', '/tyk/reload')).status, 200);

  assert.equal(await run.stop(), 0);
  const { stdout, stderr } = run.output();
  assert.match(stderr, /"msg":"API created"/, 'debug logs were written');
  assert.match(stderr, /management request/);
  assert.match(stderr, /refused a management request without a valid secret/);
  // The secret: once, in the first-start announcement on stdout; never in the logs.
  assert.equal(stdout.split(secret).length - 1, 1, 'the secret is printed once');
  assert.match(stdout, /Management API secret \(generated now and shown only this once/);
  assert.ok(!stderr.includes(secret), 'the secret is not in the logs');
  for (const s of secrets) {
    assert.ok(!stdout.includes(s) && !stderr.includes(s), `${s.slice(0, 6)}… leaked into the output`);
  }

  // A second start with the same data folder reads the secret and prints nothing about it.
  const again = await start(cwd, dataDir);
  assert.equal((await fetch(`${again.base}/tyk/keys`, { headers: { 'x-tyk-authorization': secret } })).status, 200);
  assert.equal(((await (await fetch(`${again.base}/tyk/apis/oas/orders`, { headers: { 'x-tyk-authorization': secret } })).json()) as { info: { title: string } }).info.title, 'orders v2', 'APIs come back from the store');
  assert.equal(await (await fetch(`${again.base}/orders/echo`, { method: 'POST', body: 'back' })).text(), 'back');
  assert.equal(await again.stop(), 0);
  const o2 = again.output();
  assert.ok(!o2.stdout.includes(secret) && !o2.stderr.includes(secret));
  assert.doesNotMatch(o2.stdout, /Management API secret/);
  for (const d of [cwd, dataDir, applyDirPath]) rmSync(d, { recursive: true, force: true });
});
