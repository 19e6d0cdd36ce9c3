/**
 * `sluice policies list|create|delete`, talking to a running Sluice's management API.
 *
 *   sluice policies list
 *   sluice policies create FILE...     Tyk policy JSON/YAML; an existing id is replaced
 *   sluice policies delete ID...
 */
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { parse } from '../args.js';
import { readConfig, formatIssue } from '../../config/source.js';
import { clientArgs, errorText, ManagementClient } from './client.js';
import type { KeysIo } from './keys.js';

const USAGE = `usage: sluice policies list
       sluice policies create FILE...
       sluice policies delete ID...
  (all: [--url URL] [--secret S] [--data DIR])`;

const stdio: KeysIo = { out: (l) => process.stdout.write(l + '\n'), err: (l) => process.stderr.write(l + '\n') };

interface PolicyLike {
  id: string;
  name?: string;
  rate?: number;
  per?: number;
  quota_max?: number;
  access_rights?: Record<string, unknown>;
  is_inactive?: boolean;
}

export async function policiesCommand(args: string[], io: KeysIo = stdio): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'list' && sub !== 'create' && sub !== 'delete') {
    io.err(USAGE);
    return 2;
  }
  try {
    const { values, positionals } = parse(rest, clientArgs);
    const client = new ManagementClient({ url: values.url, secret: values.secret, dataDir: values.data, env: io.env });
    if (sub === 'list') {
      const r = (await client.must('GET', '/api/policies')) as { policies: PolicyLike[] };
      if (!r.policies.length) io.out('no policies');
      for (const p of r.policies) {
        const rate = p.rate && p.per ? `${p.rate}/${p.per}s` : '-';
        const quota = p.quota_max && p.quota_max > 0 ? String(p.quota_max) : '-';
        io.out([p.id, p.name || '-', `rate ${rate}`, `quota ${quota}`, Object.keys(p.access_rights ?? {}).join(',') || '-', p.is_inactive ? 'inactive' : 'active'].join('  '));
      }
      return 0;
    }
    if (!positionals.length) {
      io.err(USAGE);
      return 2;
    }
    let failed = 0;
    for (const arg of positionals) {
      if (sub === 'delete') {
        const r = await client.request('DELETE', `/api/policies/${encodeURIComponent(arg)}`);
        if (r.status === 204) io.out(`- policy ${arg}`);
        else {
          failed++;
          io.err(`${arg}: ${r.status === 404 ? 'no such policy' : errorText(r.body)}`);
        }
        continue;
      }
      const src = readConfig(await readFile(arg, 'utf8'), io.env);
      if (src.value === undefined || src.issues.length || typeof src.value !== 'object' || src.value === null || Array.isArray(src.value)) {
        failed++;
        io.err(src.issues.length ? src.issues.map((i) => formatIssue(i, arg)).join('\n') : `${arg}: expected a policy object`);
        continue;
      }
      const body = src.value as Record<string, unknown>;
      const id = typeof body.id === 'string' && body.id ? body.id : basename(arg, extname(arg));
      const exists = (await client.request('GET', `/api/policies/${encodeURIComponent(id)}`)).status === 200;
      const r = await client.request(exists ? 'PUT' : 'POST', exists ? `/api/policies/${encodeURIComponent(id)}` : '/api/policies', { ...body, id });
      if (r.status === 200 || r.status === 201) io.out(`${exists ? '~' : '+'} policy ${id}`);
      else {
        failed++;
        io.err(`${arg}: ${errorText(r.body)}`);
      }
    }
    return failed ? 1 : 0;
  } catch (err) {
    io.err((err as Error).message);
    return 1;
  }
}
