import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Message } from '../../../engine/message.js';
import { newSink, newSource } from '../../../../test/support/test-components.js';
import { runStream } from '../../../../test/support/streams.js';

async function through(processors: unknown[], inputs: (string | Message)[]) {
  const { id: srcId, source } = newSource();
  const { id: sinkId, sink } = newSink();
  const s = await runStream({ input: { test_source: { id: srcId } }, pipeline: { processors }, output: { test_sink: { id: sinkId } } });
  source.push(...inputs);
  source.end();
  await s.done;
  return sink;
}

test('branch maps a request, runs children and maps the result back onto the original', async () => {
  const m = new Message('{"user":"ann","n":1}');
  m.metaSet('trace', 't1');
  const sink = await through(
    [
      {
        branch: {
          request_map: 'root = {"name": this.user.uppercase()}',
          processors: [{ mapping: 'root = {"greeting": "hi " + this.name}' }],
          result_map: 'root.enriched = this.greeting\nmeta from_branch = "yes"',
        },
      },
    ],
    [m],
  );
  assert.deepEqual(JSON.parse(sink.texts()[0]!), { user: 'ann', n: 1, enriched: 'hi ANN' });
  assert.equal(sink.messages[0]!.metaGetString('trace'), 't1');
  assert.equal(sink.messages[0]!.metaGetString('from_branch'), 'yes');
});

test('a request_map that deletes skips the branch; a failing child flags the original', async () => {
  const sink = await through(
    [
      {
        branch: {
          request_map: 'root = if this.skip { deleted() } else { this }',
          processors: [{ mapping: 'root = this.v.number()' }],
          result_map: 'root.v2 = this',
        },
      },
    ],
    ['{"skip":true,"v":"1"}', '{"v":"2"}', '{"v":"x"}'],
  );
  assert.deepEqual(JSON.parse(sink.texts()[0]!), { skip: true, v: '1' });
  assert.deepEqual(JSON.parse(sink.texts()[1]!), { v: '2', v2: 2 });
  assert.equal(sink.texts()[2], '{"v":"x"}');
  assert.ok(sink.messages[2]!.error);
});
