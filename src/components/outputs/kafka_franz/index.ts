/**
 * `kafka_franz` output (Benthos' franz-go based one): same producer as `kafka` (see
 * src/components/kafka/writer.ts) with franz's fields and defaults: `seed_brokers`, headers only
 * for metadata matching `metadata.include_*`, the idempotent producer on, acks from all in-sync
 * replicas, murmur2 keys with sticky partitions for keyless records.
 */
import { defineOutput } from '../../../engine/component.js';
import { field, tlsFields, batchingFields } from '../../../engine/spec.js';
import { parseDuration } from '../../../engine/backoff.js';
import { withBatching, type BatchingConfig } from '../../../engine/batching.js';
import type { TlsConfig } from '../../tls-common.js';
import { KafkaWriter, checkCompression } from '../../kafka/writer.js';
import { Partitioner, type PartitionerName } from '../../kafka/partitioners.js';
import { franzSaslField, parseBytes, saslFromFranz, splitAddresses, type FranzSaslConfig } from '../../kafka/config.js';

export interface KafkaFranzOutputConfig {
  seed_brokers: string[];
  topic: string;
  key?: string;
  partitioner?: 'murmur2_hash' | 'round_robin' | 'least_backup' | 'manual' | 'uniform_bytes';
  uniform_bytes_options: { bytes: string; adaptive: boolean; keys: boolean };
  partition?: string;
  client_id: string;
  rack_id: string;
  idempotent_write: boolean;
  metadata: { include_prefixes: string[]; include_patterns: string[] };
  max_in_flight: number;
  timeout: string;
  batching: BatchingConfig;
  max_message_bytes: string;
  max_buffered_records: number;
  metadata_max_age: string;
  compression?: 'lz4' | 'snappy' | 'gzip' | 'none' | 'zstd';
  tls: TlsConfig;
  sasl?: FranzSaslConfig[];
}

function lint(c: KafkaFranzOutputConfig): string[] {
  const out: string[] = [];
  if (splitAddresses(c.seed_brokers).length === 0) out.push('seed_brokers: at least one broker address is needed');
  if (c.partitioner === 'manual' && !c.partition) out.push('partition: the manual partitioner needs a partition');
  try {
    parseBytes(c.max_message_bytes);
  } catch (err) {
    out.push(`max_message_bytes: ${(err as Error).message}`);
  }
  for (const p of c.metadata.include_patterns) {
    try {
      new RegExp(p);
    } catch (err) {
      out.push(`metadata.include_patterns: ${(err as Error).message}`);
    }
  }
  if (c.sasl?.some((s) => s.mechanism === 'AWS_MSK_IAM')) out.push('sasl: AWS_MSK_IAM is not supported');
  if (c.compression) {
    try {
      checkCompression(c.compression);
    } catch (err) {
      out.push(`compression: ${(err as Error).message}`);
    }
  }
  return out;
}

