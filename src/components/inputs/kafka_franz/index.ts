/**
 * `kafka_franz` input (Benthos' franz-go based one). Same consumer as `kafka` (see
 * src/components/kafka/reader.ts) with franz's field names and defaults: `seed_brokers`, an
 * optional `consumer_group` (without one every partition is read and nothing is committed),
 * `topic:partition:offset` starts, `regexp_topics`, byte-size fetch limits.
 */
import { defineInput } from '../../../engine/component.js';
import type { ComponentContext, Input } from '../../../engine/component.js';
import { field, tlsFields, batchingFields, autoReplayNacksField } from '../../../engine/spec.js';
import { autoReplayNacks } from '../../../engine/acks.js';
import { parseDuration } from '../../../engine/backoff.js';
import { BatchPolicy, isNoopBatching, type BatchingConfig } from '../../../engine/batching.js';
import type { TlsConfig } from '../../tls-common.js';
import { KafkaReader } from '../../kafka/reader.js';
import { franzSaslField, parseBytes, parseTopics, saslFromFranz, splitAddresses, type FranzSaslConfig } from '../../kafka/config.js';

export interface KafkaFranzInputConfig {
  seed_brokers: string[];
  topics: string[];
  regexp_topics: boolean;
  consumer_group?: string;
  client_id: string;
  rack_id: string;
  checkpoint_limit: number;
  auto_replay_nacks: boolean;
  commit_period: string;
  start_from_oldest: boolean;
  auto_offset_reset?: 'earliest' | 'latest' | 'none';
  group_balancers: string[];
  metadata_max_age: string;
  fetch_max_bytes: string;
  fetch_max_partition_bytes: string;
  fetch_max_wait: string;
  preferring_lag?: number;
  tls: TlsConfig;
  sasl?: FranzSaslConfig[];
  multi_header: boolean;
  batching: BatchingConfig;
  rate_limit: string;
}

const ms = (d: string, def: number): number => parseDuration(d) ?? def;

function lint(c: KafkaFranzInputConfig): string[] {
  const out: string[] = [];
  try {
    const sel = parseTopics(c.topics, true);
    if (sel.topics.length === 0 && sel.partitions.size === 0) out.push('topics: at least one topic is needed');
    if (sel.partitions.size > 0 && c.consumer_group) out.push('consumer_group: consumer groups cannot be used with explicit topic:partition entries');
    if (sel.partitions.size > 0 && c.regexp_topics) out.push('regexp_topics: must be false when topics list explicit partitions');
    if (sel.topics.length > 0 && sel.partitions.size > 0) out.push('topics: whole topics and explicit topic:partition entries cannot be mixed');
  } catch (err) {
    out.push(`topics: ${(err as Error).message}`);
  }
  if (c.regexp_topics) {
    for (const t of c.topics) {
      try {
        new RegExp(t);
      } catch (err) {
        out.push(`topics: ${(err as Error).message}`);
      }
    }
  }
  for (const f of ['fetch_max_bytes', 'fetch_max_partition_bytes'] as const) {
    try {
      parseBytes(c[f]);
    } catch (err) {
      out.push(`${f}: ${(err as Error).message}`);
    }
  }
  for (const b of c.group_balancers) {
    if (!['cooperative_sticky', 'sticky', 'range', 'round_robin'].includes(b)) out.push(`group_balancers: unknown balancer ${b}`);
  }
  if (splitAddresses(c.seed_brokers).length === 0) out.push('seed_brokers: at least one broker address is needed');
  if (c.sasl?.some((s) => s.mechanism === 'AWS_MSK_IAM')) out.push('sasl: AWS_MSK_IAM is not supported');
  if (c.checkpoint_limit < 1) out.push('checkpoint_limit: must be at least 1');
  return out;
}

/** Waits for the rate_limit resource before each read. */
function rateLimited(input: Input, name: string, ctx: ComponentContext): Input {
  return {
    connect: (s) => input.connect(s),
    close: () => input.close(),
    async read(signal) {
      for (;;) {
        const wait = await ctx.resources.get('rate_limit', name).access();
        if (wait <= 0) break;
        await new Promise((r) => setTimeout(r, wait));
        if (signal.aborted) break;
      }
      return input.read(signal);
    },
  };
}

