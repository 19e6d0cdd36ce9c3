import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, verify, createPublicKey, constants } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Authenticator,
  MetadataFilter,
  basicAuthHeader,
  classifyStatus,
  decodeMultipart,
  encodeMultipart,
  multipartBoundary,
  oauth1Header,
  redactUrl,
  signJwt,
  statusRules,
} from './http-client-common.js';
import { Validator } from '../config/validate.js';
import { Registry } from '../engine/registry.js';
import { spec as outputSpec } from './outputs/http_client/index.js';
import { spec as inputSpec } from './inputs/http_client/index.js';
import { spec as processorSpec } from './processors/http/index.js';
import { createScanner } from './inputs/http_client/scanner.js';
import { Readable } from 'node:stream';

describe('status classification', () => {
  const rules = statusRules({ backoff_on: [429], drop_on: [], successful_on: [] });

  test('2xx succeed, 429 backs off, other codes are retried', () => {
    assert.equal(classifyStatus(200, rules), 'success');
    assert.equal(classifyStatus(204, rules), 'success');
    assert.equal(classifyStatus(299, rules), 'success');
    assert.equal(classifyStatus(429, rules), 'backoff');
    assert.equal(classifyStatus(500, rules), 'retry');
    assert.equal(classifyStatus(404, rules), 'retry');
    assert.equal(classifyStatus(301, rules), 'retry');
    assert.equal(classifyStatus(100, rules), 'retry');
  });

  test('drop_on wins over backoff_on, backoff_on over successful_on and 2xx', () => {
    const r = statusRules({ backoff_on: [429, 202], drop_on: [400, 429, 200], successful_on: [409, 202] });
    assert.equal(classifyStatus(429, r), 'drop');
    assert.equal(classifyStatus(200, r), 'drop');
    assert.equal(classifyStatus(400, r), 'drop');
    assert.equal(classifyStatus(202, r), 'backoff');
    assert.equal(classifyStatus(409, r), 'success');
    assert.equal(classifyStatus(201, r), 'success');
  });
});

describe('redaction', () => {
  test('passwords in userinfo and secret-looking query values are masked', () => {
    assert.equal(redactUrl('https://user:hunter2@example.com/a?b=1'), 'https://user:xxxxx@example.com/a?b=1');
    const r = redactUrl('http://h/x?api_key=abc&token=def&page=2&client_secret=s');
    assert.ok(!r.includes('abc') && !r.includes('def') && !/client_secret=s\b/.test(r), r);
    assert.ok(r.includes('page=2'));
    assert.equal(redactUrl('not a url://u:p@x'), 'not a url://u:xxxxx@x');
  });
});

