// OAuth 2.0 against a real authorization server: oidc-provider (major 8, the newest that supports
// Node 20) runs in this process with a
// client-credentials client, issuing JWT access tokens (validated with its JWKS) and opaque
// ones (validated by RFC 7662 introspection, the gateway authenticating as its own client).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import { createApiAuthenticator } from '../../src/access/auth/api.js';
import { createMemoryLookup } from '../../src/access/auth/memory-lookup.js';
import { virtualKeyHash } from '../../src/access/auth/credentials.js';
import type { ApiDefinition } from '../../src/config/load.js';
import type { AuthRequest, AuthResult, Authenticator } from '../../src/access/auth/types.js';

interface ProviderInstance {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
}
type ProviderClass = new (issuer: string, configuration: Record<string, unknown>) => ProviderInstance;

const GATEWAY_SECRET = 'gateway-introspection-secret';
const SERVICE_SECRET = 'service-client-secret';

interface Resource {
  audience: string;
  ttl: number;
  format: 'jwt' | 'opaque';
}
const RESOURCES: Record<string, Resource> = {
  'urn:sluice:orders': { audience: 'urn:sluice:orders', ttl: 300, format: 'jwt' },
  'urn:sluice:orders-opaque': { audience: 'urn:sluice:orders-opaque', ttl: 300, format: 'opaque' },
  'urn:sluice:billing': { audience: 'urn:sluice:billing', ttl: 300, format: 'jwt' },
  'urn:sluice:short': { audience: 'urn:sluice:orders', ttl: 1, format: 'jwt' },
  'urn:sluice:short-opaque': { audience: 'urn:sluice:orders-opaque', ttl: 1, format: 'opaque' },
};

class AuthorizationServer {
  issuer = '';
  jwksUri = '';
  introspectionUrl = '';
  revocationUrl = '';
  private server: Server | undefined;

