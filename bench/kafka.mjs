#!/usr/bin/env node
// Kafka throughput of Sluice's kafka components next to kcat (librdkafka) on the same broker, in
// the same run, with 256-byte messages; and the two candidate Node.js clients side by side.
//
//   node bench/kafka.mjs [produce] [consume] [clients] [--quick] [-n MESSAGES] [--no-clients]
//
// Run after `npx tsc -p .` (it imports ../dist/src/...). Needs the broker on 127.0.0.1:9092
// (SLUICE_KAFKA_ADDRESSES overrides; `bash scripts/kafka.sh start` starts it) and kcat.
//
// Sections:
//   consume   a topic → `drop` stream (kafka_franz input, no group, from the oldest offset)
//             vs `kcat -C -o beginning -e` reading the same topic.
//   produce   an in-file generator input → `kafka` output vs `kcat -P` writing the same messages:
//             with the defaults (acks from the leader, no compression, max_in_flight 64,
//             single-message batches), with `batching: {count: 1000, period: 5ms}`, and
//             `kafka_franz` with its defaults (idempotent, acks from all replicas, snappy,
//             max_in_flight 10).
//   clients   @platformatic/kafka vs kafkajs used directly: send in batches of 1000, then read
//             the topic back with a fresh consumer group (each library's consumer API) and, for
//             @platformatic/kafka, with the fetch call Sluice's reader uses (the data behind
//             docs/decisions/kafka-client.md).
// Sized for a 2-core machine: 200k messages (50k with --quick), well under a minute in all.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// SLUICE_BENCH_DIST points at another build's src folder (e.g. a private --outDir).
const dist = process.env.SLUICE_BENCH_DIST ?? join(root, 'dist', 'src');
if (!existsSync(join(dist, 'components', 'kafka', 'reader.js'))) {
  console.error('kafka bench: build first (npx tsc -p .): dist/src/components/kafka is missing');
  process.exit(1);
}
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const nIdx = args.indexOf('-n');
const N = nIdx >= 0 ? Number(args[nIdx + 1]) : quick ? 50_000 : 200_000;
const CLIENT_N = Math.min(N, quick ? 50_000 : 100_000);
const sections = args.filter((a, i) => ['produce', 'consume', 'clients'].includes(a) && args[i - 1] !== '-n');
const want = (s) => (sections.length === 0 ? !(s === 'clients' && args.includes('--no-clients')) : sections.includes(s));
const SIZE = 256;
const BROKER = (process.env.SLUICE_KAFKA_ADDRESSES ?? '127.0.0.1:9092').split(',')[0].trim();

const imp = (p) => import(join(dist, p));
const { createRegistry, createBloblang } = await imp('cli/wiring.js');
const { Validator } = await imp('config/validate.js');
const { validateStream } = await imp('config/stream-spec.js');
const { formatIssue } = await imp('config/source.js');
const { buildStream } = await imp('engine/build.js');
const { defineInput } = await imp('engine/component.js');
const { field } = await imp('engine/spec.js');
const { Message } = await imp('engine/message.js');
const { endOfInput } = await imp('engine/errors.js');
const { silentLogger } = await imp('engine/logger.js');
const { Admin, Producer, Consumer } = await import('@platformatic/kafka');

const payload = Buffer.alloc(SIZE, 'x');
const fmt = (n) => Math.round(n).toLocaleString('en-US');
const ratio = (a, b) => (b > 0 ? (a / b).toFixed(2) : 'n/a');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ----------------------------------------------------------------------------------------------
// An in-file generator input: `count` messages of `size` bytes, `batch_size` per batch.

let acked = 0;
const benchGen = defineInput({
  name: 'bench_gen',
  summary: 'Benchmark generator.',
  config: field.object('', '', [field.int('count', 'Messages.'), field.int('size', 'Bytes.', { default: SIZE }), field.int('batch_size', 'Per batch.', { default: 1 })]),
  build: (c) => {
    let made = 0;
    const body = Buffer.alloc(c.size, 'y');
    return {
      connect: async () => {},
      close: async () => {},
      read: async () => {
        if (made >= c.count) throw endOfInput();
        const n = Math.min(c.batch_size, c.count - made);
        made += n;
        const batch = [];
        for (let i = 0; i < n; i++) batch.push(new Message(body));
        return { batch, ack: (err) => void (err ? 0 : (acked += n)) };
      },
    };
  },
});

const registry = createRegistry().add(benchGen);
const bloblang = await createBloblang();

