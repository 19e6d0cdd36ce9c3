/**
 * `sluice blobl`: runs a mapping over newline-delimited documents, like `benthos blobl`.
 */
import { readFileSync } from 'node:fs';
import { Message } from '../engine/message.js';
import { ExecState, UNSET, structuredOf, stringToBytes } from './core.js';
import { goJSONStringify } from './json.js';
import { BloblangError, CompiledMapping } from './mapping.js';
import { BloblangParseError, fsImporter, parseMapping } from './parser.js';
import { DELETE, NOTHING } from './value.js';
import './lib/index.js';

export interface BloblIO {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const USAGE = `Usage: sluice blobl [--raw] [--pretty] [--file mapping.blobl] [--input docs.jsonl] '<mapping>'

Executes a Bloblang mapping on newline-delimited documents read from stdin (or --input),
printing one result per line.

  -r, --raw               consume raw strings instead of JSON documents
  -p, --pretty            pretty-print JSON output
  -f, --file FILE         execute a mapping from a file
  -i, --input FILE        read input from a file instead of stdin
  -t, --threads N         accepted for compatibility (processing is sequential)
      --max-token-length  the maximum size of a document line (default 65536)
`;

/** Substitutes `${VAR}` / `${VAR:default}` (and keeps `${{VAR}}` as a literal `${VAR}`). */
export function replaceEnvVars(src: string, env: NodeJS.ProcessEnv = process.env): string {
  const missing: string[] = [];
  const out = src.replace(/\$\{(\{)?([0-9A-Za-z_.]+)(:((\$\{[^}]+\})|[^}])*)?\}(\})?/g, (m, open: string | undefined, name: string, def: string | undefined, _a, _b, close: string | undefined) => {
    if (open && close) return m.slice(1, -1);
    if (open) return m;
    const v = env[name];
    if (v !== undefined && v !== '') return v + (close ?? '');
    if (def !== undefined) return def.slice(1) + (close ?? '');
    missing.push(name);
    return close ?? '';
  });
  if (missing.length > 0) throw new Error(`required environment variables were not set: [${missing.join(' ')}]`);
  return out;
}

interface Flags {
  raw: boolean;
  pretty: boolean;
  file: string;
  input: string;
  maxTokenLength: number;
  mapping: string | undefined;
}

function parseFlags(args: string[]): Flags | string {
  const f: Flags = { raw: false, pretty: false, file: '', input: '', maxTokenLength: 65536, mapping: undefined };
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    let a = args[i] as string;
    let inline: string | undefined;
    if (a.startsWith('--') && a.includes('=')) {
      inline = a.slice(a.indexOf('=') + 1);
      a = a.slice(0, a.indexOf('='));
    } else if (/^-[a-z]=/.test(a)) {
      inline = a.slice(3);
      a = a.slice(0, 2);
    }
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = args[++i];
      if (v === undefined) throw new Error(`flag needs an argument: ${a}`);
      return v;
    };
    switch (a) {
      case '-r':
      case '--raw':
        f.raw = inline === undefined ? true : inline !== 'false';
        break;
      case '-p':
      case '--pretty':
        f.pretty = inline === undefined ? true : inline !== 'false';
        break;
      case '-f':
      case '--file':
        f.file = value();
        break;
      case '-i':
      case '--input':
        f.input = value();
        break;
      case '-t':
      case '--threads':
        value();
        break;
      case '-e':
      case '--env-file':
        value();
        break;
      case '--max-token-length':
        f.maxTokenLength = Number(value());
        break;
      case '-h':
      case '--help':
        return USAGE;
      case '--':
        positional.push(...args.slice(i + 1));
        i = args.length;
        break;
      default:
        if (a.startsWith('-') && a.length > 1) throw new Error(`flag provided but not defined: ${a}`);
        positional.push(a);
    }
  }
  f.mapping = positional[0];
  return f;
}

function write(stream: NodeJS.WritableStream, s: string): Promise<void> {
  return new Promise((resolveW) => {
    if (stream.write(s)) resolveW();
    else stream.once('drain', () => resolveW());
  });
}

/** Formats the result of one document like blobl's executeMapping. */
function renderResult(root: unknown, input: Uint8Array, st: ExecState, raw: boolean, pretty: boolean): string {
  const json = (v: unknown): string => {
    try {
      return goJSONStringify(v, pretty ? { escapeHTML: true, indent: '  ' } : { escapeHTML: true });
    } catch {
      return 'null';
    }
  };
  if (typeof root === 'string') return root;
  if (root instanceof Uint8Array) return new TextDecoder().decode(root);
  if (root === DELETE) return '';
  if (root === NOTHING) {
    if (raw) return json(input);
    try {
      return json(st.thisValue(''));
    } catch {
      return new TextDecoder().decode(input);
    }
  }
  return json(root);
}

