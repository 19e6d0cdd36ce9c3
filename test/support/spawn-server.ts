/**
 * Starts a private broker process for tests that must kill and restart it. It is killed by
 * its own PID only: shared brokers are never touched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on the port. */
export async function waitForPort(port: number, timeoutMs = 10_000, proc?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (proc && proc.exitCode !== null) throw new Error(`server on port ${port} exited with code ${proc.exitCode}`);
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A server process that can be killed hard and started again with the same arguments. */
export class ServerProcess {
  readonly #cmd: string;
  readonly #args: readonly string[];
  readonly port: number;
  #proc: ChildProcess | undefined;
  #log = '';

  constructor(cmd: string, args: readonly string[], port: number) {
    this.#cmd = cmd;
    this.#args = args;
    this.port = port;
  }

  get pid(): number | undefined {
    return this.#proc?.pid;
  }

  /** The process's recent output, for failure messages. */
  get log(): string {
    return this.#log.slice(-4000);
  }

  async start(): Promise<void> {
    const proc = spawn(this.#cmd, [...this.#args], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (d: Buffer) => (this.#log += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (this.#log += d.toString()));
    proc.on('error', (err) => (this.#log += `spawn error: ${err.message}\n`));
    this.#proc = proc;
    try {
      await waitForPort(this.port, 15_000, proc);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${this.log}`);
    }
  }

  /** SIGKILL by PID; resolves once the process is gone. */
  async kill(): Promise<void> {
    await this.#signal('SIGKILL');
  }

  /** SIGTERM by PID (a clean shutdown); resolves once the process is gone. */
  async terminate(): Promise<void> {
    await this.#signal('SIGTERM');
  }

  async #signal(sig: NodeJS.Signals): Promise<void> {
    const proc = this.#proc;
    this.#proc = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(sig);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }
}
