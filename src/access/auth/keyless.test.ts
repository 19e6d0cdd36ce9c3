import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { keyless } from './keyless.js';

describe('keyless', () => {
  const req = { method: 'GET', path: '/', headers: { authorization: 'ignored' }, query: new URLSearchParams() };

  test('every request passes with an empty key hash', async () => {
    const r = await keyless()(req);
    assert.ok(r.ok);
    assert.equal(r.identity.keyHash, '');
    assert.deepEqual(r.identity.session, {});
  });

  test('with an API id the session grants that API', async () => {
    const r = await keyless({ apiId: 'orders', apiName: 'Orders' })(req);
    assert.ok(r.ok);
    assert.deepEqual(r.identity.session.access_rights, { orders: { api_id: 'orders', api_name: 'Orders' } });
  });

  test('each request gets its own session object', async () => {
    const auth = keyless({ apiId: 'orders' });
    const a = await auth(req);
    const b = await auth(req);
    assert.ok(a.ok && b.ok);
    assert.notEqual(a.identity.session, b.identity.session);
  });
});
