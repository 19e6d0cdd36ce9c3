import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { hmacAuth, parseHttpDate, parseSignatureParams, signingString } from './hmac.js';
import { createMemoryLookup } from './memory-lookup.js';
import { isMissingCredential } from './failures.js';
import type { AuthRequest } from './types.js';

const NOW = Date.UTC(2027, 0, 15, 12, 0, 0);
const DATE = new Date(NOW).toUTCString(); // "Fri, 15 Jan 2027 12:00:00 GMT"
const SECRET = 's3cret-shared';
const MSG = 'Authorization field missing, malformed or invalid';

const lookup = createMemoryLookup({
  keys: {
    'hk-alice': { alias: 'alice', hmac_enabled: true, hmac_string: SECRET },
    'hk-nohmac': { alias: 'plain', hmac_string: SECRET },
    'hk-nosecret': { alias: 'nosecret', hmac_enabled: true },
    'hk-old': { alias: 'old', hmac_enabled: true, hmac_string: SECRET, expires: NOW / 1000 - 10 },
    'hk-off': { alias: 'off', hmac_enabled: true, hmac_string: SECRET, is_inactive: true },
  },
});

function sign(text: string, alg = 'sha256', secret = SECRET): string {
  return createHmac(alg, secret).update(text).digest('base64');
}

function req(headers: Record<string, string>, method = 'GET', requestPath = '/api/events'): AuthRequest {
  return { method, path: '/events', requestPath, headers, query: new URLSearchParams() };
}

/** A signed request as a Tyk client sends it (signature URL-escaped). */
function signed(opts: { keyId?: string; alg?: string; headers?: string; date?: string; secret?: string; escape?: boolean; extra?: Record<string, string> } = {}): AuthRequest {
  const alg = opts.alg ?? 'hmac-sha256';
  const date = opts.date ?? DATE;
  const hdrs = opts.headers ?? '(request-target) date';
  const base: Record<string, string> = { date, ...(opts.extra ?? {}) };
  const text = signingString(req(base), hdrs.split(' '));
  const raw = sign(text, alg.replace('hmac-', ''), opts.secret);
  const sig = opts.escape === false ? raw : encodeURIComponent(raw);
  return req({ ...base, authorization: `Signature keyId="${opts.keyId ?? 'hk-alice'}",algorithm="${alg}",headers="${hdrs}",signature="${sig}"` });
}

const auth = hmacAuth({ lookup, now: () => NOW, allowedClockSkew: 5000 });

