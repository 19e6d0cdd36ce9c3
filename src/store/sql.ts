/**
 * The two SQL backends behind one small interface: embedded PGlite (WASM PostgreSQL, data in a
 * folder; the default, needs no server) and PostgreSQL over the network (`pg`). Both speak the
 * same SQL; the store above never knows which one it has.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const execFileAsync = promisify(execFile);
import { SluiceError } from '../engine/errors.js';
import { checkSchemaName } from './schema.js';

export interface SqlQuery {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** Runs several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface SqlClient extends SqlQuery {
  readonly kind: 'pglite' | 'postgres';
  /** The schema every statement runs in (search_path). */
  readonly schema: string;
  /** Runs `fn` inside one transaction on one connection; rolls back when it throws. */
  transaction<T>(fn: (tx: SqlQuery) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// PGlite

export interface PgliteOptions {
  /** Folder for the database files (created when missing). */
  readonly dir: string;
  readonly schema?: string;
}

/**
 * PGlite is single-process: two processes opening one folder would corrupt it, so a lock file
 * holding the owner's pid guards the folder. A lock left by a dead process is taken over.
 */
export async function openPglite(opts: PgliteOptions): Promise<SqlClient> {
  const schema = checkSchemaName(opts.schema ?? 'sluice');
  mkdirSync(opts.dir, { recursive: true });
  const lock = join(opts.dir, 'sluice.lock');
  if (existsSync(lock)) {
    const pid = Number(readFileSync(lock, 'utf8').trim());
    if (pid && pid !== process.pid && alive(pid)) {
      throw new SluiceError('SLU_ERR_STORE_LOCKED', [opts.dir, pid]);
    }
  }
  writeFileSync(lock, String(process.pid), { mode: 0o600 });
  let db: PGlite;
  try {
    if (!existsSync(join(opts.dir, 'PG_VERSION'))) await initInChild(opts.dir);
    db = await PGlite.create(opts.dir);
    await db.exec(`CREATE SCHEMA IF NOT EXISTS ${schema}; SET search_path TO ${schema};`);
  } catch (err) {
    rmSync(lock, { force: true });
    throw new SluiceError('SLU_ERR_STORE_UNAVAILABLE', [`embedded database in ${opts.dir}: ${(err as Error).message}`], { cause: err });
  }
  const q: SqlQuery = {
    async query<R>(sql: string, params?: readonly unknown[]) {
      return (await db.query<R>(sql, params ? [...params] : undefined)).rows;
    },
    async exec(sql: string) {
      await db.exec(sql);
    },
  };
  let closed = false;
  return {
    kind: 'pglite',
    schema,
    ...q,
    async transaction<T>(fn: (tx: SqlQuery) => Promise<T>): Promise<T> {
      return db.transaction(async (tx) =>
        fn({
          async query<R>(sql: string, params?: readonly unknown[]) {
            return (await tx.query<R>(sql, params ? [...params] : undefined)).rows;
          },
          async exec(sql: string) {
            await tx.exec(sql);
          },
        }),
      );
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await db.close();
      } finally {
        rmSync(lock, { force: true });
      }
    },
  };
}

async function initInChild(dir: string): Promise<void> {
  const script = fileURLToPath(new URL('./pglite-init.js', import.meta.url));
  await execFileAsync(process.execPath, [script, dir], { timeout: 120_000 });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

export interface PostgresOptions {
  /** postgres://user:pass@host:port/db — an optional `?schema=name` picks the schema (default sluice). */
  readonly url: string;
  readonly schema?: string;
  readonly max?: number;
}

/** Splits Sluice's own `schema` parameter off a connection URL. */
export function parsePostgresUrl(url: string): { connectionString: string; schema: string | undefined } {
  const u = new URL(url);
  const schema = u.searchParams.get('schema') ?? undefined;
  u.searchParams.delete('schema');
  return { connectionString: u.toString(), schema };
}

export async function openPostgres(opts: PostgresOptions): Promise<SqlClient> {
  const parsed = parsePostgresUrl(opts.url);
  const schema = checkSchemaName(opts.schema ?? parsed.schema ?? 'sluice');
  const pool = new pg.Pool({
    connectionString: parsed.connectionString,
    max: opts.max ?? 10,
    options: `-c search_path=${schema}`,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client that loses its connection emits 'error' on the pool; without a listener
  // that would crash the process. The next query reconnects.
  pool.on('error', () => undefined);
  try {
    const c = await pool.connect();
    try {
      // Creating the schema races with other processes starting at once: serialise on a lock.
      await c.query('BEGIN');
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`sluice-schema:${schema}`]);
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new SluiceError('SLU_ERR_STORE_UNAVAILABLE', [`PostgreSQL at ${redactUrl(opts.url)}: ${(err as Error).message}`], { cause: err });
  }
  const run = async <R>(client: pg.Pool | pg.PoolClient, sql: string, params?: readonly unknown[]): Promise<R[]> => {
    try {
      const r = await client.query(sql, params ? [...params] : undefined);
      return r.rows as R[];
    } catch (err) {
      throw wrapPgError(err);
    }
  };
  let closed = false;
  return {
    kind: 'postgres',
    schema,
    query: <R>(sql: string, params?: readonly unknown[]) => run<R>(pool, sql, params),
    async exec(sql: string) {
      await run(pool, sql);
    },
    async transaction<T>(fn: (tx: SqlQuery) => Promise<T>): Promise<T> {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        throw wrapPgError(err);
      }
      try {
        await client.query('BEGIN');
        const out = await fn({
          query: <R>(sql: string, params?: readonly unknown[]) => run<R>(client, sql, params),
          async exec(sql: string) {
            await run(client, sql);
          },
        });
        await client.query('COMMIT');
        return out;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}

/** Connection errors become SLU_ERR_STORE_UNAVAILABLE; SQL errors pass through unchanged. */
function wrapPgError(err: unknown): unknown {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !code.startsWith('08') && !code.startsWith('57')) return err;
  return new SluiceError('SLU_ERR_STORE_UNAVAILABLE', [(err as Error).message], { cause: err });
}

/** A connection URL with its password blanked, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}
