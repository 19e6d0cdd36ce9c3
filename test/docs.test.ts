// The component reference in docs/components/ is generated from the specs; this keeps it in sync.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { generateDocs } from '../src/config/docs.js';
import { createRegistry } from '../src/cli/wiring.js';
import { repoRoot } from './support/paths.js';

test('docs/components matches the component specs (run `npm run docs` to update)', () => {
  const stale: string[] = [];
  for (const [rel, content] of generateDocs(createRegistry())) {
    const p = join(repoRoot, 'docs', 'components', rel);
    if (!existsSync(p) || readFileSync(p, 'utf8') !== content) stale.push(rel);
  }
  assert.deepEqual(stale, [], `stale docs: ${stale.join(', ')}`);
});
