import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTemplated, renderTykVars, streamPaths, type TykContext } from './tyk-vars.js';

const ctx: TykContext = { context: { request_id: 'r-1', request_data_user: 'a b&c', headers_X_Team: 'blue' }, meta: { plan: 'gold', n: 3 } };

test('renders context, meta and secret_env variables, query-escaped; unknown ones are empty', () => {
  const raw = { a: '$tyk_context.request_id', b: ['grp-$tyk_context.request_data_user'], c: { d: '$tyk_meta.plan/$tyk_meta.n/$tyk_meta.none' }, e: '$secret_env.SLUICE_X', f: '$tyk_context.nope', n: 5 };
  assert.deepEqual(renderTykVars(raw, ctx, { SLUICE_X: 'sec' }), { a: 'r-1', b: ['grp-a+b%26c'], c: { d: 'gold/3/' }, e: 'sec', f: '', n: 5 });
});

test('without a request context only $secret_env is resolved', () => {
  assert.deepEqual(renderTykVars({ a: '$tyk_context.request_id', e: '$secret_env.X' }, undefined, { X: '1' }), { a: '$tyk_context.request_id', e: '1' });
});

test('templated configs are those with per-request variables', () => {
  assert.equal(isTemplated({ input: { kafka: { consumer_group: '$tyk_context.request_id' } } }), true);
  assert.equal(isTemplated({ input: { kafka: { consumer_group: '$secret_env.G' } } }), false);
});

test('collects http_server paths with Bento defaults, through brokers', () => {
  const paths = streamPaths({
    input: { broker: { inputs: [{ http_server: { path: '/in' } }, { kafka: {} }] } },
    output: { http_server: { ws_path: '/subscribe' } },
  });
  assert.deepEqual(paths.http.sort(), ['/get', '/get/stream', '/in']);
  assert.deepEqual(paths.ws.sort(), ['/post/ws', '/subscribe']);
});

test('topics a stream reaches: input topics are subscribed to, static output topics published to', async () => {
  const { streamTopics } = await import('./tyk-vars.js');
  assert.deepEqual(
    streamTopics({
      input: { broker: { inputs: [{ kafka: { topics: ['orders', 'refunds:0'] } }, { mqtt: { topics: ['sensors/+/t'] } }] } },
      output: { switch: { cases: [{ output: { nats: { subject: 'out.a' } } }, { output: { kafka: { topic: '${! meta("t") }' } } }] } },
    }),
    { subscribe: ['orders', 'refunds', 'sensors/+/t'], publish: ['out.a'] },
  );
});
