import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { createSecretKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SignJWT, exportJWK, exportSPKI, type JWTPayload } from 'jose';
import { jwtAuth, type JwtAuthOptions } from './jwt.js';
import { createMemoryLookup } from './memory-lookup.js';
import { virtualKeyHash } from './credentials.js';
import type { AuthRequest, AuthResult } from './types.js';

const NOW_S = 1_800_000_000;
const now = () => NOW_S * 1000;
const SECRET = 'a-shared-secret-of-some-length!!';
const SECRET_B64 = Buffer.from(SECRET).toString('base64');
const hmacKey = createSecretKey(Buffer.from(SECRET));

const req = (authorization?: string, query = ''): AuthRequest => ({
  method: 'GET',
  path: '/',
  headers: authorization === undefined ? {} : { authorization },
  query: new URLSearchParams(query),
});

async function sign(claims: JWTPayload, key: KeyObject, alg = 'HS256', kid?: string): Promise<string> {
  const jwt = new SignJWT(claims).setProtectedHeader(kid ? { alg, kid } : { alg });
  return jwt.sign(key);
}

const lookup = createMemoryLookup({
  now,
  policies: [
    { id: 'gold', rate: 100, per: 1, access_rights: { orders: { api_id: 'orders' } } },
    { id: 'silver', rate: 10, per: 1, access_rights: { orders: { api_id: 'orders' } } },
    { id: 'read', rate: 5, per: 1, access_rights: { reads: { api_id: 'reads' } } },
    { id: 'write', rate: 1, per: 1, access_rights: { writes: { api_id: 'writes' } } },
    { id: 'old', active: false },
  ],
  keys: {
    'key-one': { alias: 'one-to-one', jwt_data: { secret: SECRET } },
    'key-nosecret': { alias: 'no secret' },
  },
});

const base: JwtAuthOptions = { lookup, now, source: SECRET_B64, signingMethod: 'hmac', policyFieldName: 'pol' };

function expectFail(r: AuthResult, status: number, message: string): void {
  assert.ok(!r.ok, 'expected a failure, got ' + JSON.stringify(r));
  assert.equal(r.failure.status, status);
  assert.equal(r.failure.message, message);
}

