// A private, throw-away Kafka broker for tests that must hurt a broker (kill it
// mid-stream, restart it) without touching the shared one on 127.0.0.1:9092.
//
// It runs the same cached jars through scripts/kafka.sh, on two free loopback
// ports and a temp data dir, so the broker under test is exactly the one the
// rest of the suite uses. The data dir survives kill() and restart(), so
// records written before a crash can be read after it; stop() removes it.

import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, parse } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PrivateKafka {
  /** Client (PLAINTEXT) port on 127.0.0.1. */
  readonly port: number;
  /** KRaft controller port on 127.0.0.1. */
  readonly controllerPort: number;
  /** `127.0.0.1:<port>`, ready for `bootstrapBrokers`. */
  readonly bootstrap: string;
  readonly dataDir: string;
  /** PID of the broker JVM: a new one after restart(), 0 after kill() or stop(). */
  readonly pid: number;
  /** Graceful stop (SIGTERM via kafka.sh), then deletes the data dir. Final. */
  stop(): Promise<void>;
  /**
   * SIGKILL, like a crash or OOM kill: no flush, no clean shutdown. Resolves
   * once the process is gone and its ports refuse connections. Data is kept.
   */
  kill(): Promise<void>;
  /** Starts the broker again on the same ports and data dir (stopping it first if it runs). */
  restart(): Promise<void>;
}

/** How long kafka.sh may take to start a broker (it waits for a metadata answer). */
const START_TIMEOUT_MS = 120_000;

/**
 * Finds scripts/kafka.sh by walking up from this module and from the working
 * directory. Compiled tests may live outside the repo (e.g. a private
 * --outDir), so the module location alone is not enough.
 */
function findKafkaScript(): string {
  const starts = [dirname(fileURLToPath(import.meta.url)), process.cwd()];
  for (const start of starts) {
    let dir = start;
    for (;;) {
      const candidate = join(dir, 'scripts', 'kafka.sh');
      if (existsSync(candidate)) return candidate;
      if (dir === parse(dir).root) break;
      dir = dirname(dir);
    }
  }
  throw new Error(`scripts/kafka.sh not found above ${starts.join(' or ')}`);
}

/** Two distinct free loopback ports (both held open while picking, so they differ). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () =>
      new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
        const server = createServer();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve(server));
      }),
    ),
  );
  const ports = servers.map((s) => {
    const address = s.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return address.port;
  });
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/**
 * True while the process runs. A killed broker can linger as a zombie until
 * init reaps it (it was started by a shell that has exited), and signal 0
 * still succeeds for a zombie, so the state in /proc decides.
 */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return state !== undefined && state !== 'Z';
  } catch {
    return false; // gone between the two checks
  }
}

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, timeout: 1000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Waits until the process is gone and its listeners are closed. The JVM's
 * main thread turns zombie before its other threads have finished exiting,
 * so for a moment the ports can still accept connections.
 */
async function waitForExit(pid: number, ports: number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!isAlive(pid)) {
      const open = await Promise.all(ports.map(portAccepts));
      if (!open.includes(true)) return true;
    }
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// Brokers not stopped when the test process exits (a failed assertion before
// stop()) are killed and their temp data dirs removed, so no JVM or data
// outlives its test. Keyed by data dir; the value reads the current PID.
const live = new Map<string, () => number>();
let exitHookInstalled = false;
function track(dataDir: string, pid: () => number): void {
  live.set(dataDir, pid);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const [dir, current] of live) {
      const p = current();
      try {
        if (p > 0) process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

export async function startPrivateKafka(): Promise<PrivateKafka> {
  const script = findKafkaScript();
  const [port, controllerPort] = await freePorts(2) as [number, number];
  const dataDir = await mkdtemp(join(tmpdir(), 'sluice-kafka-'));
  const env = {
    ...process.env,
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(controllerPort),
    KAFKA_DATA_DIR: dataDir,
    // A short broker session lets a broker restarted after kill() register
    // again after ~2s instead of Kafka's default 9s (see scripts/kafka.sh).
    KAFKA_SESSION_TIMEOUT_MS: process.env['KAFKA_SESSION_TIMEOUT_MS'] ?? '2000',
    // A broker that lives for one test needs a fast start, not peak
    // throughput: C1-only JIT and the serial GC halve its start-up CPU.
    KAFKA_JVM_OPTS: process.env['KAFKA_JVM_OPTS'] ?? '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC',
  };
  let pid = 0;

  const kafkaSh = async (command: 'start' | 'stop'): Promise<void> => {
    try {
      await run('bash', [script, command], { env, timeout: START_TIMEOUT_MS });
    } catch (err) {
      const e = err as Error & { stderr?: string; stdout?: string };
      throw new Error(
        `scripts/kafka.sh ${command} (port ${port}, data ${dataDir}) failed: ${e.stderr || e.stdout || e.message}`,
      );
    }
  };

  const start = async (): Promise<void> => {
    await kafkaSh('start');
    pid = Number(readFileSync(join(dataDir, 'kafka.pid'), 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) throw new Error(`bad pid file in ${dataDir}`);
  };

  const stopGracefully = async (): Promise<void> => {
    if (pid === 0) return;
    await kafkaSh('stop');
    pid = 0;
  };

  track(dataDir, () => pid);
  try {
    await start();
  } catch (err) {
    // kafka.sh leaves a broker that never answered running (its pid file
    // stays); stop it by that pid file and drop the data dir before failing.
    await kafkaSh('stop').catch(() => {});
    live.delete(dataDir);
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }

  return {
    port,
    controllerPort,
    bootstrap: `127.0.0.1:${port}`,
    dataDir,
    get pid() {
      return pid;
    },
    async stop() {
      try {
        await stopGracefully();
      } finally {
        pid = 0;
        live.delete(dataDir);
        await rm(dataDir, { recursive: true, force: true });
      }
    },
    async kill() {
      if (pid === 0 || !isAlive(pid)) return;
      process.kill(pid, 'SIGKILL');
      if (!(await waitForExit(pid, [port, controllerPort], 10_000))) {
        throw new Error(`broker pid ${pid} still running or listening 10s after SIGKILL`);
      }
      pid = 0;
    },
    async restart() {
      if (!live.has(dataDir)) throw new Error('restart() after stop(): the data dir is gone');
      if (pid !== 0 && isAlive(pid)) await stopGracefully();
      await start();
    },
  };
}
