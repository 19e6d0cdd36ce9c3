/**
 * A private `redis-server` on a spare port, for tests that kill and restart the broker. With
 * `persistent` it writes an append-only file in its own directory, so data survives a restart
 * (killed with SIGKILL, only what was fsynced survives: appendfsync is set to always). The
 * shared server on 6379 is never touched.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, ServerProcess } from './spawn-server.js';

export interface PrivateRedis {
  /** `127.0.0.1:<port>` */
  readonly address: string;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  kill(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startPrivateRedis(opts: { persistent?: boolean } = {}): Promise<PrivateRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-redis-'));
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir, '--daemonize', 'no', '--logfile', ''];
  if (opts.persistent) args.push('--appendonly', 'yes', '--appendfsync', 'always');
  else args.push('--appendonly', 'no');
  const server = new ServerProcess('redis-server', args, port);
  await server.start();
  return {
    address: `127.0.0.1:${port}`,
    url: `redis://127.0.0.1:${port}`,
    port,
    kill: () => server.kill(),
    restart: () => server.start(),
    async stop() {
      await server.kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
