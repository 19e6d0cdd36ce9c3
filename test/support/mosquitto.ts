// A private, throw-away Mosquitto broker for tests that must hurt a broker (kill it mid-stream,
// restart it) without touching the shared one on 127.0.0.1:1883. It runs on a free loopback
// port with its own config and persistence directory, saved after every change, so sessions and
// queued QoS 1/2 messages survive a kill -9 as far as Mosquitto persists them. It is only ever
// signalled by its own PID.

import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PrivateMosquitto {
  /** `127.0.0.1:<port>` */
  readonly address: string;
  readonly port: number;
  /** `tcp://127.0.0.1:<port>` */
  readonly url: string;
  readonly pid: number | undefined;
  /** SIGKILL, like a crash: no clean shutdown. The persistence directory is kept. */
  kill(): Promise<void>;
  /** Starts the broker again on the same port and persistence directory. */
  restart(): Promise<void>;
  /** Stops the broker (SIGTERM, then SIGKILL) and removes its directory. Final. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once the port accepts TCP connections. */
async function waitListening(port: number, timeoutMs: number, proc: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`private mosquitto exited (${proc.exitCode ?? proc.signalCode}): ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`private mosquitto did not listen on ${port} within ${timeoutMs}ms: ${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function waitExit(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => proc.once('exit', () => resolve()));
}

/** A free loopback port (for a broker started later, e.g. to test connecting before it is up). */
export { freePort };

/** Starts a private Mosquitto (`mosquitto` must be on PATH; Debian package mosquitto). */
export async function startPrivateMosquitto(opts: { port?: number } = {}): Promise<PrivateMosquitto> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-mosquitto-'));
  // Started as root, mosquitto drops to its own user: it must be able to write its database here.
  await chmod(dir, 0o777);
  const port = opts.port ?? (await freePort());
  const conf = join(dir, 'mosquitto.conf');
  await writeFile(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${dir}/`,
      // Save after every change (subscriptions, queued and retained messages), so a SIGKILL
      // loses as little as Mosquitto allows.
      'autosave_on_changes true',
      'autosave_interval 1',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      '',
    ].join('\n'),
  );
  let proc: ChildProcess | undefined;
  let stderr = '';
  const start = async () => {
    stderr = '';
    const p = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    p.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    const spawned = new Promise<void>((resolve, reject) => {
      p.once('spawn', () => resolve());
      p.once('error', (err) => reject(new Error(`cannot start mosquitto: ${err.message}`)));
    });
    await spawned;
    proc = p;
    // Never leave a broker behind when the test process ends without calling stop().
    const reap = () => p.exitCode === null && p.signalCode === null && p.kill('SIGKILL');
    process.once('exit', reap);
    p.once('exit', () => process.removeListener('exit', reap));
    await waitListening(port, 10_000, p, () => stderr);
  };
  const kill = async () => {
    const p = proc;
    proc = undefined;
    if (!p?.pid) return;
    process.kill(p.pid, 'SIGKILL');
    await waitExit(p);
  };
  await start();
  return {
    address: `127.0.0.1:${port}`,
    port,
    url: `tcp://127.0.0.1:${port}`,
    get pid() {
      return proc?.pid;
    },
    kill,
    async restart() {
      await kill();
      await start();
    },
    async stop() {
      const p = proc;
      proc = undefined;
      if (p?.pid && p.exitCode === null && p.signalCode === null) {
        process.kill(p.pid, 'SIGTERM');
        const t = setTimeout(() => p.pid && p.exitCode === null && process.kill(p.pid, 'SIGKILL'), 3000);
        await waitExit(p);
        clearTimeout(t);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
