import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Checkpointer } from './checkpoint.js';
import { parseTopics, splitAddresses, parseBytes, saslFromFranz, saslFromKafka, errorText, isConnectionError, brokerError, withTimeout } from './config.js';
import { fnv1a32, kafkaMurmur2, fnv1aPartition, murmur2Partition, Partitioner } from './partitioners.js';
import { loadStreamConfig } from '../../config/load.js';
import { formatIssue } from '../../config/source.js';
import { createRegistry } from '../../cli/wiring.js';
import type { ComponentContext } from '../../engine/component.js';

const enc = (s: string) => new TextEncoder().encode(s);

describe('kafka checkpoint', () => {
  test('commits only past batches acked together with everything before them', () => {
    const c = new Checkpointer();
    const a = c.track(11n, 1); // offset 10
    const b = c.track(12n, 1); // offset 11
    const d = c.track(15n, 3); // offsets 12..14
    assert.equal(c.pending, 5);
    assert.equal(c.release(b), undefined, 'b acked before a: nothing committable yet');
    assert.equal(c.committable, undefined);
    assert.equal(c.release(a), 12n, 'a and b acked: commit after offset 11');
    assert.equal(c.pending, 3);
    assert.equal(c.release(d), 15n);
    assert.equal(c.committable, 15n);
    assert.equal(c.pending, 0);
  });

  test('a second release of the same batch changes nothing', () => {
    const c = new Checkpointer();
    const a = c.track(1n, 1);
    assert.equal(c.release(a), 1n);
    assert.equal(c.release(a), undefined);
    assert.equal(c.pending, 0);
  });

  test('an unacked batch holds back every later one', () => {
    const c = new Checkpointer();
    const entries = Array.from({ length: 1000 }, (_, i) => c.track(BigInt(i + 1), 1));
    for (let i = 1; i < entries.length; i++) c.release(entries[i]!);
    assert.equal(c.committable, undefined, 'offset 0 never acked');
    assert.equal(c.pending, 1);
    assert.equal(c.release(entries[0]!), 1000n);
  });

  test('keeps working across many batches (internal compaction)', () => {
    const c = new Checkpointer();
    for (let i = 0; i < 5000; i++) {
      const e = c.track(BigInt(i + 1), 1);
      assert.equal(c.release(e), BigInt(i + 1));
    }
    assert.equal(c.pending, 0);
  });
});

describe('kafka config helpers', () => {
  test('splitAddresses expands commas and adds the default port', () => {
    assert.deepEqual(splitAddresses(['localhost:9041,localhost:9042', ' broker ', '']), ['localhost:9041', 'localhost:9042', 'broker:9092']);
  });

  test('parseTopics: topics, partitions, ranges, offsets', () => {
    const s = parseTopics(['foo,bar', 'foo'], false);
    assert.deepEqual(s.topics, ['foo', 'bar']);
    assert.equal(s.partitions.size, 0);
    const p = parseTopics(['foo:0,bar:1', 'bar:3', 'baz:2-4'], false);
    assert.deepEqual(p.topics, []);
    assert.deepEqual([...p.partitions.get('bar')!.keys()], [1, 3]);
    assert.deepEqual([...p.partitions.get('baz')!.keys()], [2, 3, 4]);
    const o = parseTopics(['foo:0:10', 'foo:1'], true);
    assert.equal(o.partitions.get('foo')!.get(0), 10n);
    assert.equal(o.partitions.get('foo')!.get(1), undefined);
    assert.throws(() => parseTopics(['foo:0:10'], false), /expected topic or topic:partition/);
    assert.throws(() => parseTopics(['foo:x'], false), /not a number/);
    assert.throws(() => parseTopics(['foo:5-2'], false), /ends before/);
    assert.throws(() => parseTopics(['foo:0-2:5'], true), /single partition/);
    assert.throws(() => parseTopics([':1'], false), /empty/);
  });

  test('parseBytes: SI and binary units', () => {
    assert.equal(parseBytes('1MB'), 1_000_000);
    assert.equal(parseBytes('1MiB'), 1_048_576);
    assert.equal(parseBytes('50mib'), 50 * 1_048_576);
    assert.equal(parseBytes('1000'), 1000);
    assert.equal(parseBytes('1.5KB'), 1500);
    assert.throws(() => parseBytes('lots'), /invalid byte size/);
  });

  test('SASL blocks become client options', () => {
    const ctx = { resources: { get: () => ({ get: async () => enc('tok') }), has: () => true } } as unknown as ComponentContext;
    assert.equal(saslFromKafka({ mechanism: 'none', user: '', password: '', access_token: '', token_cache: '', token_key: '' }, ctx), undefined);
    assert.deepEqual(saslFromKafka({ mechanism: 'SCRAM-SHA-256', user: 'u', password: 'p', access_token: '', token_cache: '', token_key: '' }, ctx), {
      mechanism: 'SCRAM-SHA-256',
      username: 'u',
      password: 'p',
    });
    assert.deepEqual(saslFromKafka({ mechanism: 'OAUTHBEARER', user: '', password: '', access_token: 't', token_cache: '', token_key: '' }, ctx), { mechanism: 'OAUTHBEARER', token: 't' });
    const cached = saslFromKafka({ mechanism: 'OAUTHBEARER', user: '', password: '', access_token: '', token_cache: 'c', token_key: 'k' }, ctx);
    assert.equal(typeof cached?.token, 'function');
    assert.throws(() => saslFromKafka({ mechanism: 'AWS_MSK_IAM', user: '', password: '', access_token: '', token_cache: '', token_key: '' }, ctx), /not supported/);
    assert.deepEqual(saslFromFranz([{ mechanism: 'none', username: '', password: '', token: '' }, { mechanism: 'PLAIN', username: 'a', password: 'b', token: '' }]), {
      mechanism: 'PLAIN',
      username: 'a',
      password: 'b',
    });
    assert.equal(saslFromFranz(undefined), undefined);
  });

  test('errors name the brokers and the innermost cause', () => {
    const inner = new Error('connect ECONNREFUSED 127.0.0.1:9');
    const outer = new AggregateError([new Error('Connection to 127.0.0.1:9 failed.', { cause: inner })], 'Cannot connect to any broker.');
    assert.equal(errorText(outer), 'connect ECONNREFUSED 127.0.0.1:9');
    assert.equal(isConnectionError(outer), true);
    assert.equal(isConnectionError(new Error('message too large')), false);
    assert.equal(brokerError('cannot connect to', ['127.0.0.1:9'], outer).message, 'cannot connect to Kafka at 127.0.0.1:9: connect ECONNREFUSED 127.0.0.1:9');
  });

  test('withTimeout rejects a call that never settles', async () => {
    await assert.rejects(withTimeout(new Promise(() => {}), 20, 'joining'), /joining timed out after 20 ms/);
    assert.equal(await withTimeout(Promise.resolve(3), 20, 'x'), 3);
  });
});

