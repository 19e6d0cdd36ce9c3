#!/usr/bin/env node
// `npm run bench`: Sluice measured against references run in the same session, as ratios.
//   node bench/run.mjs [mapping] [fanout] [latency] [capacity] [auth] [kafka] [--reps N] [--quick]
// Sections (default: all):
//   fanout    POST → N WebSocket/SSE subscribers (N = 1, 100, 1000), Sluice vs the plain `ws`
//             reference server and the frame-once + write-coalescing reference (../shared/bench).
//   latency   p50/p99 at a fixed publish rate (1000/500/50 msg/s to 1/100/1000 WebSocket subscribers).
//   capacity  idle connections (C1/C2): 19,000 WebSocket / SSE subscribers held (1000 with --quick),
//             KB per held connection, Sluice vs reference at the same count.
//   auth      A1: POST → 1000 WebSocket subscribers at max rate with key auth on publish and subscribe
//             (bench/apis-auth, key created via /tyk/keys) vs the same run without auth.
//   mapping   a Bloblang reshape vs the same transform hand-written in JS.
//   kafka     Kafka consume/produce vs kcat (bench/kafka.mjs).
// The server runs pinned to CPU 0 and the load generator to CPU 1 when `taskset` exists.
// SLUICE_BENCH_DIST=<dir> runs Sluice from <dir>/src/cli/main.js instead of dist/ (a private build).
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, cpSync, writeFileSync, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const quick = args.includes('--quick');
const reps = Number(flag('reps', '1'));
const sections = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--') && !['--quick'].includes(args[i - 1])));
const want = (s) => sections.length === 0 || sections.includes(s);
const hasTaskset = (() => {
  try {
    execFileSync('taskset', ['-c', '0', 'true']);
    return true;
  } catch {
    return false;
  }
})();
const pin = (cpu, cmd) => (hasTaskset ? ['taskset', ['-c', String(cpu), ...cmd]] : [cmd[0], cmd.slice(1)]);
const results = { date: new Date().toISOString(), node: process.version, sections: {} };

function log(...a) {
  console.log(...a);
}

/** ../shared/bench copied to .cache (shared/ is read-only) with its own dependencies installed. */
function harness() {
  const src = join(root, '..', 'shared', 'bench');
  if (!existsSync(src)) throw new Error('../shared/bench not found beside the repository');
  const dst = join(root, '.cache', 'bench-harness');
  const stamp = join(dst, '.copied-from');
  const srcStamp = readFileSync(join(src, 'package-lock.json'), 'utf8').length + ':' + readFileSync(join(src, 'fanout.mjs'), 'utf8').length;
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== srcStamp) {
    mkdirSync(dst, { recursive: true });
    cpSync(src, dst, { recursive: true, filter: (p) => !p.includes('node_modules') && !p.includes('/results') });
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--silent'], { cwd: dst, stdio: 'inherit' });
    writeFileSync(stamp, srcStamp);
  }
  return dst;
}

