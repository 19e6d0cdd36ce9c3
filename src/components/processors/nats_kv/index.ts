/**
 * `nats_kv` processor: one operation per message against a NATS KV bucket, with `key` and
 * `revision` interpolated per message.
 *
 * - `get` / `get_revision` replace the content with the stored value and set the six
 *   `nats_kv_*` metadata keys; a missing or deleted key fails the message.
 * - `create` / `put` / `update` store the content; `delete` / `purge` remove the key. The content
 *   is unchanged; `nats_kv_key`, `nats_kv_bucket`, `nats_kv_revision` (0 for delete and purge)
 *   and `nats_kv_operation` are set.
 * - `history` replaces the content with an array of the key's entries; `keys` with an array of
 *   the keys matching `key` (wildcards allowed for both), setting `nats_kv_bucket`.
 *
 * The input message's other metadata is kept for every operation (Benthos' newer releases do so
 * for get too). A failed operation flags the message with an error and passes it on unchanged.
 * The connection opens on first use and reopens after it was lost; errors name the servers.
 */
import type { ComponentContext, Processor } from '../../../engine/component.js';
import { defineProcessor } from '../../../engine/component.js';
import type { InterpolatedString } from '../../../engine/bloblang-api.js';
import type { Batch, Message, Serializer } from '../../../engine/message.js';
import { field } from '../../../engine/spec.js';
import { parseDuration } from '../../../engine/backoff.js';
import type { KV, KvEntry, KvWatchEntry } from '@nats-io/kv';
import {
  connectionNameNote,
  isWrongLastSequence,
  kvOperationName,
  LazyKvBucket,
  natsAuthNote,
  natsKvBucketField,
  natsTailFields,
  natsUrlsField,
  rfc3339Nano,
  setKvEntryMeta,
  type NatsConnectionConfig,
} from '../../nats-common.js';

export const KV_OPERATIONS = ['get', 'get_revision', 'create', 'put', 'update', 'delete', 'purge', 'history', 'keys'] as const;
export type KvOperation = (typeof KV_OPERATIONS)[number];

export interface NatsKvProcessorConfig extends NatsConnectionConfig {
  bucket: string;
  operation: KvOperation;
  key: string;
  revision?: string;
  timeout: string;
}

const encoder = new TextEncoder();

/** JSON with byte arrays as base64, as Go marshals `[]byte` (the `value` of `history` records). */
export const bytesAsBase64Json: Serializer = (v) =>
  encoder.encode(
    JSON.stringify(v, function (this: Record<string, unknown>, k: string, x: unknown) {
      // The holder's own value: a Buffer has been through its toJSON by now.
      const raw = this[k];
      return raw instanceof Uint8Array ? Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64') : x;
    }) ?? 'null',
  );

/** Parses a rendered `revision` as an unsigned integer (exported for unit tests). */
export function parseRevision(text: string): number {
  const t = text.trim();
  if (!/^\d+$/.test(t)) throw new Error(`revision must be an unsigned integer, got '${text}'`);
  const n = Number(t);
  if (!Number.isSafeInteger(n)) throw new Error(`revision ${text} is out of range`);
  return n;
}

/** The lint rules Benthos declares for the processor (exported for unit tests). */
export function lintProcessor(conf: Pick<NatsKvProcessorConfig, 'operation' | 'key' | 'revision' | 'bucket'>): string[] {
  const out: string[] = [];
  if (conf.bucket === '') out.push('bucket must not be empty');
  if (conf.key === '') out.push("'key' must be set to a non-empty string");
  const needsRevision = conf.operation === 'get_revision' || conf.operation === 'update';
  if (needsRevision && conf.revision === undefined) out.push(`'revision' must be set when operation is '${conf.operation}'`);
  if (!needsRevision && conf.revision !== undefined) out.push(`'revision' cannot be set when operation is '${conf.operation}'`);
  return out;
}

