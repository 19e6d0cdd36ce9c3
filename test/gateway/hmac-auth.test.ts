// HMAC request signing end to end (Tyk's `authentication.hmac`): a key created through the Tyk
// Gateway API with `hmac_enabled` and `hmac_string` signs its requests; signed publishes and an
// SSE subscription pass; a wrong signature, a skewed date, an unknown key, a disallowed algorithm
// get Tyk's 400; the shared secret is never read back nor logged.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startTestGateway, type TestGateway } from '../../src/control/testing.js';
import { MemoryStore } from '../../src/store/memory.js';
import { MemoryState } from '../../src/state/memory.js';
import { MemoryBus } from '../../src/state/bus.js';
import { silentLogger } from '../../src/engine/logger.js';
import { waitUntil } from '../support/streams.js';

const SECRET = 'hmac-shared-secret-9f2c1d';
const MSG = 'Authorization field missing, malformed or invalid';

const hmacApi = (id: string) => ({
  openapi: '3.0.3',
  info: { title: id, version: '1' },
  paths: {},
  'x-tyk-api-gateway': {
    info: { id, name: id, state: { active: true } },
    server: {
      listenPath: { value: `/${id}/` },
      authentication: { enabled: true, hmac: { enabled: true, allowedAlgorithms: ['hmac-sha256', 'hmac-sha512'], allowedClockSkew: 5000 } },
    },
  },
  'x-tyk-streaming': {
    streams: {
      s: {
        input: { http_server: { path: '/pub' } },
        output: { http_server: { stream_path: '/sse', stream_format: 'event_source', ws_path: '' } },
      },
    },
  },
});

/** The headers of a request signed as a Tyk client signs it (draft-cavage, signature URL-escaped). */
function signedHeaders(
  method: string,
  path: string,
  keyId: string,
  opts: { secret?: string; algorithm?: string; date?: Date } = {},
): Record<string, string> {
  const algorithm = opts.algorithm ?? 'hmac-sha256';
  const date = (opts.date ?? new Date()).toUTCString();
  const text = `(request-target): ${method.toLowerCase()} ${path}\ndate: ${date}`;
  const sig = createHmac(algorithm.replace('hmac-', ''), opts.secret ?? SECRET).update(text).digest('base64');
  return {
    Date: date,
    Authorization: `Signature keyId="${keyId}",algorithm="${algorithm}",headers="(request-target) date",signature="${encodeURIComponent(sig)}"`,
  };
}

