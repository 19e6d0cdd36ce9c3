/**
 * A small client of a running Sluice's management API, for the `apply`, `export`, `keys` and
 * `policies` commands. The URL is `--url`, else SLUICE_URL, else http://127.0.0.1:8080; the
 * secret is `--secret`, else SLUICE_SECRET, else the data folder's `secret` file (`--data`,
 * default `.data`), which is where a local `sluice start` keeps a generated one.
 */
import { SluiceError } from '../../engine/errors.js';
import { clientSecret } from '../../control/secret.js';

export interface ClientOptions {
  readonly url?: string;
  readonly secret?: string;
  readonly dataDir?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly fetch?: typeof globalThis.fetch;
}

export interface ClientReply {
  readonly status: number;
  readonly body: unknown;
}

/** The options every client command takes. */
export const clientArgs = {
  url: { type: 'string' },
  secret: { type: 'string' },
  data: { type: 'string' },
} as const;

export class ManagementClient {
  readonly base: string;
  readonly #secret: string | undefined;
  readonly #fetch: typeof globalThis.fetch;

  constructor(opts: ClientOptions = {}) {
    const env = opts.env ?? process.env;
    this.base = (opts.url ?? env.SLUICE_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
    this.#secret = clientSecret(opts.secret, opts.dataDir ?? env.SLUICE_DATA ?? '.data', env);
    this.#fetch = opts.fetch ?? globalThis.fetch;
  }

  async request(method: string, path: string, body?: unknown): Promise<ClientReply> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (this.#secret) headers['x-tyk-authorization'] = this.#secret;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res: Response;
    try {
      res = await this.#fetch(this.base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new SluiceError('SLU_ERR_CONTROL_UNREACHABLE', [this.base, cause?.code ?? cause?.message ?? (err as Error).message]);
    }
    const text = await res.text();
    let parsed: unknown = undefined;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new SluiceError('SLU_ERR_CONTROL_UNREACHABLE', [this.base, `${method} ${path} answered ${res.status} with something that is not JSON`]);
      }
    }
    if (res.status === 403 && !this.#secret) {
      throw new SluiceError('SLU_ERR_CONTROL_UNREACHABLE', [this.base, 'no secret: pass --secret, set SLUICE_SECRET, or run from the folder whose .data/secret the gateway wrote']);
    }
    if (res.status === 403) throw new SluiceError('SLU_ERR_CONTROL_UNAUTHORIZED');
    return { status: res.status, body: parsed };
  }

  /** Like `request`, but a status outside 2xx is an error carrying the server's message. */
  async must(method: string, path: string, body?: unknown): Promise<unknown> {
    const r = await this.request(method, path, body);
    if (r.status >= 200 && r.status < 300) return r.body;
    throw new Error(`${method} ${path}: ${r.status} ${errorText(r.body)}`);
  }
}

export function errorText(body: unknown): string {
  if (typeof body === 'object' && body !== null) {
    const b = body as { error?: unknown; message?: unknown };
    if (typeof b.error === 'string') return b.error;
    if (typeof b.message === 'string') return b.message;
  }
  return JSON.stringify(body);
}

/** Deep equality of JSON values, ignoring object key order; null members count as absent. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => jsonEqual(x, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined && ao[k] !== null);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined && bo[k] !== null);
  return ak.length === bk.length && ak.every((k) => bo[k] !== undefined && bo[k] !== null && jsonEqual(ao[k], bo[k]));
}
