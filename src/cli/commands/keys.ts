/**
 * `sluice keys create|list|revoke`, talking to a running Sluice's management API.
 *
 *   sluice keys create [--api ID]... [--policy ID]... [--rate N --per S] [--quota N --quota-renewal S]
 *                      [--expires-in S] [--alias A] [--file SESSION.json]
 *       prints the key (shown this once; only its hash is kept) and its hash
 *   sluice keys list [--policy ID]
 *       one line per key: hash, alias, policies, APIs, state
 *   sluice keys revoke HASH|KEY... [--key]
 *       a 64-hex argument is a hash, anything else a key (`--key` forces "key")
 */
import { readFile } from 'node:fs/promises';
import { parse } from '../args.js';
import { keyHash } from '../../access/hash.js';
import { readConfig, formatIssue } from '../../config/source.js';
import { clientArgs, ManagementClient } from './client.js';

const USAGE = `usage: sluice keys create [--api ID]... [--policy ID]... [--rate N --per S] [--quota N --quota-renewal S] [--expires-in S] [--alias A] [--file SESSION]
       sluice keys list [--policy ID]
       sluice keys revoke HASH|KEY... [--key]
  (all: [--url URL] [--secret S] [--data DIR])
`;

interface KeySummary {
  key_hash: string;
  alias: string;
  apply_policies: string[];
  apis: string[];
  expires: number;
  is_inactive: boolean;
}

export interface KeysIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env?: NodeJS.ProcessEnv;
}

const stdio: KeysIo = { out: (l) => process.stdout.write(l + '\n'), err: (l) => process.stderr.write(l + '\n') };

function num(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${flag} must be a number`);
  return n;
}

export async function keysCommand(args: string[], io: KeysIo = stdio): Promise<number> {
  const [sub, ...rest] = args;
  try {
    switch (sub) {
      case 'create':
        return await create(rest, io);
      case 'list':
        return await list(rest, io);
      case 'revoke':
        return await revoke(rest, io);
      default:
        io.err(USAGE.trimEnd());
        return 2;
    }
  } catch (err) {
    io.err((err as Error).message);
    return 1;
  }
}

async function create(args: string[], io: KeysIo): Promise<number> {
  const { values } = parse(
    args,
    {
      ...clientArgs,
      api: { type: 'string', multiple: true },
      policy: { type: 'string', multiple: true },
      rate: { type: 'string' },
      per: { type: 'string' },
      quota: { type: 'string' },
      'quota-renewal': { type: 'string' },
      'expires-in': { type: 'string' },
      alias: { type: 'string' },
      file: { type: 'string' },
    },
    false,
  );
  let session: Record<string, unknown> = {};
  if (values.file) {
    const src = readConfig(await readFile(values.file, 'utf8'), io.env);
    if (src.value === undefined || src.issues.length) throw new Error(src.issues.map((i) => formatIssue(i, values.file)).join('\n'));
    if (typeof src.value !== 'object' || src.value === null || Array.isArray(src.value)) throw new Error(`${values.file}: expected a session object`);
    session = src.value as Record<string, unknown>;
  }
  const rights = { ...((session.access_rights as Record<string, unknown> | undefined) ?? {}) };
  for (const id of values.api ?? []) rights[id] = { api_id: id, versions: ['Default'] };
  if (Object.keys(rights).length) session.access_rights = rights;
  if (values.policy?.length) session.apply_policies = [...new Set([...((session.apply_policies as string[] | undefined) ?? []), ...values.policy])];
  const set = (k: string, v: number | string | undefined) => {
    if (v !== undefined) session[k] = v;
  };
  set('rate', num(values.rate, 'rate'));
  set('per', num(values.per, 'per') ?? (values.rate !== undefined ? 1 : undefined));
  set('quota_max', num(values.quota, 'quota'));
  set('quota_renewal_rate', num(values['quota-renewal'], 'quota-renewal'));
  const exp = num(values['expires-in'], 'expires-in');
  if (exp !== undefined) session.expires = Math.floor(Date.now() / 1000) + exp;
  set('alias', values.alias);
  const client = new ManagementClient({ url: values.url, secret: values.secret, dataDir: values.data, env: io.env });
  const r = (await client.must('POST', '/api/keys', session)) as { key: string; key_hash: string };
  io.out(`key:      ${r.key || '(basic-auth user: log in with its user name and password)'}`);
  io.out(`key_hash: ${r.key_hash}`);
  io.out('The key is shown this once; Sluice keeps only its hash.');
  return 0;
}

async function list(args: string[], io: KeysIo): Promise<number> {
  const { values } = parse(args, { ...clientArgs, policy: { type: 'string' } }, false);
  const client = new ManagementClient({ url: values.url, secret: values.secret, dataDir: values.data, env: io.env });
  const q = values.policy ? `?policy=${encodeURIComponent(values.policy)}` : '';
  const r = (await client.must('GET', `/api/keys${q}`)) as { keys: KeySummary[] };
  if (!r.keys.length) {
    io.out('no keys');
    return 0;
  }
  const now = Date.now() / 1000;
  for (const k of r.keys) {
    const state = k.is_inactive ? 'inactive' : k.expires >= 1 && k.expires < now ? 'expired' : 'active';
    io.out([k.key_hash, k.alias || '-', k.apply_policies.join(',') || '-', k.apis.join(',') || '-', state].join('  '));
  }
  return 0;
}

async function revoke(args: string[], io: KeysIo): Promise<number> {
  const { values, positionals } = parse(args, { ...clientArgs, key: { type: 'boolean', default: false } });
  if (!positionals.length) {
    io.err(USAGE.trimEnd());
    return 2;
  }
  const client = new ManagementClient({ url: values.url, secret: values.secret, dataDir: values.data, env: io.env });
  let failed = 0;
  for (const arg of positionals) {
    const hash = !values.key && /^[0-9a-fA-F]{64}$/.test(arg) ? arg.toLowerCase() : keyHash(arg);
    const r = await client.request('DELETE', `/api/keys/${hash}`);
    if (r.status === 204) io.out(`revoked ${hash}`);
    else {
      failed++;
      io.err(`${hash}: ${r.status === 404 ? 'no such key' : `failed (${r.status})`}`);
    }
  }
  return failed ? 1 : 0;
}
