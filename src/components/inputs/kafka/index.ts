/**
 * `kafka` input (Benthos' Sarama-based one): consumes topics as a member of a consumer group, or
 * explicit `topic:partition` lists, committing offsets only after delivery. See
 * src/components/kafka/reader.ts for how delivery, commits and rebalances work.
 */
import { defineInput } from '../../../engine/component.js';
import { field, tlsFields, batchingFields, autoReplayNacksField } from '../../../engine/spec.js';
import { autoReplayNacks } from '../../../engine/acks.js';
import { parseDuration } from '../../../engine/backoff.js';
import { BatchPolicy, isNoopBatching, type BatchingConfig } from '../../../engine/batching.js';
import type { TlsConfig } from '../../tls-common.js';
import { KafkaReader } from '../../kafka/reader.js';
import { kafkaSaslField, parseTopics, saslFromKafka, splitAddresses, type KafkaSaslConfig } from '../../kafka/config.js';

export interface KafkaInputConfig {
  addresses: string[];
  topics: string[];
  target_version?: string;
  tls: TlsConfig;
  sasl: KafkaSaslConfig;
  consumer_group: string;
  client_id: string;
  rack_id: string;
  start_from_oldest: boolean;
  checkpoint_limit: number;
  auto_replay_nacks: boolean;
  commit_period: string;
  transaction_isolation_level: 'read_uncommitted' | 'read_committed';
  max_processing_period: string;
  extract_tracing_map?: string;
  group: { session_timeout: string; heartbeat_interval: string; rebalance_timeout: string };
  fetch_buffer_cap: number;
  multi_header: boolean;
  debug: boolean;
  batching: BatchingConfig;
}

const ms = (d: string, def: number): number => parseDuration(d) ?? def;

function lint(c: KafkaInputConfig): string[] {
  const out: string[] = [];
  try {
    const sel = parseTopics(c.topics, false);
    if (sel.topics.length === 0 && sel.partitions.size === 0) out.push('topics: at least one topic is needed');
    if (sel.topics.length > 0 && sel.partitions.size > 0) out.push('topics: whole topics and explicit topic:partition entries cannot be mixed in one kafka input');
    if (sel.topics.length > 0 && c.consumer_group === '') out.push('consumer_group: a consumer group is needed to consume whole (balanced) topics; or list explicit partitions such as foo:0');
  } catch (err) {
    out.push(`topics: ${(err as Error).message}`);
  }
  if (splitAddresses(c.addresses).length === 0) out.push('addresses: at least one broker address is needed');
  if (c.sasl.mechanism === 'AWS_MSK_IAM') out.push('sasl.mechanism: AWS_MSK_IAM is not supported');
  if (c.checkpoint_limit < 1) out.push('checkpoint_limit: must be at least 1');
  return out;
}

