// The OpenAPI document of /api/ and the routes actually served must list the same operations.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openApiDocument } from './openapi.js';
import { startTestGateway, type TestGateway } from './testing.js';
import { MemoryStore } from '../store/memory.js';
import { MemoryState } from '../state/memory.js';
import { MemoryBus } from '../state/bus.js';

let gw: TestGateway;
before(async () => {
  gw = await startTestGateway({ use: { store: new MemoryStore(), state: new MemoryState(), bus: new MemoryBus() } });
});
after(async () => {
  await gw.close();
});

type Paths = Record<string, Record<string, unknown>>;
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

function documented(): Set<string> {
  const paths = openApiDocument('x').paths as Paths;
  const ops = new Set<string>();
  for (const [p, item] of Object.entries(paths)) for (const m of METHODS) if (item[m]) ops.add(`${m.toUpperCase()} ${p}`);
  return ops;
}

test('every route served under /api/ is documented, and every documented operation is served', () => {
  const served = new Set(gw.plane.handler.restRoutes.map((r) => `${r.method} ${r.path}`));
  const docs = documented();
  for (const s of served) assert.ok(docs.has(s), `${s} is served but not in openapi.ts`);
  for (const d of docs) assert.ok(served.has(d), `${d} is in openapi.ts but not served`);
});

test('every documented operation answers (no fall-through 404, no 405)', async () => {
  for (const op of documented()) {
    const [method, path] = op.split(' ') as [string, string];
    const concrete = path.replace(/\{keyHash\}/g, 'a'.repeat(64)).replace(/\{[^}]+\}/g, 'nothing-here');
    const body = method === 'POST' || method === 'PUT' ? {} : undefined;
    const r = await gw.req(method, concrete, body);
    assert.notEqual(r.status, 405, op);
    assert.ok(!(r.status === 404 && JSON.stringify(r.body) === '{"error":"not found"}'), `${op} fell through to the gateway`);
    if (r.status >= 400) assert.match(String((r.body as { code?: string }).code), /^SLU_ERR_/, `${op}: ${JSON.stringify(r.body)}`);
  }
});

test('the document is served without the secret, refs resolve, and it is OpenAPI 3', async () => {
  const r = await gw.req('GET', '/api/openapi.json', undefined, { 'x-tyk-authorization': '' });
  assert.equal(r.status, 200);
  const doc = r.body as { openapi: string; components: { schemas: Record<string, unknown> } };
  assert.match(doc.openapi, /^3\./);
  const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([A-Za-z]+)"/g)].map((m) => m[1]!);
  for (const ref of refs) assert.ok(doc.components.schemas[ref], `missing schema ${ref}`);
});