async function stream(config, name) {
  const v = new Validator({ registry, bloblang });
  const conf = validateStream(v, config, '');
  if (v.issues.length) throw new Error(v.issues.map((i) => formatIssue(i)).join('\n'));
  return buildStream(conf, { registry, bloblang, logger: silentLogger, http: undefined, stream: name });
}

// ----------------------------------------------------------------------------------------------
// Broker helpers and kcat

async function createTopic(topic) {
  const admin = new Admin({ clientId: 'bench', bootstrapBrokers: [BROKER] });
  try {
    await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 });
  } finally {
    await admin.close();
  }
}

function kcat(args, input) {
  return new Promise((resolve, reject) => {
    const p = spawn('kcat', ['-b', BROKER, ...args], { stdio: [input ? 'pipe' : 'ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`kcat ${args.join(' ')} exited ${code}: ${err}`))));
    if (input) {
      const line = Buffer.concat([Buffer.alloc(SIZE - 1, 'z'), Buffer.from('\n')]);
      const chunk = Buffer.concat(Array.from({ length: 1000 }, () => line));
      let left = input;
      const write = () => {
        while (left > 0) {
          const n = Math.min(1000, left);
          left -= n;
          const ok = p.stdin.write(n === 1000 ? chunk : chunk.subarray(0, n * SIZE));
          if (!ok) return p.stdin.once('drain', write);
        }
        p.stdin.end();
      };
      write();
    }
  });
}

async function timed(fn) {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

// ----------------------------------------------------------------------------------------------

try {
  execFileSync('kcat', ['-b', BROKER, '-L', '-m', '5'], { stdio: 'ignore' });
} catch {
  console.error(`kafka bench: no broker answers kcat on ${BROKER} (bash scripts/kafka.sh start) or kcat is missing`);
  process.exit(1);
}

const results = { messages: N, size: SIZE, broker: BROKER, node: process.version };
console.log(`kafka bench: ${fmt(N)} messages of ${SIZE} B, broker ${BROKER}, Node ${process.version}`);

// produce: kcat -P, then Sluice's generator → kafka output, each into its own new topic; the
// topic kcat filled is then read by kcat and by a Sluice stream (consume).
const kcatTopic = `bench_kcat_${randomUUID().slice(0, 8)}`;
await createTopic(kcatTopic);
const kcatProduce = await timed(() => kcat(['-P', '-t', kcatTopic, '-X', 'acks=1'], N));

async function produce(label, output, component = 'kafka') {
  const topic = `bench_sluice_${randomUUID().slice(0, 8)}`;
  await createTopic(topic);
  acked = 0;
  const brokers = component === 'kafka' ? { addresses: [BROKER] } : { seed_brokers: [BROKER] };
  const s = await stream({ input: { bench_gen: { count: N, size: SIZE } }, output: { [component]: { ...brokers, topic, ...output } } }, 'bench-produce');
  const sec = await timed(() => s.start());
  if (acked !== N) throw new Error(`produce: ${acked} of ${N} acked`);
  console.log(`produce  ${label.padEnd(34)} ${fmt(N / sec).padStart(9)} msg/s | kcat -P ${fmt(N / kcatProduce).padStart(9)} msg/s → ratio ${ratio(N / sec, N / kcatProduce)}`);
  return N / sec;
}

if (want('produce')) {
  results.produce = {
    kcat: N / kcatProduce,
    sluice: await produce('generator → kafka (defaults)', {}),
    sluiceBatched: await produce('generator → kafka (batching 1000)', { batching: { count: 1000, period: '5ms' } }),
    sluiceFranz: await produce('generator → kafka_franz (defaults)', {}, 'kafka_franz'),
  };
}

if (want('consume')) {
  const kcatRead = await timed(() => kcat(['-C', '-t', kcatTopic, '-o', 'beginning', '-e', '-q']));
  const c = await stream({ input: { kafka_franz: { seed_brokers: [BROKER], topics: [kcatTopic], fetch_max_wait: '100ms' } }, output: { drop: {} } }, 'bench-consume');
  const t0 = process.hrtime.bigint();
  void c.start();
  while (c.stats.sent < N) await sleep(2);
  const sluiceRead = Number(process.hrtime.bigint() - t0) / 1e9;
  await c.stop(2000);
  results.consume = { sluice: N / sluiceRead, kcat: N / kcatRead };
  console.log(`consume  ${'kafka_franz → drop'.padEnd(34)} ${fmt(N / sluiceRead).padStart(9)} msg/s | kcat -C ${fmt(N / kcatRead).padStart(9)} msg/s → ratio ${ratio(N / sluiceRead, N / kcatRead)}`);
}

// clients: the two Node.js libraries used directly.
if (want('clients')) {
  const batch = 1000;
  const msgs = (topic, n) => Array.from({ length: n }, () => ({ topic, value: payload }));
  const out = {};

  // @platformatic/kafka
  {
    const topic = `bench_plt_${randomUUID().slice(0, 8)}`;
    await createTopic(topic);
    const p = new Producer({ clientId: 'bench', bootstrapBrokers: [BROKER], acks: 1 });
    const prod = await timed(async () => {
      for (let i = 0; i < CLIENT_N; i += batch) await p.send({ messages: msgs(topic, Math.min(batch, CLIENT_N - i)), acks: 1 });
    });
    await p.close();
    const c = new Consumer({ clientId: 'bench', groupId: `bench_${randomUUID()}`, bootstrapBrokers: [BROKER], maxWaitTime: 100 });
    let got = 0;
    const cons = await timed(async () => {
      const s = await c.consume({ topics: [topic], mode: 'earliest', autocommit: false });
      await new Promise((resolve) => {
        s.on('data', () => {
          if (++got === CLIENT_N) resolve();
        });
      });
      await s.close();
    });
    await c.close(true);
    // The same records through the low-level fetch call Sluice's reader is built on.
    const f = new Consumer({ clientId: 'bench', groupId: `bench_${randomUUID()}`, bootstrapBrokers: [BROKER] });
    const md = await f.metadata({ topics: [topic] });
    const t = md.topics.get(topic);
    let next = 0n;
    let fetched = 0;
    const fetch = await timed(async () => {
      while (fetched < CLIENT_N) {
        const r = await f.fetch({
          node: t.partitions[0].leader,
          maxWaitTime: 100,
          minBytes: 1,
          maxBytes: 50 << 20,
          topics: [{ topicId: t.id, partitions: [{ partition: 0, fetchOffset: next, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1, lastFetchedEpoch: -1 }] }],
        });
        for (const b of r.responses[0].partitions[0].records ?? []) {
          fetched += b.records.length;
          next = b.firstOffset + BigInt(b.lastOffsetDelta) + 1n;
        }
      }
    });
    await f.close(true);
    out.platformatic = { produce: CLIENT_N / prod, consume: CLIENT_N / cons, fetch: CLIENT_N / fetch };
  }

  // kafkajs (devDependency; CommonJS)
  {
    const require = createRequire(import.meta.url);
    let kafkajs;
    try {
      kafkajs = require('kafkajs');
    } catch {
      kafkajs = undefined;
    }
    if (kafkajs) {
      const { Kafka, logLevel } = kafkajs;
      const k = new Kafka({ clientId: 'bench', brokers: [BROKER], logLevel: logLevel.NOTHING });
      const topic = `bench_kjs_${randomUUID().slice(0, 8)}`;
      await createTopic(topic);
      const p = k.producer();
      await p.connect();
      const prod = await timed(async () => {
        for (let i = 0; i < CLIENT_N; i += batch) await p.send({ topic, acks: 1, messages: Array.from({ length: Math.min(batch, CLIENT_N - i) }, () => ({ value: payload })) });
      });
      await p.disconnect();
      const c = k.consumer({ groupId: `bench_${randomUUID()}`, maxWaitTimeInMs: 100 });
      await c.connect();
      await c.subscribe({ topic, fromBeginning: true });
      let got = 0;
      let done;
      const finished = new Promise((r) => (done = r));
      const cons = await timed(async () => {
        await c.run({
          eachBatchAutoResolve: true,
          eachBatch: async ({ batch: b }) => {
            got += b.messages.length;
            if (got >= CLIENT_N) done();
          },
        });
        await finished;
      });
      await c.disconnect();
      out.kafkajs = { produce: CLIENT_N / prod, consume: CLIENT_N / cons };
    }
  }
  results.clients = out;
  console.log(`clients (${fmt(CLIENT_N)} messages, sends of ${batch}, read back by a new group):`);
  for (const [name, r] of Object.entries(out)) {
    const extra = r.fetch ? ` | fetch loop ${fmt(r.fetch).padStart(9)} msg/s` : '';
    console.log(`  ${name.padEnd(12)} produce ${fmt(r.produce).padStart(9)} msg/s | consume ${fmt(r.consume).padStart(9)} msg/s${extra}`);
  }
  if (out.platformatic && out.kafkajs) {
    console.log(`  @platformatic/kafka / kafkajs: produce ${ratio(out.platformatic.produce, out.kafkajs.produce)}, consume ${ratio(out.platformatic.consume, out.kafkajs.consume)}`);
  }
}
console.log(`RESULT ${JSON.stringify(results)}`);
process.exit(0);
