/**
 * The management API secret. In order: `--secret`, `SLUICE_SECRET`, the file `<data>/secret`.
 * With none of them, the first start generates one (24 random bytes, base64url), writes it to
 * `<data>/secret` with mode 0600 and prints it once on stdout; later starts read the file and
 * print nothing. The secret never goes through the logger.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export type SecretSource = 'flag' | 'env' | 'file' | 'generated';

export interface SecretOptions {
  readonly flag?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly dataDir: string;
  /** Where the one-time announcement of a generated secret goes (default stdout). */
  readonly print?: (text: string) => void;
}

export function secretFile(dataDir: string): string {
  return join(dataDir, 'secret');
}

export function resolveSecret(opts: SecretOptions): { secret: string; source: SecretSource; file?: string } {
  if (opts.flag) return { secret: opts.flag, source: 'flag' };
  const fromEnv = (opts.env ?? process.env).SLUICE_SECRET;
  if (fromEnv) return { secret: fromEnv, source: 'env' };
  const file = secretFile(opts.dataDir);
  if (existsSync(file)) {
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    const secret = readFileSync(file, 'utf8').trim();
    if (secret) return { secret, source: 'file', file };
  }
  mkdirSync(opts.dataDir, { recursive: true });
  const secret = randomBytes(24).toString('base64url');
  writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'w' });
  chmodSync(file, 0o600);
  (opts.print ?? ((t) => process.stdout.write(t)))(
    `Management API secret (generated now and shown only this once; kept in ${file}, mode 0600):\n  ${secret}\n` +
      `Send it as the x-tyk-authorization header. Set SLUICE_SECRET or --secret to choose your own.\n`,
  );
  return { secret, source: 'generated', file };
}

/** The secret a CLI command should use: `--secret`, `SLUICE_SECRET`, or the data folder's file. */
export function clientSecret(flag: string | undefined, dataDir: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (flag) return flag;
  if (env.SLUICE_SECRET) return env.SLUICE_SECRET;
  const file = secretFile(dataDir);
  return existsSync(file) ? readFileSync(file, 'utf8').trim() || undefined : undefined;
}
