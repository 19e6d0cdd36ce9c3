import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newSink } from '../../../../test/support/test-components.js';
import { runStream } from '../../../../test/support/streams.js';
import { intervalMs } from './index.js';

test('generates count messages, then the stream ends', async () => {
  const { id, sink } = newSink();
  const s = await runStream({ input: { generate: { mapping: 'root = {"n": counter()}', interval: '', count: 5, batch_size: 2 } }, output: { test_sink: { id } } });
  await s.done;
  assert.deepEqual(sink.texts(), [1, 2, 3, 4, 5].map((n) => `{"n":${n}}`));
  assert.deepEqual(sink.writes.map((b) => b.length), [2, 2, 1]);
});

test('intervals: durations and @every', () => {
  assert.equal(intervalMs('1s'), 1000);
  assert.equal(intervalMs('@every 250ms'), 250);
  assert.equal(intervalMs(''), 0);
  assert.throws(() => intervalMs('0 * * * *'));
});
