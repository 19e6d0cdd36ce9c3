import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, createSecretKey } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { createApiAuthenticator, planApiAuthentication, checkApiAuthentication } from './api.js';
import { createMemoryLookup } from './memory-lookup.js';
import { sha256Hex, virtualKeyHash } from './credentials.js';
import { hasCode } from '../../engine/errors.js';
import type { ApiDefinition } from '../../config/load.js';
import type { AuthRequest } from './types.js';

const SECRET = 'the-jwt-secret-of-the-orders-api';
const SECRET_B64 = Buffer.from(SECRET).toString('base64');
const b64 = (s: string) => Buffer.from(s).toString('base64');
const jwt = (claims: Record<string, unknown>) => new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(createSecretKey(Buffer.from(SECRET)));

type Obj = Record<string, unknown>;
function doc(authentication: Obj | undefined, components: Obj = {}, security?: unknown): Obj {
  return {
    openapi: '3.0.3',
    info: { title: 'orders', version: '1' },
    paths: {},
    components: { securitySchemes: components },
    ...(security !== undefined ? { security } : {}),
    'x-tyk-api-gateway': {
      info: { name: 'orders', state: { active: true } },
      server: { listenPath: { value: '/orders/' }, ...(authentication ? { authentication } : {}) },
    },
    'x-tyk-streaming': { streams: {} },
  };
}
function api(document: Obj): ApiDefinition {
  return { id: 'orders', name: 'orders', listenPath: '/orders', active: true, internal: false, streams: [], document };
}
function req(headers: Record<string, string> = {}, query = ''): AuthRequest {
  return { method: 'GET', path: '/feed', headers, query: new URLSearchParams(query) };
}

const lookup = createMemoryLookup({
  keys: {
    'key-1': { alias: 'k1' },
    'key-orders': { alias: 'granted', access_rights: { orders: { api_id: 'orders' } } },
    'key-other': { alias: 'elsewhere', access_rights: { billing: { api_id: 'billing' } } },
  },
  basicUsers: { alice: { password: 'pw', session: { alias: 'alice' } } },
  policies: [{ id: 'gold', rate: 10, per: 1 }],
});

const COMPONENTS = {
  apiKey: { type: 'apiKey', in: 'header', name: 'Authorization' },
  jwtAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
  basicAuth: { type: 'http', scheme: 'basic' },
};
const TYK_SCHEMES = {
  apiKey: { enabled: true },
  jwtAuth: { enabled: true, source: SECRET_B64, signingMethod: 'hmac', policyFieldName: 'pol' },
  basicAuth: { enabled: true },
};

