import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { loadStreamConfig, loadApiDefinition } from './load.js';
import { interpolateEnv, formatIssue } from './source.js';
import { createRegistry } from '../cli/wiring.js';

const registry = createRegistry();

describe('stream config validation', () => {
  test('reports a misspelt field and a wrong type with path and line', () => {
    const yaml = ['input:', '  http_server:', '    pathh: /x', '    allowed_verbs: POST', '    timeout: 5', 'output:', '  http_server:', '    ws_message_type: 7', '    heartbeat: {a: 1}', ''].join('\n');
    const { config, issues } = loadStreamConfig(yaml, { registry });
    assert.equal(config, undefined);
    const lines = issues.map((i) => formatIssue(i));
    assert.ok(lines.includes('input.http_server.pathh (line 3): field pathh not recognised (did you mean "path"?)'), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith('output.http_server.ws_message_type (line 8): value "7" is not one of: binary, text')), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith('output.http_server.heartbeat (line 9): expected a duration string')), lines.join('\n'));
  });

  test('an array of strings where a string was given', () => {
    const { issues } = loadStreamConfig('input:\n  http_server:\n    allowed_verbs: {a: 1}\n', { registry });
    assert.deepEqual(issues.map((i) => formatIssue(i)), ['input.http_server.allowed_verbs (line 3): expected an array of strings']);
  });

  test('fills defaults', () => {
    const { config, issues } = loadStreamConfig('input:\n  http_server: {}\noutput:\n  drop: {}\n', { registry });
    assert.deepEqual(issues, []);
    const input = config!.input.config as Record<string, unknown>;
    assert.equal(input.path, '/post');
    assert.equal(input.timeout, '5s');
    assert.deepEqual(input.allowed_verbs, ['POST']);
    assert.equal(config!.shutdown_timeout, '20s');
  });

  test('an unknown component lists the known ones of that kind', () => {
    const { issues } = loadStreamConfig('input:\n  htp_server: {}\n', { registry });
    assert.equal(issues.length, 1);
    assert.match(issues[0]!.message, /^unknown input type "htp_server" \(did you mean "http_server"\?\); known inputs: .*http_server.*stdin/);
    assert.equal(issues[0]!.line, 2);
  });

  test('JSON configs get line numbers too', () => {
    const json = '{\n  "input": {\n    "http_server": {\n      "timeout": []\n    }\n  }\n}\n';
    const { issues } = loadStreamConfig(json, { registry });
    assert.deepEqual(issues.map((i) => formatIssue(i)), ['input.http_server.timeout (line 4): expected a duration string such as 5s, got an array']);
  });

  test('a YAML syntax error names the line', () => {
    const { issues } = loadStreamConfig('input:\n  http_server: {\n', { registry });
    assert.ok(issues.length >= 1);
    assert.ok(issues[0]!.line !== undefined);
  });

  test('resources need labels', () => {
    const { issues } = loadStreamConfig('output_resources:\n  - drop: {}\n', { registry });
    assert.deepEqual(issues.map((i) => i.message), ['a resource needs a label']);
  });
});

describe('environment interpolation', () => {
  test('substitutes, defaults, escapes and leaves Bloblang alone', () => {
    const env = { A: 'x', EMPTY: '' };
    const { text, issues } = interpolateEnv('${A} ${B:def} ${EMPTY:d2} ${{A}} ${! meta("a") }', env);
    assert.equal(text, 'x def d2 ${A} ${! meta("a") }');
    assert.deepEqual(issues, []);
  });

  test('a missing variable without default is an error with its line', () => {
    const { issues } = interpolateEnv('a: 1\nb: ${NOPE_NOT_SET}\n', {});
    assert.deepEqual(issues, [{ path: '', line: 2, message: 'environment variable NOPE_NOT_SET is not set and has no default' }]);
  });
});

describe('Tyk OAS API definitions', () => {
  const doc = (streams: string) => `openapi: 3.0.3
info: {title: t, version: "1"}
paths: {}
x-tyk-api-gateway:
  info: {name: orders, state: {active: true}}
  server: {listenPath: {value: /orders/, strip: true}}
x-tyk-streaming:
  streams:
${streams}`;

  test('loads streams, listen path and id', () => {
    const { api, issues } = loadApiDefinition(doc('    s1:\n      input: {http_server: {path: /in}}\n      output: {drop: {}}\n'), { registry });
    assert.deepEqual(issues, []);
    assert.equal(api!.listenPath, '/orders');
    assert.equal(api!.id, 'orders');
    assert.equal(api!.streams[0]!.name, 's1');
  });

  test('reports errors under x-tyk-streaming.streams.<name> with lines', () => {
    const { api, issues } = loadApiDefinition(doc('    s1:\n      input:\n        http_server:\n          paht: /in\n'), { registry });
    assert.equal(api, undefined);
    assert.deepEqual(issues.map((i) => formatIssue(i)), ['x-tyk-streaming.streams.s1.input.http_server.paht (line 12): field paht not recognised (did you mean "path"?)']);
  });

  test('names missing sections as Tyk does', () => {
    const { issues } = loadApiDefinition('openapi: 3.0.3\nx-tyk-api-gateway: {}\n', { registry });
    const msgs = issues.map((i) => i.message);
    assert.ok(msgs.includes('x-tyk-api-gateway: info is required'));
    assert.ok(msgs.includes('x-tyk-api-gateway: server is required'));
    assert.ok(msgs.includes('x-tyk-streaming is required for a stream API'));
  });
});
