/**
 * `sluice apply DIR [--url URL --secret S] [--dry-run] [--keep-others]`: makes a running Sluice
 * match a folder of definitions, like `kubectl apply` / Tyk Sync:
 *   DIR/*.json|yaml|yml           API definitions (Tyk OAS + x-tyk-streaming); id =
 *                                 x-tyk-api-gateway.info.id, else the file name
 *   DIR/policies/*.json|yaml|yml  policies (if the folder exists); id = `id`, else the file name
 * What differs is created (`+`), updated (`~`) or deleted (`-`); equal definitions are left alone,
 * so a second apply changes nothing. `--dry-run` prints the plan only. `--keep-others` never
 * deletes. Files go through the same `${VAR}` interpolation as `sluice start`.
 *
 * `sluice export DIR` (export.ts) writes the running definitions in the same layout.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { parse } from '../args.js';
import { readConfig, formatIssue } from '../../config/source.js';
import { documentId, withId } from '../../control/catalog.js';
import { clientArgs, jsonEqual, ManagementClient, type ClientOptions } from './client.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface Definitions {
  readonly apis: Map<string, Obj>;
  readonly policies: Map<string, Obj> | undefined;
}

export interface Change {
  readonly op: '+' | '~' | '-';
  readonly kind: 'api' | 'policy';
  readonly id: string;
  readonly body?: Obj;
}

const DEF_EXT = new Set(['.json', '.yaml', '.yml']);

async function readDefs(dir: string, env: NodeJS.ProcessEnv, what: 'api' | 'policy', problems: string[]): Promise<Map<string, Obj>> {
  const out = new Map<string, Obj>();
  const from = new Map<string, string>();
  const files = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile() && DEF_EXT.has(extname(e.name))).map((e) => e.name).sort();
  for (const f of files) {
    const src = readConfig(await readFile(join(dir, f), 'utf8'), env);
    if (src.value === undefined || src.issues.length) {
      for (const i of src.issues) problems.push(formatIssue(i, join(dir, f)));
      continue;
    }
    if (!isObj(src.value)) {
      problems.push(`${join(dir, f)}: expected an object`);
      continue;
    }
    const fallback = basename(f, extname(f));
    let id: string;
    let body: Obj;
    if (what === 'api') {
      id = documentId(src.value) ?? fallback;
      body = withId(src.value, id);
    } else {
      id = typeof src.value.id === 'string' && src.value.id ? src.value.id : fallback;
      body = { ...src.value, id };
    }
    if (out.has(id)) {
      problems.push(`${join(dir, f)}: ${what} id ${JSON.stringify(id)} is also defined in ${from.get(id)}`);
      continue;
    }
    out.set(id, body);
    from.set(id, join(dir, f));
  }
  return out;
}

/** Reads a folder of definitions; problems (parse errors, duplicate ids) are collected. */
export async function readDefinitions(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<{ defs: Definitions; problems: string[] }> {
  const problems: string[] = [];
  const apis = await readDefs(dir, env, 'api', problems);
  const pdir = join(dir, 'policies');
  const policies = existsSync(pdir) ? await readDefs(pdir, env, 'policy', problems) : undefined;
  return { defs: { apis, policies }, problems };
}

/** What the server has now. */
export async function readRemote(client: ManagementClient): Promise<Definitions> {
  const docs = (await client.must('GET', '/tyk/apis/oas')) as unknown[];
  const apis = new Map<string, Obj>();
  for (const d of docs) {
    const id = documentId(d);
    if (id && isObj(d)) apis.set(id, d);
  }
  const pols = (await client.must('GET', '/api/policies')) as { policies: Obj[] };
  const policies = new Map<string, Obj>();
  for (const p of pols.policies) if (typeof p.id === 'string') policies.set(p.id, p);
  return { apis, policies };
}

/** The changes that make `remote` match `local`. Policies are left alone when `local` has no policies folder. */
export function plan(local: Definitions, remote: Definitions, keepOthers = false): Change[] {
  const changes: Change[] = [];
  const diff = (kind: 'api' | 'policy', want: Map<string, Obj>, have: Map<string, Obj>) => {
    for (const [id, body] of [...want].sort(([a], [b]) => a.localeCompare(b))) {
      const cur = have.get(id);
      if (!cur) changes.push({ op: '+', kind, id, body });
      else if (!jsonEqual(body, cur)) changes.push({ op: '~', kind, id, body });
    }
    if (keepOthers) return;
    for (const id of [...have.keys()].sort()) if (!want.has(id)) changes.push({ op: '-', kind, id });
  };
  diff('api', local.apis, remote.apis);
  if (local.policies) diff('policy', local.policies, remote.policies ?? new Map());
  // Printed per kind (APIs, then policies): creations, updates, deletions, each by id.
  const rank = { '+': 0, '~': 1, '-': 2 } as const;
  return changes.sort((a, b) => (a.kind === b.kind ? rank[a.op] - rank[b.op] || a.id.localeCompare(b.id) : a.kind === 'api' ? -1 : 1));
}

export function describeChange(c: Change): string {
  return `${c.op} ${c.kind} ${c.id}`;
}

/** Applies the changes in a safe order: APIs before the policies that grant them, deletions of policies before APIs. */
export async function applyChanges(client: ManagementClient, changes: readonly Change[], out: (line: string) => void): Promise<string[]> {
  const failures: string[] = [];
  const order = (c: Change) => (c.op === '-' ? (c.kind === 'policy' ? 2 : 3) : c.kind === 'api' ? 0 : 1);
  for (const c of [...changes].sort((a, b) => order(a) - order(b))) {
    const base = c.kind === 'api' ? '/api/apis' : '/api/policies';
    const path = `${base}/${encodeURIComponent(c.id)}`;
    try {
      if (c.op === '+') await client.must('POST', base, c.body);
      else if (c.op === '~') await client.must('PUT', path, c.body);
      else await client.must('DELETE', path);
      out(describeChange(c));
    } catch (err) {
      failures.push(`${describeChange(c)}: ${(err as Error).message}`);
    }
  }
  return failures;
}

export interface ApplyResult {
  readonly changes: Change[];
  readonly failures: string[];
}

/** The whole `apply`, for tests and embedding. Lines go to `out`; problems make it throw. */
export async function applyDir(dir: string, opts: ClientOptions & { dryRun?: boolean; keepOthers?: boolean; out?: (line: string) => void; env?: NodeJS.ProcessEnv } = {}): Promise<ApplyResult> {
  const out = opts.out ?? ((l: string) => process.stdout.write(l + '\n'));
  const { defs, problems } = await readDefinitions(dir, opts.env ?? process.env);
  if (problems.length) throw new Error(`${dir} has problems; nothing was applied:\n  ${problems.join('\n  ')}`);
  const client = new ManagementClient(opts);
  const changes = plan(defs, await readRemote(client), opts.keepOthers);
  if (opts.dryRun) {
    for (const c of changes) out(describeChange(c));
    out(changes.length ? `${changes.length} change${changes.length === 1 ? '' : 's'} (dry run: nothing applied)` : 'no changes');
    return { changes, failures: [] };
  }
  const failures = await applyChanges(client, changes, out);
  const done = changes.length - failures.length;
  out(changes.length ? `${done} change${done === 1 ? '' : 's'} applied${failures.length ? `, ${failures.length} failed` : ''}` : 'no changes');
  return { changes, failures };
}

const USAGE_APPLY = 'usage: sluice apply DIR [--url URL] [--secret S] [--dry-run] [--keep-others]\n';

export async function applyCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { ...clientArgs, 'dry-run': { type: 'boolean', default: false }, 'keep-others': { type: 'boolean', default: false } });
  if (positionals.length !== 1) {
    process.stderr.write(USAGE_APPLY);
    return 2;
  }
  try {
    const r = await applyDir(positionals[0]!, { url: values.url, secret: values.secret, dataDir: values.data, dryRun: values['dry-run'], keepOthers: values['keep-others'] });
    for (const f of r.failures) process.stderr.write(`failed: ${f}\n`);
    return r.failures.length ? 1 : 0;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 1;
  }
}
