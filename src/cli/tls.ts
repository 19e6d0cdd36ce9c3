/**
 * TLS of the gateway listener for `sluice start`: which files (the `--tls-*` flags, else the
 * `SLUICE_TLS_*` variables), reading and checking them with errors that name the file and the
 * problem, and re-reading them on SIGHUP. Plain HTTP stays the default: no certificate, no TLS.
 */
import { readFileSync } from 'node:fs';
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { SluiceError, sluiceError } from '../engine/errors.js';
import type { Logger } from '../engine/logger.js';
import { MIN_TLS_VERSION, type Gateway, type GatewayTls } from '../gateway/server.js';

export type ClientAuth = 'request' | 'require';

/** Where the listener's certificate, key and (for client certificates) CA are. */
export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  readonly ca?: string;
  /** Set exactly when `ca` is: `require` unless `--tls-client-auth request`. */
  readonly clientAuth?: ClientAuth;
}

export interface TlsFlags {
  readonly 'tls-cert'?: string | undefined;
  readonly 'tls-key'?: string | undefined;
  readonly 'tls-ca'?: string | undefined;
  readonly 'tls-client-auth'?: string | undefined;
}

/** The `sluice start` options for TLS, in `parseArgs` form. */
export const tlsOptions = {
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-ca': { type: 'string' },
  'tls-client-auth': { type: 'string' },
} as const;

/** The TLS files from flags, else the environment; undefined for plain HTTP. */
export function tlsFilesFrom(flags: TlsFlags, env: NodeJS.ProcessEnv = process.env): TlsFiles | undefined {
  const pick = (flag: string | undefined, name: string) => flag || env[name] || undefined;
  const cert = pick(flags['tls-cert'], 'SLUICE_TLS_CERT');
  const key = pick(flags['tls-key'], 'SLUICE_TLS_KEY');
  const ca = pick(flags['tls-ca'], 'SLUICE_TLS_CA');
  const auth = pick(flags['tls-client-auth'], 'SLUICE_TLS_CLIENT_AUTH');
  const invalid = (what: string) => sluiceError('SLU_ERR_CONFIG_INVALID', what);
  if (!cert && !key) {
    if (ca || auth) throw invalid('--tls-ca and --tls-client-auth need --tls-cert and --tls-key');
    return undefined;
  }
  if (!cert) throw invalid('--tls-key needs --tls-cert (or SLUICE_TLS_CERT)');
  if (!key) throw invalid('--tls-cert needs --tls-key (or SLUICE_TLS_KEY)');
  if (auth !== undefined && auth !== 'request' && auth !== 'require') throw invalid(`--tls-client-auth must be request or require, not ${auth}`);
  if (auth && !ca) throw invalid('--tls-client-auth needs --tls-ca (the CA that signs the client certificates)');
  return ca ? { cert, key, ca, clientAuth: auth ?? 'require' } : { cert, key };
}

/** What the listener serves, and what to say about it. */
export interface LoadedTls extends GatewayTls {
  /** The server certificate's subject, e.g. `CN=gateway.example.com`. */
  readonly subject: string;
  readonly validTo: Date;
}

function readPem(kind: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'ENOENT' ? 'no such file (ENOENT)'
      : e.code === 'EACCES' || e.code === 'EPERM' ? `permission denied (${e.code})`
      : e.code === 'EISDIR' ? 'it is a folder (EISDIR)'
      : e.message;
    throw new SluiceError('SLU_ERR_TLS_FILE', [kind, path, why], { cause: err });
  }
}

function openSslReason(err: unknown): string {
  return (err as Error).message.replace(/^error:[0-9A-F]+:/, '');
}

/**
 * Reads and checks the files: each must exist and hold PEM, the key must be the certificate's,
 * and the three must make a TLS context. Throws SLU_ERR_TLS_FILE, SLU_ERR_TLS_INVALID or
 * SLU_ERR_TLS_MISMATCH naming the file.
 */
export function loadTls(files: TlsFiles): LoadedTls {
  const cert = readPem('certificate', files.cert);
  const key = readPem('key', files.key);
  const ca = files.ca === undefined ? undefined : readPem('CA', files.ca);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new SluiceError('SLU_ERR_TLS_INVALID', ['certificate', files.cert, `no PEM certificate in it (${openSslReason(err)})`], { cause: err });
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    const encrypted = (err as { code?: string }).code === 'ERR_MISSING_PASSPHRASE' || key.includes('ENCRYPTED');
    const why = encrypted ? 'the key is encrypted (passphrase-protected); give an unencrypted PEM key' : `no usable PEM private key in it (${openSslReason(err)})`;
    throw new SluiceError('SLU_ERR_TLS_INVALID', ['key', files.key, why], { cause: err });
  }
  if (!x509.checkPrivateKey(privateKey)) throw sluiceError('SLU_ERR_TLS_MISMATCH', files.cert, files.key);
  if (ca && files.ca !== undefined) {
    try {
      new X509Certificate(ca);
    } catch (err) {
      throw new SluiceError('SLU_ERR_TLS_INVALID', ['CA', files.ca, `no PEM certificate in it (${openSslReason(err)})`], { cause: err });
    }
  }
  try {
    createSecureContext({ minVersion: MIN_TLS_VERSION, cert, key, ...(ca ? { ca } : {}) });
  } catch (err) {
    throw new SluiceError('SLU_ERR_TLS_INVALID', ['certificate', files.cert, openSslReason(err)], { cause: err });
  }
  return {
    cert,
    key,
    ...(ca ? { ca, clientAuth: files.clientAuth ?? 'require' } : {}),
    subject: x509.subject.split('\n').join(','),
    validTo: new Date(x509.validTo),
  };
}

/** One line for the start banner. */
export function describeTls(tls: LoadedTls, files: TlsFiles): string {
  const clients =
    tls.clientAuth === 'require' ? `; client certificates required (CA ${files.ca})`
    : tls.clientAuth === 'request' ? `; client certificates requested (CA ${files.ca})`
    : '';
  return `TLS ${tls.subject}, valid until ${tls.validTo.toISOString()}${clients}; SIGHUP re-reads ${files.cert} and ${files.key}`;
}

/**
 * Re-reads the files and hands them to the listener (new connections get them; open ones keep
 * theirs). A file that fails the checks leaves the current certificate in use, logged.
 */
export function reloadTls(gateway: Gateway, files: TlsFiles, logger: Logger): boolean {
  try {
    const tls = loadTls(files);
    gateway.setTls(tls);
    logger.info('TLS certificate reloaded', { subject: tls.subject, valid_until: tls.validTo.toISOString() });
    warnIfExpired(tls, files, logger);
    return true;
  } catch (err) {
    const e = err as Error & { code?: string };
    logger.error('TLS certificate not reloaded; the previous one stays in use', { error: e.message, ...(e.code ? { code: e.code } : {}) });
    return false;
  }
}

export function warnIfExpired(tls: LoadedTls, files: TlsFiles, logger: Logger, now = Date.now()): void {
  if (tls.validTo.getTime() < now) logger.warn('the TLS certificate has expired; clients will refuse it', { cert: files.cert, valid_until: tls.validTo.toISOString() });
}
