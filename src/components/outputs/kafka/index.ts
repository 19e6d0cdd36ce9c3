/**
 * `kafka` output (Benthos' Sarama-based one): writes each message as a record and acks the input
 * once the brokers confirmed it. See src/components/kafka/writer.ts.
 */
import { defineOutput } from '../../../engine/component.js';
import { field, tlsFields, batchingFields, maxInFlightField } from '../../../engine/spec.js';
import { parseDuration } from '../../../engine/backoff.js';
import { withBatching, type BatchingConfig } from '../../../engine/batching.js';
import type { TlsConfig } from '../../tls-common.js';
import { KafkaWriter, checkCompression } from '../../kafka/writer.js';
import { Partitioner } from '../../kafka/partitioners.js';
import { kafkaSaslField, saslFromKafka, splitAddresses, type KafkaSaslConfig } from '../../kafka/config.js';

export interface KafkaOutputConfig {
  addresses: string[];
  tls: TlsConfig;
  sasl: KafkaSaslConfig;
  topic: string;
  client_id: string;
  target_version?: string;
  rack_id: string;
  key: string;
  partitioner: 'fnv1a_hash' | 'murmur2_hash' | 'random' | 'round_robin' | 'manual';
  partition: string;
  custom_topic_creation: { enabled: boolean; partitions: number; replication_factor: number };
  compression: 'none' | 'snappy' | 'lz4' | 'gzip' | 'zstd';
  static_headers?: Record<string, string>;
  metadata: { exclude_prefixes: string[] };
  inject_tracing_map?: string;
  max_in_flight: number;
  idempotent_write: boolean;
  ack_replicas: boolean;
  max_msg_bytes: number;
  timeout: string;
  retry_as_batch: boolean;
  batching: BatchingConfig;
  max_retries: number;
  backoff: { initial_interval: string; max_interval: string; max_elapsed_time: string };
}

function lint(c: KafkaOutputConfig): string[] {
  const out: string[] = [];
  if (splitAddresses(c.addresses).length === 0) out.push('addresses: at least one broker address is needed');
  if (c.partitioner === 'manual' && !c.partition) out.push('partition: the manual partitioner needs a partition');
  if (c.sasl.mechanism === 'AWS_MSK_IAM') out.push('sasl.mechanism: AWS_MSK_IAM is not supported');
  try {
    checkCompression(c.compression);
  } catch (err) {
    out.push(`compression: ${(err as Error).message}`);
  }
  return out;
}

