// External OAuth with keys given inline. The same code against a real authorization server
// (JWKS, introspection, caching) is tested in test/auth/oidc.test.ts.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createSecretKey } from 'node:crypto';
import { createServer } from 'node:net';
import { SignJWT, type JWTPayload } from 'jose';
import { externalOAuth, type ExternalOAuthOptions } from './oauth.js';
import { createMemoryLookup } from './memory-lookup.js';
import { virtualKeyHash } from './credentials.js';
import type { AuthRequest, AuthResult } from './types.js';

const NOW_S = 1_800_000_000;
const now = () => NOW_S * 1000;
const SECRET = 'external-authorization-server-key';
const key = createSecretKey(Buffer.from(SECRET));
const sign = (claims: JWTPayload, k = key) => new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(k);
const req = (authorization?: string): AuthRequest => ({ method: 'GET', path: '/', headers: authorization ? { authorization } : {}, query: new URLSearchParams() });
const lookup = createMemoryLookup({ policies: [{ id: 'partners', rate: 7, per: 1, access_rights: { orders: { api_id: 'orders' } } }] });

const options: ExternalOAuthOptions = {
  lookup,
  now,
  apiId: 'orders',
  apiName: 'Orders',
  providers: [{ jwt: { enabled: true, signingMethod: 'hmac', source: Buffer.from(SECRET).toString('base64') } }],
};

function fails(r: AuthResult, status: number, message: string) {
  assert.ok(!r.ok, JSON.stringify(r));
  assert.equal(r.failure.status, status);
  assert.equal(r.failure.message, message);
}

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('external OAuth (Tyk externalOAuth scheme)', () => {
  const cases: Array<{ name: string; claims?: JWTPayload; token?: () => Promise<string>; status: number; message: string }> = [
    { name: 'expired access token: 401', claims: { sub: 'svc', exp: NOW_S - 1 }, status: 401, message: 'key not authorized: token has expired' },
    { name: 'not yet valid: 401', claims: { sub: 'svc', nbf: NOW_S + 60 }, status: 401, message: 'key not authorized: token is not valid yet' },
    { name: 'wrong signature: 401', token: () => sign({ sub: 'svc' }, createSecretKey(Buffer.from('some-other-key-of-the-same-size!'))), status: 401, message: 'access token is not valid' },
    { name: 'garbage: 401', token: async () => 'a.b.c', status: 401, message: 'access token is not valid' },
    { name: 'no identity claim at all: 401', claims: { scope: 'x' }, status: 401, message: 'access token is not valid' },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const token = c.token ? await c.token() : await sign(c.claims!);
      fails(await externalOAuth(options)(req('Bearer ' + token)), c.status, c.message);
    });
  }

  test('no token: 400 authorization field missing (Tyk external OAuth)', async () => {
    fails(await externalOAuth(options)(req()), 400, 'authorization field missing');
  });

  test('a valid token gets Tyk virtual session granting this API', async () => {
    const token = await sign({ sub: 'svc-1', exp: NOW_S + 60 });
    const r = await externalOAuth(options)(req('Bearer ' + token));
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.identity.keyHash, virtualKeyHash('oauth', 'svc-1'));
    assert.deepEqual(r.identity.session, { alias: 'svc-1', expires: NOW_S + 60, access_rights: { orders: { api_id: 'orders', api_name: 'Orders' } } });
    assert.equal(r.identity.token, token);
  });

  test('identity: identityBaseField, else sub, else the client id claim', async () => {
    const withField = externalOAuth({ ...options, providers: [{ jwt: { ...options.providers[0]!.jwt!, identityBaseField: 'email' } }] });
    let r = await withField(req(await sign({ email: 'e@x', sub: 's' })));
    assert.ok(r.ok && r.identity.session.alias === 'e@x');
    r = await externalOAuth(options)(req(await sign({ client_id: 'machine' })));
    assert.ok(r.ok && r.identity.session.alias === 'machine');
  });

  test('defaultPolicies (Sluice) make the session from policies', async () => {
    const r = await externalOAuth({ ...options, defaultPolicies: ['partners'] })(req(await sign({ sub: 'svc' })));
    assert.ok(r.ok);
    assert.equal(r.identity.session.rate, 7);
    assert.deepEqual(r.identity.session.apply_policies, ['partners']);
    const bad = await externalOAuth({ ...options, defaultPolicies: ['missing'] })(req(await sign({ sub: 'svc' })));
    fails(bad, 403, 'key not authorized: no matching policy');
  });

  test('allowed issuers and audiences (Sluice additions)', async () => {
    const strict = externalOAuth({ ...options, providers: [{ jwt: { ...options.providers[0]!.jwt!, allowedIssuers: ['https://as'], allowedAudiences: ['orders'] } }] });
    assert.ok((await strict(req(await sign({ sub: 's', iss: 'https://as', aud: ['orders'] })))).ok);
    fails(await strict(req(await sign({ sub: 's', iss: 'https://evil', aud: 'orders' }))), 401, 'access token is not valid');
    fails(await strict(req(await sign({ sub: 's', iss: 'https://as', aud: 'billing' }))), 401, 'access token is not valid');
  });

  test('an unreachable introspection endpoint: 500, opaque tokens go there, JWTs do not', async () => {
    const port = await closedPort();
    const both = externalOAuth({
      ...options,
      providers: [
        {
          jwt: options.providers[0]!.jwt,
          introspection: { enabled: true, url: `http://127.0.0.1:${port}/introspect`, clientId: 'gw', clientSecret: 's', cache: { enabled: false } },
        },
      ],
    });
    fails(await both(req('Bearer opaque-token-value')), 500, 'error happened during the access token validation');
    assert.ok((await both(req('Bearer ' + (await sign({ sub: 'svc' }))))).ok);
  });
});