describe('HMAC request signing (Tyk authentication.hmac)', () => {
  test('signing string: (request-target) uses the whole path, lower-cased method; date', () => {
    assert.equal(signingString(req({ date: DATE }, 'POST'), ['(request-target)', 'date']), `(request-target): post /api/events\ndate: ${DATE}`);
    assert.equal(signingString(req({ date: DATE, 'x-aux-date': 'X' }), ['date']), 'x-aux-date: X');
    assert.equal(signingString(req({ 'X-Custom': '  v  ' }), ['X-Custom']), 'x-custom: v');
  });

  test('parses the Signature parameters, quoted or bare; unknown ones refused', () => {
    assert.deepEqual(parseSignatureParams('Signature keyId="k",algorithm="hmac-sha1",headers="a b",signature="x%3D"'), {
      keyId: 'k', algorithm: 'hmac-sha1', headers: ['a', 'b'], signature: 'x%3D',
    });
    assert.deepEqual(parseSignatureParams('keyId=k, signature=abc'), { keyId: 'k', algorithm: '', headers: ['date'], signature: 'abc' });
    assert.equal(parseSignatureParams('Signature keyId="k",created=1,signature="a"'), undefined);
    assert.equal(parseSignatureParams('Signature keyId="k'), undefined);
    assert.equal(parseSignatureParams('Signature nonsense'), undefined);
  });

  test('dates as Tyk reads them', () => {
    assert.equal(parseHttpDate(DATE), NOW);
    assert.equal(parseHttpDate('Fri, 15 Jan 2027 13:00:00 +01'), NOW);
    assert.equal(parseHttpDate('Fri, 15 Jan 2027 07:00:00 -0500'), NOW);
    assert.equal(parseHttpDate('2027-01-15T12:00:00Z'), undefined);
    assert.equal(parseHttpDate(''), undefined);
  });

  for (const alg of ['hmac-sha1', 'hmac-sha256', 'hmac-sha384', 'hmac-sha512']) {
    test(`accepts ${alg}`, async () => {
      const r = await auth(signed({ alg }));
      assert.ok(r.ok, JSON.stringify(r));
      assert.equal(r.identity.session.alias, 'alice');
      assert.equal(r.identity.token, 'hk-alice');
    });
  }

  test('accepts the plain base64 signature and lower-case escapes too', async () => {
    assert.ok((await auth(signed({ escape: false }))).ok);
    const r = signed();
    const h = String(r.headers.authorization).replace(/%([0-9A-F]{2})/g, (_m, x: string) => `%${x.toLowerCase()}`);
    assert.ok((await auth({ ...r, headers: { ...r.headers, authorization: h } })).ok);
  });

  test('signs only date when headers is absent; algorithm absent = hmac-sha1', async () => {
    const sig = encodeURIComponent(sign(`date: ${DATE}`, 'sha1'));
    assert.ok((await auth(req({ date: DATE, authorization: `Signature keyId="hk-alice",signature="${sig}"` }))).ok);
  });

  test('X-Aux-Date replaces Date', async () => {
    const r = signed({ extra: { 'x-aux-date': DATE }, date: 'garbage' });
    assert.ok((await auth(r)).ok);
  });

  const refused: Array<{ name: string; request: AuthRequest; a?: typeof auth }> = [
    { name: 'no Authorization', request: req({ date: DATE }) },
    { name: 'not a Signature', request: req({ date: DATE, authorization: 'Bearer abc' }) },
    { name: 'wrong secret', request: signed({ secret: 'other' }) },
    { name: 'unknown key', request: signed({ keyId: 'nope' }) },
    { name: 'key without hmac_enabled', request: signed({ keyId: 'hk-nohmac' }) },
    { name: 'key without hmac_string', request: signed({ keyId: 'hk-nosecret' }) },
    { name: 'unknown algorithm', request: signed({ alg: 'hmac-md5' }) },
    { name: 'date too old', request: signed({ date: new Date(NOW - 6000).toUTCString() }) },
    { name: 'date in the future', request: signed({ date: new Date(NOW + 6000).toUTCString() }) },
    { name: 'no date', request: signed({ date: '' }) },
    { name: 'unreadable date', request: signed({ date: 'yesterday' }) },
    {
      name: 'signature for another path',
      request: (() => {
        const r = signed();
        return { ...r, requestPath: '/api/other' };
      })(),
    },
    {
      name: 'signature for another method',
      request: (() => {
        const r = signed();
        return { ...r, method: 'POST' };
      })(),
    },
    { name: 'algorithm not allowed', request: signed({ alg: 'hmac-sha1' }), a: hmacAuth({ lookup, now: () => NOW, allowedAlgorithms: ['hmac-sha256', 'hmac-sha512'] }) },
  ];
  for (const c of refused) {
    test(`refused: ${c.name} -> 400`, async () => {
      const r = await (c.a ?? auth)(c.request);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.failure.status, 400);
      assert.equal(r.failure.message, MSG);
    });
  }

  test('a missing header counts as "nothing sent" when methods are ORed', async () => {
    const r = await auth(req({ date: DATE }));
    assert.ok(!r.ok && isMissingCredential(r.failure));
    const w = await auth(signed({ secret: 'x' }));
    assert.ok(!w.ok && !isMissingCredential(w.failure));
  });

  test('skew 0 (default): any readable date passes, an unreadable one does not', async () => {
    const noSkew = hmacAuth({ lookup, now: () => NOW });
    assert.ok((await noSkew(signed({ date: 'Mon, 02 Jan 2006 15:04:05 GMT' }))).ok);
    assert.equal((await noSkew(signed({ date: 'soon' }))).ok, false);
  });

  test('expired and inactive keys: Tyk 401 / 403', async () => {
    const e = await auth(signed({ keyId: 'hk-old' }));
    assert.ok(!e.ok && e.failure.status === 401 && e.failure.message === 'Key has expired, please renew');
    const i = await auth(signed({ keyId: 'hk-off' }));
    assert.ok(!i.ok && i.failure.status === 403 && i.failure.message === 'Key is inactive, please renew');
  });

  test('the query source works (for EventSource)', async () => {
    const a = hmacAuth({ lookup, now: () => NOW, sources: { query: 'sig' } });
    const r = signed();
    const q = new URLSearchParams({ sig: String(r.headers.authorization) });
    assert.ok((await a({ ...r, headers: { date: DATE }, query: q })).ok);
  });

  test('a store error is a 500, with nothing of the credential logged', async () => {
    const logged: unknown[] = [];
    const a = hmacAuth({
      lookup: { ...lookup, resolveKey: async () => { throw new Error('store down'); } },
      now: () => NOW,
      logger: { warn: (...x) => logged.push(x), error: (...x) => logged.push(x) },
    });
    const r = await a(signed());
    assert.ok(!r.ok && r.failure.status === 500);
    assert.ok(!JSON.stringify(logged).includes('hk-alice') && !JSON.stringify(logged).includes(SECRET));
  });
});
