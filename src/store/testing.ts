/**
 * Test helpers: a store on each backend, cheap to make and to throw away.
 *  - PGlite: a fresh data folder per store. Creating one runs initdb (seconds), so a migrated
 *    template folder is built once per machine and copied.
 *  - PostgreSQL: the local server (SLUICE_TEST_PG, default postgres://postgres@127.0.0.1:5432/test),
 *    one schema per store, dropped by `dispose()`.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore, type Store } from './store.js';
import { latestVersion } from './schema.js';

/** The installed PGlite's version, so a template made by another version is never reused. */
function pgliteVersion(): string {
  try {
    const main = createRequire(import.meta.url).resolve('@electric-sql/pglite');
    const pkg = join(main.slice(0, main.lastIndexOf(`${sep}dist${sep}`)), 'package.json');
    return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export const TEST_PG_URL = process.env.SLUICE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestStore {
  readonly store: Store;
  /** For the embedded store: the data folder (holds `pglite/`). */
  readonly dataDir?: string;
  /** For PostgreSQL: the schema and a URL that selects it. */
  readonly schema?: string;
  readonly url?: string;
  dispose(): Promise<void>;
}

/** A fresh data folder whose `pglite/` holds a migrated, empty embedded database. */
export async function freshDataDir(): Promise<string> {
  const template = join(tmpdir(), `sluice-pglite-template-v${latestVersion}-${pgliteVersion()}`);
  if (!existsSync(join(template, 'pglite', 'PG_VERSION'))) {
    const building = mkdtempSync(join(tmpdir(), 'sluice-pglite-build-'));
    const s = await openStore({ dataDir: building });
    await s.close();
    try {
      renameSync(building, template);
    } catch {
      rmSync(building, { recursive: true, force: true }); // another test built it first
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'sluice-data-'));
  cpSync(template, dir, { recursive: true });
  rmSync(join(dir, 'pglite', 'sluice.lock'), { force: true });
  return dir;
}

export async function pgliteTestStore(): Promise<TestStore> {
  const dataDir = await freshDataDir();
  const store = await openStore({ dataDir });
  return {
    store,
    dataDir,
    async dispose() {
      await store.close().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function uniqueSchema(prefix = 'sluice_test'): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

export async function dropSchema(schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: TEST_PG_URL });
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await c.end();
  }
}

export async function postgresTestStore(): Promise<TestStore> {
  const schema = uniqueSchema();
  const url = `${TEST_PG_URL}${TEST_PG_URL.includes('?') ? '&' : '?'}schema=${schema}`;
  const store = await openStore({ url });
  return {
    store,
    schema,
    url,
    async dispose() {
      await store.close().catch(() => undefined);
      await dropSchema(schema);
    },
  };
}

export const testBackends: readonly { readonly name: 'pglite' | 'postgres'; readonly open: () => Promise<TestStore> }[] = [
  { name: 'pglite', open: pgliteTestStore },
  { name: 'postgres', open: postgresTestStore },
];