describe('mode selection', () => {
  test('no authentication object: keyless', async () => {
    const d = doc(undefined);
    assert.deepEqual(planApiAuthentication(d).plan, { enabled: false, mode: 'legacy', requirements: [] });
    const r = await createApiAuthenticator(api(d), { lookup })(req());
    assert.ok(r.ok);
    assert.equal(r.identity.keyHash, '');
  });

  test('enabled: false is keyless, whatever the schemes', async () => {
    const d = doc({ enabled: false, securitySchemes: TYK_SCHEMES }, COMPONENTS, [{ apiKey: [] }]);
    assert.equal(planApiAuthentication(d).plan?.enabled, false);
    assert.ok((await createApiAuthenticator(api(d), { lookup })(req())).ok);
  });

  test('legacy (the default): only the first requirement counts', async () => {
    const d = doc({ enabled: true, securitySchemes: TYK_SCHEMES }, COMPONENTS, [{ jwtAuth: [] }, { apiKey: [] }]);
    const plan = planApiAuthentication(d).plan!;
    assert.equal(plan.mode, 'legacy');
    assert.deepEqual(plan.requirements.map((r) => r.map((s) => s.name)), [['jwtAuth']]);
    const auth = createApiAuthenticator(api(d), { lookup });
    assert.ok((await auth(req({ authorization: 'Bearer ' + (await jwt({ sub: 'a', pol: 'gold' })) }))).ok);
    const r = await auth(req({ authorization: 'key-1' }));
    assert.ok(!r.ok);
    assert.equal(r.failure.message, 'Key not authorized');
  });

  test('compliant: any requirement (OR)', async () => {
    const d = doc({ enabled: true, securityProcessingMode: 'compliant', securitySchemes: TYK_SCHEMES }, COMPONENTS, [{ jwtAuth: [] }, { apiKey: [] }, { basicAuth: [] }]);
    assert.deepEqual(planApiAuthentication(d).plan!.requirements.map((r) => r.map((s) => s.kind)), [['jwt'], ['authToken'], ['basic']]);
    const auth = createApiAuthenticator(api(d), { lookup });
    const viaJwt = await auth(req({ authorization: 'Bearer ' + (await jwt({ sub: 'a', pol: 'gold' })) }));
    assert.ok(viaJwt.ok && viaJwt.identity.keyHash === virtualKeyHash('jwt', 'a'));
    const viaKey = await auth(req({ authorization: 'key-1' }));
    assert.ok(viaKey.ok && viaKey.identity.keyHash === sha256Hex('key-1'));
    const viaBasic = await auth(req({ authorization: 'Basic ' + b64('alice:pw') }));
    assert.ok(viaBasic.ok && viaBasic.identity.session.alias === 'alice');
  });

  test('compliant: with nothing sent, the first requirement answers', async () => {
    const d = doc({ enabled: true, securityProcessingMode: 'compliant', securitySchemes: TYK_SCHEMES }, COMPONENTS, [{ jwtAuth: [] }, { apiKey: [] }]);
    const r = await createApiAuthenticator(api(d), { lookup })(req());
    assert.ok(!r.ok);
    assert.deepEqual(r.failure, { status: 400, message: 'Authorization field missing' });
  });

  test('compliant: a credential that was sent and refused beats a missing one', async () => {
    const d = doc(
      { enabled: true, securityProcessingMode: 'compliant', securitySchemes: { ...TYK_SCHEMES, apiKey: { enabled: true, header: { enabled: false }, query: { enabled: true, name: 'key' } } } },
      { ...COMPONENTS, apiKey: { type: 'apiKey', in: 'query', name: 'key' } },
      [{ apiKey: [] }, { jwtAuth: [] }],
    );
    const r = await createApiAuthenticator(api(d), { lookup })(req({ authorization: 'Bearer ' + (await jwt({ sub: 'a', pol: 'gold', exp: 1 })) }));
    assert.ok(!r.ok);
    assert.deepEqual(r.failure, { status: 401, message: 'Key not authorized: token has expired' });
  });

  test('an AND requirement needs every scheme; the session comes by Tyk precedence or baseIdentityProvider', async () => {
    const schemes = { apiKey: { enabled: true }, basicAuth: { enabled: true } };
    const comps = { apiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key' }, basicAuth: COMPONENTS.basicAuth };
    const both = { 'x-api-key': 'key-1', authorization: 'Basic ' + b64('alice:pw') };
    const d = doc({ enabled: true, securitySchemes: schemes }, comps, [{ apiKey: [], basicAuth: [] }]);
    const auth = createApiAuthenticator(api(d), { lookup });
    const r = await auth(req(both));
    assert.ok(r.ok && r.identity.session.alias === 'k1', 'the auth token wins');
    assert.ok(!(await auth(req({ 'x-api-key': 'key-1' }))).ok);
    assert.ok(!(await auth(req({ authorization: 'Basic ' + b64('alice:pw') }))).ok);
    const d2 = doc({ enabled: true, baseIdentityProvider: 'basic_auth_user', securitySchemes: schemes }, comps, [{ apiKey: [], basicAuth: [] }]);
    const r2 = await createApiAuthenticator(api(d2), { lookup })(req(both));
    assert.ok(r2.ok && r2.identity.session.alias === 'alice');
  });

  test('a disabled Tyk scheme is skipped (legacy)', async () => {
    const d = doc({ enabled: true, securitySchemes: { ...TYK_SCHEMES, jwtAuth: { enabled: false } } }, COMPONENTS, [{ jwtAuth: [], apiKey: [] }]);
    assert.deepEqual(planApiAuthentication(d).plan!.requirements.map((r) => r.map((s) => s.name)), [['apiKey']]);
  });

  test('enabled with no scheme at all: an auth token from Authorization, as in Tyk', async () => {
    const d = doc({ enabled: true });
    const plan = planApiAuthentication(d).plan!;
    assert.deepEqual(plan.requirements.map((r) => r.map((s) => [s.kind, s.sources])), [[['authToken', { header: 'Authorization' }]]]);
    const auth = createApiAuthenticator(api(d), { lookup });
    assert.ok((await auth(req({ authorization: 'key-1' }))).ok);
    const missing = await auth(req());
    assert.ok(!missing.ok);
    assert.deepEqual(missing.failure, { status: 401, message: 'Authorization field missing' });
  });

  test('apiKey sources: OAS in/name plus Tyk header/query/cookie; a nameless query takes the header name', () => {
    const d = doc(
      { enabled: true, securitySchemes: { apiKey: { enabled: true, header: { enabled: true, name: 'X-Key' }, query: { enabled: true }, cookie: { enabled: true, name: 'sid' } } } },
      { apiKey: { type: 'apiKey', in: 'query', name: 'api_key' } },
      [{ apiKey: [] }],
    );
    assert.deepEqual(planApiAuthentication(d).plan!.requirements[0]![0]!.sources, { header: 'X-Key', query: 'api_key', cookie: 'sid' });
    const d2 = doc({ enabled: true, securitySchemes: { apiKey: { enabled: true, query: { enabled: true } } } }, { apiKey: { type: 'apiKey', in: 'cookie', name: 'c' } }, [{ apiKey: [] }]);
    assert.deepEqual(planApiAuthentication(d2).plan!.requirements[0]![0]!.sources, { query: 'Authorization', cookie: 'c' });
  });

  test('JWT sources as in the Tyk docs example (header, query-auth, cookie-auth)', async () => {
    const d = doc(
      {
        enabled: true,
        securitySchemes: {
          myAuthScheme: {
            enabled: true,
            header: { enabled: true, name: 'Authorization' },
            query: { enabled: true, name: 'query-auth' },
            cookie: { enabled: true, name: 'cookie-auth' },
            source: SECRET_B64,
            defaultPolicies: ['gold'],
          },
        },
      },
      { myAuthScheme: { type: 'http', scheme: 'bearer', bearerFormat: 'jwt' } },
      [{ myAuthScheme: [] }],
    );
    const auth = createApiAuthenticator(api(d), { lookup });
    const token = await jwt({ sub: 'u' });
    assert.ok((await auth(req({}, 'query-auth=' + token))).ok);
    assert.ok((await auth(req({ cookie: 'cookie-auth=' + token }))).ok);
    assert.ok((await auth(req({ authorization: token }))).ok);
  });
});

describe('custom plugin in the plan', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-auth-api-'));
  writeFileSync(join(dir, 'auth.mjs'), `export function check(req, ctx) { return ctx.credential === 'open-sesame' ? { ok: true, identity: ctx.virtualIdentity('c', {}) } : { ok: false, failure: { status: 403, message: 'no' } }; }`);
  const custom = { enabled: true, config: { enabled: true, path: './auth.mjs', functionName: 'check' } };

  test('legacy: the plugin joins the first requirement', async () => {
    const d = doc({ enabled: true, custom, securitySchemes: { apiKey: { enabled: true, header: { enabled: true, name: 'X-Key' } } } }, { apiKey: { type: 'apiKey', in: 'header', name: 'X-Key' } }, [{ apiKey: [] }]);
    assert.deepEqual(planApiAuthentication(d).plan!.requirements.map((r) => r.map((s) => s.kind)), [['authToken', 'custom']]);
    const auth = createApiAuthenticator(api(d), { lookup, baseDir: dir });
    assert.ok((await auth(req({ 'x-key': 'key-1', authorization: 'open-sesame' }))).ok);
    assert.ok(!(await auth(req({ 'x-key': 'key-1' }))).ok);
  });

  test('compliant: through a custom requirement in authentication.security', async () => {
    const d = doc({ enabled: true, securityProcessingMode: 'compliant', custom, security: [['custom']], securitySchemes: TYK_SCHEMES }, COMPONENTS, [{ apiKey: [] }]);
    assert.deepEqual(planApiAuthentication(d).plan!.requirements.map((r) => r.map((s) => s.kind)), [['authToken'], ['custom']]);
    const auth = createApiAuthenticator(api(d), { lookup, baseDir: dir });
    assert.ok((await auth(req({ authorization: 'open-sesame' }))).ok);
    assert.ok((await auth(req({ authorization: 'key-1' }))).ok);
  });

  test('compliant: an enabled plugin no requirement names is one more alternative', () => {
    const d = doc({ enabled: true, securityProcessingMode: 'compliant', custom, securitySchemes: TYK_SCHEMES }, COMPONENTS, [{ apiKey: [] }]);
    assert.deepEqual(planApiAuthentication(d).plan!.requirements.map((r) => r.map((s) => s.kind)), [['authToken'], ['custom']]);
  });

  test('only custom, keyed by itself', async () => {
    const d = doc({ enabled: true, custom });
    const auth = createApiAuthenticator(api(d), { lookup, baseDir: dir });
    assert.ok((await auth(req({ authorization: 'open-sesame' }))).ok);
  });
});

