/**
 * The durable store: APIs (Tyk OAS documents), policies and keys (by hash, with the session
 * JSON). One interface, two backends (embedded PGlite by default, PostgreSQL with
 * `--store postgres://...`), the same SQL and migrations for both.
 */
import { resolve } from 'node:path';
import type { Policy, Session } from '../access/types.js';
import { SluiceError } from '../engine/errors.js';
import { bootstrapSql, latestVersion, migrations } from './schema.js';
import { openPglite, openPostgres, redactUrl, type SqlClient, type SqlQuery } from './sql.js';

export interface StoredApi {
  readonly id: string;
  readonly document: Record<string, unknown>;
  readonly updatedAt: Date;
}

export type PutResult = 'created' | 'updated';

export interface Store {
  readonly kind: 'pglite' | 'postgres';
  /** Where the data lives, safe to print (no password). */
  readonly location: string;

  listApis(): Promise<StoredApi[]>;
  getApi(id: string): Promise<StoredApi | undefined>;
  putApi(id: string, document: Record<string, unknown>): Promise<PutResult>;
  /** Inserts only; false when the id is taken. */
  createApi(id: string, document: Record<string, unknown>): Promise<boolean>;
  deleteApi(id: string): Promise<boolean>;

  listPolicies(): Promise<Policy[]>;
  getPolicy(id: string): Promise<Policy | undefined>;
  putPolicy(policy: Policy): Promise<PutResult>;
  deletePolicy(id: string): Promise<boolean>;

  listKeyHashes(): Promise<string[]>;
  /** Every key with its stored session, oldest first. */
  listKeys(): Promise<{ keyHash: string; session: Session }[]>;
  getKey(keyHash: string): Promise<Session | undefined>;
  putKey(keyHash: string, session: Session): Promise<PutResult>;
  deleteKey(keyHash: string): Promise<boolean>;

  /** The schema version the database is at. */
  schemaVersion(): Promise<number>;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** `postgres://...` (or `postgresql://`) for PostgreSQL; otherwise the embedded store in `dataDir`. */
  readonly url?: string;
  /** Data folder of the embedded store (its files go in `<dataDir>/pglite`). Default `.data`. */
  readonly dataDir?: string;
  /** Schema for every table (default `sluice`); tests use one per run. */
  readonly schema?: string;
}

export async function openStore(opts: StoreOptions = {}): Promise<Store> {
  const url = opts.url;
  let sql: SqlClient;
  let location: string;
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    sql = await openPostgres({ url, schema: opts.schema });
    location = redactUrl(url);
  } else if (url && url !== 'embedded' && url !== 'pglite') {
    throw new SluiceError('SLU_ERR_STORE_UNAVAILABLE', [`unsupported --store ${JSON.stringify(redactUrl(url))}: use postgres://... or leave it out for the embedded store`]);
  } else {
    const dir = resolve(opts.dataDir ?? '.data', 'pglite');
    sql = await openPglite({ dir, schema: opts.schema });
    location = dir;
  }
  try {
    await migrate(sql);
  } catch (err) {
    await sql.close().catch(() => undefined);
    throw err;
  }
  return new SqlStore(sql, location);
}

/** Applies the missing migrations in one transaction, serialised across processes by a lock. */
export async function migrate(sql: SqlClient): Promise<number[]> {
  return sql.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`sluice-migrate:${sql.schema}`]);
    await tx.exec(bootstrapSql);
    const rows = await tx.query<{ version: number }>('SELECT version FROM schema_migrations');
    const done = new Set(rows.map((r) => Number(r.version)));
    const newest = Math.max(0, ...done);
    if (newest > latestVersion) throw new SluiceError('SLU_ERR_STORE_SCHEMA_NEWER', [newest, latestVersion]);
    const applied: number[] = [];
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(m.version)) continue;
      await tx.exec(m.sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    return applied;
  });
}

type Row = Record<string, unknown>;

const obj = (v: unknown): Record<string, unknown> => {
  if (typeof v === 'string') return JSON.parse(v) as Record<string, unknown>;
  return v as Record<string, unknown>;
};

class SqlStore implements Store {
  readonly #sql: SqlClient;
  readonly location: string;

  constructor(sql: SqlClient, location: string) {
    this.#sql = sql;
    this.location = location;
  }

  get kind(): 'pglite' | 'postgres' {
    return this.#sql.kind;
  }

  /** Exposed for the LISTEN/NOTIFY change bus and tests. */
  get sql(): SqlQuery {
    return this.#sql;
  }

