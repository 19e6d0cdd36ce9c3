/**
 * `sql_select` processor: runs `SELECT <columns> FROM <table> [WHERE <where>]` per message
 * (placeholders `?` filled from `args_mapping`) and replaces the message with the rows, a JSON
 * array of objects. A failed query leaves the message unchanged and flagged.
 */
import type { Processor } from '../../../engine/component.js';
import { defineProcessor } from '../../../engine/component.js';
import type { Batch } from '../../../engine/message.js';
import { field } from '../../../engine/spec.js';
import {
  SqlDb,
  argsMappingField,
  connTailFields,
  dollarPlaceholders,
  driverField,
  dsnField,
  lintDriver,
  queryArgs,
  rowsToJson,
  type SqlConnConfig,
} from '../../sql-common.js';

export interface SqlSelectConfig extends SqlConnConfig {
  table: string;
  columns: string[];
  where?: string;
  args_mapping?: string;
  prefix?: string;
  suffix?: string;
}

/** The statement Benthos builds (squirrel, dollar placeholders). */
export function selectStatement(c: Pick<SqlSelectConfig, 'table' | 'columns' | 'where' | 'prefix' | 'suffix'>): string {
  let q = `SELECT ${c.columns.join(', ')} FROM ${c.table}`;
  if (c.where) q += ` WHERE ${c.where}`;
  if (c.prefix) q = `${c.prefix} ${q}`;
  if (c.suffix) q += ` ${c.suffix}`;
  return dollarPlaceholders(q);
}

export const spec = defineProcessor<SqlSelectConfig>({
  name: 'sql_select',
  summary: 'Runs an SQL select per message and replaces the message with the rows (a JSON array of objects).',
  description:
    'Placeholders in `where` are question marks, turned into `$1, $2, ...` for postgres, and filled from `args_mapping`. ' +
    'If the query fails the message passes on unchanged and flagged. Wrap it in `branch` to merge the rows into the original message.',
  categories: ['Integration'],
  config: field.object('', '', [
    driverField(),
    dsnField(),
    field.string('table', 'The table to select from.', { examples: ['foo'] }),
    field.stringList('columns', 'The columns to select.', { examples: [['*'], ['foo', 'bar', 'baz']] }),
    field.string('where', 'A WHERE clause; `?` placeholders are filled from `args_mapping`.', { optional: true, examples: ['meow = ? and woof = ?', 'user_id = ?'] }),
    argsMappingField('`where`'),
    field.string('prefix', 'Prepended to the statement (before SELECT).', { optional: true, advanced: true }),
    field.string('suffix', 'Appended to the statement.', { optional: true, advanced: true, examples: ['ORDER BY id LIMIT 10'] }),
    ...connTailFields(),
  ]),
  lint: lintDriver,
  examples: [
    {
      title: 'Rows of a table for the user in the message',
      config:
        'pipeline:\n  processors:\n    - branch:\n        processors:\n          - sql_select:\n              driver: postgres\n              dsn: postgres://foouser:foopass@localhost:5432/testdb?sslmode=disable\n              table: footable\n              columns: [ \'*\' ]\n              where: user_id = ?\n              args_mapping: \'root = [ this.user.id ]\'\n        result_map: \'root.foo_rows = this\'\n',
    },
  ],
  build: async (conf, ctx): Promise<Processor> => {
    const db = new SqlDb(conf, ctx);
    if (conf.init_verify_conn) await db.verify();
    const mapping = conf.args_mapping ? ctx.bloblang.compileMapping(conf.args_mapping) : undefined;
    const statement = selectStatement(conf);
    return {
      async process(batch: Batch) {
        for (let i = 0; i < batch.length; i++) {
          const m = batch[i]!;
          try {
            const rows = await db.query(statement, queryArgs(mapping, batch, i));
            m.setStructured(rowsToJson(rows));
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
