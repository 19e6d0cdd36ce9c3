/**
 * Test helpers: run a mapping on a document the way `sluice blobl` does.
 */
import { execLine } from './blobl.js';
import { CompiledMapping } from './mapping.js';
import { BloblangParseError, parseMapping, type ParseOptions } from './parser.js';
import './lib/index.js';
import { setDynamicCompiler } from './lib/parsing.js';
import { noImporter } from './parser.js';

// Timestamps without a zone render in the local zone: pin it for deterministic tests.
process.env.TZ = 'UTC';

setDynamicCompiler((src) => parseMapping(src, { importer: noImporter, restricted: true }));

/** One documented example: a mapping and input → output pairs (`Error(…)` for failures). */
export interface Case {
  mapping: string;
  io: Array<[input: string, output: string]>;
  name?: string;
}

/** Runs a mapping over an input line like `blobl`; returns the printed line or `Error("…")`. */
export function runCli(mapping: string | CompiledMapping, input: string, opts: ParseOptions & { raw?: boolean } = {}): string {
  const m = typeof mapping === 'string' ? new CompiledMapping(parseMapping(mapping, opts)) : mapping;
  const r = execLine(m, input, opts.raw ?? false, false);
  return r.ok ? r.out : `Error(${JSON.stringify(r.err)})`;
}

/**
 * Runs a mapping the way the mapping processor does, as the documentation examples show it:
 * payload bytes (no HTML escaping), `<Message deleted>`, `Error("failed assignment …")`.
 */
export function run(mapping: string | CompiledMapping, input: string, opts: ParseOptions = {}): string {
  const m = typeof mapping === 'string' ? new CompiledMapping(parseMapping(mapping, opts)) : mapping;
  const { Message } = messageModule;
  const msg = new Message(input);
  try {
    const out = m.map([msg], 0);
    return out === null ? '<Message deleted>' : out.text();
  } catch (e) {
    return `Error(${JSON.stringify((e as Error).message)})`;
  }
}

/** Returns the single-line parse error of a mapping, or "" when it parses. */
export function parseError(mapping: string, opts: ParseOptions = {}): string {
  try {
    parseMapping(mapping, opts);
    return '';
  } catch (e) {
    if (e instanceof BloblangParseError) return e.atPosition();
    throw e;
  }
}

import * as messageModule from '../engine/message.js';