function waitPort(port, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = createConnection(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve()));
      s.once('error', () => {
        s.destroy();
        if (Date.now() > deadline) reject(new Error(`port ${port} did not open`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

// One data folder for every Sluice start: the embedded store is created once, not per run.
const BENCH_DATA = join(root, '.cache', 'bench-data');
const DIST = process.env.SLUICE_BENCH_DIST || join(root, 'dist');
// Management API secret for every Sluice start: readiness is a 200 from /tyk/reload with it.
const BENCH_SECRET = `bench-${process.pid}-${Date.now().toString(36)}`;

/** kind: 'ref' | 'ref-batched' | 'sluice'; opts.apis: API folder (default bench/apis). */
async function startServer(kind, port, dir, opts = {}) {
  const cmd =
    kind === 'sluice'
      ? [
          process.execPath, join(DIST, 'src', 'cli', 'main.js'), 'start', '--apis', opts.apis ?? join(root, 'bench', 'apis'), '--port', String(port),
          '--log-level', 'error', '--data', BENCH_DATA, '--secret', BENCH_SECRET,
        ]
      : [process.execPath, join(dir, 'ref-server.mjs'), '--port', String(port), ...(kind === 'ref-batched' ? ['--prepared', '--batch'] : [])];
  const [bin, rest] = pin(0, cmd);
  const proc = spawn(bin, rest, { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitPort(port);
  // Sluice's control plane (embedded store) starts after the listener: wait for it, so that its
  // start-up memory and CPU are not counted against the connections and messages measured.
  if (kind === 'sluice') {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      // Only a 200 counts: before the management routes are mounted (the API folder loads first) the
      // request goes to the API on `/` (404, or 503 from its guard); then 503 while the store opens.
      const r = await fetch(`http://127.0.0.1:${port}/tyk/reload`, { headers: { 'x-tyk-authorization': BENCH_SECRET } }).catch(() => undefined);
      await r?.arrayBuffer().catch(() => {});
      if (r?.status === 200) break;
      await new Promise((res) => setTimeout(res, 250));
    }
  }
  // taskset execs the command, so the PID is the server's own.
  return { pid: proc.pid, stop: () => new Promise((r) => (proc.once('exit', r), proc.kill('SIGTERM'))) };
}

/** RSS of one process in KB (0 once it is gone). */
function rssKB(pid) {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/**
 * Waits until the server's RSS stops moving (< 2 MB change across 2 s), at most `maxMs`, so the
 * capacity baseline does not include start-up memory (a baseline taken while Sluice's embedded
 * store was still opening read 126 MB instead of ~365 MB and charged the rest to the connections).
 */
async function settleRss(pid, maxMs = 20_000) {
  const deadline = Date.now() + maxMs;
  const window = [];
  while (Date.now() < deadline) {
    window.push(rssKB(pid));
    if (window.length > 5) window.shift();
    if (window.length === 5 && Math.max(...window) - Math.min(...window) < 2048) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

function runTool(dir, script, opts) {
  const [bin, rest] = pin(1, [process.execPath, join(dir, script), ...opts, '--json']);
  const out = execFileSync(bin, rest, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 });
  const lines = out.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
};
const ratio = (a, b) => (b ? (a / b).toFixed(2) : 'n/a');

const SERVERS = ['ref', 'ref-batched', 'sluice'];
const PATHS = {
  ref: { pub: '/pub/{ch}', sub: '/sub/{ch}' },
  'ref-batched': { pub: '/pub/{ch}', sub: '/sub/{ch}' },
  sluice: { pub: '/pub/c', sub: '/sub/c' },
};

async function fanout() {
  const dir = harness();
  const ns = quick ? [1, 100] : [1, 100, 1000];
  const rows = [];
  for (const proto of ['ws', 'sse']) {
    for (const n of ns) {
      const row = { proto, n };
      for (const kind of SERVERS) {
        const port = 18700 + SERVERS.indexOf(kind);
        const runs = [];
        for (let r = 0; r < reps; r++) {
          const srv = await startServer(kind, port, dir);
          try {
            const base = `127.0.0.1:${port}`;
            const messages = quick ? Math.round((n <= 1 ? 150000 : n <= 100 ? 30000 : 3000) / 5) : undefined;
            runs.push(
              runTool(dir, 'fanout.mjs', [
                '--pub-url', `http://${base}${PATHS[kind].pub}`,
                '--sub-url', `${proto === 'ws' ? 'ws' : 'http'}://${base}${PATHS[kind].sub}`,
                '--subs', String(n), '--channel', 'c', '--server-pid', String(srv.pid), '--max-seconds', '40',
                ...(messages ? ['--messages', String(messages)] : []),
              ]),
            );
          } finally {
            await srv.stop();
          }
        }
        const pick = (f) => median(runs.map((x) => f(x.result)));
        row[kind] = {
          deliveredPerSec: pick((x) => x.deliveredPerSec),
          p50: pick((x) => x.latencyMs.p50),
          p99: pick((x) => x.latencyMs.p99),
          cpuUsPerDelivery: pick((x) => x.serverCpuUsPerDelivery ?? NaN),
          loss: pick((x) => x.loss),
          closed: pick((x) => x.subscribersClosedDuringRun ?? 0),
        };
      }
      rows.push(row);
      const s = row.sluice;
      log(
        `fanout ${proto.toUpperCase()} N=${n}: sluice ${s.deliveredPerSec} msg/s (p50 ${s.p50} ms, p99 ${s.p99} ms, ${s.cpuUsPerDelivery} µs CPU/delivery, loss ${s.loss}, closed ${s.closed}) | ` +
          `ref ${row.ref.deliveredPerSec} → ratio ${ratio(s.deliveredPerSec, row.ref.deliveredPerSec)} | ref-batched ${row['ref-batched'].deliveredPerSec} → ratio ${ratio(s.deliveredPerSec, row['ref-batched'].deliveredPerSec)}`,
      );
    }
  }
  results.sections.fanout = rows;
}

/** Latency at a fixed offered load (perf.md L1–L3): p50/p99 beside the references. */
async function latency() {
  const dir = harness();
  const cases = quick ? [[1000, 50, 250]] : [[1, 1000, 10000], [100, 500, 5000], [1000, 50, 500]];
  const rows = [];
  for (const [n, rate, messages] of cases) {
    const row = { n, rate };
    for (const kind of SERVERS) {
      const port = 18710 + SERVERS.indexOf(kind);
      const srv = await startServer(kind, port, dir);
      try {
        const base = `127.0.0.1:${port}`;
        const r = runTool(dir, 'fanout.mjs', [
          '--pub-url', `http://${base}${PATHS[kind].pub}`, '--sub-url', `ws://${base}${PATHS[kind].sub}`,
          '--subs', String(n), '--rate', String(rate), '--messages', String(messages), '--channel', 'c', '--server-pid', String(srv.pid),
        ]).result;
        row[kind] = { p50: r.latencyMs.p50, p99: r.latencyMs.p99, loss: r.loss };
      } finally {
        await srv.stop();
      }
    }
    rows.push(row);
    const s = row.sluice;
    log(
      `latency WS N=${n} at ${rate} msg/s: sluice p50 ${s.p50} ms, p99 ${s.p99} ms, loss ${s.loss} | ref p50 ${row.ref.p50} / p99 ${row.ref.p99} → ratios ${ratio(s.p50, row.ref.p50)} / ${ratio(s.p99, row.ref.p99)} | ref-batched p99 ${row['ref-batched'].p99} → ${ratio(s.p99, row['ref-batched'].p99)}`,
    );
  }
  results.sections.latency = rows;
}

/**
 * C1/C2: idle subscribers held and server KB per held connection, Sluice and the reference measured
 * at the same count. The full run goes to 19,000: the open-file limit is 20,000 per process, so
 * the server holds 19,000 sockets plus its own files, and the harness spreads the subscribers over
 * worker processes of at most 9,500 each (`--per-proc`). After the last step one message is
 * published, to show that the held subscribers are live.
 */
async function capacity() {
  const dir = harness();
  const target = quick ? 1000 : 19000;
  const steps = quick ? '1000' : '1000,5000,10000,19000';
  const rows = [];
  for (const proto of ['ws', 'sse']) {
    const row = { proto, target };
    for (const kind of ['ref', 'sluice']) {
      const port = 18720 + (kind === 'ref' ? 0 : 1);
      const srv = await startServer(kind, port, dir);
      try {
        await settleRss(srv.pid);
        const base = `127.0.0.1:${port}`;
        const r = runTool(dir, 'capacity.mjs', [
          '--sub-url', `${proto === 'ws' ? 'ws' : 'http'}://${base}${PATHS[kind].sub}`, '--pub-url', `http://${base}${PATHS[kind].pub}`,
          '--channel', 'c', '--steps', steps, '--per-proc', '9500', '--server-pid', String(srv.pid),
        ]);
        const last = r.steps?.[r.steps.length - 1] ?? {};
        row[kind] = {
          held: last.open ?? 0, // at the last step tried (stepping stops once > 1 % of attempts fail)
          reachedStep: last.target,
          failed: last.failed,
          failReasons: last.failReasons,
          kbPerConn: last.serverKBPerConn,
          serverRssMB: last.serverRssMB,
          baselineMB: r.serverRssBaselineMB,
          broadcastOne: r.broadcastOne,
          steps: r.steps,
        };
      } finally {
        await srv.stop();
      }
    }
    rows.push(row);
    const d = (k) => {
      const x = row[k];
      const fails = x.failed ? `, ${x.failed} failed ${JSON.stringify(x.failReasons)}` : '';
      const b = x.broadcastOne ? `, 1 msg reached ${x.broadcastOne.reached}/${x.broadcastOne.open} in ${x.broadcastOne.seconds}s` : '';
      return `held ${x.held} of ${target}, ${x.kbPerConn} KB/conn (RSS ${x.baselineMB} → ${x.serverRssMB} MB${fails}${b})`;
    };
    log(`capacity ${proto.toUpperCase()}: sluice ${d('sluice')} | ref ${d('ref')} → KB/conn ratio ${ratio(row.sluice.kbPerConn, row.ref.kbPerConn)} (floor ≤ 2, target ≤ 1.25)`);
  }
  results.sections.capacity = rows;
}

/** POST /tyk/keys on a running Sluice: a key for `apiId` without rate or quota limits. */
async function createKey(port, secret, apiId) {
  const res = await fetch(`http://127.0.0.1:${port}/tyk/keys`, {
    method: 'POST',
    headers: { 'x-tyk-authorization': secret, 'content-type': 'application/json' },
    body: JSON.stringify({ expires: 0, access_rights: { [apiId]: { api_id: apiId, api_name: apiId, versions: ['Default'] } }, meta_data: { purpose: 'bench' } }),
  });
  const body = await res.json().catch(() => ({}));
  if (res.status !== 200 || !body.key) throw new Error(`POST /tyk/keys: ${res.status} ${JSON.stringify(body)}`);
  return body.key;
}

/**
 * A1: T3 over WebSocket (POST → 1000 subscribers, max rate) with key authentication on publish
 * (Authorization header) and subscribe (`?token=`), against the same run without auth; the two
 * alternate within each repetition so drift on the machine affects both.
 */
async function auth() {
  const dir = harness();
  const n = quick ? 100 : 1000;
  const messages = quick ? 6000 : undefined;
  const secret = BENCH_SECRET;
  const port = 18730;
  const runs = { off: [], on: [] };
  for (let r = 0; r < reps; r++) {
    for (const mode of ['off', 'on']) {
      const srv = await startServer('sluice', port, dir, mode === 'on' ? { apis: join(root, 'bench', 'apis-auth') } : {});
      let key;
      try {
        const base = `127.0.0.1:${port}`;
        let pubHeader = [];
        let query = '';
        if (mode === 'on') {
          key = await createKey(port, secret, 'bench-auth');
          // Without the key, publish and subscribe are refused: auth is really on.
          const denied = await fetch(`http://${base}/pub/c`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
          if (denied.status !== 401) throw new Error(`publish without a key answered ${denied.status}, expected 401`);
          pubHeader = ['--header', `Authorization: ${key}`];
          query = `?token=${encodeURIComponent(key)}`;
        }
        const res = runTool(dir, 'fanout.mjs', [
          '--pub-url', `http://${base}/pub/c`, '--sub-url', `ws://${base}/sub/c${query}`, ...pubHeader,
          '--subs', String(n), '--channel', 'c', '--server-pid', String(srv.pid), '--max-seconds', '40',
          ...(messages ? ['--messages', String(messages)] : []),
        ]).result;
        runs[mode].push(res);
      } finally {
        // Keys live in the shared bench store: remove this run's key so they do not pile up.
        if (key) await fetch(`http://127.0.0.1:${port}/tyk/keys/${encodeURIComponent(key)}`, { method: 'DELETE', headers: { 'x-tyk-authorization': secret } }).catch(() => {});
        await srv.stop();
      }
    }
  }
  const pick = (mode, f) => median(runs[mode].map(f));
  const row = { n, proto: 'ws' };
  for (const mode of ['off', 'on']) {
    row[mode] = {
      deliveredPerSec: pick(mode, (x) => x.deliveredPerSec),
      p50: pick(mode, (x) => x.latencyMs.p50),
      p99: pick(mode, (x) => x.latencyMs.p99),
      cpuUsPerDelivery: pick(mode, (x) => x.serverCpuUsPerDelivery ?? NaN),
      loss: pick(mode, (x) => x.loss),
      closed: pick(mode, (x) => x.subscribersClosedDuringRun ?? 0),
    };
  }
  row.ratio = row.off.deliveredPerSec ? row.on.deliveredPerSec / row.off.deliveredPerSec : NaN;
  // Each run, for judging the noise: msg/s, server µs per delivery, and CPU % used by other work.
  row.runs = Object.fromEntries(
    ['off', 'on'].map((m) => [m, runs[m].map((x) => ({ deliveredPerSec: x.deliveredPerSec, cpuUsPerDelivery: x.serverCpuUsPerDelivery, otherCpuPct: x.cpuPctOfOneCore?.other }))]),
  );
  results.sections.auth = row;
  const d = (x) => `${x.deliveredPerSec} msg/s (p50 ${x.p50} ms, p99 ${x.p99} ms, ${x.cpuUsPerDelivery} µs CPU/delivery, loss ${x.loss}, closed ${x.closed})`;
  log(
    `auth WS N=${n} max rate: key auth ${d(row.on)} | no auth ${d(row.off)} → ratio ${ratio(row.on.deliveredPerSec, row.off.deliveredPerSec)} (floor ≥ 0.9, target ≥ 0.95); ` +
      `CPU/delivery ratio ${ratio(row.on.cpuUsPerDelivery, row.off.cpuUsPerDelivery)}`,
  );
  for (const m of ['off', 'on']) log(`  auth ${m} runs: ${row.runs[m].map((x) => `${x.deliveredPerSec} msg/s ${x.cpuUsPerDelivery} µs (other CPU ${x.otherCpuPct}%)`).join(', ')}`);
}

async function mapping() {
  const mod = join(root, 'dist', 'src', 'bloblang', 'bench.js');
  if (!existsSync(mod)) return log('mapping: not available (src/bloblang/bench.ts missing)');
  const { runMappingBench } = await import(mod);
  const n = quick ? 200_000 : 1_000_000;
  const r = await runMappingBench(n);
  log(`mapping (${n} messages, 10-field reshape + filter + string method): bloblang ${Math.round(r.compiledPerSec)} msg/s | hand-written JS ${Math.round(r.handwrittenPerSec)} msg/s → ratio ${r.ratio.toFixed(2)} (goal ≥ 0.33)`);
  results.sections.mapping = r;
}

async function kafka() {
  const script = join(root, 'bench', 'kafka.mjs');
  if (!existsSync(script)) return log('kafka: not available (bench/kafka.mjs missing)');
  execFileSync(process.execPath, [script, ...(quick ? ['--quick'] : [])], { stdio: 'inherit' });
}

for (const [name, fn] of [['mapping', mapping], ['fanout', fanout], ['latency', latency], ['capacity', capacity], ['auth', auth], ['kafka', kafka]]) {
  if (!want(name)) continue;
  try {
    await fn();
  } catch (err) {
    log(`${name}: failed: ${err.message}`);
    results.sections[name] = { error: err.message };
  }
}
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
const file = join(root, 'bench', 'results', `bench-${results.date.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify(results, null, 2));
log(`results written to ${file.slice(root.length + 1)}`);
