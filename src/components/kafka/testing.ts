/**
 * Helpers for the Kafka integration tests (not used by the components): the broker address,
 * topic administration, reading committed offsets, and `kcat` as an independent client.
 *
 * The broker is the shared one on 127.0.0.1:9092 (override with SLUICE_KAFKA_ADDRESSES). When it
 * does not answer, `ensureKafka()` runs `scripts/kafka.sh start` once, then fails clearly.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { Admin, Consumer } from '@platformatic/kafka';
import { closeClient, withTimeout } from './config.js';

const run = promisify(execFile);

export const KAFKA = (process.env['SLUICE_KAFKA_ADDRESSES'] ?? '127.0.0.1:9092').split(',')[0]!.trim();

/** A name unique to this run, usable as topic or group. */
export function uniqueName(prefix: string): string {
  return `sluice_${prefix}_${randomUUID().slice(0, 8)}`;
}

function findScript(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const p = join(dir, 'scripts', 'kafka.sh');
    if (existsSync(p)) return p;
    dir = dirname(dir);
  }
  const cwd = join(process.cwd(), 'scripts', 'kafka.sh');
  return existsSync(cwd) ? cwd : undefined;
}

async function answers(): Promise<boolean> {
  const admin = new Admin({ clientId: 'sluice-test', bootstrapBrokers: [KAFKA], connectTimeout: 2_000, retries: 0 });
  try {
    await withTimeout(admin.metadata({ topics: [] }), 5_000, 'metadata');
    return true;
  } catch {
    return false;
  } finally {
    await closeClient(admin, 'closing', false).catch(() => {});
  }
}

let ready: Promise<void> | undefined;

/** Resolves once the broker answers; starts it with scripts/kafka.sh if needed. */
export function ensureKafka(): Promise<void> {
  ready ??= (async () => {
    if (await answers()) return;
    const script = findScript();
    if (!script) throw new Error(`no Kafka broker answers on ${KAFKA} and scripts/kafka.sh was not found to start one`);
    await run('bash', [script, 'start'], { timeout: 150_000 }).catch((err: Error & { stderr?: string }) => {
      throw new Error(`no Kafka broker answers on ${KAFKA} and scripts/kafka.sh start failed: ${err.stderr || err.message}`);
    });
    if (!(await answers())) throw new Error(`no Kafka broker answers on ${KAFKA} even after scripts/kafka.sh start`);
  })();
  return ready;
}

export async function createTopic(topic: string, partitions: number, address = KAFKA): Promise<void> {
  const admin = new Admin({ clientId: 'sluice-test', bootstrapBrokers: [address] });
  try {
    await withTimeout(admin.createTopics({ topics: [topic], partitions, replicas: 1 }), 15_000, `creating topic ${topic}`);
    // Wait until the metadata shows every partition with a leader.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const md = await admin.metadata({ topics: [topic], forceUpdate: true });
      const t = md.topics.get(topic);
      if (t && t.partitionsCount === partitions && t.partitions.every((p) => p.leader >= 0)) break;
      if (Date.now() > deadline) throw new Error(`topic ${topic} has no leaders yet`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await closeClient(admin, 'closing', false).catch(() => {});
  }
}

/** The committed offset of `group` for each partition of `topic` (-1: none). */
export async function committedOffsets(group: string, topic: string, partitions: number[]): Promise<bigint[]> {
  const c = new Consumer({ clientId: 'sluice-test', groupId: group, bootstrapBrokers: [KAFKA] });
  try {
    const m = await withTimeout(c.listCommittedOffsets({ topics: [{ topic, partitions }] }), 10_000, 'listing committed offsets');
    const arr = m.get(topic) ?? [];
    return partitions.map((p) => arr[p] ?? -1n);
  } finally {
    await closeClient(c).catch(() => {});
  }
}

export interface KcatRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
  readonly payload: string | null;
  readonly headers: Record<string, string>;
}

/** Reads a whole topic (from the beginning to its current end) with kcat. */
export async function kcatRead(topic: string, address = KAFKA): Promise<KcatRecord[]> {
  const { stdout } = await run('kcat', ['-b', address, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-J'], { timeout: 20_000, maxBuffer: 64 * 1024 * 1024 });
  return stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const j = JSON.parse(l) as { topic: string; partition: number; offset: number; key: string | null; payload: string | null; headers?: string[] };
      const headers: Record<string, string> = {};
      for (let i = 0; i + 1 < (j.headers?.length ?? 0); i += 2) headers[j.headers![i]!] = j.headers![i + 1]!;
      return { topic: j.topic, partition: j.partition, offset: j.offset, key: j.key, payload: j.payload, headers };
    });
}

/** Produces lines with kcat. `key:value` lines when `keyed`; empty values become NULL (tombstones) with `nullEmpty`. */
export function kcatWrite(topic: string, lines: string[], opts: { keyed?: boolean; headers?: Record<string, string>; partition?: number; nullEmpty?: boolean } = {}): Promise<void> {
  const args = ['-b', KAFKA, '-P', '-t', topic];
  if (opts.keyed) args.push('-K', ':');
  if (opts.nullEmpty) args.push('-Z');
  if (opts.partition !== undefined) args.push('-p', String(opts.partition));
  for (const [k, v] of Object.entries(opts.headers ?? {})) args.push('-H', `${k}=${v}`);
  return new Promise((resolve, reject) => {
    const p = spawn('kcat', args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`kcat -P exited with ${code}: ${err}`))));
    p.stdin.end(lines.join('\n') + '\n');
  });
}
