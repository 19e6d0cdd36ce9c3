/**
 * `sluice lint`: checks stream configs and API definitions and reports every problem with its
 * config path and line. A document with `openapi` or `x-tyk-streaming` is an API definition;
 * anything else is a stream config.
 */
import type { Registry } from '../engine/registry.js';
import type { BloblangEnvironment } from '../engine/bloblang-api.js';
import { readConfig, type Issue } from './source.js';
import { loadStreamConfig, validateApiDocument } from './load.js';

export function isApiDocument(value: unknown): boolean {
  return typeof value === 'object' && value !== null && ('x-tyk-streaming' in value || 'openapi' in value);
}

export function lintText(text: string, opts: { registry: Registry; bloblang?: BloblangEnvironment; env?: NodeJS.ProcessEnv }): Issue[] {
  const src = readConfig(text, opts.env);
  if (src.value === undefined) return src.issues;
  if (isApiDocument(src.value)) return validateApiDocument(src.value, { ...opts, locate: src.locate, preIssues: src.issues }).issues;
  return loadStreamConfig(text, opts).issues;
}
