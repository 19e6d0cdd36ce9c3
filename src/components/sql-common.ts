/**
 * What `sql_select` and `sql_raw` share: the connection fields (Benthos names and defaults), a
 * PostgreSQL pool (the `postgres` driver, via `pg`) sized by `conn_max_open`, the one-time init
 * statements, and rows turned into JSON the way Benthos' Go drivers present them:
 * integers, floats and booleans as JSON values; timestamps as RFC 3339 strings; everything else
 * (numeric, json, uuid, arrays...) as its text; keys sorted as Go marshals maps.
 *
 * The DSN's password never appears in errors or logs.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, isAbsolute, sep } from 'node:path';
import pg from 'pg';
import type { Batch } from '../engine/message.js';
import type { ComponentContext } from '../engine/component.js';
import type { Mapping } from '../engine/bloblang-api.js';
import { parseDuration } from '../engine/backoff.js';
import { field, type FieldSpec } from '../engine/spec.js';

export const SQL_DRIVERS = ['mysql', 'postgres', 'clickhouse', 'mssql', 'sqlite', 'oracle', 'snowflake', 'trino', 'gocosmos', 'spanner'] as const;

export interface SqlConnConfig {
  driver: string;
  dsn: string;
  init_files?: string[];
  init_statement?: string;
  init_verify_conn: boolean;
  conn_max_idle_time?: string;
  conn_max_life_time?: string;
  conn_max_idle: number;
  conn_max_open?: number;
}

export const driverField = (): FieldSpec =>
  field.string('driver', 'The database driver. Sluice supports `postgres`; the other Benthos drivers are recognised but rejected.', { options: [...SQL_DRIVERS] });

export const dsnField = (): FieldSpec =>
  field.string('dsn', 'Data source name, for postgres `postgres://[user[:password]@][host][:port][/dbname][?param=value&...]` (or `key=value` pairs). Add `sslmode=disable` for servers without TLS.', {
    secret: true,
    examples: ['postgres://foouser:foopass@localhost:5432/foodb?sslmode=disable'],
  });

export const argsMappingField = (placeholder: string): FieldSpec =>
  field.bloblang('args_mapping', `A Bloblang mapping that returns an array of values, one per placeholder in ${placeholder}.`, {
    optional: true,
    examples: ['root = [ this.cat.meow, this.doc.woofs[0] ]', 'root = [ metadata("user.id").string() ]'],
  });

/** init_* and conn_* fields, after the component's own. */
export const connTailFields = (): FieldSpec[] => [
  field.stringList('init_files', 'Files of SQL statements run once, at the first connection (globs allowed, `**` included). Failures are logged, not fatal.', { optional: true, advanced: true, examples: [['./init/*.sql']] }),
  field.string('init_statement', 'A statement run once at the first connection, after `init_files`. Failures are logged, not fatal.', { optional: true, advanced: true }),
  field.bool('init_verify_conn', 'Check the connection when the component starts (fails the start when the database cannot be reached).', { default: false, advanced: true }),
  field.duration('conn_max_idle_time', 'How long a connection may stay idle before it is closed.', { optional: true, advanced: true }),
  field.duration('conn_max_life_time', 'How long a connection may be reused before it is replaced.', { optional: true, advanced: true }),
  field.int('conn_max_idle', 'Idle connections kept open (<= 0: none are kept).', { default: 2, advanced: true }),
  field.int('conn_max_open', 'Maximum open connections (<= 0 or unset: 10).', { optional: true, advanced: true }),
];

export function lintDriver(c: { driver?: string }): string[] {
  return c.driver && c.driver !== 'postgres' ? [`driver ${c.driver} is not supported by Sluice yet; use postgres`] : [];
}

/** The DSN with its password masked, for errors and logs. */
export function redactDsn(dsn: string): string {
  if (/^postgres(ql)?:\/\//.test(dsn)) {
    try {
      const u = new URL(dsn);
      if (u.password) u.password = 'xxxxx';
      for (const k of [...u.searchParams.keys()]) if (/pass|secret|key/i.test(k)) u.searchParams.set(k, 'xxxxx');
      return u.toString();
    } catch {
      return dsn.replace(/\/\/([^/@:]*):[^/@]*@/, '//$1:xxxxx@');
    }
  }
  return dsn.replace(/(password\s*=\s*)('[^']*'|\S+)/gi, '$1xxxxx');
}

/** `host=... port=... user=... password=... dbname=... sslmode=...` → pg client config. */
function keyValueDsn(dsn: string): pg.PoolConfig {
  const out: Record<string, string> = {};
  const re = /(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|\S*)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(dsn)) !== null) {
    let v = m[2]!;
    if (v.startsWith("'")) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    out[m[1]!] = v;
  }
  const conf: pg.PoolConfig = {};
  if (out.host) conf.host = out.host;
  if (out.port) conf.port = Number(out.port);
  if (out.user) conf.user = out.user;
  if (out.password) conf.password = out.password;
  if (out.dbname) conf.database = out.dbname;
  if (out.sslmode && out.sslmode !== 'disable') conf.ssl = out.sslmode === 'require' ? { rejectUnauthorized: false } : true;
  return conf;
}

