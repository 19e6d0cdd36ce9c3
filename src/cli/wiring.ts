/**
 * The app's wiring: the one place that knows every part. It fills the registry with the
 * built-in components and hands the Bloblang implementation to the engine.
 */
import { Registry } from '../engine/registry.js';
import type { BloblangEnvironment } from '../engine/bloblang-api.js';
import { createBloblangEnvironment } from '../bloblang/index.js';
import { builtinComponents } from '../components/index.js';

export const VERSION = '0.1.0';

export function createRegistry(): Registry {
  return new Registry().addAll(builtinComponents);
}

let bloblang: BloblangEnvironment | undefined;

export async function createBloblang(): Promise<BloblangEnvironment> {
  bloblang ??= createBloblangEnvironment();
  return bloblang;
}
