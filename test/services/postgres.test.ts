// Proves the PostgreSQL server on 127.0.0.1:5432 is real: a transaction with
// parameterised queries, and LISTEN/NOTIFY between two connections. Fails,
// never skips, when the server is down: run `bash scripts/services.sh` first.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import pg from 'pg';
import { assertReachable } from '../support/reachable.js';

const HOST = '127.0.0.1';
const PORT = 5432;
const RUN_ID = `${process.pid}_${Date.now().toString(36)}`;
// The machine's server trusts local connections; db `test` exists for tests.
const config = { host: HOST, port: PORT, user: 'postgres', database: 'test', connectionTimeoutMillis: 5000 };


test('postgres: transaction + parameterised queries + LISTEN/NOTIFY (pg)', { timeout: 15_000 }, async (t) => {
  await assertReachable(PORT, 'PostgreSQL');
  const db = new pg.Client(config);
  const listener = new pg.Client(config);
  t.after(() => Promise.allSettled([db.end(), listener.end()]));
  await Promise.all([db.connect(), listener.connect()]);

  const { rows: version } = await db.query<{ server_version_num: string }>('SHOW server_version_num');
  assert.ok(Number(version[0]?.server_version_num) >= 120000, 'PostgreSQL 12+');

  // A temp table lives only in this session: nothing to clean up on the server.
  await db.query('BEGIN');
  await db.query('CREATE TEMP TABLE sluice_svc (id serial PRIMARY KEY, body jsonb NOT NULL) ON COMMIT DROP');
  const inserted = await db.query<{ id: number }>('INSERT INTO sluice_svc (body) VALUES ($1), ($2) RETURNING id', [
    { n: 1, run: RUN_ID },
    { n: 2, run: RUN_ID },
  ]);
  assert.deepEqual(inserted.rows.map((r) => r.id), [1, 2]);
  const { rows } = await db.query<{ n: number }>("SELECT (body->>'n')::int AS n FROM sluice_svc WHERE body->>'run' = $1 ORDER BY id", [RUN_ID]);
  assert.deepEqual(rows, [{ n: 1 }, { n: 2 }]);
  await db.query('COMMIT');

  // LISTEN/NOTIFY between two sessions.
  const channel = `sluice_svc_${RUN_ID}`;
  await listener.query(`LISTEN ${channel}`);
  const arrived = once(listener, 'notification');
  await db.query('SELECT pg_notify($1, $2)', [channel, `hello-${RUN_ID}`]);
  const [note] = (await arrived) as [pg.Notification];
  assert.equal(note.channel, channel);
  assert.equal(note.payload, `hello-${RUN_ID}`);
});