// Text-format parsers by type OID; anything else stays text.
const RFC3339 = (s: string) => s.replace(' ', 'T');
function timestamptz(s: string): string {
  const t = RFC3339(s);
  const m = /([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?$/.exec(t);
  if (!m) return t;
  const head = t.slice(0, m.index);
  if (m[2] === '00' && (m[3] ?? '00') === '00') return head + 'Z';
  return `${head}${m[1]}${m[2]}:${m[3] ?? '00'}`;
}
const toInt = (s: string) => {
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : s;
};
const toFloat = (s: string) => {
  const n = Number(s);
  return Number.isFinite(n) ? n : s;
};
const PARSERS: Record<number, (s: string) => unknown> = {
  16: (s) => s === 't',
  20: toInt,
  21: toInt,
  23: toInt,
  26: toInt,
  700: toFloat,
  701: toFloat,
  1082: (s) => (/^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00Z` : s),
  1114: (s) => (/^\d{4}-/.test(s) ? RFC3339(s) + 'Z' : s),
  1184: (s) => (/^\d{4}-/.test(s) ? timestamptz(s) : s),
};
const identity = (s: string) => s;

const pgTypes = {
  getTypeParser: ((oid: number) => PARSERS[oid] ?? identity) as unknown as pg.CustomTypesConfig['getTypeParser'],
};

/** Rows as JSON objects (keys sorted). */
export function rowsToJson(rows: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  return rows.map((r) => {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(r).sort()) {
      const v = r[k];
      out[k] = Buffer.isBuffer(v) ? v.toString('utf8') : v;
    }
    return out;
  });
}

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'EAI_AGAIN', '28P01', '28000', '3D000']);

function isConnectError(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return (e.code !== undefined && CONNECT_CODES.has(e.code)) || /timeout exceeded when trying to connect|Connection terminated/i.test(e.message ?? '');
}

/** Expands `*`, `?` and `**` in paths (sorted), as Benthos' init_files does. */
export async function expandGlobs(patterns: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of patterns) {
    if (!/[*?[]/.test(p)) {
      out.push(p);
      continue;
    }
    const parts = p.split(/[\\/]/);
    const root = isAbsolute(p) ? sep : '.';
    const found: string[] = [];
    await walkGlob(isAbsolute(p) ? root : '', parts.filter((x, i) => !(i === 0 && x === '')), found, root);
    out.push(...found.sort());
  }
  return out;
}

function segmentRegex(seg: string): RegExp {
  return new RegExp('^' + seg.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]') + '$');
}

async function walkGlob(base: string, parts: string[], found: string[], root: string): Promise<void> {
  if (parts.length === 0) {
    found.push(base);
    return;
  }
  const [head, ...rest] = parts as [string, ...string[]];
  const dir = base || root;
  if (head === '**') {
    await walkGlob(base, rest, found, root);
    let entries: import('node:fs').Dirent[] = [];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) await walkGlob(join(base, e.name), parts, found, root);
    return;
  }
  if (!/[*?[]/.test(head)) {
    const next = base ? join(base, head) : head;
    if (rest.length === 0) {
      try {
        await stat(next);
        found.push(next);
      } catch {
        // no such file
      }
      return;
    }
    await walkGlob(next, rest, found, root);
    return;
  }
  const re = segmentRegex(head);
  let entries: import('node:fs').Dirent[] = [];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (!re.test(e.name)) continue;
    const next = base ? join(base, e.name) : e.name;
    if (rest.length === 0) {
      if (e.isFile()) found.push(next);
    } else if (e.isDirectory()) await walkGlob(next, rest, found, root);
  }
}

/** A PostgreSQL pool with Benthos' connection settings and one-time init. */
export class SqlDb {
  readonly where: string;
  readonly #pool: pg.Pool;
  readonly #conf: SqlConnConfig;
  readonly #ctx: ComponentContext;
  #init: Promise<void> | undefined;

  constructor(conf: SqlConnConfig, ctx: ComponentContext) {
    if (conf.driver !== 'postgres') throw new Error(`driver ${conf.driver} is not supported by Sluice yet; use postgres`);
    this.#conf = conf;
    this.#ctx = ctx;
    this.where = redactDsn(conf.dsn);
    const base: pg.PoolConfig = /^postgres(ql)?:\/\//.test(conf.dsn) || conf.dsn.startsWith('/') ? { connectionString: conf.dsn } : keyValueDsn(conf.dsn);
    const idle = parseDuration(conf.conn_max_idle_time ?? '');
    const life = parseDuration(conf.conn_max_life_time ?? '');
    this.#pool = new pg.Pool({
      ...base,
      max: conf.conn_max_open && conf.conn_max_open > 0 ? conf.conn_max_open : 10,
      idleTimeoutMillis: conf.conn_max_idle <= 0 ? 1 : idle && idle > 0 ? idle : 10_000,
      maxLifetimeSeconds: life && life > 0 ? Math.max(1, Math.round(life / 1000)) : 0,
      connectionTimeoutMillis: 10_000,
      types: pgTypes,
    });
    // Errors of idle clients (e.g. the server restarted) must not crash the process.
    this.#pool.on('error', (err) => ctx.logger.warn('idle database connection failed', { dsn: this.where, error: err.message }));
  }

  /** Checks that the database answers (init_verify_conn). */
  async verify(): Promise<void> {
    try {
      await this.#pool.query('SELECT 1');
    } catch (err) {
      throw this.#wrap(err);
    }
  }

  #wrap(err: unknown): Error {
    const msg = err instanceof Error ? err.message : String(err);
    if (isConnectError(err)) return new Error(`cannot connect to postgres at ${this.where}: ${msg || (err as { code?: string }).code}`, { cause: err });
    return err instanceof Error ? err : new Error(msg);
  }

  async #runInit(): Promise<void> {
    const files = this.#conf.init_files?.length ? await expandGlobs(this.#conf.init_files) : [];
    for (const f of files) {
      try {
        await this.#pool.query(await readFile(f, 'utf8'));
      } catch (err) {
        if (isConnectError(err)) throw err;
        this.#ctx.logger.warn('init file failed', { file: f, error: (err as Error).message });
      }
    }
    if (this.#conf.init_statement) {
      try {
        await this.#pool.query(this.#conf.init_statement);
      } catch (err) {
        if (isConnectError(err)) throw err;
        this.#ctx.logger.warn('init statement failed', { error: (err as Error).message });
      }
    }
  }

  /** Runs a query (after the one-time init); rows as pg returns them (parsed per the type table). */
  async query(text: string, args: readonly unknown[]): Promise<Record<string, unknown>[]> {
    try {
      if (this.#conf.init_files?.length || this.#conf.init_statement) {
        this.#init ??= this.#runInit().catch((err: unknown) => {
          this.#init = undefined;
          throw err;
        });
        await this.#init;
      }
      const res = await this.#pool.query({ text, values: args as unknown[] });
      return (Array.isArray(res) ? (res[res.length - 1] as pg.QueryResult).rows : res.rows) as Record<string, unknown>[];
    } catch (err) {
      throw this.#wrap(err);
    }
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}

/** Query arguments for `batch[index]` from `args_mapping` (which must return an array). */
export function queryArgs(mapping: Mapping | undefined, batch: Batch, index: number): unknown[] {
  if (!mapping) return [];
  const v = mapping.query(batch, index);
  if (!Array.isArray(v)) throw new Error(`args_mapping returned ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}, expected an array`);
  return v.map((x) => (x !== null && typeof x === 'object' && !Array.isArray(x) && !(x instanceof Uint8Array) && !(x instanceof Date) ? JSON.stringify(x) : x));
}

/** `?` placeholders → `$1, $2, ...` outside quotes; `??` is a literal `?` (squirrel's dollar format). */
export function dollarPlaceholders(sql: string): string {
  let out = '';
  let n = 0;
  let quote: string | undefined;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (quote) {
      out += c;
      if (c === quote) quote = undefined;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      out += c;
      continue;
    }
    if (c === '?') {
      if (sql[i + 1] === '?') {
        out += '?';
        i++;
      } else out += `$${++n}`;
      continue;
    }
    out += c;
  }
  return out;
}
