/**
 * Creates an embedded database folder in a child process. Creating one (initdb) makes V8 compile
 * most of PGlite's WebAssembly and leaves ~800 MB resident in the process that did it; opening an
 * existing folder costs about a third of that. So the first start pays for it in a short-lived
 * child, and the gateway only ever opens.
 *   node pglite-init.js <dir>
 */
import { PGlite } from '@electric-sql/pglite';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: pglite-init <dir>\n');
  process.exit(2);
}
const db = await PGlite.create(dir);
await db.close();