describe('kafka partitioners', () => {
  test('murmur2 matches the Java client', () => {
    // Expected values from Kafka's own murmur2 test cases.
    assert.equal(kafkaMurmur2(enc('21')), -973932308);
    assert.equal(kafkaMurmur2(enc('foobar')), -790332482);
    assert.equal(kafkaMurmur2(enc('a-little-bit-long-string')), -985981536);
    assert.equal(kafkaMurmur2(enc('a-little-bit-longer-string')), -1486304829);
    assert.equal(kafkaMurmur2(enc('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8')), -58897971);
    assert.equal(kafkaMurmur2(enc('abc')), 479470107);
    assert.equal(murmur2Partition(enc('foobar'), 10), (-790332482 & 0x7fffffff) % 10);
  });

  test('fnv1a follows the reference values and Sarama\'s signed modulo', () => {
    assert.equal(fnv1a32(enc('')), 0x811c9dc5);
    assert.equal(fnv1a32(enc('a')), 0xe40c292c);
    assert.equal(fnv1a32(enc('foobar')), 0xbf9cf968);
    // 0xbf9cf968 is negative as int32: -1080231576 % 7 = -4 → 4.
    assert.equal(fnv1aPartition(enc('foobar'), 7), 4);
    for (let i = 0; i < 200; i++) {
      const p = fnv1aPartition(enc(`k${i}`), 6);
      assert.ok(p >= 0 && p < 6);
    }
  });

  test('round_robin cycles; sticky holds a partition per batch; keys hash', () => {
    const rr = new Partitioner('round_robin').forBatch();
    const seq = Array.from({ length: 6 }, () => rr('t', undefined, 3));
    assert.deepEqual(seq.slice(3), seq.slice(0, 3));
    assert.equal(new Set(seq).size, 3);
    const sticky = new Partitioner('sticky');
    const b1 = sticky.forBatch();
    const first = b1('t', undefined, 4);
    for (let i = 0; i < 10; i++) assert.equal(b1('t', undefined, 4), first);
    assert.equal(b1('t', enc('foobar'), 4), murmur2Partition(enc('foobar'), 4));
    const b2 = sticky.forBatch();
    assert.notEqual(b2('t', undefined, 4), first, 'the next batch moves on');
    const fnv = new Partitioner('fnv1a_hash').forBatch();
    assert.equal(fnv('t', enc('foobar'), 7), 4);
    assert.equal(fnv('t', undefined, 1), 0);
  });
});