  async start(): Promise<void> {
    const name: string = 'oidc-provider';
    const { default: Provider } = (await import(name)) as { default: ProviderClass };
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const signingKey = { ...(await exportJWK(privateKey)), kid: 'as-key-1', alg: 'RS256', use: 'sig' };
    this.server = createServer();
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.issuer = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    const provider = new Provider(this.issuer, {
      jwks: { keys: [signingKey] },
      cookies: { keys: ['sluice-test-cookie-key'] },
      clients: [
        { client_id: 'orders-service', client_secret: SERVICE_SECRET, grant_types: ['client_credentials'], redirect_uris: [], response_types: [], scope: 'orders:read orders:write' },
        // the gateway's own client, for introspection
        { client_id: 'sluice-gateway', client_secret: GATEWAY_SECRET, grant_types: [], redirect_uris: [], response_types: [] },
      ],
      scopes: ['orders:read', 'orders:write'],
      ttl: {
        ClientCredentials: (_ctx: unknown, token: { resourceServer?: { accessTokenTTL?: number } }) => token.resourceServer?.accessTokenTTL ?? 300,
      },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        introspection: { enabled: true, allowedPolicy: () => true },
        revocation: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => 'urn:sluice:orders',
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx: unknown, indicator: string) => {
            const r = RESOURCES[indicator];
            if (!r) throw new Error(`unknown resource ${indicator}`);
            return { scope: 'orders:read orders:write', audience: r.audience, accessTokenTTL: r.ttl, accessTokenFormat: r.format };
          },
        },
      },
    });
    this.server.on('request', provider.callback());
    const discovery = (await (await fetch(`${this.issuer}/.well-known/openid-configuration`)).json()) as Record<string, string>;
    this.jwksUri = discovery.jwks_uri!;
    this.introspectionUrl = discovery.introspection_endpoint!;
    this.revocationUrl = discovery.revocation_endpoint!;
  }

  /** A client-credentials access token for a resource. */
  async token(resource: string, clientSecret = SERVICE_SECRET): Promise<string> {
    const res = await fetch(`${this.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Basic ' + Buffer.from(`orders-service:${clientSecret}`).toString('base64') },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'orders:read', resource }),
    });
    const body = (await res.json()) as { access_token?: string };
    assert.equal(res.status, 200, JSON.stringify(body));
    return body.access_token!;
  }

  async revoke(token: string): Promise<void> {
    const res = await fetch(this.revocationUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Basic ' + Buffer.from(`orders-service:${SERVICE_SECRET}`).toString('base64') },
      body: new URLSearchParams({ token }),
    });
    assert.equal(res.status, 200);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()));
  }
}

function apiDefinition(authentication: Record<string, unknown>, components: Record<string, unknown>, security: unknown[]): ApiDefinition {
  const document = {
    openapi: '3.0.3',
    info: { title: 'orders', version: '1.0.0' },
    paths: {},
    components: { securitySchemes: components },
    security,
    'x-tyk-api-gateway': { info: { name: 'orders', state: { active: true } }, server: { listenPath: { value: '/orders/' }, authentication } },
    'x-tyk-streaming': { streams: {} },
  };
  return { id: 'orders', name: 'orders', listenPath: '/orders', active: true, internal: false, streams: [], document };
}

const req = (token?: string): AuthRequest => ({ method: 'GET', path: '/feed', headers: token ? { authorization: `Bearer ${token}` } : {}, query: new URLSearchParams() });

function fails(r: AuthResult, status: number, message: string): void {
  assert.ok(!r.ok, 'expected a failure, got ' + JSON.stringify(r));
  assert.deepEqual(r.failure, { status, message });
}

describe('OAuth 2.0 with a real authorization server (oidc-provider)', () => {
  const as = new AuthorizationServer();
  const lookup = createMemoryLookup({ policies: [{ id: 'machines', rate: 50, per: 1, access_rights: { orders: { api_id: 'orders' } } }] });
  let clockSkewMs = 0;
  let introspections = 0;
  const countingFetch: typeof fetch = (input, init) => {
    if (String(input instanceof Request ? input.url : input).includes('introspection')) introspections++;
    return fetch(input, init);
  };
  const deps = () => ({ lookup, fetch: countingFetch, now: () => Date.now() + clockSkewMs });

  let external: Authenticator;
  let externalNoCache: Authenticator;
  let jwtScheme: Authenticator;

  before(async () => {
    await as.start();
    const provider = (cache: Record<string, unknown>) => ({
      jwt: { enabled: true, signingMethod: 'rsa', source: as.jwksUri, allowedIssuers: [as.issuer], allowedAudiences: ['urn:sluice:orders'] },
      introspection: { enabled: true, url: as.introspectionUrl, clientId: 'sluice-gateway', clientSecret: GATEWAY_SECRET, cache },
    });
    const oauthDoc = (cache: Record<string, unknown>) =>
      apiDefinition(
        { enabled: true, securitySchemes: { oauth: { enabled: true, header: { enabled: true, name: 'Authorization' }, providers: [provider(cache)] } } },
        { oauth: { type: 'oauth2', flows: { clientCredentials: { tokenUrl: `${as.issuer}/token`, scopes: { 'orders:read': 'read orders' } } } } },
        [{ oauth: ['orders:read'] }],
      );
    external = createApiAuthenticator(oauthDoc({ enabled: true, timeout: 30 }), deps());
    externalNoCache = createApiAuthenticator(oauthDoc({ enabled: false }), deps());
    jwtScheme = createApiAuthenticator(
      apiDefinition(
        {
          enabled: true,
          securitySchemes: {
            jwtAuth: {
              enabled: true,
              signingMethod: 'rsa',
              jwksURIs: [{ url: as.jwksUri, cacheTimeout: 60 }],
              identityBaseField: 'client_id',
              defaultPolicies: ['machines'],
              allowedIssuers: [as.issuer],
              allowedAudiences: ['urn:sluice:orders'],
            },
          },
        },
        { jwtAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
        [{ jwtAuth: [] }],
      ),
      deps(),
    );
  });
  after(() => as.stop());

  test('a JWT access token is validated with the server JWKS (external OAuth scheme)', async () => {
    const token = await as.token('urn:sluice:orders');
    assert.equal(token.split('.').length, 3);
    const r = await external(req(token));
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.identity.keyHash, virtualKeyHash('oauth', 'orders-service'));
    assert.equal(r.identity.claims?.client_id, 'orders-service');
    assert.equal(r.identity.claims?.iss, as.issuer);
    assert.deepEqual(Object.keys(r.identity.session.access_rights ?? {}), ['orders']);
  });

  test('the same token through the JWT scheme: jwksURIs, identity from client_id, default policies', async () => {
    const r = await jwtScheme(req(await as.token('urn:sluice:orders')));
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.identity.session.alias, 'orders-service');
    assert.equal(r.identity.session.rate, 50);
    assert.deepEqual(r.identity.session.apply_policies, ['machines']);
  });

  test('a JWT for another audience is refused', async () => {
    const token = await as.token('urn:sluice:billing');
    fails(await external(req(token)), 401, 'access token is not valid');
    fails(await jwtScheme(req(token)), 401, 'Key not authorized: invalid audience claim');
  });

  test('an opaque token is validated by introspection, and the answer is cached', async () => {
    const token = await as.token('urn:sluice:orders-opaque');
    assert.equal(token.split('.').length, 1);
    introspections = 0;
    const r = await external(req(token));
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.identity.claims?.active, true);
    assert.equal(r.identity.claims?.client_id, 'orders-service');
    assert.equal(r.identity.session.alias, 'orders-service');
    assert.ok((await external(req(token))).ok);
    assert.ok((await external(req(token))).ok);
    assert.equal(introspections, 1, 'one introspection call for three requests');
  });

  test('a revoked opaque token: refused at once without the cache, after the cache TTL with it', async () => {
    const token = await as.token('urn:sluice:orders-opaque');
    assert.ok((await external(req(token))).ok);
    assert.ok((await externalNoCache(req(token))).ok);
    await as.revoke(token);
    fails(await externalNoCache(req(token)), 401, 'access token is not valid');
    assert.ok((await external(req(token))).ok, 'still cached');
    clockSkewMs = 31_000;
    try {
      fails(await external(req(token)), 401, 'access token is not valid');
    } finally {
      clockSkewMs = 0;
    }
  });

  test('expired tokens: 401 for a JWT (checked locally) and an opaque one (inactive at the server)', async () => {
    const jwt = await as.token('urn:sluice:short');
    const opaque = await as.token('urn:sluice:short-opaque');
    await new Promise((r) => setTimeout(r, 2_100));
    fails(await external(req(jwt)), 401, 'key not authorized: token has expired');
    fails(await jwtScheme(req(jwt)), 401, 'Key not authorized: token has expired');
    fails(await externalNoCache(req(opaque)), 401, 'access token is not valid');
  });

  test('an introspection answer is not trusted past the token exp', async () => {
    const token = await as.token('urn:sluice:orders-opaque');
    introspections = 0;
    assert.ok((await external(req(token))).ok);
    clockSkewMs = 301_000; // past exp (300 s), though within no cache TTL
    try {
      const r = await external(req(token));
      assert.ok(!r.ok);
      assert.equal(r.failure.status, 401);
    } finally {
      clockSkewMs = 0;
    }
  });

  test('the gateway with a wrong introspection secret: 500, nothing leaks', async () => {
    const bad = createApiAuthenticator(
      apiDefinition(
        {
          enabled: true,
          securitySchemes: {
            oauth: { enabled: true, providers: [{ introspection: { enabled: true, url: as.introspectionUrl, clientId: 'sluice-gateway', clientSecret: 'wrong' } }] },
          },
        },
        { oauth: { type: 'oauth2', flows: {} } },
        [{ oauth: [] }],
      ),
      { lookup },
    );
    fails(await bad(req(await as.token('urn:sluice:orders-opaque'))), 500, 'error happened during the access token validation');
  });

  test('no token: 400 as Tyk', async () => {
    fails(await external(req()), 400, 'authorization field missing');
  });
});
