import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Stream } from './stream.js';
import { Message, type Batch } from './message.js';
import type { AckFn, Input, Output, Processor, ReadResult } from './component.js';
import { endOfInput, notConnected } from './errors.js';
import { silentLogger } from './logger.js';
import { autoReplayNacks } from './acks.js';
import { runProcessors } from './pipeline.js';

/** An input over a fixed list that records every ack. */
function listInput(items: string[], opts: { end?: boolean } = {}) {
  const acks: { text: string; err?: Error }[] = [];
  let i = 0;
  let reads = 0;
  const input: Input = {
    connect: async () => {},
    close: async () => {},
    async read(signal): Promise<ReadResult> {
      if (i >= items.length) {
        if (opts.end !== false) throw endOfInput();
        await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
        throw new Error('aborted');
      }
      const text = items[i++]!;
      reads++;
      const ack: AckFn = (err) => void acks.push({ text, err });
      return { batch: [new Message(text)], ack };
    },
  };
  return { input, acks, reads: () => reads };
}

function collectOutput(maxInFlight = 8) {
  const got: string[] = [];
  const output: Output = { maxInFlight, connect: async () => {}, close: async () => {}, write: (b) => void got.push(...b.map((m) => m.text())) };
  return { output, got };
}

const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));

describe('stream', () => {
  test('delivers every message and acks each after delivery', async () => {
    const src = listInput(['a', 'b', 'c']);
    const out = collectOutput();
    const s = new Stream({ name: 't', input: src.input, processors: [], output: out.output, logger: silentLogger });
    await s.start();
    assert.deepEqual(out.got, ['a', 'b', 'c']);
    assert.deepEqual(src.acks.map((a) => [a.text, a.err]), [['a', undefined], ['b', undefined], ['c', undefined]]);
    assert.equal(s.state, 'stopped');
  });

  test('an output that never acks stops the input after max_in_flight messages', async () => {
    const src = listInput(Array.from({ length: 100 }, (_, i) => `m${i}`), { end: false });
    const writes: Batch[] = [];
    const stuck: Output = { maxInFlight: 5, connect: async () => {}, close: async () => {}, write: (b) => (writes.push(b), new Promise<void>(() => {})) };
    const s = new Stream({ name: 't', input: src.input, processors: [], output: stuck, logger: silentLogger });
    void s.start();
    await tick(200);
    assert.equal(src.reads(), 5, 'input read exactly max_in_flight messages');
    assert.equal(writes.length, 5);
    assert.equal(src.acks.length, 0, 'nothing acked');
    await s.stop(100);
    assert.equal(src.acks.length, 0, 'nothing acked after the shutdown timeout either');
  });

  test('a failed write nacks the batch to the input', async () => {
    const src = listInput(['x']);
    const failing: Output = { maxInFlight: 1, connect: async () => {}, close: async () => {}, write: () => Promise.reject(new Error('boom')) };
    await new Stream({ name: 't', input: src.input, processors: [], output: failing, logger: silentLogger }).start();
    assert.equal(src.acks.length, 1);
    assert.equal(src.acks[0]!.err?.message, 'boom');
  });

  test('keeps read order at the output when a processor is asynchronous', async () => {
    const src = listInput(['1', '2', '3', '4', '5', '6']);
    const out = collectOutput(16);
    // Earlier messages take longer: without ordering they would overtake each other.
    const slow: Processor = { process: async (b) => (await tick(40 - Number(b[0]!.text()) * 5), [b]) };
    await new Stream({ name: 't', input: src.input, processors: [slow], output: out.output, logger: silentLogger }).start();
    assert.deepEqual(out.got, ['1', '2', '3', '4', '5', '6']);
  });

  test('a processor error flags the message and it continues', async () => {
    const src = listInput(['ok', 'bad']);
    const seen: Message[] = [];
    const thrower: Processor = {
      process: (b) => {
        if (b[0]!.text() === 'bad') throw new Error('nope');
        return [b];
      },
    };
    const out: Output = { maxInFlight: 1, connect: async () => {}, close: async () => {}, write: (b) => void seen.push(...b) };
    await new Stream({ name: 't', input: src.input, processors: [thrower], output: out, logger: silentLogger }).start();
    assert.equal(seen.length, 2);
    assert.equal(seen[0]!.error, undefined);
    assert.equal(seen[1]!.error?.message, 'nope');
    assert.ok(src.acks.every((a) => a.err === undefined), 'flagged messages are still delivered and acked');
  });

  test('a processor that drops a message acks it', async () => {
    const src = listInput(['keep', 'drop']);
    const out = collectOutput();
    const filter: Processor = { process: (b) => (b[0]!.text() === 'drop' ? [] : [b]) };
    await new Stream({ name: 't', input: src.input, processors: [filter], output: out.output, logger: silentLogger }).start();
    assert.deepEqual(out.got, ['keep']);
    assert.equal(src.acks.length, 2);
  });

  test('reconnects an input that lost its connection, with backoff, and loses nothing', async () => {
    let connects = 0;
    let failNext = true;
    const acks: string[] = [];
    const items = ['a', 'b'];
    const input: Input = {
      connect: async () => {
        connects++;
        if (connects === 2) throw new Error('still down');
      },
      close: async () => {},
      async read() {
        if (failNext && items.length === 1) {
          failNext = false;
          throw notConnected();
        }
        const t = items.shift();
        if (t === undefined) throw endOfInput();
        return { batch: [new Message(t)], ack: () => void acks.push(t) };
      },
    };
    const out = collectOutput();
    await new Stream({ name: 't', input, processors: [], output: out.output, logger: silentLogger }).start();
    assert.deepEqual(out.got, ['a', 'b']);
    assert.ok(connects >= 3, `connect retried (${connects})`);
  });

  test('reconnects an output and retries the same batch', async () => {
    let connected = true;
    let connects = 0;
    const got: string[] = [];
    const output: Output = {
      maxInFlight: 1,
      connect: async () => {
        connects++;
        connected = true;
      },
      close: async () => {},
      write: (b) => {
        if (!connected) throw notConnected();
        if (b[0]!.text() === 'b' && connects === 1) {
          connected = false;
          throw notConnected();
        }
        got.push(b[0]!.text());
      },
    };
    const src = listInput(['a', 'b', 'c']);
    await new Stream({ name: 't', input: src.input, processors: [], output, logger: silentLogger }).start();
    assert.deepEqual(got, ['a', 'b', 'c']);
    assert.ok(src.acks.every((a) => !a.err));
  });

  test('stop drains in-flight messages before closing', async () => {
    const src = listInput(['a', 'b'], { end: false });
    let closed = false;
    const got: string[] = [];
    const slow: Output = {
      maxInFlight: 4,
      connect: async () => {},
      close: async () => void (closed = true),
      write: async (b) => {
        await tick(100);
        assert.equal(closed, false, 'output is not closed while a write is in flight');
        got.push(b[0]!.text());
      },
    };
    const s = new Stream({ name: 't', input: src.input, processors: [], output: slow, logger: silentLogger });
    void s.start();
    await tick(20);
    await s.stop(2000);
    assert.deepEqual(got.sort(), ['a', 'b']);
    assert.equal(src.acks.length, 2);
    assert.ok(closed);
  });
});