describe('HMAC request signing through a real gateway', () => {
  let gw: TestGateway;
  let key = '';
  let keyHash = '';

  before(async () => {
    gw = await startTestGateway({ use: { store: new MemoryStore(), state: new MemoryState(), bus: new MemoryBus(silentLogger) } });
    const r = await gw.req('POST', '/tyk/apis/oas', hmacApi('signed'));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await waitUntil(() => gw.apis.streams('signed')?.get('s')?.state === 'running', 10_000, 'API running');
    const k = await gw.req('POST', '/tyk/keys', {
      alias: 'signer',
      hmac_enabled: true,
      hmac_string: SECRET,
      access_rights: { signed: { api_id: 'signed', api_name: 'signed', versions: ['Default'] } },
    });
    assert.equal(k.status, 200, JSON.stringify(k.body));
    ({ key, key_hash: keyHash } = k.body as { key: string; key_hash: string });
    assert.ok(key && keyHash);
  });

  after(async () => {
    await gw.close();
  });

  test('a signed subscriber (SSE) receives what a signed publisher posts', async () => {
    const ctrl = new AbortController();
    const res = await fetch(`${gw.base}/signed/sse`, { headers: signedHeaders('GET', '/signed/sse', key), signal: ctrl.signal });
    assert.equal(res.status, 200);
    let text = '';
    void (async () => {
      const reader = res.body!.getReader();
      try {
        for (;;) {
          const r = await reader.read();
          if (r.done) break;
          text += new TextDecoder().decode(r.value);
        }
      } catch {
        /* aborted */
      }
    })();
    try {
      await new Promise((r) => setTimeout(r, 100));
      const pub = await fetch(`${gw.base}/signed/pub`, { method: 'POST', body: 'hello-signed', headers: signedHeaders('POST', '/signed/pub', key) });
      assert.equal(pub.status, 200);
      const sha512 = await fetch(`${gw.base}/signed/pub`, { method: 'POST', body: 'again', headers: signedHeaders('POST', '/signed/pub', key, { algorithm: 'hmac-sha512' }) });
      assert.equal(sha512.status, 200);
      await waitUntil(() => text.includes('hello-signed') && text.includes('again'), 5000, 'both messages delivered');
    } finally {
      ctrl.abort();
    }
  });

  const refusals: Array<{ name: string; headers: () => Record<string, string> }> = [
    { name: 'no Authorization header', headers: () => ({ Date: new Date().toUTCString() }) },
    { name: 'wrong secret', headers: () => signedHeaders('POST', '/signed/pub', key, { secret: 'not-the-secret' }) },
    { name: 'signed for another path', headers: () => signedHeaders('POST', '/signed/other', key) },
    { name: 'date 10 s old (skew 5 s)', headers: () => signedHeaders('POST', '/signed/pub', key, { date: new Date(Date.now() - 10_000) }) },
    { name: 'unknown key', headers: () => signedHeaders('POST', '/signed/pub', 'no-such-key') },
    { name: 'algorithm not allowed (hmac-sha1)', headers: () => signedHeaders('POST', '/signed/pub', key, { algorithm: 'hmac-sha1' }) },
    { name: 'a plain auth token', headers: () => ({ Authorization: key }) },
  ];
  for (const c of refusals) {
    test(`refused with 400: ${c.name}`, async () => {
      const r = await fetch(`${gw.base}/signed/pub`, { method: 'POST', body: 'x', headers: c.headers() });
      assert.equal(r.status, 400);
      assert.deepEqual(await r.json(), { error: MSG });
    });
  }

  test('a key without hmac_enabled cannot sign', async () => {
    const k = await gw.req('POST', '/tyk/keys', { hmac_string: SECRET, access_rights: { signed: { api_id: 'signed' } } });
    assert.equal(k.status, 200, JSON.stringify(k.body));
    const r = await fetch(`${gw.base}/signed/pub`, { method: 'POST', body: 'x', headers: signedHeaders('POST', '/signed/pub', (k.body as { key: string }).key) });
    assert.equal(r.status, 400);
  });

  test('a key for another API: 403 after a good signature', async () => {
    const k = await gw.req('POST', '/tyk/keys', { hmac_enabled: true, hmac_string: SECRET, access_rights: { elsewhere: { api_id: 'elsewhere' } } });
    assert.equal(k.status, 200, JSON.stringify(k.body));
    const r = await fetch(`${gw.base}/signed/pub`, { method: 'POST', body: 'x', headers: signedHeaders('POST', '/signed/pub', (k.body as { key: string }).key) });
    assert.equal(r.status, 403);
    assert.deepEqual(await r.json(), { error: 'Access to this API has been disallowed' });
  });

  test('the secret is blanked when read back, kept on a GET-then-PUT round trip, and never logged', async () => {
    const tykView = await gw.req('GET', `/tyk/keys/${key}`);
    assert.equal(tykView.status, 200);
    assert.equal((tykView.body as { hmac_string?: string }).hmac_string, '');
    assert.equal((tykView.body as { hmac_enabled?: boolean }).hmac_enabled, true);
    const restView = await gw.req('GET', `/api/keys/${keyHash}`);
    assert.equal(restView.status, 200);
    const rb = restView.body as { session: { hmac_string?: string }; effective: { hmac_string?: string } };
    assert.equal(rb.session.hmac_string, '');
    assert.equal(rb.effective.hmac_string, '');
    assert.ok(!JSON.stringify((await gw.req('GET', '/api/keys')).body).includes(SECRET));

    // Tyk clients edit a key by GET, change, PUT: the blanked secret must not wipe the real one.
    const put = await gw.req('PUT', `/tyk/keys/${key}`, { ...(tykView.body as object), alias: 'renamed' });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const r = await fetch(`${gw.base}/signed/pub`, { method: 'POST', body: 'x', headers: signedHeaders('POST', '/signed/pub', key) });
    assert.equal(r.status, 200, 'still signs with the stored secret');

    assert.ok(!gw.logs.some((l) => l.includes(SECRET)), 'the secret is not in the logs');
  });
});