/** A history entry as Benthos' `history` operation records it. */
export function historyRecord(e: Pick<KvEntry, 'key' | 'value' | 'bucket' | 'revision' | 'delta' | 'operation' | 'created'>): Record<string, unknown> {
  return {
    key: e.key,
    value: new Uint8Array(e.value.buffer, e.value.byteOffset, e.value.byteLength),
    bucket: e.bucket,
    revision: e.revision,
    delta: e.delta ?? 0,
    operation: kvOperationName(e.operation),
    created: rfc3339Nano(e.created),
  };
}

class KeyNotFound extends Error {
  constructor(key: string) {
    super(`key not found: ${key}`);
    this.name = 'KeyNotFound';
  }
}

class NatsKvProcessor implements Processor {
  readonly #conf: NatsKvProcessorConfig;
  readonly #ctx: ComponentContext;
  readonly #key: InterpolatedString;
  readonly #revision: InterpolatedString | undefined;
  readonly #timeoutMs: number;
  readonly #bucket: LazyKvBucket;

  constructor(conf: NatsKvProcessorConfig, ctx: ComponentContext) {
    this.#conf = conf;
    this.#ctx = ctx;
    this.#key = ctx.bloblang.interpolate(conf.key);
    this.#revision = conf.revision !== undefined ? ctx.bloblang.interpolate(conf.revision) : undefined;
    this.#timeoutMs = parseDuration(conf.timeout) || 5_000;
    this.#bucket = new LazyKvBucket(conf, ctx, this.#timeoutMs, 'nats_kv processor');
  }