  async listApis(): Promise<StoredApi[]> {
    const rows = await this.#sql.query<Row>('SELECT id, document, updated_at FROM apis ORDER BY id');
    return rows.map(toApi);
  }

  async getApi(id: string): Promise<StoredApi | undefined> {
    const rows = await this.#sql.query<Row>('SELECT id, document, updated_at FROM apis WHERE id = $1', [id]);
    return rows[0] ? toApi(rows[0]) : undefined;
  }

  async putApi(id: string, document: Record<string, unknown>): Promise<PutResult> {
    const rows = await this.#sql.query<{ inserted: boolean }>(
      `INSERT INTO apis (id, document) VALUES ($1, $2::jsonb)
       ON CONFLICT (id) DO UPDATE SET document = EXCLUDED.document, updated_at = now()
       RETURNING (xmax = 0) AS inserted`,
      [id, JSON.stringify(document)],
    );
    return rows[0]?.inserted ? 'created' : 'updated';
  }

  async createApi(id: string, document: Record<string, unknown>): Promise<boolean> {
    const rows = await this.#sql.query('INSERT INTO apis (id, document) VALUES ($1, $2::jsonb) ON CONFLICT (id) DO NOTHING RETURNING id', [id, JSON.stringify(document)]);
    return rows.length === 1;
  }

  async deleteApi(id: string): Promise<boolean> {
    return (await this.#sql.query('DELETE FROM apis WHERE id = $1 RETURNING id', [id])).length === 1;
  }

  async listPolicies(): Promise<Policy[]> {
    const rows = await this.#sql.query<Row>('SELECT policy FROM policies ORDER BY id');
    return rows.map((r) => obj(r.policy) as Policy);
  }

  async getPolicy(id: string): Promise<Policy | undefined> {
    const rows = await this.#sql.query<Row>('SELECT policy FROM policies WHERE id = $1', [id]);
    return rows[0] ? (obj(rows[0].policy) as Policy) : undefined;
  }

  async putPolicy(policy: Policy): Promise<PutResult> {
    const rows = await this.#sql.query<{ inserted: boolean }>(
      `INSERT INTO policies (id, policy) VALUES ($1, $2::jsonb)
       ON CONFLICT (id) DO UPDATE SET policy = EXCLUDED.policy, updated_at = now()
       RETURNING (xmax = 0) AS inserted`,
      [policy.id, JSON.stringify(policy)],
    );
    return rows[0]?.inserted ? 'created' : 'updated';
  }

  async deletePolicy(id: string): Promise<boolean> {
    return (await this.#sql.query('DELETE FROM policies WHERE id = $1 RETURNING id', [id])).length === 1;
  }

  async listKeyHashes(): Promise<string[]> {
    const rows = await this.#sql.query<{ key_hash: string }>('SELECT key_hash FROM keys ORDER BY created_at, key_hash');
    return rows.map((r) => r.key_hash);
  }

  async listKeys(): Promise<{ keyHash: string; session: Session }[]> {
    const rows = await this.#sql.query<Row>('SELECT key_hash, session FROM keys ORDER BY created_at, key_hash');
    return rows.map((r) => ({ keyHash: String(r.key_hash), session: obj(r.session) as Session }));
  }

  async getKey(keyHash: string): Promise<Session | undefined> {
    const rows = await this.#sql.query<Row>('SELECT session FROM keys WHERE key_hash = $1', [keyHash]);
    return rows[0] ? (obj(rows[0].session) as Session) : undefined;
  }

  async putKey(keyHash: string, session: Session): Promise<PutResult> {
    const rows = await this.#sql.query<{ inserted: boolean }>(
      `INSERT INTO keys (key_hash, session) VALUES ($1, $2::jsonb)
       ON CONFLICT (key_hash) DO UPDATE SET session = EXCLUDED.session, updated_at = now()
       RETURNING (xmax = 0) AS inserted`,
      [keyHash, JSON.stringify(session)],
    );
    return rows[0]?.inserted ? 'created' : 'updated';
  }

  async deleteKey(keyHash: string): Promise<boolean> {
    return (await this.#sql.query('DELETE FROM keys WHERE key_hash = $1 RETURNING key_hash', [keyHash])).length === 1;
  }

  async schemaVersion(): Promise<number> {
    const rows = await this.#sql.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
    return Number(rows[0]?.v ?? 0);
  }

  async close(): Promise<void> {
    await this.#sql.close();
  }
}

function toApi(r: Row): StoredApi {
  return { id: String(r.id), document: obj(r.document), updatedAt: r.updated_at instanceof Date ? r.updated_at : new Date(String(r.updated_at)) };
}
