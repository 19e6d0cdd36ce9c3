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
  return { sink, source };
}

test('mapping builds a new document, keeps metadata, deletes, and flags errors', async () => {
  const m = new Message('{"a":1,"b":"x"}');
  m.metaSet('k', 'v');
  const { sink, source } = await through(
    [{ mapping: 'root = if this.a == 2 { deleted() } else { {"sum": this.a + 1, "k": @k} }' }],
    [m, '{"a":2}', '{"a":"nope"}'],
  );
  assert.equal(sink.messages.length, 2);
  assert.deepEqual(JSON.parse(sink.messages[0]!.text()), { sum: 2, k: 'v' });
  assert.equal(sink.messages[0]!.metaGetString('k'), 'v');
  assert.equal(sink.messages[1]!.text(), '{"a":"nope"}', 'unchanged on error');
  assert.ok(sink.messages[1]!.error, 'flagged');
  assert.equal(source.acks.length, 3);
});

test('mutation edits in place', async () => {
  const { sink } = await through([{ mutation: 'root.added = true' }], ['{"keep":1}']);
  assert.deepEqual(JSON.parse(sink.messages[0]!.text()), { keep: 1, added: true });
});

test('catch handles errors from a mapping and clears the flag', async () => {
  const { sink } = await through(
    [{ mapping: 'root = this.n.number()' }, { catch: [{ mapping: 'root = {"error": error()}' }] }],
    ['{"n":"5"}', '{"n":"x"}'],
  );
  assert.equal(sink.messages[0]!.text(), '5');
  assert.match(JSON.parse(sink.messages[1]!.text()).error, /./);
  assert.equal(sink.messages[1]!.error, undefined);
});

test('try stops at the first failure for that message only', async () => {
  const { sink } = await through(
    [{ try: [{ mapping: 'root = this.n.number()' }, { mapping: 'root = this + 1' }] }],
    ['{"n":"1"}', '{"n":"x"}', '{"n":"2"}'],
  );
  assert.deepEqual(sink.texts().map((t, i) => (sink.messages[i]!.error ? 'ERR' : t)), ['2', 'ERR', '3']);
});

test('switch processor applies the first matching case', async () => {
  const { sink } = await through(
    [
      {
        switch: [
          { check: 'this.t == "a"', processors: [{ mapping: 'root = "A"' }] },
          { check: 'this.t == "b"', processors: [{ mapping: 'root = deleted()' }] },
          { processors: [{ mapping: 'root = "other"' }] },
        ],
      },
    ],
    ['{"t":"a"}', '{"t":"b"}', '{"t":"c"}'],
  );
  assert.deepEqual(sink.texts(), ['A', 'other']);
});

test('while repeats until the check fails', async () => {
  const { sink } = await through([{ while: { check: 'this.n < 5', processors: [{ mapping: 'root.n = this.n + 1' }] } }], ['{"n":1}']);
  assert.deepEqual(JSON.parse(sink.texts()[0]!), { n: 5 });
});
