// The Tyk OAS fixture ../shared/fixtures/apis/chat-nats-per-user.json, unchanged, against the
// NATS server on 127.0.0.1:4222 (a JetStream stream capturing `chat.messages` is created when
// none does). Both streams use `$tyk_context.request_data_user` (the `user` query parameter), so
// each user gets their own instances: `send` stamps the sender, `inbox` reads the user's own
// durable consumer and keeps the messages addressed to them.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Gateway } from '../../src/gateway/server.js';
import { ApiManager } from '../../src/gateway/apis.js';
import { loadApiDefinition, type ApiDefinition } from '../../src/config/load.js';
import { createBloblang, createRegistry } from '../../src/cli/wiring.js';
import { formatIssue } from '../../src/config/source.js';
import { sharedRoot } from '../support/paths.js';
import { testLogger, waitUntil, sleep } from '../support/streams.js';
import { sse } from './sse-client.js';

const FIXTURE = join(sharedRoot, 'fixtures', 'apis', 'chat-nats-per-user.json');
const SUBJECT = 'chat.messages';

let nc: NatsConnection;
let jsm: JetStreamManager;
let createdStream: string | undefined;
let streamName: string;
let gateway: Gateway;
let apis: ApiManager;
let api: ApiDefinition;
let base: string;
const users: string[] = [];

before(async () => {
  assert.ok(existsSync(FIXTURE), `fixture missing: ${FIXTURE} (the shared folder must sit beside the repository, as ../shared)`);
  nc = await connect({ servers: '127.0.0.1:4222' });
  jsm = await jetstreamManager(nc);
  streamName = await jsm.streams.find(SUBJECT).catch(async () => {
    createdStream = `SLUICE_E2E_CHAT_${process.pid}`;
    await jsm.streams.add({ name: createdStream, subjects: [SUBJECT], max_age: 3600 * 1e9 });
    return createdStream;
  });
  const registry = createRegistry();
  const bloblang = await createBloblang();
  const logger = testLogger();
  gateway = new Gateway({ host: '127.0.0.1', port: 0, logger, version: 'test' });
  apis = new ApiManager({ gateway, registry, bloblang, logger });
  const { port } = await gateway.listen();
  base = `http://127.0.0.1:${port}`;
  const loaded = loadApiDefinition(readFileSync(FIXTURE, 'utf8'), { registry, bloblang, fallbackId: 'chat' });
  assert.ok(loaded.api, `the fixture is valid:\n${loaded.issues.map((i) => formatIssue(i)).join('\n')}`);
  api = loaded.api;
  await apis.load(api);
});

after(async () => {
  await apis?.stopAll(2000);
  await gateway?.close();
  for (const u of users) await jsm?.consumers.delete(streamName, `inbox-${u}`).catch(() => undefined);
  if (createdStream) await jsm.streams.delete(createdStream).catch(() => undefined);
  await nc?.close();
});

const newUser = (name: string) => {
  const u = `${name}${randomUUID().slice(0, 6)}`;
  users.push(u);
  return u;
};

const send = (from: string, body: unknown) => fetch(`${base}/chat/send?user=${from}`, { method: 'POST', body: JSON.stringify(body) });

describe('chat-nats-per-user.json', { concurrency: false }, () => {
  test('POST /chat/send stamps the sender and an id, and stores the message in JetStream', async () => {
    const bob = newUser('bob');
    const before = (await jsm.streams.info(streamName)).state.last_seq;
    const res = await send(bob, { to: 'nobody', text: 'hello' });
    assert.equal(res.status, 200, 'answered once JetStream acknowledged the message');
    const stored = await jsm.streams.getMessage(streamName, { seq: before + 1 });
    const doc = stored!.json<Record<string, string>>();
    assert.equal(doc.from, bob);
    assert.equal(doc.to, 'nobody');
    assert.equal(doc.text, 'hello');
    assert.match(doc.id!, /^[0-9a-f-]{36}$/);
  });

  test("a user's inbox (SSE) gets the messages addressed to them, and only those", async () => {
    const alice = newUser('alice');
    const bob = newUser('bob');
    const inbox = sse(`${base}/chat/inbox/sse?user=${alice}`);
    await inbox.ready;
    // `deliver: new`: wait until alice's durable consumer exists before sending.
    const deadline = Date.now() + 10_000;
    while (!(await jsm.consumers.info(streamName, `inbox-${alice}`).catch(() => undefined))) {
      if (Date.now() > deadline) throw new Error(`consumer inbox-${alice} was not created`);
      await sleep(50);
    }
    await sleep(200);
    try {
      assert.equal((await send(bob, { to: 'someone-else', text: 'not for alice' })).status, 200);
      assert.equal((await send(bob, { to: alice, text: 'hi alice' })).status, 200);
      await waitUntil(() => inbox.events.length >= 1, 10_000, 'inbox event');
      await sleep(300);
      assert.equal(inbox.events.length, 1, 'the other message was filtered out');
      const got = JSON.parse(inbox.events[0]!) as Record<string, string>;
      assert.deepEqual({ from: got.from, to: got.to, text: got.text }, { from: bob, to: alice, text: 'hi alice' });
    } finally {
      inbox.close();
    }
  });
});
