/**
 * `sluice export DIR [--url URL --secret S]`: writes every API and policy of a running Sluice
 * into DIR in the layout `sluice apply` reads (DIR/<id>.json, DIR/policies/<id>.json), so
 * `export` then `apply` of the same folder changes nothing.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from '../args.js';
import { clientArgs, ManagementClient, type ClientOptions } from './client.js';
import { readRemote } from './apply.js';

type Obj = Record<string, unknown>;

const fileName = (id: string) => `${id.replace(/[^A-Za-z0-9._-]/g, '_')}.json`;

/** Writes every API and policy of the running Sluice into DIR (DIR/policies for policies). */
export async function exportDir(dir: string, opts: ClientOptions & { out?: (line: string) => void } = {}): Promise<{ apis: number; policies: number }> {
  const out = opts.out ?? ((l: string) => process.stdout.write(l + '\n'));
  const remote = await readRemote(new ManagementClient(opts));
  await mkdir(dir, { recursive: true });
  for (const [id, doc] of remote.apis) await writeFile(join(dir, fileName(id)), JSON.stringify(doc, null, 2) + '\n');
  const policies = remote.policies ?? new Map<string, Obj>();
  if (policies.size) {
    await mkdir(join(dir, 'policies'), { recursive: true });
    for (const [id, p] of policies) await writeFile(join(dir, 'policies', fileName(id)), JSON.stringify(p, null, 2) + '\n');
  }
  out(`exported ${remote.apis.size} API${remote.apis.size === 1 ? '' : 's'} and ${policies.size} polic${policies.size === 1 ? 'y' : 'ies'} to ${dir}`);
  return { apis: remote.apis.size, policies: policies.size };
}

export async function exportCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, clientArgs);
  if (positionals.length !== 1) {
    process.stderr.write('usage: sluice export DIR [--url URL] [--secret S]\n');
    return 2;
  }
  try {
    await exportDir(positionals[0]!, { url: values.url, secret: values.secret, dataDir: values.data });
    return 0;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 1;
  }
}