describe('JWT (Tyk jwt scheme)', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ec384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  let rsaPem = '';
  let ecPem = '';
  let ec384Pem = '';
  before(async () => {
    rsaPem = await exportSPKI(rsa.publicKey);
    ecPem = await exportSPKI(ec.publicKey);
    ec384Pem = await exportSPKI(ec384.publicKey);
  });

  describe('signature and algorithms', () => {
    const valid = { sub: 'alice', pol: 'gold', exp: NOW_S + 60 };
    const cases: Array<{ name: string; opts: () => Partial<JwtAuthOptions>; token: () => Promise<string>; ok?: true; status?: number; message?: string }> = [
      { name: 'HS256 with a base64 secret in source', opts: () => ({}), token: () => sign(valid, hmacKey, 'HS256'), ok: true },
      { name: 'HS384', opts: () => ({}), token: () => sign(valid, hmacKey, 'HS384'), ok: true },
      { name: 'HS512', opts: () => ({}), token: () => sign(valid, hmacKey, 'HS512'), ok: true },
      { name: 'RS256 with a base64 PEM (Tyk form)', opts: () => ({ signingMethod: 'rsa', source: Buffer.from(rsaPem).toString('base64') }), token: () => sign(valid, rsa.privateKey, 'RS256'), ok: true },
      { name: 'RS512 with a plain PEM', opts: () => ({ signingMethod: 'rsa', source: rsaPem }), token: () => sign(valid, rsa.privateKey, 'RS512'), ok: true },
      { name: 'PS256 under rsa', opts: () => ({ signingMethod: 'rsa', source: rsaPem }), token: () => sign(valid, rsa.privateKey, 'PS256'), ok: true },
      { name: 'ES256 under ecdsa', opts: () => ({ signingMethod: 'ecdsa', source: ecPem }), token: () => sign(valid, ec.privateKey, 'ES256'), ok: true },
      { name: 'ES384 under ecdsa', opts: () => ({ signingMethod: 'ecdsa', source: ec384Pem }), token: () => sign(valid, ec384.privateKey, 'ES384'), ok: true },
      {
        name: 'a JWK as source',
        opts: () => ({ signingMethod: 'RS256' }),
        token: () => sign(valid, rsa.privateKey, 'RS256'),
        ok: true,
      },
      {
        name: 'HS256 token on an rsa API: 403 Unexpected signing method',
        opts: () => ({ signingMethod: 'rsa', source: rsaPem }),
        token: () => sign(valid, hmacKey, 'HS256'),
        status: 403,
        message: 'Key not authorized: Unexpected signing method',
      },
      {
        name: 'RS256 token on an hmac API: 403 Unexpected signing method',
        opts: () => ({}),
        token: () => sign(valid, rsa.privateKey, 'RS256'),
        status: 403,
        message: 'Key not authorized: Unexpected signing method',
      },
      {
        name: 'an exact algorithm allows only that one',
        opts: () => ({ signingMethod: 'RS256', source: rsaPem }),
        token: () => sign(valid, rsa.privateKey, 'PS256'),
        status: 403,
        message: 'Key not authorized: Unexpected signing method',
      },
      {
        name: 'alg none: 403',
        opts: () => ({}),
        token: async () => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(valid)).toString('base64url')}.`,
        status: 403,
        message: 'Key not authorized: Unexpected signing method',
      },
      {
        name: 'wrong secret: 403 Key not authorized',
        opts: () => ({}),
        token: () => sign(valid, createSecretKey(Buffer.from('another-secret-another-secret!!!')), 'HS256'),
        status: 403,
        message: 'Key not authorized',
      },
      {
        name: 'tampered payload: 403',
        opts: () => ({}),
        token: async () => {
          const [h, , s] = (await sign(valid, hmacKey)).split('.');
          return `${h}.${Buffer.from(JSON.stringify({ ...valid, pol: 'silver' })).toString('base64url')}.${s}`;
        },
        status: 403,
        message: 'Key not authorized',
      },
      { name: 'not a JWT: 403', opts: () => ({}), token: async () => 'not-a-jwt', status: 403, message: 'Key not authorized' },
    ];
    for (const c of cases) {
      test(c.name, async () => {
        let opts = c.opts();
        if (c.name === 'a JWK as source') opts = { ...opts, source: JSON.stringify(await exportJWK(rsa.publicKey)) };
        const r = await jwtAuth({ ...base, ...opts })(req('Bearer ' + (await c.token())));
        if (c.ok) assert.ok(r.ok, JSON.stringify(r));
        else expectFail(r, c.status!, c.message!);
      });
    }
  });

  describe('time claims (Tyk skews, default 0)', () => {
    const cases: Array<{ name: string; claims: JWTPayload; opts?: Partial<JwtAuthOptions>; status?: number; message?: string }> = [
      { name: 'expired: 401', claims: { exp: NOW_S - 1 }, status: 401, message: 'Key not authorized: token has expired' },
      { name: 'expired within expiresAtValidationSkew passes', claims: { exp: NOW_S - 5 }, opts: { expiresAtValidationSkew: 10 } },
      { name: 'exp equal to now passes', claims: { exp: NOW_S } },
      { name: 'nbf in the future: 401', claims: { nbf: NOW_S + 30 }, status: 401, message: 'Key not authorized: token is not valid yet' },
      { name: 'nbf within notBeforeValidationSkew passes', claims: { nbf: NOW_S + 3 }, opts: { notBeforeValidationSkew: 5 } },
      { name: 'iat in the future: 401', claims: { iat: NOW_S + 30 }, status: 401, message: 'Key not authorized: token used before issued' },
      { name: 'iat within issuedAtValidationSkew passes', claims: { iat: NOW_S + 3 }, opts: { issuedAtValidationSkew: 5 } },
      { name: 'no time claims at all passes', claims: {} },
      { name: 'exp that is not a number: 403', claims: { exp: 'soon' as unknown as number }, status: 403, message: 'Key not authorized' },
    ];
    for (const c of cases) {
      test(c.name, async () => {
        const r = await jwtAuth({ ...base, ...c.opts })(req(await sign({ sub: 'alice', pol: 'gold', ...c.claims }, hmacKey)));
        if (c.status) expectFail(r, c.status, c.message!);
        else assert.ok(r.ok, JSON.stringify(r));
      });
    }
  });

  describe('issuer, audience, subject, jti', () => {
    const cases: Array<{ name: string; claims: JWTPayload; opts: Partial<JwtAuthOptions>; message?: string }> = [
      { name: 'allowed issuer', claims: { iss: 'https://idp.example' }, opts: { allowedIssuers: ['https://idp.example', 'https://other'] } },
      { name: 'other issuer: 401', claims: { iss: 'https://evil' }, opts: { allowedIssuers: ['https://idp.example'] }, message: 'Key not authorized: invalid issuer claim' },
      { name: 'no issuer when one is required: 401', claims: {}, opts: { allowedIssuers: ['https://idp.example'] }, message: 'Key not authorized: invalid issuer claim' },
      { name: 'audience array containing an allowed one', claims: { aud: ['x', 'orders-api'] }, opts: { allowedAudiences: ['orders-api'] } },
      { name: 'audience string', claims: { aud: 'orders-api' }, opts: { allowedAudiences: ['orders-api'] } },
      { name: 'other audience: 401', claims: { aud: 'billing' }, opts: { allowedAudiences: ['orders-api'] }, message: 'Key not authorized: invalid audience claim' },
      { name: 'allowed subject', claims: {}, opts: { allowedSubjects: ['alice'] } },
      { name: 'other subject: 401', claims: {}, opts: { allowedSubjects: ['bob'] }, message: 'Key not authorized: invalid subject claim' },
      { name: 'jti required and present', claims: { jti: 'abc' }, opts: { jtiValidation: { enabled: true } } },
      { name: 'jti required and missing: 401', claims: {}, opts: { jtiValidation: { enabled: true } }, message: 'Key not authorized: missing jti claim' },
    ];
    for (const c of cases) {
      test(c.name, async () => {
        const r = await jwtAuth({ ...base, ...c.opts })(req(await sign({ sub: 'alice', pol: 'gold', ...c.claims }, hmacKey)));
        if (c.message) expectFail(r, 401, c.message);
        else assert.ok(r.ok, JSON.stringify(r));
      });
    }
  });

  describe('identity and policies (central key)', () => {
    test('the session is made from the policy claim, identified by sub, expiring with the token', async () => {
      const token = await sign({ sub: 'alice', pol: 'gold', exp: NOW_S + 600, scope: 'x' }, hmacKey);
      const r = await jwtAuth(base)(req(token));
      assert.ok(r.ok);
      assert.equal(r.identity.keyHash, virtualKeyHash('jwt', 'alice'));
      assert.equal(r.identity.session.alias, 'alice');
      assert.equal(r.identity.session.rate, 100);
      assert.deepEqual(r.identity.session.apply_policies, ['gold']);
      assert.equal(r.identity.session.expires, NOW_S + 600);
      assert.deepEqual(Object.keys(r.identity.session.access_rights ?? {}), ['orders']);
      assert.equal(r.identity.claims?.sub, 'alice');
      assert.equal(r.identity.token, token);
    });

    const cases: Array<{ name: string; claims: JWTPayload; opts: Partial<JwtAuthOptions>; policies?: string[]; alias?: string; status?: number; message?: string }> = [
      { name: 'identityBaseField names the identity claim', claims: { email: 'a@x', sub: 's' }, opts: { identityBaseField: 'email' }, alias: 'a@x', policies: ['gold'] },
      { name: 'identityBaseField absent from the token: falls back to sub', claims: { sub: 's' }, opts: { identityBaseField: 'email' }, alias: 's', policies: ['gold'] },
      { name: 'subjectClaims: the first present one', claims: { username: 'u1', sub: 's' }, opts: { subjectClaims: ['uid', 'username'] }, alias: 'u1', policies: ['gold'] },
      { name: 'no identity at all: 403', claims: { pol: 'gold' }, opts: {}, status: 403, message: 'no suitable claims for user ID were found' },
      { name: 'no policy claim and no defaults: 403', claims: { sub: 'a', pol: undefined }, opts: {}, status: 403, message: 'key not authorized: no matching policy found' },
      { name: 'defaultPolicies when the claim is missing', claims: { sub: 'a', pol: undefined }, opts: { defaultPolicies: ['silver', 'read'] }, policies: ['silver', 'read'] },
      { name: 'an unknown policy in the claim: 403', claims: { sub: 'a', pol: 'nope' }, opts: {}, status: 403, message: 'key not authorized: no matching policy' },
      { name: 'an inactive policy: 403', claims: { sub: 'a', pol: 'old' }, opts: {}, status: 403, message: 'key not authorized: no matching policy' },
      { name: 'basePolicyClaims list', claims: { sub: 'a', pol: undefined, tier: 'silver' }, opts: { basePolicyClaims: ['plan', 'tier'] }, policies: ['silver'] },
      {
        name: 'scopes add policies to the base one',
        claims: { sub: 'a', scope: 'read write unknown' },
        opts: { scopes: { scopeToPolicyMapping: [{ scope: 'read', policyId: 'read' }, { scope: 'write', policyId: 'write' }] } },
        policies: ['gold', 'read', 'write'],
      },
      {
        name: 'scopes replace default policies',
        claims: { sub: 'a', pol: undefined, permissions: ['read'] },
        opts: { defaultPolicies: ['silver'], scopes: { claimName: 'permissions', scopeToPolicyMapping: [{ scope: 'read', policyId: 'read' }] } },
        policies: ['read'],
      },
      {
        name: 'nested scope claim by a dotted name',
        claims: { sub: 'a', realm: { roles: ['write'] } },
        opts: { scopes: { claims: ['realm.roles'], scopeToPolicyMapping: [{ scope: 'write', policyId: 'write' }] } },
        policies: ['gold', 'write'],
      },
      {
        name: 'scopes mapping to nothing with only defaults: 403',
        claims: { sub: 'a', pol: undefined, scope: 'other' },
        opts: { defaultPolicies: ['silver'], scopes: { scopeToPolicyMapping: [{ scope: 'read', policyId: 'read' }] } },
        status: 403,
        message: 'key not authorized: no matching policy found in scope claim',
      },
    ];
    for (const c of cases) {
      test(c.name, async () => {
        const claims: JWTPayload = { pol: 'gold', ...c.claims };
        for (const k of Object.keys(claims)) if (claims[k] === undefined) delete claims[k];
        const r = await jwtAuth({ ...base, ...c.opts })(req(await sign(claims, hmacKey)));
        if (c.status) return expectFail(r, c.status, c.message!);
        assert.ok(r.ok, JSON.stringify(r));
        if (c.alias) assert.equal(r.identity.session.alias, c.alias);
        if (c.policies) assert.deepEqual(r.identity.session.apply_policies, c.policies);
      });
    }
  });

  describe('one-to-one: no central key, the token names a stored key', () => {
    const oneToOne: JwtAuthOptions = { lookup, now, signingMethod: 'hmac' };
    test('kid names the key whose jwt_data.secret signs it', async () => {
      const r = await jwtAuth(oneToOne)(req(await sign({ sub: 'x' }, hmacKey, 'HS256', 'key-one')));
      assert.ok(r.ok, JSON.stringify(r));
      assert.equal(r.identity.session.alias, 'one-to-one');
    });
    test('skipKid: the identity claim names the key', async () => {
      const r = await jwtAuth({ ...oneToOne, skipKid: true })(req(await sign({ sub: 'key-one' }, hmacKey, 'HS256', 'ignored')));
      assert.ok(r.ok, JSON.stringify(r));
    });
    test('an unknown key: 403', async () => {
      expectFail(await jwtAuth(oneToOne)(req(await sign({ sub: 'x' }, hmacKey, 'HS256', 'key-unknown'))), 403, 'Key not authorized');
    });
    test('a key without a JWT secret: 403', async () => {
      expectFail(await jwtAuth(oneToOne)(req(await sign({ sub: 'x' }, hmacKey, 'HS256', 'key-nosecret'))), 403, 'Key not authorized');
    });
    test('signed with another secret: 403', async () => {
      const other = createSecretKey(Buffer.from('another-secret-another-secret!!!'));
      expectFail(await jwtAuth(oneToOne)(req(await sign({ sub: 'x' }, other, 'HS256', 'key-one'))), 403, 'Key not authorized');
    });
  });

  test('no token: 400 Authorization field missing (Tyk JWT middleware)', async () => {
    expectFail(await jwtAuth(base)(req()), 400, 'Authorization field missing');
  });

  test('token from a query parameter (EventSource)', async () => {
    const token = await sign({ sub: 'alice', pol: 'gold' }, hmacKey);
    const r = await jwtAuth({ ...base, sources: { header: 'Authorization', query: 'access_token' } })(req(undefined, 'access_token=' + token));
    assert.ok(r.ok, JSON.stringify(r));
  });

  test('bad configuration throws at creation', () => {
    assert.throws(() => jwtAuth({ ...base, signingMethod: 'md5' }), /signingMethod/);
    assert.throws(() => jwtAuth({ ...base, signingMethod: 'rsa', source: Buffer.from('not a key').toString('base64') }));
  });
});