export const spec = defineOutput<KafkaFranzOutputConfig>({
  name: 'kafka_franz',
  summary: 'Writes messages to a Kafka topic and acks them once the brokers confirmed them.',
  description:
    'Metadata is sent as record headers only for keys matching `metadata.include_prefixes` or ' +
    '`metadata.include_patterns` (none by default). Records with a key go to the partition Kafka\'s murmur2 ' +
    'hash picks (as the Java client); records without one stay on one partition per written batch. Writes wait ' +
    'for every in-sync replica.',
  categories: ['Services'],
  config: field.object('', '', [
    field.stringList('seed_brokers', 'Broker addresses to start from. An entry may hold several, separated by commas.', {
      examples: [['localhost:9092'], ['foo:9092', 'bar:9092'], ['foo:9092,bar:9092']],
    }),
    field.interp('topic', 'The topic to write to.'),
    field.interp('key', 'An optional record key.', { optional: true }),
    field.string('partitioner', 'Replaces the default partitioner (murmur2 for keys, sticky otherwise).', {
      optional: true,
      options: ['murmur2_hash', 'round_robin', 'least_backup', 'manual', 'uniform_bytes'],
      advanced: true,
    }),
    field.object('uniform_bytes_options', 'Options of the uniform_bytes partitioner.', [
      field.string('bytes', 'Bytes written to one partition before moving on (accepted; partitions change per batch).', { default: '1MB' }),
      field.bool('adaptive', 'Favour less loaded brokers (accepted, not used).', { default: false }),
      field.bool('keys', 'Hash records that have a key, as murmur2_hash does.', { default: false }),
    ], { advanced: true }),
    field.interp('partition', 'The partition for the manual partitioner; must render to an integer.', {
      optional: true,
      examples: ['${! metadata("partition") }'],
    }),
    field.string('client_id', 'Client identifier sent to the brokers.', { default: 'benthos', advanced: true }),
    field.string('rack_id', 'Rack identifier of this client.', { default: '', advanced: true }),
    field.bool('idempotent_write', 'Use the idempotent producer (needs the IDEMPOTENT_WRITE permission).', { default: true, advanced: true }),
    field.object('metadata', 'Which metadata is sent as headers.', [
      field.stringList('include_prefixes', 'Keys with any of these prefixes are sent.', { default: [], examples: [['foo_', 'bar_'], ['kafka_']] }),
      field.stringList('include_patterns', 'Keys matching any of these regular expressions are sent.', { default: [], examples: [['.*'], ['_timestamp_unix$']] }),
    ]),
    field.int('max_in_flight', 'Maximum number of batches being written at once.', { default: 10 }),
    field.duration('timeout', 'How long a write may take before it is abandoned and retried.', { default: '10s', advanced: true }),
    batchingFields(),
    field.string('max_message_bytes', 'Largest record accepted; larger messages are rejected.', { default: '1MB', advanced: true, examples: ['100MB', '50mib'] }),
    field.int('max_buffered_records', 'Accepted for compatibility: writes are bounded by max_in_flight.', { default: 10_000, advanced: true }),
    field.duration('metadata_max_age', 'How long cluster metadata is cached.', { default: '5m', advanced: true }),
    field.string('compression', 'Compression of record batches. Default: snappy.', { optional: true, options: ['lz4', 'snappy', 'gzip', 'none', 'zstd'], advanced: true }),
    tlsFields(),
    franzSaslField(),
  ]),
  examples: [
    {
      title: 'Write to a topic with selected metadata as headers',
      config: 'output:\n  kafka_franz:\n    seed_brokers: [localhost:9092]\n    topic: events\n    metadata:\n      include_prefixes: [trace_]\n',
    },
  ],
  lint,
  build: async (c, ctx) => {
    const prefixes = c.metadata.include_prefixes;
    const patterns = c.metadata.include_patterns.map((p) => new RegExp(p));
    const name: PartitionerName = c.partitioner ?? 'sticky';
    const writer = new KafkaWriter(
      {
        brokers: splitAddresses(c.seed_brokers),
        clientId: c.client_id,
        rackId: c.rack_id,
        tls: c.tls,
        sasl: saslFromFranz(c.sasl),
        connectTimeoutMs: 5_000,
        requestTimeoutMs: 10_000,
        topic: ctx.bloblang.interpolate(c.topic),
        key: c.key ? ctx.bloblang.interpolate(c.key) : undefined,
        partitioner: new Partitioner(name, { hashKeys: c.uniform_bytes_options.keys }),
        partition: c.partition ? ctx.bloblang.interpolate(c.partition) : undefined,
        headerFilter:
          prefixes.length || patterns.length ? (k) => prefixes.some((p) => k.startsWith(p)) || patterns.some((r) => r.test(k)) : () => false,
        staticHeaders: {},
        acks: -1,
        idempotent: c.idempotent_write,
        compression: c.compression ?? 'snappy',
        timeoutMs: parseDuration(c.timeout) ?? 10_000,
        maxMessageBytes: parseBytes(c.max_message_bytes),
        maxInFlight: c.max_in_flight,
        createTopics: undefined,
      },
      ctx,
    );
    return withBatching(writer, c.batching, ctx);
  },
});