describe('access rights', () => {
  const d = doc({ enabled: true, securitySchemes: { apiKey: { enabled: true } } }, { apiKey: COMPONENTS.apiKey }, [{ apiKey: [] }]);
  test('a key for another API only: 403', async () => {
    const r = await createApiAuthenticator(api(d), { lookup })(req({ authorization: 'key-other' }));
    assert.ok(!r.ok);
    assert.deepEqual(r.failure, { status: 403, message: 'Access to this API has been disallowed' });
  });
  test('a key granting this API, or with no rights listed, passes', async () => {
    const auth = createApiAuthenticator(api(d), { lookup });
    assert.ok((await auth(req({ authorization: 'key-orders' }))).ok);
    assert.ok((await auth(req({ authorization: 'key-1' }))).ok);
  });
  test('checkAccessRights: false leaves it to a later stage', async () => {
    assert.ok((await createApiAuthenticator(api(d), { lookup, checkAccessRights: false })(req({ authorization: 'key-other' }))).ok);
  });
});

describe('configuration errors name the path', () => {
  const A = 'x-tyk-api-gateway.server.authentication';
  const cases: Array<{ name: string; d: Obj; paths: string[] }> = [
    { name: 'enabled missing', d: doc({ securitySchemes: {} }), paths: [`${A}.enabled`] },
    { name: 'unknown processing mode', d: doc({ enabled: true, securityProcessingMode: 'strict' }), paths: [`${A}.securityProcessingMode`] },
    { name: 'a requirement naming an undefined scheme', d: doc({ enabled: true, securitySchemes: { ghost: { enabled: true } } }, {}, [{ ghost: [] }]), paths: ['security[0].ghost'] },
    { name: 'openIdConnect', d: doc({ enabled: true, securitySchemes: { oidc: { enabled: true } } }, { oidc: { type: 'openIdConnect', openIdConnectUrl: 'https://x' } }, [{ oidc: [] }]), paths: ['components.securitySchemes.oidc.type'] },
    { name: 'bearer without JWT format', d: doc({ enabled: true, securitySchemes: { b: { enabled: true } } }, { b: { type: 'http', scheme: 'bearer' } }, [{ b: [] }]), paths: ['components.securitySchemes.b.bearerFormat'] },
    { name: "Tyk's own OAuth server", d: doc({ enabled: true, securitySchemes: { o: { enabled: true, allowedAuthorizeTypes: ['code'] } } }, { o: { type: 'oauth2', flows: {} } }, [{ o: [] }]), paths: [`${A}.securitySchemes.o`] },
    {
      name: 'JWT with a bad key, bad jwksURIs and bad defaultPolicies',
      d: doc({ enabled: true, securitySchemes: { j: { enabled: true, signingMethod: 'rsa', source: b64('not a key'), jwksURIs: 'x', defaultPolicies: 'gold' } } }, { j: COMPONENTS.jwtAuth }, [{ j: [] }]),
      paths: [`${A}.securitySchemes.j.source`, `${A}.securitySchemes.j.jwksURIs`, `${A}.securitySchemes.j.defaultPolicies`],
    },
    { name: 'JWT signing method', d: doc({ enabled: true, securitySchemes: { j: { enabled: true, signingMethod: 'md5' } } }, { j: COMPONENTS.jwtAuth }, [{ j: [] }]), paths: [`${A}.securitySchemes.j.signingMethod`] },
    { name: 'JWKS URI that is not http(s)', d: doc({ enabled: true, securitySchemes: { j: { enabled: true, signingMethod: 'rsa', jwksURIs: [{ url: 'ftp://x' }] } } }, { j: COMPONENTS.jwtAuth }, [{ j: [] }]), paths: [`${A}.securitySchemes.j.jwksURIs[0].url`] },
    { name: 'a required scheme without Tyk settings', d: doc({ enabled: true, securitySchemes: {} }, COMPONENTS, [{ jwtAuth: [] }]), paths: [`${A}.securitySchemes.jwtAuth`] },
    { name: 'HMAC: unknown algorithm, bad skew', d: doc({ enabled: true, hmac: { enabled: true, allowedAlgorithms: ['hmac-md5'], allowedClockSkew: 'x' } }), paths: [`${A}.hmac.allowedAlgorithms[0]`, `${A}.hmac.allowedClockSkew`] },
    { name: 'an hmac requirement without authentication.hmac', d: doc({ enabled: true, securityProcessingMode: 'compliant', security: [['hmac']] }), paths: [`${A}.security[0]`] },
    { name: 'mtls requirement (certificate-bound keys)', d: doc({ enabled: true, securityProcessingMode: 'compliant', security: [['mtls']] }), paths: [`${A}.security[0]`] },
    { name: 'custom plugin without path and function', d: doc({ enabled: true, custom: { enabled: true, config: { enabled: true } } }), paths: [`${A}.custom.config.path`, `${A}.custom.config.functionName`] },
    {
      name: 'schemes enabled but the first requirement names none',
      d: doc({ enabled: true, securitySchemes: { apiKey: { enabled: true }, jwtAuth: { enabled: false } } }, COMPONENTS, [{ jwtAuth: [] }, { apiKey: [] }]),
      paths: [`${A}.securitySchemes`],
    },
    { name: 'all sources disabled', d: doc({ enabled: true, securitySchemes: { j: { enabled: true, source: SECRET_B64, header: { enabled: false } } } }, { j: COMPONENTS.jwtAuth }, [{ j: [] }]), paths: [`${A}.securitySchemes.j`] },
    {
      name: 'external OAuth without providers, and introspection without credentials',
      d: doc(
        { enabled: true, securityProcessingMode: 'compliant', securitySchemes: { o: { enabled: true, providers: [] }, p: { enabled: true, providers: [{ introspection: { enabled: true, url: 'https://as/introspect' } }] } } },
        { o: { type: 'oauth2', flows: {} }, p: { type: 'oauth2', flows: {} } },
        [{ o: [] }, { p: [] }],
      ),
      paths: [`${A}.securitySchemes.o.providers`, `${A}.securitySchemes.p.providers[0].introspection.clientId`, `${A}.securitySchemes.p.providers[0].introspection.clientSecret`],
    },
    { name: 'compliant with nothing usable', d: doc({ enabled: true, securityProcessingMode: 'compliant', securitySchemes: { apiKey: { enabled: false } } }, COMPONENTS, [{ apiKey: [] }]), paths: ['security'] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const issues = checkApiAuthentication(c.d);
      for (const p of c.paths) assert.ok(issues.some((i) => i.path === p), `expected an issue at ${p}; got ${JSON.stringify(issues)}`);
      assert.throws(
        () => createApiAuthenticator(api(c.d), { lookup }),
        (err: unknown) => hasCode(err, 'SLU_ERR_API_INVALID') && c.paths.every((p) => (err as Error).message.includes(p)),
      );
    });
  }
});

