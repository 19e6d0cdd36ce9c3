import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { withBatching, isNoopBatching, BatchPolicy, type BatchingConfig } from './batching.js';
import { Message, type Batch } from './message.js';
import type { ComponentBuilder, ComponentContext, Output, Processor } from './component.js';
import type { BloblangEnvironment } from './bloblang-api.js';
import { noBloblang } from './bloblang-api.js';
import { silentLogger } from './logger.js';
import { Stream } from './stream.js';
import { endOfInput } from './errors.js';

/** A Bloblang stand-in: the check `text == "X"` is true for a message whose text is X. */
const fakeBloblang: BloblangEnvironment = {
  ...noBloblang,
  compileMapping(source: string) {
    const want = /^text == "(.*)"$/.exec(source.trim())?.[1];
    if (want === undefined) throw new Error(`unsupported test mapping ${source}`);
    return {
      map: () => null,
      mutate: () => null,
      mapOnto: () => null,
      query: (batch: Batch, i: number) => batch[i]!.text() === want,
    };
  },
};

function ctx(processors: Processor[] = []): ComponentContext {
  const build: ComponentBuilder = {
    input: () => Promise.reject(new Error('no')),
    output: () => Promise.reject(new Error('no')),
    processor: () => Promise.reject(new Error('no')),
    processors: async () => processors,
  };
  return {
    logger: silentLogger,
    resources: { get: () => { throw new Error('no resources'); }, has: () => false },
    build,
    http: undefined,
    bloblang: fakeBloblang,
    path: 'output.test',
    stream: 't',
    signal: new AbortController().signal,
  };
}

const conf = (c: Partial<BatchingConfig>): BatchingConfig => ({ count: 0, byte_size: 0, period: '', check: '', ...c });

/** An output recording the batches it is given; `fail` makes the next writes reject. */
function recorder(maxInFlight = 4) {
  const batches: string[][] = [];
  let fail: Error | undefined;
  let gate: Promise<void> | undefined;
  let active = 0;
  let maxActive = 0;
  let closed = false;
  const output: Output = {
    maxInFlight,
    connect: async () => {},
    close: async () => {
      closed = true;
    },
    async write(b: Batch) {
      active++;
      maxActive = Math.max(maxActive, active);
      try {
        if (gate) await gate;
        if (fail) throw fail;
        batches.push(b.map((m) => m.text()));
      } finally {
        active--;
      }
    },
  };
  return {
    output,
    batches,
    setFail: (e: Error | undefined) => (fail = e),
    setGate: (g: Promise<void> | undefined) => (gate = g),
    maxActive: () => maxActive,
    closed: () => closed,
  };
}

const msgs = (...t: string[]): Batch => t.map((x) => new Message(x));
const tick = (ms = 10) => new Promise((r) => setTimeout(r, ms));

/** Tracks whether a promise settled, without waiting for it. */
function state(p: Promise<void>) {
  const s = { done: false, err: undefined as unknown };
  p.then(
    () => (s.done = true),
    (e: unknown) => {
      s.done = true;
      s.err = e;
    },
  );
  return s;
}

