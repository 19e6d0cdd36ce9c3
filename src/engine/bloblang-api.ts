/**
 * What the engine and components need from the Bloblang language, as an interface, so the
 * engine does not depend on src/bloblang (the app's wiring passes the implementation in).
 */
import type { Batch, Message } from './message.js';

export interface Mapping {
  /**
   * `mapping` processor semantics: builds a new message from `batch[index]` (metadata copied,
   * content starts empty; root never assigned keeps the content). Returns null when the
   * mapping deleted the message. Throws (with the failing line) when the mapping errors.
   */
  map(batch: Batch, index: number): Message | null;
  /** `mutation` processor semantics: edits `batch[index]` in place; null when deleted. */
  mutate(batch: Batch, index: number): Message | null;
  /** Evaluates the mapping and returns the value assigned to root (for `check` fields). */
  query(batch: Batch, index: number): unknown;
  /**
   * `branch` result_map semantics: `this` is the structured value of `source[index]` (the
   * branch result, whose metadata `metadata()` reads), `root` starts as `target`'s document and
   * `@` reads and writes `target`'s metadata. Returns `target` changed, or null when deleted.
   */
  mapOnto(target: Message, source: Batch, index: number): Message | null;
}

/** A config string that may contain `${! query }` interpolations. */
export interface InterpolatedString {
  /** True when the string holds no interpolation (render is then constant). */
  readonly isStatic: boolean;
  render(batch: Batch, index: number): string;
}

export interface BloblangEnvironment {
  /** Compiles a mapping; throws an error whose message carries line, column and a caret snippet. */
  compileMapping(source: string): Mapping;
  /** Parses a string with `${! }` interpolations; throws on a bad query. */
  interpolate(source: string): InterpolatedString;
}

/** Used where no Bloblang implementation was wired in (engine unit tests). */
export const noBloblang: BloblangEnvironment = {
  compileMapping() {
    throw new Error('Bloblang is not available in this environment');
  },
  interpolate(source: string): InterpolatedString {
    if (source.includes('${!')) throw new Error('Bloblang interpolation is not available in this environment');
    return { isStatic: true, render: () => source };
  },
};
