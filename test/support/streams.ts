/** Builds and runs streams from plain config objects in tests, with the real validator and engine. */
import { Validator } from '../../src/config/validate.js';
import { validateStream } from '../../src/config/stream-spec.js';
import { formatIssue } from '../../src/config/source.js';
import { buildStream } from '../../src/engine/build.js';
import { createLogger, type Logger, type LogLevel } from '../../src/engine/logger.js';
import type { Stream } from '../../src/engine/stream.js';
import type { HttpHost } from '../../src/engine/http-host.js';
import type { Registry } from '../../src/engine/registry.js';
import { createBloblang } from '../../src/cli/wiring.js';
import { testRegistry } from './test-components.js';

export interface RunOptions {
  readonly registry?: Registry;
  readonly http?: HttpHost;
  readonly name?: string;
  readonly logger?: Logger;
}

/** Log level for tests: quiet unless SLUICE_TEST_LOG is set (e.g. `debug`). */
export function testLogger(fields: Record<string, unknown> = {}): Logger {
  const level = (process.env.SLUICE_TEST_LOG as LogLevel | undefined) ?? 'off';
  return createLogger({ level }, fields);
}

export async function buildFrom(config: Record<string, unknown>, opts: RunOptions = {}): Promise<Stream> {
  const registry = opts.registry ?? testRegistry();
  const bloblang = await createBloblang();
  const v = new Validator({ registry, bloblang });
  const conf = validateStream(v, config, '');
  if (v.issues.length) throw new Error('invalid test stream config:\n' + v.issues.map((i) => formatIssue(i)).join('\n'));
  const name = opts.name ?? 'test';
  return buildStream(conf, { registry, bloblang, logger: opts.logger ?? testLogger({ stream: name }), http: opts.http, stream: name });
}

/** Builds and starts a stream; `stop()` drains it (default timeout 5 s). */
export async function runStream(config: Record<string, unknown>, opts: RunOptions = {}): Promise<Stream> {
  const s = await buildFrom(config, opts);
  void s.start();
  return s;
}

export async function waitUntil(cond: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
