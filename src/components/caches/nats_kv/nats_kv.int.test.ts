// The nats_kv cache against the NATS server on 127.0.0.1:4222 (JetStream on), directly and as
// a cache resource in a stream. Each test uses its own bucket, deleted at the end.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { newSink, newSource, unitContext } from '../../../../test/support/test-components.js';
import { runStream } from '../../../../test/support/streams.js';
import { freePort } from '../../../../test/support/spawn-server.js';
import type { Cache, ComponentContext } from '../../../engine/component.js';
import { hasCode } from '../../../engine/errors.js';
import { NATS_URL, useKvBuckets } from '../../../../test/support/nats-kv.js';
import { spec } from './index.js';

const URL = NATS_URL;
const { bucket } = useKvBuckets('kvcache', 1);
const run = randomUUID().slice(0, 8);

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

async function cache(urls: string[], bucketName: string): Promise<Cache> {
  const ctx: ComponentContext = unitContext('cache_resources.0');
  return (await spec.build({ urls, bucket: bucketName, tls: { enabled: false } } as never, ctx)) as Cache;
}

describe('nats_kv cache', { concurrency: false }, () => {
  test('set/get/add/delete', async () => {
    const { name, kv } = await bucket();
    const c = await cache([URL], name);
    try {
      assert.equal(await c.get('a'), undefined, 'a missing key');
      await c.set('a', enc('1'), 1000);
      assert.equal(dec(await c.get('a')), '1');
      assert.equal(dec((await kv.get('a'))?.value), '1', 'stored in the bucket');
      await assert.rejects(c.add('a', enc('2')), (e) => hasCode(e, 'SLU_ERR_CACHE_KEY_EXISTS'));
      await c.add('b', enc('2'));
      assert.equal(dec(await c.get('b')), '2');
      await c.delete('a');
      assert.equal(await c.get('a'), undefined, 'a deleted key is missing');
      await c.add('a', enc('3'));
      assert.equal(dec(await c.get('a')), '3', 'add works again after a delete');
      await c.delete('never-set');
    } finally {
      await c.close?.();
    }
  });

  test('an unreachable server or a missing bucket fails the operation, naming the servers', async () => {
    const port = await freePort();
    const down = await cache([`nats://someone:s3cret@127.0.0.1:${port}`], 'b');
    await assert.rejects(down.get('x'), (err: Error) => {
      assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
      assert.doesNotMatch(err.message, /s3cret|someone/);
      return true;
    });
    await down.close?.();
    const missing = await cache([URL], `missing_${run}`);
    await assert.rejects(missing.set('x', enc('1')), new RegExp(`nats_kv cache at 127\\.0\\.0\\.1:4222: bucket missing_${run} not found`));
    await missing.close?.();
  });

  test('dedupe through the cache processor with add, as a cache resource', async () => {
    const { name } = await bucket();
    const { id: srcId, source } = newSource();
    const { id: sinkId, sink } = newSink();
    const s = await runStream({
      input: { test_source: { id: srcId } },
      pipeline: {
        processors: [
          { cache: { resource: 'seen', operator: 'add', key: '${! json("id") }', value: 'x' } },
          { mapping: 'root = if errored() { deleted() }' },
        ],
      },
      output: { test_sink: { id: sinkId } },
      cache_resources: [{ label: 'seen', nats_kv: { urls: [URL], bucket: name } }],
    });
    try {
      source.push('{"id":1}', '{"id":2}', '{"id":1}', '{"id":3}', '{"id":2}');
      await source.waitAcks(5, 10_000);
      assert.deepEqual(sink.texts(), ['{"id":1}', '{"id":2}', '{"id":3}']);
    } finally {
      source.end();
      await s.stop(1000);
    }
  });
});
