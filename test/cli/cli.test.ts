// The `sluice` command as a user runs it: start (with Ctrl-C), run, lint, schema.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../support/paths.js';
import { waitUntil } from '../support/streams.js';

const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
const tmp = mkdtempSync(join(tmpdir(), 'sluice-cli-'));

function sluice(args: string[], input?: string) {
  return spawnSync(process.execPath, [cli, ...args], { cwd: repoRoot, input, encoding: 'utf8', timeout: 30_000 });
}

describe('sluice start', () => {
  test('serves the demo, prints its URLs, drains on SIGINT and exits 0', async () => {
    const proc = spawn(process.execPath, [cli, 'start', '--port', '0', '--log-level', 'warn', '--data', join(tmp, 'data')], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitUntil(() => /\/demo\/events/.test(out), 60_000, 'startup output');
      const base = /listening on (http:\/\/[^\s]+)/.exec(out)![1]!;
      assert.match(out, /\/demo\/publish/);
      assert.match(out, /ws:\/\/.*\/demo\/ws/);
      const ctrl = new AbortController();
      const sse = await fetch(`${base}/demo/events`, { signal: ctrl.signal });
      const reader = sse.body!.getReader();
      const pub = await fetch(`${base}/demo/publish`, { method: 'POST', body: '{"hello":"world"}' });
      assert.equal(pub.status, 200);
      let text = '';
      while (!text.includes('{"hello":"world"}')) text += new TextDecoder().decode((await reader.read()).value);
      ctrl.abort();
      const code = await new Promise<number | null>((resolve) => {
        proc.once('exit', (c) => resolve(c));
        proc.kill('SIGINT');
      });
      assert.equal(code, 0);
    } finally {
      proc.kill('SIGKILL');
    }
  });
});

describe('sluice run', () => {
  test('runs a Benthos config from stdin to stdout and exits when the input ends', () => {
    const file = join(tmp, 'pipe.yaml');
    writeFileSync(file, 'http:\n  enabled: false\ninput:\n  stdin: {}\npipeline:\n  processors:\n    - noop: {}\noutput:\n  stdout: {}\n');
    const r = sluice(['run', '-c', file, '--log-level', 'off'], 'one\ntwo\n');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'one\ntwo\n');
  });

  test('refuses an invalid config with path and line', () => {
    const file = join(tmp, 'bad.yaml');
    writeFileSync(file, 'input:\n  stdin:\n    codecc: lines\n');
    const r = sluice(['run', '-c', file]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /input\.stdin\.codecc \(line 3\): field codecc not recognised/);
  });
});

describe('sluice lint', () => {
  test('reports a misspelt field and a wrong type, with path and line, and exits 1', () => {
    const file = join(tmp, 'api.yaml');
    writeFileSync(
      file,
      [
        'openapi: 3.0.3',
        'info: {title: orders, version: "1"}',
        'paths: {}',
        'x-tyk-api-gateway:',
        '  info: {name: orders, state: {active: true}}',
        '  server: {listenPath: {value: /orders/}}',
        'x-tyk-streaming:',
        '  streams:',
        '    orders:',
        '      input:',
        '        http_server:',
        '          pathh: /in',
        '          allowed_verbs: 42',
        '      output:',
        '        drop: {}',
        '',
      ].join('\n'),
    );
    const r = sluice(['lint', file]);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /x-tyk-streaming\.streams\.orders\.input\.http_server\.pathh \(line 12\): field pathh not recognised/);
    assert.match(r.stdout, /x-tyk-streaming\.streams\.orders\.input\.http_server\.allowed_verbs \(line 13\): expected an array of strings/);
  });

  test('passes the demo API and exits 0', () => {
    const r = sluice(['lint', join(repoRoot, 'apis', 'demo.yaml')]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
});

describe('sluice blobl', () => {
  test('maps each stdin line, reports runtime errors and carries state across lines', () => {
    const r = sluice(['blobl', 'root = {"n": counter(), "b": this.a + 1}'], '{"a":1}\n{"a":"x"}\n{"a":5}\n');
    assert.equal(r.status, 0);
    assert.deepEqual(r.stdout.trim().split('\n'), ['{"b":2,"n":1}', '{"b":6,"n":3}']);
    assert.match(r.stderr, /failed to execute map: failed assignment \(line 1\)/);
  });

  test('a parse error exits 1 with line, column and caret', () => {
    const r = sluice(['blobl', 'root = this.('], '');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /failed to parse mapping: line 1 char 14/);
    assert.match(r.stderr, /\^/);
  });
});

describe('sluice schema', () => {
  test('prints a JSON Schema with every registered component', () => {
    const r = sluice(['schema']);
    assert.equal(r.status, 0);
    const schema = JSON.parse(r.stdout) as { $defs: Record<string, { properties: Record<string, unknown> }> };
    assert.ok(schema.$defs.input!.properties.http_server);
    assert.ok(schema.$defs.output!.properties.broker);
    assert.ok(schema.$defs.processor!.properties.catch);
  });
});
