/**
 * `sql_raw` processor: runs a query per message (postgres placeholders `$1, $2, ...` filled
 * from `args_mapping`) and replaces the message with the rows as a JSON array of objects, or
 * keeps it unchanged with `exec_only`. `unsafe_dynamic_query` interpolates the query per
 * message. A failed query leaves the message unchanged and flagged.
 */
import type { Processor } from '../../../engine/component.js';
import { defineProcessor } from '../../../engine/component.js';
import type { Batch } from '../../../engine/message.js';
import { field } from '../../../engine/spec.js';
import { SqlDb, argsMappingField, connTailFields, driverField, dsnField, lintDriver, queryArgs, rowsToJson, type SqlConnConfig } from '../../sql-common.js';

export interface SqlRawConfig extends SqlConnConfig {
  query: string;
  unsafe_dynamic_query: boolean;
  args_mapping?: string;
  exec_only: boolean;
}

export const spec = defineProcessor<SqlRawConfig>({
  name: 'sql_raw',
  summary: 'Runs an SQL query per message and replaces the message with the rows (a JSON array of objects), or only executes it.',
  description:
    'Placeholders follow the driver: `$1, $2, ...` for postgres, filled from `args_mapping`. With `exec_only` the result is discarded and the message kept as is. ' +
    'If the query fails the message passes on unchanged and flagged.',
  categories: ['Integration'],
  config: field.object('', '', [
    driverField(),
    dsnField(),
    field.string('query', 'The query to run.', { examples: ['INSERT INTO footable (foo, bar, baz) VALUES ($1, $2, $3);', 'SELECT * FROM footable WHERE user_id = $1;'] }),
    field.bool('unsafe_dynamic_query', 'Interpolate `${! }` functions in the query per message. Beware of SQL injection: prefer `args_mapping`.', { default: false, advanced: true }),
    argsMappingField('`query`'),
    field.bool('exec_only', 'Discard the result and keep the message unchanged (for inserts, updates...).', { default: false }),
    ...connTailFields(),
  ]),
  lint: lintDriver,
  examples: [
    {
      title: 'Insert each message',
      config:
        'pipeline:\n  processors:\n    - sql_raw:\n        driver: postgres\n        dsn: postgres://foouser:foopass@localhost:5432/testdb?sslmode=disable\n        query: "INSERT INTO footable (foo, bar, baz) VALUES ($1, $2, $3);"\n        args_mapping: \'root = [ this.foo, this.bar, metadata("kafka_topic") ]\'\n        exec_only: true\n',
    },
  ],
  build: async (conf, ctx): Promise<Processor> => {
    const db = new SqlDb(conf, ctx);
    if (conf.init_verify_conn) await db.verify();
    const mapping = conf.args_mapping ? ctx.bloblang.compileMapping(conf.args_mapping) : undefined;
    const query = conf.unsafe_dynamic_query ? ctx.bloblang.interpolate(conf.query) : undefined;
    return {
      async process(batch: Batch) {
        for (let i = 0; i < batch.length; i++) {
          const m = batch[i]!;
          try {
            const text = query ? query.render(batch, i) : conf.query;
            const rows = await db.query(text, queryArgs(mapping, batch, i));
            if (!conf.exec_only) m.setStructured(rowsToJson(rows));
          } catch (err) {
            m.setError(err, ctx.path);
          }
        }
        return [batch];
      },
      close: () => db.close(),
    };
  },
});
