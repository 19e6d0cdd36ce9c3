// Keeps the error codes, their documentation and their types in step (as Fastify does).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { errorCodes, SluiceError, type ErrorCode } from '../src/engine/errors.js';
import { repoRoot } from './support/paths.js';

test('every error code is documented in docs/errors.md, and every documented code exists', () => {
  const doc = readFileSync(`${repoRoot}/docs/errors.md`, 'utf8');
  const documented = new Set([...doc.matchAll(/^## (SLU_ERR_[A-Z0-9_]+)$/gm)].map((m) => m[1]!));
  const codes = Object.keys(errorCodes);
  for (const c of codes) assert.ok(documented.has(c), `${c} is missing from docs/errors.md`);
  for (const d of documented) assert.ok(codes.includes(d), `docs/errors.md lists ${d}, which does not exist`);
});

test('each code builds an error carrying that code and its status', () => {
  for (const code of Object.keys(errorCodes) as ErrorCode[]) {
    const e = new SluiceError(code, ['a', 'b', 'c']);
    assert.equal(e.code, code);
    assert.equal(e.status, errorCodes[code].status);
    assert.ok(!e.message.includes('%s'));
  }
});
