/**
 * Scanners split a byte stream into messages (Benthos' `scanner` field): `lines` (newline or a
 * custom delimiter), `chunker` (fixed size) and `to_the_end` (the whole stream as one message).
 */
import type { Readable } from 'node:stream';
import { field, type FieldSpec } from '../../../engine/spec.js';

export interface ScannerConfig {
  lines?: { custom_delimiter?: string; max_buffer_size: number; omit_empty: boolean };
  chunker?: { size: number };
  to_the_end?: Record<string, never>;
}

export const scannerField = (name = 'scanner', description = 'How the stream of bytes is split into messages. Exactly one of the scanners is set.'): FieldSpec =>
  field.object(name, description, [
    field.object('lines', 'One message per line.', [
      field.string('custom_delimiter', 'Split on this string instead of a line break.', { optional: true }),
      field.int('max_buffer_size', 'Longest line accepted (bytes); a longer one is an error.', { default: 65536 }),
      field.bool('omit_empty', 'Skip empty lines.', { default: false }),
    ], { optional: true }),
    field.object('chunker', 'Messages of a fixed number of bytes (the last may be shorter).', [
      field.int('size', 'Bytes per message.'),
    ], { optional: true }),
    field.object('to_the_end', 'The whole stream as one message.', [], { optional: true }),
  ], { default: { lines: {} } });

export function lintScanner(conf: ScannerConfig | undefined, path: string): string[] {
  const set = conf ? Object.keys(conf).filter((k) => conf[k as keyof ScannerConfig] !== undefined) : [];
  if (set.length !== 1) return [`${path}: exactly one scanner must be set (lines, chunker or to_the_end), got ${set.length ? set.join(', ') : 'none'}`];
  if (conf?.chunker && conf.chunker.size <= 0) return [`${path}.chunker.size must be greater than 0`];
  return [];
}

/** Pulls messages out of a byte stream; `next` resolves null at the end of the stream. */
export interface Scanner {
  next(signal?: AbortSignal): Promise<Buffer | null>;
}

type Split = (buf: Buffer, eof: boolean) => { token: Buffer; rest: Buffer } | null;

function lineSplitter(conf: NonNullable<ScannerConfig['lines']>): Split {
  const custom = conf.custom_delimiter !== undefined && conf.custom_delimiter !== '';
  const delim = Buffer.from(custom ? conf.custom_delimiter! : '\n');
  const max = conf.max_buffer_size > 0 ? conf.max_buffer_size : 65536;
  return (buf, eof) => {
    const i = buf.indexOf(delim);
    if (i >= 0) {
      let end = i;
      if (!custom && end > 0 && buf[end - 1] === 0x0d) end--;
      return { token: buf.subarray(0, end), rest: buf.subarray(i + delim.length) };
    }
    if (buf.length > max) throw new Error(`scanner: line longer than max_buffer_size (${max} bytes)`);
    if (eof && buf.length > 0) {
      let end = buf.length;
      if (!custom && buf[end - 1] === 0x0d) end--;
      return { token: buf.subarray(0, end), rest: Buffer.alloc(0) };
    }
    return null;
  };
}

function chunkSplitter(size: number): Split {
  return (buf, eof) => {
    if (buf.length >= size) return { token: buf.subarray(0, size), rest: buf.subarray(size) };
    if (eof && buf.length > 0) return { token: buf, rest: Buffer.alloc(0) };
    return null;
  };
}

const toTheEnd: Split = (buf, eof) => (eof ? { token: buf, rest: Buffer.alloc(0) } : null);

export function createScanner(conf: ScannerConfig, stream: Readable): Scanner {
  let split: Split;
  let omitEmpty = false;
  if (conf.chunker) split = chunkSplitter(conf.chunker.size);
  else if (conf.to_the_end) split = toTheEnd;
  else {
    const lines = conf.lines ?? { max_buffer_size: 65536, omit_empty: false };
    split = lineSplitter(lines);
    omitEmpty = lines.omit_empty;
  }
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let buf: Buffer = Buffer.alloc(0);
  let eof = false;
  let emittedAtEof = false;

  const pull = (signal?: AbortSignal): Promise<IteratorResult<Buffer>> => {
    if (!signal) return it.next();
    if (signal.aborted) return Promise.reject(new Error('aborted'));
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(new Error('aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      it.next().then(
        (r) => {
          signal.removeEventListener('abort', onAbort);
          resolve(r);
        },
        (e: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
    });
  };

  return {
    async next(signal) {
      for (;;) {
        const r = buf.length || eof ? split(buf, eof) : null;
        if (r) {
          buf = r.rest;
          if (omitEmpty && r.token.length === 0) continue;
          if (eof && split === toTheEnd) {
            if (emittedAtEof) return null;
            emittedAtEof = true;
          }
          return r.token;
        }
        if (eof) return null;
        const chunk = await pull(signal);
        if (chunk.done) {
          eof = true;
          continue;
        }
        buf = buf.length ? Buffer.concat([buf, chunk.value]) : chunk.value;
      }
    },
  };
}