describe('autoReplayNacks', () => {
  test('redelivers a nacked batch until it is delivered', async () => {
    const src = listInput(['once']);
    let attempts = 0;
    const output: Output = {
      maxInFlight: 1,
      connect: async () => {},
      close: async () => {},
      write: () => {
        if (++attempts < 3) throw new Error('not yet');
      },
    };
    const s = new Stream({ name: 't', input: autoReplayNacks(src.input), processors: [], output, logger: silentLogger });
    await s.start();
    assert.equal(attempts, 3);
    assert.deepEqual(src.acks.map((a) => a.err), [undefined]);
  });

  test('with auto_replay_nacks false a nack is acked (dropped)', async () => {
    const src = listInput(['x']);
    const output: Output = { maxInFlight: 1, connect: async () => {}, close: async () => {}, write: () => Promise.reject(new Error('no')) };
    await new Stream({ name: 't', input: autoReplayNacks(src.input, false), processors: [], output, logger: silentLogger }).start();
    assert.deepEqual(src.acks.map((a) => a.err), [undefined]);
  });
});

describe('runProcessors', () => {
  test('stays synchronous with synchronous processors', () => {
    const up: Processor = { process: (b) => [b.map((m) => m.setBytes(m.text().toUpperCase()))] };
    const r = runProcessors([up, up], [new Message('a')]);
    assert.ok(Array.isArray(r));
    assert.equal((r as Batch[])[0]![0]!.text(), 'A');
  });

  test('splits into several batches and continues the chain for each', async () => {
    const split: Processor = { process: (b) => b.map((m) => [m]) };
    const tag: Processor = { process: async (b) => [b.map((m) => m.setBytes(m.text() + '!'))] };
    const r = await runProcessors([split, tag], [new Message('a'), new Message('b')]);
    assert.deepEqual(r.map((b) => b.map((m) => m.text())), [['a!'], ['b!']]);
  });
});

describe('autoReplayNacks and connection loss', () => {
  test('a read that failed is not replayed: the next read starts afresh', async () => {
    let calls = 0;
    const inner: Input = {
      connect: async () => {},
      close: async () => {},
      async read() {
        calls++;
        if (calls === 1) throw notConnected();
        if (calls === 2) return { batch: [new Message('after reconnect')], ack: () => {} };
        throw endOfInput();
      },
    };
    const out = collectOutput();
    await new Stream({ name: 't', input: autoReplayNacks(inner), processors: [], output: out.output, logger: silentLogger }).start();
    assert.deepEqual(out.got, ['after reconnect']);
  });
});
