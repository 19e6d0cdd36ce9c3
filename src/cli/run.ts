/**
 * `sluice run -c FILE`: runs one Benthos/Bento stream config standalone, as `benthos -c` does.
 * `http_server` components use the service-wide server at `http.address` (default
 * 0.0.0.0:4195). Exits 0 when the input is exhausted or on SIGINT/SIGTERM after draining,
 * 1 on an invalid config.
 */
import { readFile } from 'node:fs/promises';
import { createLogger } from '../engine/logger.js';
import { buildStream } from '../engine/build.js';
import { loadStreamConfig } from '../config/load.js';
import { formatIssue } from '../config/source.js';
import { Gateway } from '../gateway/server.js';
import { createBloblang, createRegistry, VERSION } from './wiring.js';
import { logLevel, parse } from './args.js';

export async function runCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    config: { type: 'string', short: 'c' },
    'log-level': { type: 'string' },
    'log-format': { type: 'string', default: 'text' },
  });
  const file = values.config ?? positionals[0];
  if (!file) {
    process.stderr.write('usage: sluice run -c stream.yaml\n');
    return 2;
  }
  const logger = createLogger({ level: logLevel(values['log-level']), format: values['log-format'] === 'json' ? 'json' : 'text' });
  const registry = createRegistry();
  const bloblang = await createBloblang();
  const { config, issues } = loadStreamConfig(await readFile(file, 'utf8'), { registry, bloblang });
  if (!config) {
    for (const i of issues) process.stderr.write(formatIssue(i, file) + '\n');
    return 1;
  }
  const http = (config as unknown as { http: { enabled: boolean; address: string } }).http;
  let gateway: Gateway | undefined;
  let host;
  if (http.enabled) {
    const [h, p] = splitAddress(http.address);
    gateway = new Gateway({ host: h, port: p, logger, version: VERSION });
    host = gateway.createHost('stream');
    gateway.mount('stream', '/', host);
    gateway.addHandler((_req, res, path) => {
      if (path !== '/ping' && path !== '/ready') return false;
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end(path === '/ping' ? 'pong' : 'OK');
      return true;
    });
    await gateway.listen();
  }
  const stream = await buildStream(config, { registry, bloblang, logger, http: host, stream: 'stream' });
  let signals = 0;
  const stop = () => {
    if (++signals > 1) process.exit(1);
    void stream.stop();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  await stream.start();
  await gateway?.close();
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  return 0;
}

function splitAddress(a: string): [string, number] {
  const i = a.lastIndexOf(':');
  const host = i <= 0 ? '0.0.0.0' : a.slice(0, i).replace(/^\[|\]$/g, '');
  return [host, Number(i < 0 ? a : a.slice(i + 1)) || 4195];
}