describe('batching', () => {
  test('a no-op policy returns the output itself', async () => {
    const r = recorder();
    assert.equal(isNoopBatching(conf({})), true);
    assert.equal(isNoopBatching(conf({ count: 1 })), true);
    assert.equal(isNoopBatching(conf({ period: '1s' })), false);
    assert.equal(await withBatching(r.output, conf({}), ctx()), r.output);
    assert.equal(await withBatching(r.output, undefined, ctx()), r.output);
  });

  test('flushes every `count` messages; a write resolves only when its batch was written', async () => {
    const r = recorder();
    const out = await withBatching(r.output, conf({ count: 2 }), ctx());
    const a = state(out.write(msgs('a')) as Promise<void>);
    await tick();
    assert.equal(a.done, false, 'a single message waits for the batch to fill');
    const b = state(out.write(msgs('b')) as Promise<void>);
    const c = state(out.write(msgs('c', 'd', 'e')) as Promise<void>);
    await tick();
    assert.deepEqual(r.batches, [['a', 'b'], ['c', 'd']]);
    assert.equal(a.done && b.done, true);
    assert.equal(c.done, false, 'e is still pending, so the transaction c,d,e is not done');
    await out.close();
    assert.deepEqual(r.batches, [['a', 'b'], ['c', 'd'], ['e']], 'close flushes the partial batch');
    assert.equal(c.done, true);
    assert.equal(c.err, undefined);
    assert.equal(r.closed(), true);
  });

  test('reports a window large enough for batches to fill', async () => {
    const r = recorder(4);
    const out = await withBatching(r.output, conf({ count: 100 }), ctx());
    assert.ok(out.maxInFlight >= 100 * 4, `maxInFlight ${out.maxInFlight}`);
    const open = await withBatching(r.output, conf({ period: '1s' }), ctx());
    assert.ok(open.maxInFlight >= 1024);
  });

  test('flushes on byte_size', async () => {
    const r = recorder();
    const out = await withBatching(r.output, conf({ byte_size: 10 }), ctx());
    void out.write(msgs('12345'));
    void out.write(msgs('1234'));
    await tick();
    assert.deepEqual(r.batches, []);
    await out.write(msgs('1'));
    assert.deepEqual(r.batches, [['12345', '1234', '1']]);
    await out.close();
  });

  test('flushes on period', async () => {
    const r = recorder();
    const out = await withBatching(r.output, conf({ count: 100, period: '50ms' }), ctx());
    const started = Date.now();
    await out.write(msgs('x', 'y'));
    const took = Date.now() - started;
    assert.deepEqual(r.batches, [['x', 'y']]);
    assert.ok(took >= 30 && took < 1000, `flushed after ${took} ms`);
    await out.close();
  });

  test('flushes when check is true for the added message', async () => {
    const r = recorder();
    const out = await withBatching(r.output, conf({ check: 'text == "END"' }), ctx());
    const first = out.write(msgs('a', 'b'));
    const second = state(out.write(msgs('END', 'c')) as Promise<void>);
    await first;
    assert.deepEqual(r.batches, [['a', 'b', 'END']]);
    assert.equal(second.done, false);
    await out.close();
    assert.equal(second.done, true);
    assert.deepEqual(r.batches, [['a', 'b', 'END'], ['c']]);
  });

  test('a failed flush rejects every transaction with a message in it', async () => {
    const r = recorder();
    const out = await withBatching(r.output, conf({ count: 2 }), ctx());
    r.setFail(new Error('broker said no'));
    const a = out.write(msgs('a')) as Promise<void>;
    const b = out.write(msgs('b', 'c')) as Promise<void>;
    await assert.rejects(a, /broker said no/);
    r.setFail(undefined);
    const d = out.write(msgs('d'));
    await assert.rejects(b, /broker said no/, 'b,c spans a failed and a good batch: it fails');
    await d;
    assert.deepEqual(r.batches, [['c', 'd']]);
    await out.close();
  });

  test('batch processors run on the whole batch and their results form one batch', async () => {
    const r = recorder();
    const joiner: Processor = { process: (b) => [[new Message(b.map((m) => m.text()).join('+'))], [new Message('extra')]] };
    const out = await withBatching(r.output, conf({ count: 3, processors: [{}] }), ctx([joiner]));
    await out.write(msgs('a', 'b', 'c'));
    assert.deepEqual(r.batches, [['a+b+c', 'extra']]);
    await out.close();
  });

  test('processors that drop the batch ack it without writing', async () => {
    const r = recorder();
    const dropper: Processor = { process: () => [] };
    const out = await withBatching(r.output, conf({ count: 2, processors: [{}] }), ctx([dropper]));
    await out.write(msgs('a', 'b'));
    assert.deepEqual(r.batches, []);
    await out.close();
  });

  test('writes at most maxInFlight flushed batches at once', async () => {
    const r = recorder(1);
    let open!: () => void;
    r.setGate(new Promise<void>((res) => (open = res)));
    const out = await withBatching(r.output, conf({ count: 1, byte_size: 1 }), ctx());
    const all = [out.write(msgs('a')), out.write(msgs('b')), out.write(msgs('c'))];
    await tick();
    r.setGate(undefined);
    open();
    await Promise.all(all);
    assert.equal(r.maxActive(), 1);
    assert.deepEqual(r.batches, [['a'], ['b'], ['c']]);
    await out.close();
  });

  test('flush() writes the partial batch at once', async () => {
    const r = recorder();
    const out = (await withBatching(r.output, conf({ count: 10 }), ctx())) as Output & { flush(): Promise<void> };
    const w = out.write(msgs('a'));
    await out.flush();
    await w;
    assert.deepEqual(r.batches, [['a']]);
    await out.close();
  });

  test('BatchPolicy alone: triggers and period', async () => {
    const p = await BatchPolicy.create(conf({ count: 2, period: '1s' }), ctx());
    assert.equal(p.add(new Message('a')), false);
    assert.equal(p.size, 1);
    assert.ok((p.untilNext() ?? 0) > 900);
    assert.equal(p.add(new Message('b')), true);
    assert.deepEqual((await p.flush()).map((m) => m.text()), ['a', 'b']);
    assert.equal(p.size, 0);
  });

  test('in a stream, every message is acked after its batch was written', async () => {
    const r = recorder(2);
    const out = await withBatching(r.output, conf({ count: 10, period: '100ms' }), ctx());
    const acks: (Error | undefined)[] = [];
    let i = 0;
    const s = new Stream({
      name: 't',
      logger: silentLogger,
      processors: [],
      output: out,
      input: {
        connect: async () => {},
        close: async () => {},
        read: async () => {
          if (i >= 95) throw endOfInput();
          const n = i++;
          return { batch: [new Message(`m${n}`)], ack: (err) => void acks.push(err) };
        },
      },
      shutdownTimeoutMs: 300,
    });
    await s.start();
    // 90 messages in full batches; the last 5 are flushed by the period.
    assert.equal(r.batches.length, 10);
    assert.deepEqual(r.batches[0], ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9']);
    assert.equal(r.batches.flat().length, 95);
    assert.equal(acks.filter((e) => e === undefined).length, 95);
  });
});
