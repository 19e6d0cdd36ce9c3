/**
 * The control plane, wired for `sluice start`: the durable store, the hot state, the change
 * channel, the access service and the management API, mounted on the gateway's listener.
 *
 *   store   embedded PGlite in <data>/pglite (default), or PostgreSQL with --store postgres://...
 *   state   in memory (default), or Redis with --redis redis://...
 *   changes in-process; Redis pub/sub with --redis; PostgreSQL LISTEN/NOTIFY with a
 *           PostgreSQL store and no Redis
 *
 * With no flags it needs no external service, so `npm start` works anywhere. The management
 * routes are mounted at once and answer 503 until the store is open (the first start creates
 * the embedded database, which takes a few seconds).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AccessService } from '../access/service.js';
import { validateApiDocument } from '../config/load.js';
import { planApiAuthentication } from '../access/auth/index.js';
import type { Registry } from '../engine/registry.js';
import type { BloblangEnvironment } from '../engine/bloblang-api.js';
import type { Logger } from '../engine/logger.js';
import { openStore, type Store } from '../store/store.js';
import { redactUrl } from '../store/sql.js';
import { MemoryState } from '../state/memory.js';
import { RedisState, redactRedisUrl } from '../state/redis.js';
import { MemoryBus, PostgresBus, RedisBus, type ChangeBus } from '../state/bus.js';
import type { HotState } from '../state/types.js';
import { ApiCatalog, type ApiRuntime } from './catalog.js';
import { createManagementHandler, type ManagementHandler, type RouteHandler } from './handler.js';
import { resolveSecret, type SecretSource } from './secret.js';
import { send } from './http.js';
import { SluiceError } from '../engine/errors.js';

export interface ControlPlaneOptions {
  readonly gateway: { addHandler(h: RouteHandler): void };
  /** The gateway's API runtime (ApiManager). */
  readonly apis: ApiRuntime;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly bloblang?: BloblangEnvironment;
  readonly version?: string;
  /** Data folder: the embedded store and the generated secret. Default `.data` under the cwd. */
  readonly dataDir?: string;
  /** `postgres://...`; without it the embedded store. */
  readonly store?: string;
  /** `redis://...`; without it counters live in memory. */
  readonly redis?: string;
  /** The admin secret; else SLUICE_SECRET, else `<data>/secret` (generated on first start). */
  readonly secret?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Where a generated secret is announced (default stdout). */
  readonly print?: (text: string) => void;
  readonly rateLimiter?: 'sliding' | 'fixed';
  /** Prefix of Redis keys and channels (default `sluice:`). */
  readonly redisPrefix?: string;
  readonly bodyLimit?: number;
  /** Ready-made parts (embedding, tests): used instead of opening them; not closed by `close()`. */
  readonly use?: { readonly store?: Store; readonly state?: HotState; readonly bus?: ChangeBus };
}

export interface ControlPlane {
  readonly access: AccessService;
  readonly catalog: ApiCatalog;
  readonly store: Store;
  readonly state: HotState;
  readonly bus: ChangeBus;
  readonly handler: ManagementHandler;
  readonly secretSource: SecretSource;
  close(): Promise<void>;
}

export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const env = opts.env ?? process.env;
  const dataDir = resolve(opts.dataDir ?? env.SLUICE_DATA ?? '.data');
  const storeUrl = opts.store ?? env.SLUICE_STORE;
  const redisUrl = opts.redis ?? env.SLUICE_REDIS;
  const logger = opts.logger;
  const { secret, source } = resolveSecret({ flag: opts.secret, env, dataDir, print: opts.print });

  // Mounted at once: until the store is open, management requests get 503 "starting".
  let inner: RouteHandler | undefined;
  let failed = false;
  opts.gateway.addHandler((req, res, path) => {
    if (inner) return inner(req, res, path);
    if (failed || !(path === '/tyk' || path.startsWith('/tyk/') || path.startsWith('/api/'))) return false;
    req.resume();
    const e = new SluiceError('SLU_ERR_CONTROL_STARTING');
    const body = path.startsWith('/api/') ? { error: e.message, code: e.code } : { status: 'error', message: e.message };
    send(res, { status: 503, body, headers: { 'Retry-After': '2' } });
    return true;
  });

  const cleanup: (() => Promise<void>)[] = [];
  const undo = async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  };
  try {
    if (!opts.use?.store && !storeUrl && !existsSync(join(dataDir, 'pglite', 'PG_VERSION'))) {
      logger.info('creating the embedded store (first start only; takes a few seconds)', { data: dataDir });
    }
    const store = opts.use?.store ?? (await openStore({ url: storeUrl, dataDir }));
    if (!opts.use?.store) cleanup.push(() => store.close());
    let state: HotState;
    let bus: ChangeBus;
    if (opts.use?.state && opts.use.bus) {
      state = opts.use.state;
      bus = opts.use.bus;
    } else if (redisUrl) {
      const rs = await RedisState.connect({ url: redisUrl, prefix: opts.redisPrefix });
      cleanup.push(() => rs.close());
      state = rs;
      bus = await RedisBus.create(rs.redis, rs.prefix, logger);
    } else {
      state = new MemoryState();
      cleanup.push(() => state.close());
      bus = store.kind === 'postgres' && storeUrl ? await PostgresBus.create({ url: storeUrl, logger }) : new MemoryBus(logger);
    }
    if (!opts.use?.bus) cleanup.push(() => bus.close());

    const access = new AccessService({ store, state, bus, logger: logger.with({ component: 'access' }), rateLimiter: opts.rateLimiter });
    cleanup.push(() => access.close());
    await access.start();

    const catalog = new ApiCatalog({
      store,
      runtime: opts.apis,
      bus,
      logger,
      validate: (doc, fallbackId) => {
        const checked = validateApiDocument(doc, { registry: opts.registry, bloblang: opts.bloblang, fallbackId });
        if (!checked.api) return checked;
        // Authentication settings are refused here too (400 naming the field), not when the API starts.
        const { issues } = planApiAuthentication(checked.api.document);
        return issues.length ? { api: undefined, issues: [...issues] } : checked;
      },
    });
    cleanup.push(async () => catalog.close());
    catalog.adoptRuntime();
    const { failed } = await catalog.loadFromStore();
    if (failed.length) logger.warn('some stored APIs were not started', { apis: failed.join(', ') });

    const handler = createManagementHandler({ access, catalog, secret, logger, version: opts.version ?? '0.0.0', bodyLimit: opts.bodyLimit });
    inner = handler;
    logger.info('control plane ready', {
      store: store.kind === 'postgres' ? redactUrl(storeUrl ?? '') : store.location,
      state: state.kind === 'redis' && redisUrl ? redactRedisUrl(redisUrl) : state.kind,
      changes: bus.kind,
      management_auth: source,
    });
    return {
      access,
      catalog,
      store,
      state,
      bus,
      handler,
      secretSource: source,
      close: undo,
    };
  } catch (err) {
    failed = true;
    await undo();
    throw err;
  }
}
