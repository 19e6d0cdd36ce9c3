import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests run from dist/test/..., sources live beside dist/). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** ../shared beside the repository: reference fixtures and the benchmark harness. */
export const sharedRoot = join(repoRoot, '..', 'shared');
