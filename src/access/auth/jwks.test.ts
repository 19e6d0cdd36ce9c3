import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type JWK, type CryptoKey } from 'jose';
import { jwtAuth } from './jwt.js';
import { createMemoryLookup } from './memory-lookup.js';
import type { AuthRequest } from './types.js';

/** Serves a JSON Web Key Set that the test changes, counting requests. */
class KeySetServer {
  keys: JWK[] = [];
  requests = 0;
  failing = false;
  private server: Server | undefined;
  url = '';
  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.requests++;
      if (this.failing) {
        res.writeHead(503).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: this.keys }));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/jwks.json`;
  }
  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server?.close(() => r()));
  }
}

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}
async function key(kid: string): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

const NOW_S = Math.floor(Date.now() / 1000);
const lookup = createMemoryLookup({ policies: [{ id: 'p', rate: 1, per: 1 }] });
const req = (token: string): AuthRequest => ({ method: 'GET', path: '/', headers: { authorization: `Bearer ${token}` }, query: new URLSearchParams() });
const sign = (k: SigningKey, sub = 'alice') => new SignJWT({ sub, pol: 'p', exp: NOW_S + 3600 }).setProtectedHeader({ alg: 'RS256', kid: k.kid }).sign(k.privateKey);

describe('JWKS: caching and key rotation', () => {
  const srv = new KeySetServer();
  let k1: SigningKey, k2: SigningKey, k3: SigningKey;
  before(async () => {
    await srv.start();
    [k1, k2, k3] = await Promise.all([key('k1'), key('k2'), key('k3')]);
  });
  after(() => srv.stop());

  function setup(cacheTimeout?: number) {
    let now = NOW_S * 1000;
    srv.requests = 0;
    srv.failing = false;
    const auth = jwtAuth({
      lookup,
      signingMethod: 'rsa',
      policyFieldName: 'pol',
      jwksURIs: [{ url: srv.url, ...(cacheTimeout ? { cacheTimeout } : {}) }],
      jwks: { minRefetchIntervalMs: 10_000 },
      now: () => now,
    });
    return { auth, advance: (ms: number) => (now += ms) };
  }

  test('keys are fetched once and cached', async () => {
    srv.keys = [k1.jwk];
    const { auth } = setup();
    for (let i = 0; i < 3; i++) assert.ok((await auth(req(await sign(k1)))).ok);
    assert.equal(srv.requests, 1);
  });

  test('rotation: a new kid is accepted after exactly one refetch', async () => {
    srv.keys = [k1.jwk];
    const { auth } = setup();
    assert.ok((await auth(req(await sign(k1)))).ok);
    assert.equal(srv.requests, 1);
    srv.keys = [k2.jwk]; // the IdP rotates
    const r = await auth(req(await sign(k2)));
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(srv.requests, 2);
    assert.ok((await auth(req(await sign(k2)))).ok);
    assert.equal(srv.requests, 2);
    // the retired key is gone from the refreshed set
    const old = await auth(req(await sign(k1)));
    assert.ok(!old.ok);
    assert.equal(old.failure.status, 403);
  });

  test('unknown kids cannot make the gateway refetch more than once per interval', async () => {
    srv.keys = [k1.jwk];
    const { auth, advance } = setup();
    assert.ok((await auth(req(await sign(k1)))).ok);
    for (let i = 0; i < 5; i++) {
      const r = await auth(req(await sign(k3)));
      assert.ok(!r.ok);
      assert.equal(r.failure.message, 'Key not authorized');
    }
    assert.equal(srv.requests, 2, 'one refetch for the first unknown kid, none for the next four');
    srv.keys = [k1.jwk, k3.jwk];
    assert.ok(!(await auth(req(await sign(k3)))).ok, 'still within the interval');
    advance(10_000);
    assert.ok((await auth(req(await sign(k3)))).ok, 'after the interval the new key is fetched');
    assert.equal(srv.requests, 3);
  });

  test('cacheTimeout: keys are refreshed when it runs out', async () => {
    srv.keys = [k1.jwk];
    const { auth, advance } = setup(30);
    await auth(req(await sign(k1)));
    advance(29_000);
    await auth(req(await sign(k1)));
    assert.equal(srv.requests, 1);
    advance(2_000);
    await auth(req(await sign(k1)));
    assert.equal(srv.requests, 2);
  });

  test('a failing refresh keeps the keys it had', async () => {
    srv.keys = [k1.jwk];
    const { auth, advance } = setup(30);
    assert.ok((await auth(req(await sign(k1)))).ok);
    srv.failing = true;
    advance(31_000);
    assert.ok((await auth(req(await sign(k1)))).ok);
    assert.equal(srv.requests, 2);
  });

  test('no keys at all (the IdP is down from the start): 403, not a crash', async () => {
    srv.keys = [k1.jwk];
    const { auth } = setup();
    srv.failing = true;
    const r = await auth(req(await sign(k1)));
    assert.ok(!r.ok);
    assert.equal(r.failure.status, 403);
  });

  test('keys of several URIs are merged', async () => {
    const other = new KeySetServer();
    await other.start();
    try {
      srv.failing = false;
      srv.keys = [k1.jwk];
      other.keys = [k2.jwk];
      const auth = jwtAuth({ lookup, signingMethod: 'rsa', policyFieldName: 'pol', jwksURIs: [{ url: srv.url }, { url: other.url }] });
      assert.ok((await auth(req(await sign(k1)))).ok);
      assert.ok((await auth(req(await sign(k2)))).ok);
    } finally {
      await other.stop();
    }
  });

  test('a JWKS URL in source (plain or base64) works like jwksURIs', async () => {
    srv.failing = false;
    srv.keys = [k1.jwk];
    for (const source of [srv.url, Buffer.from(srv.url).toString('base64')]) {
      const auth = jwtAuth({ lookup, signingMethod: 'rsa', policyFieldName: 'pol', source });
      assert.ok((await auth(req(await sign(k1)))).ok, source);
    }
  });
});
