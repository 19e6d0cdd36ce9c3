/**
 * `sluice start`: the gateway. Serves every API definition of a folder (default `apis/`) on one
 * listener (default 127.0.0.1:8080), prints the URLs, and on SIGINT/SIGTERM drains in-flight
 * messages and exits 0. With `--tls-cert` and `--tls-key` the listener speaks HTTPS / WSS and
 * SIGHUP re-reads the certificate files.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createLogger } from '../engine/logger.js';
import { Gateway } from '../gateway/server.js';
import { ApiManager } from '../gateway/apis.js';
import { createBloblang, createRegistry, VERSION } from './wiring.js';
import { logLevel, parse } from './args.js';
import { onShutdown } from './shutdown.js';
import { startControlPlane } from '../control/plane.js';
import { attachAccess } from '../gateway/guard.js';
import { SluiceError } from '../engine/errors.js';
import { describeTls, loadTls, reloadTls, tlsFilesFrom, tlsOptions, warnIfExpired, type LoadedTls, type TlsFiles } from './tls.js';

export async function startCommand(args: string[]): Promise<number> {
  const { values } = parse(args, {
    apis: { type: 'string', default: process.env.SLUICE_APIS ?? 'apis' },
    host: { type: 'string', default: process.env.SLUICE_HOST ?? '127.0.0.1' },
    port: { type: 'string', default: process.env.SLUICE_PORT ?? '8080' },
    'log-level': { type: 'string' },
    'log-format': { type: 'string', default: 'text' },
    'shutdown-timeout': { type: 'string', default: '20s' },
    data: { type: 'string' },
    store: { type: 'string' },
    redis: { type: 'string' },
    secret: { type: 'string' },
    ...tlsOptions,
  });
  // TLS files are checked before anything starts: a bad one stops here, naming the file.
  let tlsFiles: TlsFiles | undefined;
  let tls: LoadedTls | undefined;
  try {
    tlsFiles = tlsFilesFrom(values);
    tls = tlsFiles && loadTls(tlsFiles);
  } catch (err) {
    if (!(err instanceof SluiceError)) throw err;
    process.stderr.write(`sluice start: ${err.message} (${err.code})\n`);
    return 1;
  }
  const logger = createLogger({ level: logLevel(values['log-level']), format: values['log-format'] === 'json' ? 'json' : 'text' });
  const registry = createRegistry();
  const bloblang = await createBloblang();
  const gateway = new Gateway({ host: values.host, port: Number(values.port), logger, version: VERSION, ...(tls ? { tls } : {}) });
  if (tls && tlsFiles) warnIfExpired(tls, tlsFiles, logger);
  // SIGHUP (e.g. after a certificate renewal) re-reads the TLS files; without TLS it is left alone.
  const files = tlsFiles;
  const onHangup = files ? () => void reloadTls(gateway, files, logger) : undefined;
  if (onHangup) process.on('SIGHUP', onHangup);
  const apis = new ApiManager({ gateway, registry, bloblang, logger });
  const addr = await gateway.listen();
  const base = `${gateway.scheme}://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
  const dir = resolve(values.apis);
  if (existsSync(dir)) {
    const { failed } = await apis.loadDir(dir);
    if (failed.length) logger.warn('some API definitions were not loaded', { files: failed.join(', ') });
  } else {
    logger.warn('API folder not found; serving no APIs', { apis: dir });
  }
  // The control plane (store, counters, management API) may take a few seconds on the very first
  // start (the embedded database is created): the gateway serves meanwhile; a failure stops it.
  const controlStart = startControlPlane({ gateway, apis, logger, registry, bloblang, version: VERSION, dataDir: values.data, store: values.store, redis: values.redis, secret: values.secret }).then(
    (control) => {
      // Keys, policies and limits now guard every API that requires authentication.
      attachAccess(apis, control.access, logger, dir);
      return control;
    },
  );
  const stopOnFailure = async (err: unknown) => {
    await apis.stopAll();
    await gateway.close();
    throw err;
  };
  const early = await Promise.race([controlStart, new Promise<undefined>((r) => setTimeout(() => r(undefined), 3000).unref())]).catch(stopOnFailure);
  if (!early) {
    logger.info('the control plane is still starting (the first start creates the embedded store)');
    controlStart.catch((err: unknown) => {
      logger.error('the control plane could not start', { error: (err as Error).message });
      process.exitCode = 1;
      return stopOnFailure(err).catch(() => undefined);
    });
  }
  await waitForStreams(apis);
  const out: string[] = [`Sluice ${VERSION} listening on ${base}`, `  health: ${base}/hello`, `  management: ${base}/tyk/ (Tyk Gateway API), ${base}/api/ (${base}/api/openapi.json)`];
  if (tls && tlsFiles) out.push(`  ${describeTls(tls, tlsFiles)}`);
  for (const def of apis.list()) {
    out.push(`  API ${def.name} (${def.id}) at ${base}${def.listenPath === '/' ? '' : def.listenPath}/`);
    for (const line of apis.describeRoutes(def.id, base)) out.push(`    ${line}`);
  }
  process.stdout.write(out.join('\n') + '\n');
  await onShutdown(async () => {
    if (onHangup) process.off('SIGHUP', onHangup);
    logger.info('shutting down: draining in-flight messages');
    await apis.stopAll();
    await gateway.close();
    await (await controlStart.catch(() => undefined))?.close();
  });
  return 0;
}

/** Streams register their HTTP paths as they connect; give them a moment so the URLs print. */
async function waitForStreams(apis: ApiManager): Promise<void> {
  const deadline = Date.now() + 2000;
  while (Date.now() < deadline) {
    const pending = apis.list().some((d) => [...(apis.streams(d.id)?.values() ?? [])].some((s) => s.state === 'connecting' || s.state === 'created'));
    if (!pending) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}
