import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newSink } from '../../../../test/support/test-components.js';
import { runStream } from '../../../../test/support/streams.js';
import { loadStreamConfig } from '../../../config/load.js';
import { createRegistry } from '../../../cli/wiring.js';
import { formatIssue } from '../../../config/source.js';
import { parseInterval, spec } from './index.js';

test('generates count messages, then the stream ends', async () => {
  const { id, sink } = newSink();
  const s = await runStream({ input: { generate: { mapping: 'root = {"n": counter()}', interval: '', count: 5, batch_size: 2 } }, output: { test_sink: { id } } });
  await s.done;
  assert.deepEqual(sink.texts(), [1, 2, 3, 4, 5].map((n) => `{"n":${n}}`));
  assert.deepEqual(sink.writes.map((b) => b.length), [2, 2, 1]);
});

test('intervals: durations, @every and cron expressions', () => {
  assert.deepEqual(parseInterval('1s'), { kind: 'every', ms: 1000 });
  assert.deepEqual(parseInterval('@every 250ms'), { kind: 'every', ms: 250 });
  assert.deepEqual(parseInterval('  '), { kind: 'none' });
  for (const c of ['0 * * * *', '0,30 */2 * * * *', '@hourly', '@daily', 'TZ=Europe/London 30 3-6,20-23 * * *']) {
    const i = parseInterval(c);
    assert.equal(i.kind, 'cron', c);
  }
  const i = parseInterval('TZ=Europe/London @daily');
  assert.ok(i.kind === 'cron' && i.cron.timeZone === 'Europe/London');
  assert.throws(() => parseInterval('@every soon'), /"@every" needs a duration/);
  assert.throws(() => parseInterval('61 * * * *'), /interval "61 \* \* \* \*" is neither a duration .* nor a valid cron expression: minute: value 61/);
  assert.throws(() => parseInterval('5 parsecs'), /neither a duration .*expected 5 fields/);
});

test('lint reports an invalid cron interval, naming the field', () => {
  const registry = createRegistry();
  const bad = loadStreamConfig("input:\n  generate:\n    mapping: root = {}\n    interval: '*/0 * * * *'\noutput:\n  drop: {}\n", { registry });
  const lines = bad.issues.map((i) => formatIssue(i));
  assert.equal(lines.length, 1, lines.join('\n'));
  assert.match(lines[0]!, /^input\.generate.*minute: step "0" in "\*\/0" is not a positive integer/);
  const good = loadStreamConfig("input:\n  generate:\n    mapping: root = {}\n    interval: 'TZ=America/New_York 0 9 * * MON-FRI'\noutput:\n  drop: {}\n", { registry });
  assert.deepEqual(good.issues, []);
});

test('build throws on an invalid cron interval', () => {
  // Called directly, as the validator would have stopped the config before build.
  const conf = { mapping: 'root = {}', interval: '* * * 13 *', count: 0, batch_size: 1, auto_replay_nacks: true };
  const ctx = { bloblang: { compileMapping: () => ({}) } } as unknown as Parameters<typeof spec.build>[1];
  assert.throws(() => spec.build(conf, ctx), /month: value 13 .*out of range 1-12/);
});

test('a per-second cron generates about once a second, then stops after count', async () => {
  const { id, sink } = newSink();
  const start = Date.now();
  const s = await runStream({ input: { generate: { mapping: 'root = {"n": counter()}', interval: '* * * * * *', count: 2 } }, output: { test_sink: { id } } });
  await s.done;
  const elapsed = Date.now() - start;
  assert.deepEqual(sink.texts(), ['{"n":1}', '{"n":2}']);
  // The first waits for the next whole second (up to 1 s), the second comes a second later.
  assert.ok(elapsed >= 950, `too fast: ${elapsed} ms`);
  assert.ok(elapsed < 15_000, `too slow: ${elapsed} ms`);
});

test('stopping the stream aborts a long cron wait', async () => {
  const { id, sink } = newSink();
  const s = await runStream({ input: { generate: { mapping: 'root = {}', interval: '@yearly' } }, output: { test_sink: { id } } });
  await new Promise((r) => setTimeout(r, 100));
  const t0 = Date.now();
  await s.stop();
  assert.ok(Date.now() - t0 < 4000, `stop took ${Date.now() - t0} ms`);
  assert.equal(sink.texts().length, 0);
});
