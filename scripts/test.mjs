#!/usr/bin/env node
// Runs the compiled test files with node's test runner and the spec reporter, then prints a
// closing `N passed, N failed` line. Only tests whose TypeScript source still exists are run,
// so a deleted test cannot linger in dist/.
//   node scripts/test.mjs [--unit] [filter...]
//   --unit   skip integration tests (files under test/ and *.int.test.ts)
//   filter   only files whose path contains one of these strings
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const filters = args.filter((a) => !a.startsWith('--'));

function* walk(dir) {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) yield* walk(p);
    else if (p.endsWith('.test.js')) yield p;
  }
}

const files = [];
for (const top of ['src', 'test']) {
  for (const f of walk(join(root, 'dist', top))) {
    const rel = relative(join(root, 'dist'), f);
    if (!existsSync(join(root, rel.replace(/\.js$/, '.ts')))) continue;
    if (unitOnly && (rel.startsWith('test/') || rel.endsWith('.int.test.js'))) continue;
    if (filters.length && !filters.some((x) => rel.includes(x))) continue;
    files.push(f);
  }
}
files.sort();
if (!files.length) {
  console.error('no test files found (did the build run?)');
  process.exit(1);
}

let passed = 0;
let failed = 0;
let skipped = 0;
// SLUICE_TEST_CONCURRENCY raises the number of files run at once: a stress run that shakes out
// tests which only pass on an idle machine.
const concurrency = Number(process.env.SLUICE_TEST_CONCURRENCY) || Math.max(3, availableParallelism());
const stream = run({ files, concurrency, timeout: 180_000 });
stream.on('test:pass', (d) => {
  if (d.details?.type === 'suite') return;
  if (d.skip || d.todo) skipped++;
  else passed++;
});
stream.on('test:fail', (d) => {
  if (d.details?.type === 'suite') return;
  failed++;
});
const out = stream.compose(new spec());
out.pipe(process.stdout, { end: false });
out.on('end', () => {
  console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exitCode = failed ? 1 : 0;
});
