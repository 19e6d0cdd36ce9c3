#!/usr/bin/env node
/**
 * The `sluice` command. Sub-commands:
 *   start     run the gateway over a folder of API definitions
 *   run       run one Benthos/Bento stream config standalone
 *   lint      check configs and API definitions (exit 1 on problems)
 *   schema    print the JSON Schema of stream configs
 *   docs      regenerate docs/components from the component specs
 *   blobl     run a Bloblang mapping over newline-delimited JSON on stdin
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { lintText } from '../config/lint.js';
import { formatIssue } from '../config/source.js';
import { streamJsonSchema } from '../config/schema.js';
import { generateDocs } from '../config/docs.js';
import { createBloblang, createRegistry, VERSION } from './wiring.js';
import { startCommand } from './start.js';
import { runCommand } from './run.js';
import { parse } from './args.js';
import { runBlobl } from '../bloblang/index.js';
import { applyCommand } from './commands/apply.js';
import { exportCommand } from './commands/export.js';
import { keysCommand } from './commands/keys.js';
import { policiesCommand } from './commands/policies.js';

const USAGE = `Usage: sluice <command> [options]

Commands:
  start [--apis DIR] [--host H] [--port P]   serve the API definitions in DIR (default: apis/)
        [--data DIR] [--store postgres://...] [--redis redis://...] [--secret S]
        [--tls-cert FILE --tls-key FILE]          serve HTTPS / WSS (SIGHUP re-reads the files)
        [--tls-ca FILE] [--tls-client-auth request|require]   client certificates (mutual TLS)
  apply DIR [--dry-run] [--url URL]           make a running Sluice match a folder of definitions
  export DIR [--url URL]                      write a running Sluice's APIs and policies to DIR
  keys create|list|revoke                     manage keys of a running Sluice
  policies list|create|delete                 manage policies of a running Sluice
  run -c FILE                                 run a Benthos/Bento stream config
  lint FILE...                                check configs; exit 1 if any problem
  schema                                      print the JSON Schema of stream configs
  docs [--out DIR] [--check]                  generate component reference docs
  blobl [-f FILE | MAPPING]                   run a Bloblang mapping over stdin lines
  version                                     print the version
`;

async function lintCommand(args: string[]): Promise<number> {
  const { positionals } = parse(args, {});
  if (!positionals.length) {
    process.stderr.write('usage: sluice lint FILE...\n');
    return 2;
  }
  const registry = createRegistry();
  const bloblang = await createBloblang();
  let problems = 0;
  for (const file of positionals) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      process.stderr.write(`${file}: ${(err as Error).message}\n`);
      problems++;
      continue;
    }
    for (const issue of lintText(text, { registry, bloblang })) {
      process.stdout.write(formatIssue(issue, file) + '\n');
      problems++;
    }
  }
  return problems ? 1 : 0;
}

async function docsCommand(args: string[]): Promise<number> {
  const { values } = parse(args, { out: { type: 'string', default: 'docs/components' }, check: { type: 'boolean', default: false } });
  const files = generateDocs(createRegistry());
  let stale = 0;
  for (const [rel, content] of files) {
    const path = join(values.out, rel);
    const current = await readFile(path, 'utf8').catch(() => undefined);
    if (current === content) continue;
    stale++;
    if (values.check) process.stderr.write(`out of date: ${path}\n`);
    else {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, content);
    }
  }
  if (values.check) return stale ? 1 : 0;
  process.stdout.write(`${files.size} files, ${stale} written\n`);
  return 0;
}

async function bloblCommand(args: string[]): Promise<number> {
  return runBlobl(args, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'start':
      return startCommand(rest);
    case 'run':
      return runCommand(rest);
    case 'lint':
      return lintCommand(rest);
    case 'schema':
      process.stdout.write(JSON.stringify(streamJsonSchema(createRegistry()), null, 2) + '\n');
      return 0;
    case 'docs':
      return docsCommand(rest);
    case 'blobl':
      return bloblCommand(rest);
    case 'apply':
      return applyCommand(rest);
    case 'export':
      return exportCommand(rest);
    case 'keys':
      return keysCommand(rest);
    case 'policies':
      return policiesCommand(rest);
    case 'version':
    case '--version':
      process.stdout.write(`sluice ${VERSION}\n`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return cmd === undefined ? 2 : 0;
    default:
      process.stderr.write(`unknown command ${cmd}\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
