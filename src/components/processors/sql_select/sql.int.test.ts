// sql_select and sql_raw against PostgreSQL on 127.0.0.1:5432 (db `test`, user `postgres`,
// trust auth; override with SLUICE_TEST_PG_DSN). Each run creates and drops its own table.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { spec as selectSpec, selectStatement } from './index.js';
import { spec as rawSpec } from '../sql_raw/index.js';
import type { ComponentContext, Processor } from '../../../engine/component.js';
import type { BloblangEnvironment } from '../../../engine/bloblang-api.js';
import { noBloblang } from '../../../engine/bloblang-api.js';
import { Validator } from '../../../config/validate.js';
import { Registry } from '../../../engine/registry.js';
import { createLogger } from '../../../engine/logger.js';
import { Message } from '../../../engine/message.js';
import { createBloblang } from '../../../cli/wiring.js';
import { dollarPlaceholders, expandGlobs, redactDsn } from '../../sql-common.js';

const DSN = process.env.SLUICE_TEST_PG_DSN ?? 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable';
const table = `sluice_sql_${randomUUID().slice(0, 8)}`;
const logs: string[] = [];

function ctx(bloblang: BloblangEnvironment): ComponentContext {
  return {
    logger: createLogger({ level: 'debug', write: (l) => logs.push(l) }),
    bloblang,
    resources: { get: (() => { throw new Error('none'); }) as ComponentContext['resources']['get'], has: () => false },
    build: {} as ComponentContext['build'],
    http: undefined,
    path: 'sql',
    stream: 'test',
    signal: new AbortController().signal,
  };
}

async function build(s: typeof selectSpec | typeof rawSpec, conf: Record<string, unknown>, blob: BloblangEnvironment): Promise<Processor> {
  const v = new Validator({ registry: new Registry() });
  const validated = v.field(s.config, conf, 'sql');
  assert.deepEqual(v.issues, []);
  return (s.build as (c: never, x: ComponentContext) => Promise<Processor>)(validated as never, ctx(blob));
}

async function one(p: Processor, m: Message): Promise<Message> {
  const [out] = await p.process([m]);
  return out![0]!;
}