/** Runs a mapping on one document the way blobl does; returns the printed line or the error. */
export function execLine(
  mapping: CompiledMapping,
  line: Uint8Array | string,
  raw = false,
  pretty = false,
): { ok: true; out: string } | { ok: false; err: string } {
  const bytes = typeof line === 'string' ? stringToBytes(line) : line;
  const msg = new Message(bytes);
  const st = new ExecState([msg], 0, msg, mapping.maps, raw ? bytes : UNSET);
  try {
    const root = mapping.run(st, NOTHING, {}, 'onto');
    return { ok: true, out: renderResult(root, bytes, st, raw, pretty) };
  } catch (e) {
    return { ok: false, err: e instanceof BloblangError ? e.message : (e as Error).message };
  }
}

export async function runBlobl(args: string[], io: BloblIO): Promise<number> {
  let flags: Flags;
  try {
    const r = parseFlags(args);
    if (typeof r === 'string') {
      await write(io.stdout, r);
      return 0;
    }
    flags = r;
  } catch (e) {
    await write(io.stderr, `${(e as Error).message}\n`);
    return 1;
  }

  let src = flags.mapping ?? '';
  if (flags.file !== '') {
    if (src !== '') {
      await write(io.stderr, 'invalid flags, unable to execute both a file mapping and an inline mapping\n');
      return 1;
    }
    try {
      src = readFileSync(flags.file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file or directory' : (e as Error).message;
      await write(io.stderr, `failed to read mapping file: open ${flags.file}: ${why}\n`);
      return 1;
    }
  }
  try {
    src = replaceEnvVars(src);
  } catch (e) {
    await write(io.stderr, `failed to replace env vars: ${(e as Error).message}\n`);
    return 1;
  }

  let mapping: CompiledMapping;
  try {
    const importer = flags.file !== '' ? fsImporter().relativeTo(flags.file) : fsImporter();
    mapping = new CompiledMapping(parseMapping(src, { importer }));
  } catch (e) {
    if (e instanceof BloblangParseError) {
      await write(io.stderr, `failed to parse mapping: ${e.structured()}\n`);
      return 1;
    }
    await write(io.stderr, `${(e as Error).message}\n`);
    return 1;
  }

  let input: NodeJS.ReadableStream = io.stdin;
  if (flags.input !== '') {
    const { createReadStream } = await import('node:fs');
    input = createReadStream(flags.input);
  }

  let out = '';
  let errOut = '';
  const flush = async (): Promise<void> => {
    if (out !== '') {
      const s = out;
      out = '';
      await write(io.stdout, s);
    }
    if (errOut !== '') {
      const s = errOut;
      errOut = '';
      await write(io.stderr, s);
    }
  };

  const processLine = (line: Uint8Array): void => {
    const r = execLine(mapping, line, flags.raw, flags.pretty);
    if (r.ok) out += r.out + '\n';
    else errOut += `failed to execute map: ${r.err}\n`;
  };

  let pending: Buffer = Buffer.alloc(0);
  let tooLong = false;
  try {
    for await (const chunk of input as AsyncIterable<Buffer | string>) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      pending = pending.length === 0 ? buf : Buffer.concat([pending, buf]);
      let start = 0;
      for (;;) {
        const nl = pending.indexOf(10, start);
        if (nl < 0) break;
        let end = nl;
        if (end > start && pending[end - 1] === 13) end--;
        if (end - start > flags.maxTokenLength) {
          tooLong = true;
          break;
        }
        processLine(new Uint8Array(pending.subarray(start, end)));
        start = nl + 1;
        if (errOut !== '' || out.length > 65536) await flush();
      }
      if (tooLong) break;
      pending = pending.subarray(start);
      if (pending.length > flags.maxTokenLength) {
        tooLong = true;
        break;
      }
    }
  } catch (e) {
    await flush();
    await write(io.stderr, `${(e as Error).message}\n`);
    return 1;
  }
  if (!tooLong && pending.length > 0) {
    let end = pending.length;
    if (pending[end - 1] === 13) end--;
    processLine(new Uint8Array(pending.subarray(0, end)));
  }
  await flush();
  if (tooLong) {
    await write(io.stderr, 'bufio.Scanner: token too long\n');
    return 1;
  }
  return 0;
}

export { structuredOf, stringToBytes };
