/**
 * Sluice's Bloblang implementation: the environment the engine uses to compile mappings and
 * interpolations, the `blobl` CLI, and the Go-compatible JSON serializer.
 *
 * Value model: see value.ts (int64 vs float64, timestamps, bytes). Mapping semantics: mapping.ts.
 */
import type { BloblangEnvironment, InterpolatedString, Mapping } from '../engine/bloblang-api.js';
import { CompiledMapping, Interpolation } from './mapping.js';
import { BloblangParseError, fsImporter, noImporter, parseMapping, type Importer } from './parser.js';
import { setDynamicCompiler } from './lib/parsing.js';
import './lib/index.js';

export interface BloblangEnvironmentOptions {
  /** Directory `import` and `from` statements resolve against (default: the process cwd). */
  importBaseDir?: string;
  /** Disables `import`/`from` entirely. */
  disableImports?: boolean;
}

export interface SluiceBloblangEnvironment extends BloblangEnvironment {
  compileMapping(source: string): CompiledMapping;
  interpolate(source: string): Interpolation;
}

/** Creates the Bloblang environment handed to the engine. */
export function createBloblangEnvironment(opts: BloblangEnvironmentOptions = {}): SluiceBloblangEnvironment {
  const importer: Importer = opts.disableImports ? noImporter : fsImporter(opts.importBaseDir ?? process.cwd());
  return {
    compileMapping(source: string): CompiledMapping {
      return compileMappingChecked(source, importer);
    },
    interpolate(source: string): Interpolation {
      try {
        return new Interpolation(source, { importer });
      } catch (e) {
        if (e instanceof BloblangParseError) throw new BloblangSyntaxError(e.atChar(), e, e.atChar());
        throw e;
      }
    },
  };
}

/** Parse errors thrown by the environment: the message carries the line, column and a caret. */
export class BloblangSyntaxError extends Error {
  override name = 'BloblangSyntaxError';
  readonly line: number;
  readonly column: number;
  /** Single-line form: `line 1 char 10: expected …`. */
  readonly short: string;

  constructor(message: string, cause: BloblangParseError, short?: string) {
    super(message, { cause });
    this.line = cause.line;
    this.column = cause.column;
    this.short = short ?? cause.atPosition();
  }
}

function compileMappingChecked(source: string, importer: Importer): CompiledMapping {
  try {
    return new CompiledMapping(parseMapping(source, { importer }));
  } catch (e) {
    if (e instanceof BloblangParseError) throw new BloblangSyntaxError(e.structured(), e);
    throw e;
  }
}

setDynamicCompiler((src) => parseMapping(src, { importer: noImporter, restricted: true }));

export { runBlobl, replaceEnvVars, type BloblIO } from './blobl.js';
export { goJsonSerializer, goJSONStringify, goJSONParse, goJSONParseBytes } from './json.js';
export { BloblangError, CompiledMapping, Interpolation, applyRoot, type ExecOptions, type ExecResult, type ErrorStyle } from './mapping.js';
export { BloblangParseError } from './parser.js';
export { DELETE, NOTHING, F64, Timestamp } from './value.js';
export { goMetaString } from './core.js';
export { functions as bloblangFunctions, methods as bloblangMethods } from './registry.js';
export { runMappingBench, type MappingBenchResult } from './bench.js';
export type { Mapping, InterpolatedString };
