import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newSink, newSource } from '../../../../test/support/test-components.js';
import { runStream } from '../../../../test/support/streams.js';

test('routes by check, continues when asked, drops unmatched', async () => {
  const { id: srcId, source } = newSource();
  const a = newSink();
  const b = newSink();
  const s = await runStream({
    input: { test_source: { id: srcId } },
    output: {
      switch: {
        cases: [
          { check: 'this.to == "a"', output: { test_sink: { id: a.id } }, continue: true },
          { check: 'this.to == "a" || this.to == "b"', output: { test_sink: { id: b.id } } },
        ],
      },
    },
  });
  source.push('{"to":"a"}', '{"to":"b"}', '{"to":"c"}');
  source.end();
  await s.done;
  assert.deepEqual(a.sink.texts(), ['{"to":"a"}']);
  assert.deepEqual(b.sink.texts(), ['{"to":"a"}', '{"to":"b"}']);
  assert.ok(source.acks.every((x) => !x.error));
});

test('strict_mode rejects unmatched messages', async () => {
  const { id: srcId, source } = newSource();
  const a = newSink();
  const s = await runStream({
    input: { test_source: { id: srcId } },
    output: { switch: { strict_mode: true, cases: [{ check: 'false', output: { test_sink: { id: a.id } } }] } },
  });
  source.push('x');
  source.end();
  await s.done;
  assert.ok(source.acks[0]!.error);
});

test('fallback sends to the next output when one fails, with fallback_error', async () => {
  const { id: srcId, source } = newSource();
  const bad = newSink('fail');
  const dlq = newSink();
  const s = await runStream({ input: { test_source: { id: srcId } }, output: { fallback: [{ test_sink: { id: bad.id } }, { test_sink: { id: dlq.id } }] } });
  source.push('m');
  source.end();
  await s.done;
  assert.deepEqual(dlq.sink.texts(), ['m']);
  assert.equal(dlq.sink.messages[0]!.metaGetString('fallback_error'), 'sink failure');
  assert.ok(!source.acks[0]!.error);
});