describe('HMAC request signing in the plan', () => {
  const DATE = new Date().toUTCString();
  const hmacLookup = createMemoryLookup({
    keys: {
      'hk-1': { alias: 'signer', hmac_enabled: true, hmac_string: 'shh', access_rights: { orders: { api_id: 'orders' } } },
      'key-1': { alias: 'k1' },
    },
  });
  const signedReq = (secret = 'shh'): AuthRequest => {
    const text = `(request-target): get /orders/feed\ndate: ${DATE}`;
    const sig = encodeURIComponent(createHmac('sha256', secret).update(text).digest('base64'));
    return {
      method: 'GET',
      path: '/feed',
      requestPath: '/orders/feed',
      headers: { date: DATE, authorization: `Signature keyId="hk-1",algorithm="hmac-sha256",headers="(request-target) date",signature="${sig}"` },
      query: new URLSearchParams(),
    };
  };
  test('authentication.hmac alone (legacy): signed requests pass, others get 400', async () => {
    const d = doc({ enabled: true, hmac: { enabled: true, allowedAlgorithms: ['hmac-sha256'], allowedClockSkew: 60_000 } });
    const { plan } = planApiAuthentication(d);
    assert.deepEqual(plan?.requirements.map((r) => r.map((s) => s.kind)), [['hmac']]);
    const auth = createApiAuthenticator(api(d), { lookup: hmacLookup });
    const ok = await auth(signedReq());
    assert.ok(ok.ok && ok.identity.session.alias === 'signer');
    const bad = await auth(signedReq('wrong'));
    assert.ok(!bad.ok && bad.failure.status === 400 && bad.failure.message === 'Authorization field missing, malformed or invalid');
  });
  test('compliant: an hmac requirement ORed with an auth token', async () => {
    const d = doc(
      { enabled: true, securityProcessingMode: 'compliant', hmac: { enabled: true }, securitySchemes: { apiKey: { enabled: true } }, security: [['hmac']] },
      { apiKey: COMPONENTS.apiKey },
      [{ apiKey: [] }],
    );
    const { plan } = planApiAuthentication(d);
    assert.deepEqual(plan?.requirements.map((r) => r.map((s) => s.kind)), [['authToken'], ['hmac']]);
    const auth = createApiAuthenticator(api(d), { lookup: hmacLookup });
    assert.ok((await auth(signedReq())).ok);
    assert.ok((await auth(req({ authorization: 'key-1' }))).ok);
    // The Signature value is also read as an auth token (unknown: 403), the first requirement's answer.
    const bad = await auth(signedReq('wrong'));
    assert.ok(!bad.ok && bad.failure.status === 403);
  });
  test('baseIdentityProvider hmac_key picks the HMAC session in an AND', async () => {
    const d = doc(
      { enabled: true, baseIdentityProvider: 'hmac_key', hmac: { enabled: true }, securitySchemes: { apiKey: { enabled: true, header: { enabled: true, name: 'X-Api-Key' } } } },
      { apiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key' } },
      [{ apiKey: [] }],
    );
    const auth = createApiAuthenticator(api(d), { lookup: hmacLookup });
    const r0 = signedReq();
    const r = await auth({ ...r0, headers: { ...r0.headers, 'x-api-key': 'key-1' } });
    assert.ok(r.ok && r.identity.session.alias === 'signer');
  });
});