describe('kafka component configs', () => {
  const registry = createRegistry();
  const issues = (yaml: string) => loadStreamConfig(yaml, { registry }).issues.map((i) => formatIssue(i));

  test('defaults of the four components', () => {
    const { config, issues: iss } = loadStreamConfig(
      'input:\n  kafka:\n    addresses: [localhost:9092]\n    topics: [orders]\n    consumer_group: g\noutput:\n  kafka:\n    addresses: [localhost:9092]\n    topic: out\n',
      { registry },
    );
    assert.deepEqual(iss, []);
    const i = config!.input.config as Record<string, unknown>;
    assert.equal(i.checkpoint_limit, 1024);
    assert.equal(i.commit_period, '1s');
    assert.equal(i.start_from_oldest, true);
    assert.equal(i.client_id, 'benthos');
    assert.equal(i.fetch_buffer_cap, 256);
    assert.deepEqual(i.group, { session_timeout: '10s', heartbeat_interval: '3s', rebalance_timeout: '60s' });
    const o = config!.output.config as Record<string, unknown>;
    assert.equal(o.partitioner, 'fnv1a_hash');
    assert.equal(o.max_in_flight, 64);
    assert.equal(o.compression, 'none');
    assert.equal(o.ack_replicas, false);
    assert.equal(o.timeout, '5s');
    assert.equal(o.max_msg_bytes, 1_000_000);
    assert.deepEqual(o.metadata, { exclude_prefixes: [] });

    const f = loadStreamConfig('input:\n  kafka_franz:\n    seed_brokers: [localhost:9092]\n    topics: [a]\noutput:\n  kafka_franz:\n    seed_brokers: [localhost:9092]\n    topic: b\n', { registry });
    assert.deepEqual(f.issues, []);
    const fi = f.config!.input.config as Record<string, unknown>;
    assert.equal(fi.commit_period, '5s');
    assert.equal(fi.consumer_group, undefined);
    assert.equal(fi.fetch_max_bytes, '50MiB');
    const fo = f.config!.output.config as Record<string, unknown>;
    assert.equal(fo.max_in_flight, 10);
    assert.equal(fo.timeout, '10s');
    assert.equal(fo.idempotent_write, true);
    assert.deepEqual(fo.metadata, { include_prefixes: [], include_patterns: [] });
  });

  test('lint: balanced topics need a group; no mixing; franz explicit partitions exclude groups', () => {
    assert.ok(issues('input:\n  kafka:\n    addresses: [x:1]\n    topics: [a]\n').some((l) => /consumer group is needed/.test(l)));
    assert.ok(issues('input:\n  kafka:\n    addresses: [x:1]\n    topics: [a, b:0]\n    consumer_group: g\n').some((l) => /cannot be mixed/.test(l)));
    assert.deepEqual(issues('input:\n  kafka:\n    addresses: [x:1]\n    topics: ["a:0-3"]\n'), []);
    assert.ok(issues('input:\n  kafka_franz:\n    seed_brokers: [x:1]\n    topics: ["a:0"]\n    consumer_group: g\n').some((l) => /cannot be used with explicit/.test(l)));
    assert.ok(issues('input:\n  kafka_franz:\n    seed_brokers: [x:1]\n    topics: [a]\n    fetch_max_bytes: lots\n').some((l) => /invalid byte size/.test(l)));
    assert.ok(issues('output:\n  kafka:\n    addresses: [x:1]\n    topic: t\n    partitioner: manual\n').some((l) => /needs a partition/.test(l)));
    assert.ok(issues('output:\n  kafka:\n    addresses: [x:1]\n    topic: t\n    partitioner: crc\n').some((l) => /not one of/.test(l)));
    assert.ok(issues('output:\n  kafka_franz:\n    seed_brokers: [x:1]\n    topic: t\n    metadata:\n      include_patterns: ["("]\n').some((l) => /include_patterns/.test(l)));
  });

  test('target_version and other compatibility fields are accepted', () => {
    assert.deepEqual(
      issues(
        'input:\n  kafka:\n    addresses: [x:1]\n    topics: [a]\n    consumer_group: g\n    target_version: 2.1.0\n    max_processing_period: 200ms\n    sasl:\n      mechanism: SCRAM-SHA-512\n      user: u\n      password: p\n    tls:\n      enabled: true\n      skip_cert_verify: true\n' +
          'output:\n  kafka:\n    addresses: [x:1]\n    topic: t\n    target_version: 3.1.0\n    max_retries: 3\n    backoff:\n      max_elapsed_time: 10s\n    static_headers:\n      a: b\n    batching:\n      count: 10\n      period: 1s\n',
      ),
      [],
    );
  });
});