  async process(batch: Batch): Promise<Batch[]> {
    for (let i = 0; i < batch.length; i++) {
      const msg = batch[i]!;
      let kv: KV | undefined;
      try {
        const key = this.#key.render(batch, i);
        if (!key) throw new Error('the key interpolated to an empty string');
        const revision = this.#revision ? parseRevision(this.#revision.render(batch, i)) : 0;
        kv = await this.#bucket.get();
        await withTimeout(this.#run(kv, msg, key, revision), this.#timeoutMs, `${this.#conf.operation} of key ${key}`);
      } catch (err) {
        if (kv) this.#bucket.dropIfClosed(err);
        const e = err instanceof Error ? err : new Error(String(err));
        // Connection failures already read `nats_kv processor at <servers>: ...`.
        msg.setError(e.message.startsWith('nats_kv') ? e : new Error(`nats_kv ${this.#conf.operation}: ${e.message}`, { cause: e }), this.#ctx.path);
      }
    }
    return [batch];
  }

  async #run(kv: KV, msg: Message, key: string, revision: number): Promise<void> {
    const bucket = this.#conf.bucket;
    const written = (rev: number, op: string) => {
      msg.metaSet('nats_kv_key', key);
      msg.metaSet('nats_kv_bucket', bucket);
      msg.metaSet('nats_kv_revision', rev);
      msg.metaSet('nats_kv_operation', kvOperationName(op));
    };
    switch (this.#conf.operation) {
      case 'get':
      case 'get_revision': {
        const e = await kv.get(key, this.#conf.operation === 'get_revision' ? { revision } : undefined);
        // A delete marker or purge is a missing key, as Go's client reports it.
        if (!e || e.operation !== 'PUT') throw new KeyNotFound(key);
        setKvEntryMeta(msg.setBytes(e.value), e);
        return;
      }
      case 'create':
        try {
          written(await kv.create(key, msg.bytes()), 'PUT');
        } catch (err) {
          if (isWrongLastSequence(err)) throw new Error(`key exists: ${key}`, { cause: err });
          throw err;
        }
        return;
      case 'put':
        written(await kv.put(key, msg.bytes()), 'PUT');
        return;
      case 'update':
        // Revision 0 means "the key must not exist yet" (Go's client); the JS client refuses it.
        written(revision > 0 ? await kv.update(key, msg.bytes(), revision) : await kv.put(key, msg.bytes(), { previousSeq: 0 }), 'PUT');
        return;
      case 'delete':
      case 'purge':
        // The JS client would delete every matching key of a wildcard; Go's refuses it.
        if (/[*>]/.test(key)) throw new Error(`invalid key: ${key}`);
        if (this.#conf.operation === 'delete') await kv.delete(key);
        else await kv.purge(key);
        written(0, this.#conf.operation === 'delete' ? 'DEL' : 'PURGE');
        return;
      case 'history': {
        const entries = await collect<KvWatchEntry>(await kv.history({ key }));
        if (entries.length === 0) throw new KeyNotFound(key);
        msg.setStructured(entries.map(historyRecord), bytesAsBase64Json);
        return;
      }
      case 'keys': {
        const keys = await collect<string>(await kv.keys(key));
        msg.setStructured(keys);
        msg.metaSet('nats_kv_bucket', bucket);
        return;
      }
    }
  }

  async close(): Promise<void> {
    await this.#bucket.close();
  }
}

/** Reads an iterator to its end (the KV client ends history and key listings itself). */
async function collect<T>(it: AsyncIterable<T> & { stop(): void }): Promise<T[]> {
  const out: T[] = [];
  try {
    for await (const x of it) out.push(x);
  } finally {
    it.stop();
  }
  return out;
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms}ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export const spec = defineProcessor<NatsKvProcessorConfig>({
  name: 'nats_kv',
  summary: 'Perform operations on a NATS key-value bucket.',
  description: [
    '### KV operations\n\n' +
      [
        '- `get`: replaces the message with the latest value of `key`.',
        '- `get_revision`: replaces the message with the value of `key` at `revision`.',
        '- `create`: stores the message under `key` only if the key does not exist (or was deleted); fails otherwise.',
        '- `put`: stores the message under `key`.',
        '- `update`: stores the message under `key` only if `revision` is still the latest revision of the key (compare-and-set).',
        '- `delete`: deletes `key`, keeping its history.',
        '- `purge`: deletes `key` and all its history.',
        '- `history`: replaces the message with the history of `key` as an array of objects with `key`, `value` (bytes), `bucket`, `revision`, `delta`, `operation` and `created`.',
        '- `keys`: replaces the message with the array of the bucket\'s keys matching `key` (wildcards allowed).',
      ].join('\n'),
    '### Metadata\n\n' +
      '`get`, `get_revision`: `nats_kv_key`, `nats_kv_bucket`, `nats_kv_revision`, `nats_kv_delta`, `nats_kv_operation`, `nats_kv_created`.\n\n' +
      '`create`, `put`, `update`, `delete`, `purge`: `nats_kv_key`, `nats_kv_bucket`, `nats_kv_revision` (0 for delete and purge), `nats_kv_operation`.\n\n' +
      '`keys`: `nats_kv_bucket`.\n\nThe message keeps the rest of its metadata.',
    'A failed operation (a missing key for `get`, an existing key for `create`, a stale revision for `update`, an unreachable server) flags the message with an error (see `catch`, `try`, `errored()`), and the message passes on unchanged. The connection is opened on first use and reopened after it was lost.',
    connectionNameNote,
    natsAuthNote,
  ].join('\n\n'),
  categories: ['Services'],
  status: 'beta',
  config: field.object('', '', [
    natsUrlsField(),
    natsKvBucketField(),
    field.string('operation', 'The operation to perform on the KV bucket.', { options: [...KV_OPERATIONS] }),
    field.interp('key', 'The key for each message. Supports wildcards for the `history` and `keys` operations.', { examples: ['foo', 'foo.bar.baz', 'foo.*', 'foo.>', 'foo.${! json("meta.type") }'] }),
    field.interp('revision', 'The revision of the key to operate on. Used for `get_revision` and `update` operations.', { optional: true, advanced: true, examples: ['42', '${! @nats_kv_revision }'] }),
    field.duration('timeout', 'The maximum period to wait on an operation before aborting and returning an error.', { default: '5s', advanced: true }),
    ...natsTailFields(),
  ]),
  lint: lintProcessor,
  examples: [
    {
      title: 'Enrich messages with a stored profile',
      config: 'pipeline:\n  processors:\n    - branch:\n        request_map: root = ""\n        processors:\n          - nats_kv:\n              urls: [nats://127.0.0.1:4222]\n              bucket: profiles\n              operation: get\n              key: ${! json("user_id") }\n        result_map: root.profile = this\n',
    },
  ],
  build: (conf, ctx) => new NatsKvProcessor(conf, ctx),
});
