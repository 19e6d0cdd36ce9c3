/**
 * Turns the shared `tls` config block (`tlsFields()` in src/engine/spec.ts) into the PEM
 * strings and flags that Node's TLS clients take. Files are read when a connection is made, so
 * rotated certificates are picked up on reconnect.
 */
import { readFile } from 'node:fs/promises';

export interface TlsConfig {
  enabled: boolean;
  skip_cert_verify: boolean;
  enable_renegotiation: boolean;
  root_cas: string;
  root_cas_file: string;
  client_certs: { cert: string; key: string; cert_file: string; key_file: string; password: string }[];
}

/** What Node's `tls.connect` needs from the block (a subset of tls.ConnectionOptions). */
export interface ClientTls {
  rejectUnauthorized: boolean;
  ca?: string[];
  cert?: string[];
  key?: { pem: string; passphrase?: string }[];
}

/** Undefined when TLS is not enabled. Throws a clear error when a file cannot be read. */
export async function clientTls(conf: TlsConfig | undefined): Promise<ClientTls | undefined> {
  if (!conf?.enabled) return undefined;
  const out: ClientTls = { rejectUnauthorized: !conf.skip_cert_verify };
  const ca: string[] = [];
  if (conf.root_cas) ca.push(conf.root_cas);
  if (conf.root_cas_file) ca.push(await readPem(conf.root_cas_file, 'tls.root_cas_file'));
  if (ca.length) out.ca = ca;
  const certs: string[] = [];
  const keys: { pem: string; passphrase?: string }[] = [];
  for (const [i, c] of (conf.client_certs ?? []).entries()) {
    const cert = c.cert || (c.cert_file ? await readPem(c.cert_file, `tls.client_certs[${i}].cert_file`) : '');
    const key = c.key || (c.key_file ? await readPem(c.key_file, `tls.client_certs[${i}].key_file`) : '');
    if (!cert || !key) throw new Error(`tls.client_certs[${i}] needs both a certificate and a key`);
    certs.push(cert);
    keys.push(c.password ? { pem: key, passphrase: c.password } : { pem: key });
  }
  if (certs.length) {
    out.cert = certs;
    out.key = keys;
  }
  return out;
}

async function readPem(path: string, field: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${field} ${path}: ${(err as Error).message}`);
  }
}