describe('auth headers', () => {
  test('basic', () => {
    assert.equal(basicAuthHeader('Aladdin', 'open sesame'), 'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==');
  });

  test('OAuth 1 signature matches the well-known Twitter example (query and form parameters, version 1.0)', () => {
    const h = oauth1Header(
      {
        enabled: true,
        consumer_key: 'xvz1evFS4wEEPTGEFPHBog',
        consumer_secret: 'kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw',
        access_token: '370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb',
        access_token_secret: 'LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE',
      },
      'POST',
      'https://api.twitter.com/1.1/statuses/update.json?include_entities=true',
      { nonce: 'kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg', timestamp: 1318622958, formParams: [['status', 'Hello Ladies + Gentlemen, a signed OAuth request!']] },
    );
    assert.match(h, /^OAuth /);
    assert.match(h, /oauth_signature="hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D"/);
    assert.match(h, /oauth_token="370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb"/);
    assert.ok(!h.includes('kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw') && !h.includes('LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE'), 'secrets are not in the header');
  });

  test('JWT: sorted header and claims, signature verifies (RS256, ES256, EdDSA, PS256)', () => {
    for (const [method, kind, opts] of [
      ['RS256', 'rsa', { modulusLength: 2048 }],
      ['PS256', 'rsa', { modulusLength: 2048 }],
      ['ES256', 'ec', { namedCurve: 'P-256' }],
      ['EdDSA', 'ed25519', {}],
    ] as const) {
      const { privateKey, publicKey } = generateKeyPairSync(kind as 'rsa', opts as { modulusLength: number });
      const token = signJwt(privateKey, method, { sub: 'me', aud: 'you', iat: 1 }, { kid: 'k1' });
      const [h, c, s] = token.split('.');
      assert.equal(Buffer.from(h!, 'base64url').toString(), `{"alg":"${method}","kid":"k1","typ":"JWT"}`);
      assert.equal(Buffer.from(c!, 'base64url').toString(), '{"aud":"you","iat":1,"sub":"me"}');
      const data = Buffer.from(`${h}.${c}`);
      const sig = Buffer.from(s!, 'base64url');
      const ok =
        method === 'EdDSA'
          ? verify(null, data, publicKey, sig)
          : method === 'ES256'
            ? verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, sig)
            : method === 'PS256'
              ? verify('sha256', data, { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, sig)
              : verify('sha256', data, publicKey, sig);
      assert.ok(ok, `${method} signature verifies`);
    }
  });

  test('JWT from a PKCS#1 key file via the Authenticator; unknown methods are refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-jwt-'));
    try {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const file = join(dir, 'key.pem');
      writeFileSync(file, privateKey.export({ type: 'pkcs1', format: 'pem' }));
      const auth = new Authenticator({ jwt: { enabled: true, private_key_file: file, signing_method: 'RS384', claims: { sub: 'x' }, headers: {} } }, undefined, 1000);
      const headers: Record<string, string> = {};
      await auth.apply(headers, 'POST', 'http://h/');
      const token = headers.authorization!.replace(/^Bearer /, '');
      const [h, c, s] = token.split('.');
      assert.ok(verify('sha384', Buffer.from(`${h}.${c}`), createPublicKey(publicKey.export({ type: 'spki', format: 'pem' })), Buffer.from(s!, 'base64url')));
      assert.throws(() => new Authenticator({ jwt: { enabled: true, private_key_file: file, signing_method: 'HS256', claims: {}, headers: {} } }, undefined, 1000), /HS256.*not supported/);
      assert.throws(() => new Authenticator({ jwt: { enabled: true, private_key_file: join(dir, 'missing.pem'), signing_method: 'RS256', claims: {}, headers: {} } }, undefined, 1000), /cannot read the private key/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('with several methods enabled, jwt > basic > oauth2 > oauth', async () => {
    const auth = new Authenticator(
      {
        basic_auth: { enabled: true, username: 'u', password: 'p' },
        oauth: { enabled: true, consumer_key: 'k', consumer_secret: 's', access_token: '', access_token_secret: '' },
      },
      undefined,
      1000,
    );
    const h: Record<string, string> = {};
    await auth.apply(h, 'GET', 'http://h/');
    assert.equal(h.authorization, basicAuthHeader('u', 'p'));
  });
});

describe('metadata filter', () => {
  test('prefixes and patterns; empty matches nothing', () => {
    const f = new MetadataFilter({ include_prefixes: ['kafka_'], include_patterns: ['_unix$'] });
    assert.ok(f.match('kafka_key'));
    assert.ok(f.match('ts_unix'));
    assert.ok(!f.match('other'));
    assert.ok(!new MetadataFilter({ include_prefixes: [], include_patterns: [] }).match('x'));
    assert.ok(new MetadataFilter({ include_prefixes: [], include_patterns: ['.*'] }).match('anything'));
  });
});

describe('multipart', () => {
  test('encode then decode round trip; boundary from the content type', () => {
    const body = encodeMultipart(
      [
        { headers: { 'Content-Type': 'text/plain', foo: 'bar' }, body: Buffer.from('first') },
        { headers: { 'Content-Type': 'application/json' }, body: Buffer.from('{"a":1}\r\n') },
        { headers: {}, body: Buffer.alloc(0) },
      ],
      'XyZ',
    );
    assert.ok(body.toString().startsWith('--XyZ\r\nContent-Type: text/plain\r\nfoo: bar\r\n\r\nfirst\r\n--XyZ'));
    assert.ok(body.toString().endsWith('--XyZ--\r\n'));
    const parts = decodeMultipart(body, 'XyZ');
    assert.equal(parts.length, 3);
    assert.equal(Buffer.from(parts[0]!.body).toString(), 'first');
    assert.deepEqual(parts[0]!.headers, { 'content-type': 'text/plain', foo: 'bar' });
    assert.equal(Buffer.from(parts[1]!.body).toString(), '{"a":1}\r\n');
    assert.equal(parts[2]!.body.byteLength, 0);
    assert.equal(multipartBoundary('multipart/mixed; boundary=XyZ'), 'XyZ');
    assert.equal(multipartBoundary('multipart/form-data; boundary="a b"'), 'a b');
    assert.equal(multipartBoundary('application/json'), undefined);
  });
});

describe('config', () => {
  function validate(kind: 'input' | 'output' | 'processor', spec: { config: import('../engine/spec.js').FieldSpec }, value: unknown) {
    const v = new Validator({ registry: new Registry() });
    const out = v.field(spec.config, value, kind) as Record<string, unknown>;
    return { out, issues: v.issues.map((i) => `${i.path}: ${i.message}`) };
  }

  test('output defaults match Benthos', () => {
    const { out, issues } = validate('output', outputSpec, { url: 'http://localhost:1/post' });
    assert.deepEqual(issues, []);
    assert.equal(out.verb, 'POST');
    assert.deepEqual(out.headers, {});
    assert.equal(out.timeout, '5s');
    assert.equal(out.retry_period, '1s');
    assert.equal(out.max_retry_backoff, '300s');
    assert.equal(out.retries, 3);
    assert.deepEqual(out.backoff_on, [429]);
    assert.deepEqual(out.drop_on, []);
    assert.deepEqual(out.successful_on, []);
    assert.equal(out.batch_as_multipart, false);
    assert.equal(out.propagate_response, false);
    assert.equal(out.max_in_flight, 64);
    assert.deepEqual(out.multipart, []);
    assert.deepEqual(out.oauth2, { enabled: false, client_key: '', client_secret: '', token_url: '', scopes: [], endpoint_params: {} });
    assert.deepEqual(out.basic_auth, { enabled: false, username: '', password: '' });
    assert.deepEqual(out.metadata, { include_prefixes: [], include_patterns: [] });
    assert.equal(out.rate_limit, undefined);
  });

  test('input defaults: GET, stream with the lines scanner, drop_empty_bodies, auto_replay_nacks', () => {
    const { out, issues } = validate('input', inputSpec, { url: 'http://localhost:1/get' });
    assert.deepEqual(issues, []);
    assert.equal(out.verb, 'GET');
    assert.equal(out.drop_empty_bodies, true);
    assert.equal(out.auto_replay_nacks, true);
    assert.deepEqual(out.stream, { enabled: false, reconnect: true, scanner: { lines: { max_buffer_size: 65536, omit_empty: false } } });
  });

  test('processor defaults and required url; unknown fields are reported', () => {
    const { out, issues } = validate('processor', processorSpec, { url: 'http://x/', parallel: true });
    assert.deepEqual(issues, []);
    assert.equal(out.verb, 'POST');
    assert.equal(out.parallel, true);
    assert.equal(out.batch_as_multipart, false);
    assert.match(validate('processor', processorSpec, {}).issues.join('\n'), /url is required/);
    assert.match(validate('processor', processorSpec, { url: 'http://x', retrys: 1 }).issues.join('\n'), /retrys not recognised.*retries/);
  });

  test('a Tyk Streams webhook output config validates unchanged', () => {
    const { issues } = validate('output', outputSpec, {
      url: 'https://webhook.site/abc',
      verb: 'POST',
      headers: { 'Content-Type': 'application/json' },
      retries: 5,
      retry_period: '2s',
      max_retry_backoff: '30s',
      backoff_on: [429, 503],
      drop_on: [400],
      successful_on: [409],
      oauth2: { enabled: true, client_key: 'id', client_secret: 'secret', token_url: 'https://auth/token', scopes: ['a'], endpoint_params: { audience: ['x'] } },
      tls: { enabled: true, skip_cert_verify: true },
      batching: { count: 10, period: '1s' },
      max_in_flight: 8,
      propagate_response: false,
      follow_redirects: false,
      transport: { force_http2: false },
      multipart: [{ content_type: 'application/bin', content_disposition: 'form-data; name="bin"', body: 'x' }],
    });
    assert.deepEqual(issues, []);
  });

  test('spec lint catches oauth2 without token_url and a bad scanner', () => {
    assert.deepEqual(outputSpec.lint!({ oauth2: { enabled: true, token_url: '' } } as never), ['oauth2.token_url is required when oauth2 is enabled']);
    assert.match(inputSpec.lint!({ stream: { enabled: true, reconnect: true, scanner: { lines: { max_buffer_size: 1, omit_empty: false }, to_the_end: {} } } } as never).join(), /exactly one scanner/);
  });
});

describe('scanner', () => {
  async function scan(conf: Parameters<typeof createScanner>[0], chunks: string[]): Promise<string[]> {
    const s = createScanner(conf, Readable.from(chunks.map((c) => Buffer.from(c))));
    const out: string[] = [];
    for (let t = await s.next(); t !== null; t = await s.next()) out.push(t.toString());
    return out;
  }

  test('lines: split across chunks, CRLF trimmed, last line without newline kept', async () => {
    assert.deepEqual(await scan({ lines: { max_buffer_size: 65536, omit_empty: false } }, ['a\nb', 'c\r\n\nd', 'e']), ['a', 'bc', '', 'de']);
  });

  test('lines: omit_empty and custom delimiter', async () => {
    assert.deepEqual(await scan({ lines: { max_buffer_size: 65536, omit_empty: true } }, ['a\n\n\nb\n']), ['a', 'b']);
    assert.deepEqual(await scan({ lines: { custom_delimiter: '||', max_buffer_size: 65536, omit_empty: false } }, ['x|', '|y\r||z']), ['x', 'y\r', 'z']);
  });

  test('lines: a line longer than max_buffer_size is an error', async () => {
    await assert.rejects(scan({ lines: { max_buffer_size: 4, omit_empty: false } }, ['abcdefgh']), /max_buffer_size/);
  });

  test('chunker and to_the_end', async () => {
    assert.deepEqual(await scan({ chunker: { size: 3 } }, ['abcd', 'efg']), ['abc', 'def', 'g']);
    assert.deepEqual(await scan({ to_the_end: {} }, ['ab', 'cd']), ['abcd']);
  });
});
