/**
 * A private `nats-server` with JetStream on a spare port and its own store directory, for tests
 * that kill and restart the broker. The shared server on 4222 is never touched.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, ServerProcess } from './spawn-server.js';

export interface PrivateNats {
  /** `127.0.0.1:<port>` */
  readonly address: string;
  readonly url: string;
  readonly port: number;
  /** SIGKILL: no clean shutdown. */
  kill(): Promise<void>;
  /** Starts it again on the same port and store directory (JetStream data survives). */
  restart(): Promise<void>;
  /** Kills it and removes its store directory. */
  stop(): Promise<void>;
}

export async function startPrivateNats(): Promise<PrivateNats> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-nats-'));
  const port = await freePort();
  const server = new ServerProcess('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], port);
  await server.start();
  return {
    address: `127.0.0.1:${port}`,
    url: `nats://127.0.0.1:${port}`,
    port,
    kill: () => server.kill(),
    restart: () => server.start(),
    async stop() {
      await server.kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