export const spec = defineInput<KafkaInputConfig>({
  name: 'kafka',
  summary: 'Consumes one or more Kafka topics, committing offsets once messages were delivered.',
  description:
    'With a `consumer_group`, the partitions of the topics are shared among every consumer of the group and ' +
    'rebalanced when members come and go; offsets are stored in Kafka under the group. Explicit partitions ' +
    '(`foo:0`, `foo:0-3`) are read directly; a group, if given, then only stores their offsets.\n\n' +
    'Messages of different partitions are processed in parallel; up to `checkpoint_limit` messages of one ' +
    'partition may be in flight, and an offset is committed only when every message before it was delivered ' +
    '(at-least-once). Set `checkpoint_limit: 1` to process each partition strictly in order.\n\n' +
    'Metadata: `kafka_key`, `kafka_topic`, `kafka_partition`, `kafka_offset`, `kafka_lag`, ' +
    '`kafka_timestamp_unix`, `kafka_timestamp_unix_ms`, `kafka_tombstone_message` and every record header.',
  categories: ['Services'],
  config: field.object('', '', [
    field.stringList('addresses', 'Broker addresses. An entry may hold several, separated by commas.', {
      examples: [['localhost:9092'], ['localhost:9041,localhost:9042']],
    }),
    field.stringList('topics', 'Topics to consume; comma separated entries allowed. `topic:partition` or `topic:from-to` read explicit partitions.', {
      examples: [['foo', 'bar'], ['foo:0', 'bar:1'], ['foo:0-5']],
    }),
    field.string('target_version', 'Kafka protocol version to target. Accepted for compatibility: the client negotiates versions with the brokers.', {
      optional: true,
      examples: ['2.1.0', '3.1.0'],
    }),
    tlsFields(),
    kafkaSaslField(),
    field.string('consumer_group', 'Consumer group to join and store offsets under. Empty: no stored offsets (explicit partitions only).', { default: '' }),
    field.string('client_id', 'Client identifier sent to the brokers.', { default: 'benthos', advanced: true }),
    field.string('rack_id', 'Rack identifier of this client.', { default: '', advanced: true }),
    field.bool('start_from_oldest', 'Where to start when the group has no stored offset: the oldest available message (true) or only new ones.', { default: true, advanced: true }),
    field.int('checkpoint_limit', 'Most messages of one partition processed at once. An offset is committed only once all messages before it were delivered.', { default: 1024 }),
    autoReplayNacksField(),
    field.duration('commit_period', 'How often delivered offsets are committed. Offsets are also committed on shutdown.', { default: '1s', advanced: true }),
    field.string('transaction_isolation_level', 'Whether messages of open or aborted transactions are read.', {
      default: 'read_uncommitted',
      options: ['read_uncommitted', 'read_committed'],
      advanced: true,
    }),
    field.duration('max_processing_period', 'Estimate of the longest time a message takes to process (accepted for compatibility).', { default: '100ms', advanced: true }),
    field.bloblang('extract_tracing_map', 'EXPERIMENTAL: mapping extracting tracing information (accepted, not used).', { optional: true, advanced: true }),
    field.object('group', 'Consumer group tuning.', [
      field.duration('session_timeout', 'A member that sends no heartbeat for this long is removed from the group.', { default: '10s' }),
      field.duration('heartbeat_interval', 'How often heartbeats are sent.', { default: '3s' }),
      field.duration('rebalance_timeout', 'How long a rebalance may take.', { default: '60s' }),
    ], { advanced: true }),
    field.int('fetch_buffer_cap', 'Messages buffered per partition ahead of processing.', { default: 256, advanced: true }),
    field.bool('multi_header', 'Read headers as lists, keeping every value of a repeated header.', { default: false, advanced: true }),
    field.bool('debug', 'Log the client\'s protocol activity (accepted for compatibility).', { default: false, advanced: true }),
    batchingFields(),
  ]),
  examples: [
    {
      title: 'Consume a topic as a consumer group',
      config: 'input:\n  kafka:\n    addresses: [localhost:9092]\n    topics: [orders]\n    consumer_group: orders-feed\n',
    },
  ],
  lint,
  build: async (c, ctx) => {
    const reader = new KafkaReader(
      {
        brokers: splitAddresses(c.addresses),
        clientId: c.client_id,
        rackId: c.rack_id,
        tls: c.tls,
        sasl: saslFromKafka(c.sasl, ctx),
        connectTimeoutMs: 5_000,
        requestTimeoutMs: 10_000,
        selection: parseTopics(c.topics, false),
        regexpTopics: false,
        group: c.consumer_group,
        startFromOldest: c.start_from_oldest,
        checkpointLimit: c.checkpoint_limit,
        commitPeriodMs: ms(c.commit_period, 1_000),
        sessionTimeoutMs: ms(c.group.session_timeout, 10_000),
        heartbeatIntervalMs: ms(c.group.heartbeat_interval, 3_000),
        rebalanceTimeoutMs: ms(c.group.rebalance_timeout, 60_000),
        fetchMaxBytes: 50 * 1024 * 1024,
        fetchMaxPartitionBytes: 1024 * 1024,
        fetchMaxWaitMs: 500,
        bufferCap: Math.max(c.fetch_buffer_cap, c.checkpoint_limit, 1),
        readCommitted: c.transaction_isolation_level === 'read_committed',
        multiHeader: c.multi_header,
        flavour: 'kafka',
        metadataMaxAgeMs: 300_000,
        batching: isNoopBatching(c.batching) ? undefined : await BatchPolicy.create(c.batching, ctx),
      },
      ctx,
    );
    return autoReplayNacks(reader, c.auto_replay_nacks);
  },
});
