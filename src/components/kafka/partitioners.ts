/**
 * Partition choice for the Kafka outputs, computed with the topic's partition count so that the
 * result is exactly the one other clients compute for the same key:
 *  - `fnv1a_hash` (kafka default): 32-bit FNV-1a of the key, as a signed 32-bit number modulo the
 *    partition count, made positive (Sarama's hash partitioner). No key: a random partition.
 *  - `murmur2_hash`: Kafka's own murmur2 (the Java client's default), `(h & 0x7fffffff) % n`.
 *  - `random`, `round_robin` (per topic, per message), `manual` (the `partition` field).
 *  - kafka_franz's default (no `partitioner`): murmur2 for keyed records; records without a key
 *    stick to one partition per written batch, the next batch moving on (franz-go's sticky
 *    partitioner). `least_backup` and `uniform_bytes` behave the same way here.
 */
import { murmur2 } from '@platformatic/kafka';

export type PartitionerName =
  | 'fnv1a_hash'
  | 'murmur2_hash'
  | 'random'
  | 'round_robin'
  | 'manual'
  | 'sticky'
  | 'least_backup'
  | 'uniform_bytes';

/** 32-bit FNV-1a, unsigned. */
export function fnv1a32(data: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < data.length; i++) {
    h ^= data[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Kafka's murmur2 of `key`, as the Java client computes it (a signed 32-bit number). */
export function kafkaMurmur2(key: Uint8Array): number {
  return murmur2(Buffer.from(key.buffer, key.byteOffset, key.byteLength)) | 0;
}

/** Sarama's hash partitioner over FNV-1a. */
export function fnv1aPartition(key: Uint8Array, count: number): number {
  return Math.abs((fnv1a32(key) | 0) % count);
}

/** The Java client's default partition for a key. */
export function murmur2Partition(key: Uint8Array, count: number): number {
  return (kafkaMurmur2(key) & 0x7fffffff) % count;
}

/** Chooses partitions for the records of one written batch. */
export class Partitioner {
  readonly #name: PartitionerName;
  readonly #counters = new Map<string, number>();
  readonly #hashKeys: boolean;

  /** `hashKeys` applies to `uniform_bytes` (its `keys` option): keyed records are hashed. */
  constructor(name: PartitionerName, opts: { hashKeys?: boolean } = {}) {
    this.#name = name;
    this.#hashKeys = name === 'sticky' || (name === 'uniform_bytes' && opts.hashKeys === true);
  }

  get manual(): boolean {
    return this.#name === 'manual';
  }

  #next(topic: string, count: number): number {
    const n = this.#counters.get(topic) ?? Math.floor(Math.random() * count);
    this.#counters.set(topic, (n + 1) % 0x7fffffff);
    return n % count;
  }

  /**
   * Returns a chooser for one batch: sticky choices (records without a key) hold for the batch.
   * `count` is the topic's partition count.
   */
  forBatch(): (topic: string, key: Uint8Array | undefined, count: number) => number {
    const sticky = new Map<string, number>();
    return (topic, key, count) => {
      if (count <= 1) return 0;
      switch (this.#name) {
        case 'fnv1a_hash':
          return key ? fnv1aPartition(key, count) : Math.floor(Math.random() * count);
        case 'murmur2_hash':
          if (key) return murmur2Partition(key, count);
          return Math.floor(Math.random() * count);
        case 'random':
          return Math.floor(Math.random() * count);
        case 'round_robin':
          return this.#next(topic, count);
        case 'manual':
          throw new Error('the manual partitioner needs the partition field');
        case 'sticky':
        case 'least_backup':
        case 'uniform_bytes': {
          if (key && this.#hashKeys) return murmur2Partition(key, count);
          let p = sticky.get(topic);
          if (p === undefined || p >= count) sticky.set(topic, (p = this.#next(topic, count)));
          return p;
        }
      }
    };
  }
}