export const spec = defineOutput<KafkaOutputConfig>({
  name: 'kafka',
  summary: 'Writes messages to a Kafka topic and acks them once the brokers confirmed them.',
  description:
    'Every metadata value is sent as a record header, except keys starting with one of ' +
    '`metadata.exclude_prefixes`; `static_headers` are added to every record. `topic`, `key` and ' +
    '`partition` are interpolated per message. `ack_replicas: true` waits for every in-sync replica ' +
    '(acks=all) instead of the partition leader alone.',
  categories: ['Services'],
  config: field.object('', '', [
    field.stringList('addresses', 'Broker addresses. An entry may hold several, separated by commas.', {
      examples: [['localhost:9092'], ['localhost:9041,localhost:9042']],
    }),
    tlsFields(),
    kafkaSaslField(),
    field.interp('topic', 'The topic to write to.'),
    field.string('client_id', 'Client identifier sent to the brokers.', { default: 'benthos', advanced: true }),
    field.string('target_version', 'Kafka protocol version to target. Accepted for compatibility: the client negotiates versions with the brokers.', {
      optional: true,
      examples: ['2.1.0', '3.1.0'],
    }),
    field.string('rack_id', 'Rack identifier of this client.', { default: '', advanced: true }),
    field.interp('key', 'The record key. Empty: no key.', { default: '' }),
    field.string('partitioner', 'How a record\'s partition is chosen.', {
      default: 'fnv1a_hash',
      options: ['fnv1a_hash', 'murmur2_hash', 'random', 'round_robin', 'manual'],
    }),
    field.interp('partition', 'The partition for the manual partitioner; must render to an integer.', { default: '', advanced: true }),
    field.object('custom_topic_creation', 'Create missing topics with these settings before writing to them.', [
      field.bool('enabled', 'Whether topics are created.', { default: false }),
      field.int('partitions', 'Partitions of created topics; -1: the broker default.', { default: -1 }),
      field.int('replication_factor', 'Replication factor of created topics; -1: the broker default.', { default: -1 }),
    ], { advanced: true }),
    field.string('compression', 'Compression of record batches.', { default: 'none', options: ['none', 'snappy', 'lz4', 'gzip', 'zstd'] }),
    field.stringMap('static_headers', 'Headers added to every record, besides the metadata.', {
      optional: true,
      examples: [{ 'first-static-header': 'value-1', 'second-static-header': 'value-2' }],
    }),
    field.object('metadata', 'Which metadata is sent as headers.', [
      field.stringList('exclude_prefixes', 'Metadata keys with any of these prefixes are not sent.', { default: [] }),
    ]),
    field.bloblang('inject_tracing_map', 'EXPERIMENTAL: mapping injecting tracing information (accepted, not used).', { optional: true, advanced: true }),
    maxInFlightField(64),
    field.bool('idempotent_write', 'Use the idempotent producer (needs the IDEMPOTENT_WRITE permission).', { default: false, advanced: true }),
    field.bool('ack_replicas', 'Wait for every in-sync replica to have a record before it counts as written.', { default: false, advanced: true }),
    field.int('max_msg_bytes', 'Largest record accepted, in bytes; larger messages are rejected.', { default: 1_000_000, advanced: true }),
    field.duration('timeout', 'How long a write may take before it is abandoned and retried.', { default: '5s', advanced: true }),
    field.bool('retry_as_batch', 'Accepted for compatibility: a failed batch is always retried whole.', { default: false, advanced: true }),
    batchingFields(),
    field.int('max_retries', 'Accepted for compatibility: failed writes are retried by the stream (nacked back to the input).', { default: 0, advanced: true }),
    field.object('backoff', 'Accepted for compatibility (see max_retries).', [
      field.duration('initial_interval', 'First retry wait.', { default: '3s' }),
      field.duration('max_interval', 'Longest retry wait.', { default: '10s' }),
      field.duration('max_elapsed_time', 'Give up after this long.', { default: '30s' }),
    ], { advanced: true }),
  ]),
  examples: [
    {
      title: 'Write orders keyed by customer',
      config: 'output:\n  kafka:\n    addresses: [localhost:9092]\n    topic: orders\n    key: ${! json("customer") }\n',
    },
  ],
  lint,
  build: async (c, ctx) => {
    const excluded = c.metadata.exclude_prefixes;
    const writer = new KafkaWriter(
      {
        brokers: splitAddresses(c.addresses),
        clientId: c.client_id,
        rackId: c.rack_id,
        tls: c.tls,
        sasl: saslFromKafka(c.sasl, ctx),
        connectTimeoutMs: 5_000,
        requestTimeoutMs: 10_000,
        topic: ctx.bloblang.interpolate(c.topic),
        key: c.key ? ctx.bloblang.interpolate(c.key) : undefined,
        partitioner: new Partitioner(c.partitioner),
        partition: c.partition ? ctx.bloblang.interpolate(c.partition) : undefined,
        headerFilter: excluded.length ? (k) => !excluded.some((p) => k.startsWith(p)) : () => true,
        staticHeaders: c.static_headers ?? {},
        acks: c.ack_replicas ? -1 : 1,
        idempotent: c.idempotent_write,
        compression: c.compression,
        timeoutMs: parseDuration(c.timeout) ?? 5_000,
        maxMessageBytes: c.max_msg_bytes,
        maxInFlight: c.max_in_flight,
        createTopics: c.custom_topic_creation.enabled
          ? { partitions: c.custom_topic_creation.partitions, replicationFactor: c.custom_topic_creation.replication_factor }
          : undefined,
      },
      ctx,
    );
    return withBatching(writer, c.batching, ctx);
  },
});
