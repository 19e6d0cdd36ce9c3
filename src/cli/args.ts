/** Small helpers shared by the sub-commands. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { LogLevel } from '../engine/logger.js';

export function parse<T extends ParseArgsConfig['options']>(args: string[], options: T, allowPositionals = true) {
  return parseArgs({ args, options, allowPositionals, strict: true });
}

export const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'off'];

export function logLevel(v: string | undefined): LogLevel {
  const l = (v ?? process.env.SLUICE_LOG_LEVEL ?? 'info').toLowerCase() as LogLevel;
  if (!LOG_LEVELS.includes(l)) throw new Error(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  return l;
}