export const spec = defineInput<KafkaFranzInputConfig>({
  name: 'kafka_franz',
  summary: 'Consumes Kafka topics, with or without a consumer group, committing offsets once messages were delivered.',
  description:
    'With a `consumer_group` the partitions are shared among the consumers of the group and offsets are committed ' +
    'under it once the messages were delivered (and before them, every earlier message of the partition). Without ' +
    'one, every partition of the topics (or the explicit `topic:partition[:offset]` entries) is read and nothing is ' +
    'committed.\n\nMetadata: `kafka_key`, `kafka_topic`, `kafka_partition`, `kafka_offset`, `kafka_timestamp_unix`, ' +
    '`kafka_tombstone_message` and every record header.',
  categories: ['Services'],
  config: field.object('', '', [
    field.stringList('seed_brokers', 'Broker addresses to start from. An entry may hold several, separated by commas.', {
      examples: [['localhost:9092'], ['foo:9092', 'bar:9092'], ['foo:9092,bar:9092']],
    }),
    field.stringList('topics', 'Topics to consume; comma separated entries allowed. `topic:partition`, `topic:from-to` and `topic:partition:offset` read explicit partitions.', {
      examples: [['foo', 'bar'], ['things.*'], ['foo:0', 'bar:1'], ['foo:0-5']],
    }),
    field.bool('regexp_topics', 'Treat topics as regular expressions matched against the cluster\'s topics (when connecting).', { default: false }),
    field.string('consumer_group', 'Consumer group to share partitions with and commit offsets under.', { optional: true }),
    field.string('client_id', 'Client identifier sent to the brokers.', { default: 'benthos', advanced: true }),
    field.string('rack_id', 'Rack identifier of this client.', { default: '', advanced: true }),
    field.int('checkpoint_limit', 'Most messages of one partition processed at once before reading waits. An offset is committed only once every message before it was delivered.', { default: 1024, advanced: true }),
    autoReplayNacksField(),
    field.duration('commit_period', 'How often delivered offsets are committed. Offsets are also committed on shutdown.', { default: '5s', advanced: true }),
    field.bool('start_from_oldest', 'Where to start when the group has no committed offset: the oldest available message (true) or only new ones.', { default: true, advanced: true }),
    field.string('auto_offset_reset', 'Where to start without a committed offset, as Kafka\'s auto.offset.reset; overrides start_from_oldest.', {
      optional: true,
      options: ['earliest', 'latest', 'none'],
      advanced: true,
    }),
    field.stringList('group_balancers', 'Partition assignment strategies (accepted for compatibility; the group\'s assignor is used).', { default: ['cooperative_sticky'], advanced: true }),
    field.duration('metadata_max_age', 'How long cluster metadata is cached.', { default: '5m', advanced: true }),
    field.string('fetch_max_bytes', 'Most bytes one fetch returns.', { default: '50MiB', advanced: true }),
    field.string('fetch_max_partition_bytes', 'Most bytes one fetch returns per partition.', { default: '1MiB', advanced: true }),
    field.duration('fetch_max_wait', 'How long a broker may hold a fetch waiting for data.', { default: '5s', advanced: true }),
    field.int('preferring_lag', 'Accepted for compatibility (partition ordering by lag is not used).', { optional: true, advanced: true }),
    tlsFields(),
    franzSaslField(),
    field.bool('multi_header', 'Read headers as lists, keeping every value of a repeated header.', { default: false, advanced: true }),
    batchingFields(),
    field.string('rate_limit', 'A rate_limit resource to wait for before each read.', { default: '', advanced: true }),
  ]),
  examples: [
    {
      title: 'Consume a topic in a consumer group',
      config: 'input:\n  kafka_franz:\n    seed_brokers: [localhost:9092]\n    topics: [orders]\n    consumer_group: orders-feed\n',
    },
  ],
  lint,
  build: async (c, ctx) => {
    const fetchWait = ms(c.fetch_max_wait, 5_000);
    const reset = c.auto_offset_reset;
    const reader = new KafkaReader(
      {
        brokers: splitAddresses(c.seed_brokers),
        clientId: c.client_id,
        rackId: c.rack_id,
        tls: c.tls,
        sasl: saslFromFranz(c.sasl),
        connectTimeoutMs: 5_000,
        requestTimeoutMs: 10_000,
        selection: parseTopics(c.topics, true),
        regexpTopics: c.regexp_topics,
        group: c.consumer_group ?? '',
        startFromOldest: reset === undefined ? c.start_from_oldest : reset === 'earliest',
        checkpointLimit: c.checkpoint_limit,
        commitPeriodMs: ms(c.commit_period, 5_000),
        sessionTimeoutMs: 45_000,
        heartbeatIntervalMs: 3_000,
        rebalanceTimeoutMs: 60_000,
        fetchMaxBytes: parseBytes(c.fetch_max_bytes),
        fetchMaxPartitionBytes: parseBytes(c.fetch_max_partition_bytes),
        fetchMaxWaitMs: fetchWait,
        bufferCap: Math.max(4096, c.checkpoint_limit),
        readCommitted: false,
        multiHeader: c.multi_header,
        flavour: 'kafka_franz',
        metadataMaxAgeMs: ms(c.metadata_max_age, 300_000),
        batching: isNoopBatching(c.batching) ? undefined : await BatchPolicy.create(c.batching, ctx),
      },
      ctx,
    );
    const input = autoReplayNacks(reader, c.auto_replay_nacks);
    return c.rate_limit ? rateLimited(input, c.rate_limit, ctx) : input;
  },
});