describe('sql helpers', () => {
  test('select statement with ? → $n placeholders, prefix and suffix', () => {
    assert.equal(selectStatement({ table: 't', columns: ['a', 'b'], where: 'a = ? and b = ?', suffix: 'ORDER BY a', prefix: 'WITH x AS (SELECT 1)' }), 'WITH x AS (SELECT 1) SELECT a, b FROM t WHERE a = $1 and b = $2 ORDER BY a');
    assert.equal(dollarPlaceholders("a = ? AND b = '?' AND c ?? d"), "a = $1 AND b = '?' AND c ? d");
  });

  test('the DSN password is masked', () => {
    assert.equal(redactDsn('postgres://u:secret@h:5432/db?sslmode=disable'), 'postgres://u:xxxxx@h:5432/db?sslmode=disable');
    assert.equal(redactDsn('host=h user=u password=secret dbname=d'), 'host=h user=u password=xxxxx dbname=d');
  });

  test('unsupported drivers are reported by lint', () => {
    assert.deepEqual(selectSpec.lint!({ driver: 'mysql' } as never), ['driver mysql is not supported by Sluice yet; use postgres']);
    assert.deepEqual(rawSpec.lint!({ driver: 'postgres' } as never), []);
  });

  test('init_files globs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-glob-'));
    try {
      mkdirSync(join(dir, 'sub', 'deep'), { recursive: true });
      for (const f of ['a.sql', 'b.sql', 'c.txt', 'sub/d.sql', 'sub/deep/e.sql']) writeFileSync(join(dir, f), '');
      assert.deepEqual(await expandGlobs([join(dir, '*.sql')]), [join(dir, 'a.sql'), join(dir, 'b.sql')]);
      assert.deepEqual(await expandGlobs([join(dir, '**/*.sql')]), [join(dir, 'a.sql'), join(dir, 'b.sql'), join(dir, 'sub/d.sql'), join(dir, 'sub/deep/e.sql')]);
      assert.deepEqual(await expandGlobs([join(dir, 'c.txt')]), [join(dir, 'c.txt')]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sql_select and sql_raw on PostgreSQL', { concurrency: false }, () => {
  let admin: pg.Client;
  let blob: BloblangEnvironment = noBloblang;
  let hasBloblang = false;
  const opened: Processor[] = [];

  before(async () => {
    admin = new pg.Client({ connectionString: DSN });
    await admin.connect();
    await admin.query(`CREATE TABLE ${table} (id int primary key, name text, score numeric(6,2), big bigint, ok boolean, at timestamptz, doc jsonb)`);
    await admin.query(`INSERT INTO ${table} VALUES (1, 'ann', 1.50, 9007199254740993, true, '2024-01-02T03:04:05.123456Z', '{"a":1}'), (2, 'bob', NULL, 5, false, NULL, NULL)`);
    blob = await createBloblang();
    try {
      blob.compileMapping('root = [1]');
      hasBloblang = true;
    } catch {
      hasBloblang = false;
    }
  });

  after(async () => {
    await Promise.allSettled(opened.map((p) => p.close?.()));
    await admin.query(`DROP TABLE IF EXISTS ${table}`);
    await admin.end();
  });

  const proc = async (s: typeof selectSpec | typeof rawSpec, conf: Record<string, unknown>) => {
    const p = await build(s, conf, blob);
    opened.push(p);
    return p;
  };

  test('sql_select without arguments: rows as a JSON array of objects (Go driver value forms)', async () => {
    const p = await proc(selectSpec, { driver: 'postgres', dsn: DSN, table, columns: ['*'], suffix: 'ORDER BY id' });
    const out = await one(p, new Message('{}', { keep: 'me' }));
    assert.equal(out.error, undefined);
    assert.deepEqual(out.structured(), [
      { at: '2024-01-02T03:04:05.123456Z', big: '9007199254740993', doc: '{"a": 1}', id: 1, name: 'ann', ok: true, score: '1.50' },
      { at: null, big: 5, doc: null, id: 2, name: 'bob', ok: false, score: null },
    ]);
    assert.equal(out.metaGet('keep'), 'me');
  });

  test('sql_select with where and args_mapping', async (t) => {
    if (!hasBloblang) return t.skip('needs Bloblang');
    const p = await proc(selectSpec, { driver: 'postgres', dsn: DSN, table, columns: ['id', 'name'], where: 'name = ? OR id = ?', args_mapping: 'root = [ this.user.name, this.user.id ]' });
    const out = await one(p, new Message('{"user":{"name":"bob","id":0}}'));
    assert.deepEqual(out.structured(), [{ id: 2, name: 'bob' }]);
    const none = await one(p, new Message('{"user":{"name":"zed","id":0}}'));
    assert.deepEqual(none.structured(), []);
    const q = await proc(selectSpec, { driver: 'postgres', dsn: DSN, table, columns: ['id'], where: 'id = ?', args_mapping: 'root = this.args' });
    const bad = await one(q, new Message('{"args":"not an array"}'));
    assert.match(bad.error!.message, /args_mapping returned string, expected an array/);
    assert.equal(bad.text(), '{"args":"not an array"}');
  });

  test('sql_raw: exec_only keeps the message; a query returns rows; errors flag and keep the message', async (t) => {
    if (!hasBloblang) return t.skip('needs Bloblang');
    const ins = await proc(rawSpec, { driver: 'postgres', dsn: DSN, query: `INSERT INTO ${table} (id, name, ok) VALUES ($1, $2, $3)`, args_mapping: 'root = [ this.id, this.name, true ]', exec_only: true });
    const kept = await one(ins, new Message('{"id":3,"name":"cy"}'));
    assert.equal(kept.error, undefined);
    assert.equal(kept.text(), '{"id":3,"name":"cy"}');
    const sel = await proc(rawSpec, { driver: 'postgres', dsn: DSN, query: `SELECT id, name FROM ${table} WHERE id = $1`, args_mapping: 'root = [ this.id ]' });
    assert.deepEqual((await one(sel, new Message('{"id":3}'))).structured(), [{ id: 3, name: 'cy' }]);
    const dup = await one(ins, new Message('{"id":3,"name":"again"}'));
    assert.match(dup.error!.message, /duplicate key/);
    assert.equal(dup.errorSource, 'sql');
    const upd = await proc(rawSpec, { driver: 'postgres', dsn: DSN, query: `UPDATE ${table} SET name = 'x' WHERE id = 999` });
    assert.deepEqual((await one(upd, new Message('{}'))).structured(), [], 'no rows: an empty array');
  });

  test('sql_raw: unsafe_dynamic_query interpolates the query', async (t) => {
    if (!hasBloblang) return t.skip('needs Bloblang');
    const p = await proc(rawSpec, { driver: 'postgres', dsn: DSN, query: `SELECT name FROM ${table} WHERE id = \${! this.id }`, unsafe_dynamic_query: true });
    assert.deepEqual((await one(p, new Message('{"id":1}'))).structured(), [{ name: 'ann' }]);
  });

  test('init_statement runs once before the first query; failures are only logged', async () => {
    const side = `${table}_init`;
    const p = await proc(rawSpec, { driver: 'postgres', dsn: DSN, query: `SELECT count(*)::int AS n FROM ${side}`, init_statement: `CREATE TABLE IF NOT EXISTS ${side} (x int); INSERT INTO ${side} VALUES (1)` });
    try {
      assert.deepEqual((await one(p, new Message('{}'))).structured(), [{ n: 1 }]);
      assert.deepEqual((await one(p, new Message('{}'))).structured(), [{ n: 1 }], 'init ran once');
      logs.length = 0;
      const broken = await proc(rawSpec, { driver: 'postgres', dsn: DSN, query: 'SELECT 1 AS one', init_statement: 'THIS IS NOT SQL' });
      assert.deepEqual((await one(broken, new Message('{}'))).structured(), [{ one: 1 }]);
      assert.match(logs.join('\n'), /init statement failed/);
    } finally {
      await admin.query(`DROP TABLE IF EXISTS ${side}`);
    }
  });

  test('conn_max_open sizes the pool: parallel batches share it', async () => {
    const p = await proc(rawSpec, { driver: 'postgres', dsn: DSN, query: 'SELECT pg_sleep(0.05), 1 AS one', conn_max_open: 2 });
    const t0 = Date.now();
    await Promise.all([0, 1, 2, 3].map(() => one(p, new Message('{}'))));
    assert.ok(Date.now() - t0 >= 95, 'four 50 ms queries over two connections take two rounds');
  });

  test('an unreachable database: the error names the address without the password', async () => {
    const bad = 'postgres://postgres:hunter2@127.0.0.1:9/test?sslmode=disable';
    const p = await proc(rawSpec, { driver: 'postgres', dsn: bad, query: 'SELECT 1' });
    const out = await one(p, new Message('{}'));
    assert.match(out.error!.message, /cannot connect to postgres at postgres:\/\/postgres:xxxxx@127\.0\.0\.1:9\/test/);
    assert.ok(!out.error!.message.includes('hunter2'));
    await assert.rejects(build(rawSpec, { driver: 'postgres', dsn: bad, query: 'SELECT 1', init_verify_conn: true }, blob), /cannot connect to postgres at .*xxxxx/);
  });

  test('drivers other than postgres are refused at build', async () => {
    await assert.rejects(Promise.resolve().then(() => selectSpec.build({ driver: 'mysql', dsn: 'x', table: 't', columns: ['*'], init_verify_conn: false, conn_max_idle: 2 } as never, ctx(blob))), /driver mysql is not supported/);
  });
});
