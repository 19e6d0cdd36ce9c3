// Mode selection from the shared Tyk OAS fixtures (and variants of them), end to end through
// createApiAuthenticator.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, basename } from 'node:path';
import { createSecretKey } from 'node:crypto';
import { parse } from 'yaml';
import { SignJWT } from 'jose';
import { sharedRoot } from '../support/paths.js';
import { createApiAuthenticator, planApiAuthentication } from '../../src/access/auth/api.js';
import { createMemoryLookup } from '../../src/access/auth/memory-lookup.js';
import type { ApiDefinition } from '../../src/config/load.js';
import type { AuthRequest } from '../../src/access/auth/types.js';

// ../shared beside the repository; found from the build output or, when built elsewhere, the working directory.
const dir = [join(sharedRoot, 'fixtures', 'apis'), join(process.cwd(), '..', 'shared', 'fixtures', 'apis')].find((d) => existsSync(d)) ?? join(sharedRoot, 'fixtures', 'apis');

function load(file: string): Record<string, unknown> {
  return parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;
}
function api(document: Record<string, unknown>, id = 'orders'): ApiDefinition {
  return { id, name: id, listenPath: '/' + id, active: true, internal: false, streams: [], document };
}
const req = (headers: Record<string, string> = {}, query = ''): AuthRequest => ({ method: 'GET', path: '/feed', headers, query: new URLSearchParams(query) });
const lookup = createMemoryLookup({
  keys: { 'orders-key': { alias: 'orders client', access_rights: { orders: { api_id: 'orders' } } } },
  policies: [{ id: 'readers', rate: 5, per: 1 }],
});

describe('shared Tyk OAS fixtures', () => {
  test('orders-kafka.json: auth token from the Authorization header or the "token" query parameter', async () => {
    const doc = load('orders-kafka.json');
    const { plan, issues } = planApiAuthentication(doc);
    assert.deepEqual(issues, []);
    assert.equal(plan!.mode, 'legacy');
    assert.deepEqual(
      plan!.requirements.map((r) => r.map((s) => ({ name: s.name, kind: s.kind, sources: s.sources }))),
      [[{ name: 'authToken', kind: 'authToken', sources: { header: 'Authorization', query: 'token' } }]],
    );
    const auth = createApiAuthenticator(api(doc), { lookup });
    const cases: Array<[string, AuthRequest, number | 'ok', string?]> = [
      ['EventSource with ?token=', req({}, 'token=orders-key'), 'ok'],
      ['Authorization header', req({ authorization: 'orders-key' }), 'ok'],
      ['Authorization: Bearer', req({ authorization: 'Bearer orders-key' }), 'ok'],
      ['nothing', req(), 401, 'Authorization field missing'],
      ['a wrong token', req({}, 'token=guess'), 403, 'Access to this API has been disallowed'],
      ['token in a cookie (not enabled)', req({ cookie: 'token=orders-key' }), 401, 'Authorization field missing'],
    ];
    for (const [name, r, status, message] of cases) {
      const res = await auth(r);
      if (status === 'ok') assert.ok(res.ok, name);
      else {
        assert.ok(!res.ok, name);
        assert.deepEqual(res.failure, { status, message }, name);
      }
    }
  });

  test('every fixture without authentication is keyless', async () => {
    const files = readdirSync(dir).filter((f) => /\.(json|ya?ml)$/.test(f));
    assert.ok(files.length >= 2);
    for (const f of files) {
      const doc = load(f);
      const { plan, issues } = planApiAuthentication(doc);
      assert.deepEqual(issues, [], f);
      const gw = doc['x-tyk-api-gateway'] as { server?: { authentication?: unknown } };
      if (gw.server?.authentication) continue;
      assert.equal(plan!.enabled, false, f);
      const r = await createApiAuthenticator(api(doc, basename(f).split('.')[0]!), { lookup })(req());
      assert.ok(r.ok, f);
    }
  });

  test('orders-kafka.json turned compliant with a JWT alternative: key or JWT', async () => {
    const doc = structuredClone(load('orders-kafka.json'));
    const secret = 'orders-jwt-secret-orders-jwt-sec';
    (doc.components as { securitySchemes: Record<string, unknown> }).securitySchemes.jwtAuth = { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' };
    doc.security = [{ authToken: [] }, { jwtAuth: [] }];
    const auth = (doc['x-tyk-api-gateway'] as { server: { authentication: Record<string, unknown> } }).server.authentication;
    auth.securityProcessingMode = 'compliant';
    (auth.securitySchemes as Record<string, unknown>).jwtAuth = {
      enabled: true,
      header: { enabled: true, name: 'Authorization' },
      query: { enabled: true, name: 'token' },
      source: Buffer.from(secret).toString('base64'),
      defaultPolicies: ['readers'],
    };
    const { plan } = planApiAuthentication(doc);
    assert.deepEqual(plan!.requirements.map((r) => r.map((s) => s.kind)), [['authToken'], ['jwt']]);
    const authn = createApiAuthenticator(api(doc), { lookup });
    const token = await new SignJWT({ sub: 'browser-user' }).setProtectedHeader({ alg: 'HS256' }).sign(createSecretKey(Buffer.from(secret)));
    const viaJwt = await authn(req({}, 'token=' + token));
    assert.ok(viaJwt.ok && viaJwt.identity.session.rate === 5);
    assert.ok((await authn(req({}, 'token=orders-key'))).ok);
    // the same document in legacy mode only honours the first requirement
    auth.securityProcessingMode = 'legacy';
    assert.ok(!(await createApiAuthenticator(api(doc), { lookup })(req({}, 'token=' + token))).ok);
  });

  test('orders-kafka.json with authentication disabled is keyless', async () => {
    const doc = structuredClone(load('orders-kafka.json'));
    (doc['x-tyk-api-gateway'] as { server: { authentication: Record<string, unknown> } }).server.authentication.enabled = false;
    assert.ok((await createApiAuthenticator(api(doc), { lookup })(req())).ok);
  });
});
