/**
 * The API catalogue: every API definition this gateway knows (from the store and from the
 * `apis/` folder), kept in step with what runs. A change touches only that API's streams: the
 * runtime (the gateway's ApiManager) replaces or stops that one API; the others run on.
 *
 * Store APIs are the management API's; folder APIs are read-only inputs. When both define one
 * id, the store's wins (it is the later edit). Deleting a folder API stops it until the next
 * start, when the folder is read again.
 */
import { randomBytes } from 'node:crypto';
import type { ApiDefinition, ApiLoad } from '../config/load.js';
import type { Issue } from '../config/source.js';
import { formatIssue } from '../config/source.js';
import { SluiceError } from '../engine/errors.js';
import type { Logger } from '../engine/logger.js';
import type { Store } from '../store/store.js';
import type { ChangeBus, ChangeMessage } from '../state/bus.js';

/** What the catalogue needs from the gateway; `ApiManager` satisfies it. */
export interface ApiRuntime {
  load(def: ApiDefinition): Promise<void>;
  unload(id: string): Promise<boolean>;
  list(): ApiDefinition[];
  get(id: string): ApiDefinition | undefined;
  streams?(id: string): ReadonlyMap<string, { readonly state: string }> | undefined;
}

/** Validates an OAS document into a runnable definition (registry-aware). */
export type ApiValidator = (document: unknown, fallbackId: string) => ApiLoad;

export interface CatalogEntry {
  readonly id: string;
  readonly document: Record<string, unknown>;
  readonly def: ApiDefinition;
  readonly source: 'store' | 'file';
}

/** An invalid API document: SLU_ERR_CONTROL_BODY_INVALID with every issue. */
export class InvalidDocument extends SluiceError {
  readonly issues: readonly Issue[];
  constructor(what: string, issues: readonly Issue[]) {
    super('SLU_ERR_CONTROL_BODY_INVALID', [what, issues.map((i) => formatIssue(i)).join('; ')]);
    this.issues = issues;
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The document's `x-tyk-api-gateway.info.id`, if any. */
export function documentId(doc: unknown): string | undefined {
  if (!isObj(doc)) return undefined;
  const gw = doc['x-tyk-api-gateway'];
  const info = isObj(gw) ? gw.info : undefined;
  const id = isObj(info) ? info.id : undefined;
  return typeof id === 'string' && id ? id : undefined;
}

/** A copy of the document with `x-tyk-api-gateway.info.id` set (as Tyk does on create). */
export function withId(doc: Obj, id: string): Obj {
  const copy = structuredClone(doc);
  const gw = isObj(copy['x-tyk-api-gateway']) ? (copy['x-tyk-api-gateway'] as Obj) : ((copy['x-tyk-api-gateway'] = {}) as Obj);
  const info = isObj(gw.info) ? (gw.info as Obj) : ((gw.info = {}) as Obj);
  info.id = id;
  return copy;
}

export interface ApiCatalogOptions {
  readonly store: Store;
  readonly runtime: ApiRuntime;
  readonly validate: ApiValidator;
  readonly bus: ChangeBus;
  readonly logger: Logger;
}

export class ApiCatalog {
  readonly #o: ApiCatalogOptions;
  readonly #entries = new Map<string, CatalogEntry>();
  #queue: Promise<unknown> = Promise.resolve();
  readonly #unsubscribe: () => void;

  constructor(opts: ApiCatalogOptions) {
    this.#o = opts;
    this.#unsubscribe = opts.bus.subscribe((m, from) => {
      if (from === 'remote') void this.#serial(() => this.#remote(m));
    });
  }

  /** One change at a time, so two edits of one API cannot interleave their load/unload. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  list(): CatalogEntry[] {
    return [...this.#entries.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  get(id: string): CatalogEntry | undefined {
    return this.#entries.get(id);
  }

  streams(id: string): ReadonlyMap<string, { readonly state: string }> | undefined {
    return this.#o.runtime.streams?.(id);
  }

  /** Takes over the APIs the runtime already serves (loaded from the `apis/` folder). */
  adoptRuntime(): void {
    for (const def of this.#o.runtime.list()) {
      if (!this.#entries.has(def.id)) this.#entries.set(def.id, { id: def.id, document: def.document, def, source: 'file' });
    }
  }

  /** Loads every stored API; one that fails is reported and skipped. */
  async loadFromStore(): Promise<{ loaded: string[]; failed: string[] }> {
    return this.#serial(async () => {
      const loaded: string[] = [];
      const failed: string[] = [];
      for (const a of await this.#o.store.listApis()) {
        try {
          if (this.#entries.get(a.id)?.source === 'file') this.#o.logger.warn('the stored definition replaces the one from the API folder', { api: a.id });
          await this.#apply(a.id, a.document);
          loaded.push(a.id);
        } catch (err) {
          this.#o.logger.error('stored API could not be started', { api: a.id, error: (err as Error).message });
          failed.push(a.id);
        }
      }
      return { loaded, failed };
    });
  }

  #validate(doc: unknown, id: string): ApiDefinition {
    const r = this.#o.validate(doc, id);
    if (!r.api) throw new InvalidDocument('API definition', r.issues);
    if (r.api.id !== id) throw new InvalidDocument('API definition', [{ path: 'x-tyk-api-gateway.info.id', message: `must be ${JSON.stringify(id)}` }]);
    return r.api;
  }

  /** Validates and runs a stored document, replacing what ran under that id. */
  async #apply(id: string, document: Obj): Promise<CatalogEntry> {
    const def = this.#validate(document, id);
    await this.#o.runtime.load(def);
    const entry: CatalogEntry = { id, document, def, source: 'store' };
    this.#entries.set(id, entry);
    return entry;
  }

  /** Creates an API (id from the document, or generated). SLU_ERR_CONTROL_EXISTS when taken. */
  create(document: unknown): Promise<CatalogEntry> {
    return this.#serial(async () => {
      if (!isObj(document)) throw new InvalidDocument('API definition', [{ path: '', message: 'expected an OpenAPI document (an object)' }]);
      if (!isObj(document['x-tyk-api-gateway'])) throw new InvalidDocument('API definition', [{ path: 'x-tyk-api-gateway', message: 'the payload should contain x-tyk-api-gateway' }]);
      const id = documentId(document) ?? randomBytes(16).toString('hex');
      const doc = withId(document, id);
      const def = this.#validate(doc, id);
      if (this.#entries.has(id)) throw new SluiceError('SLU_ERR_CONTROL_EXISTS', [`API ${id}`]);
      if (!(await this.#o.store.createApi(id, doc))) throw new SluiceError('SLU_ERR_CONTROL_EXISTS', [`API ${id}`]);
      try {
        await this.#o.runtime.load(def);
      } catch (err) {
        await this.#o.store.deleteApi(id).catch(() => undefined);
        await this.#o.runtime.unload(id).catch(() => false);
        throw err;
      }
      const entry: CatalogEntry = { id, document: doc, def, source: 'store' };
      this.#entries.set(id, entry);
      await this.#o.bus.publish({ kind: 'api', id, action: 'updated' });
      this.#o.logger.info('API created', { api: id });
      return entry;
    });
  }

  /** Replaces an API; the running one is swapped only when the new one starts. */
  update(id: string, document: unknown): Promise<CatalogEntry> {
    return this.#serial(async () => {
      const prev = this.#entries.get(id);
      if (!prev) throw new SluiceError('SLU_ERR_CONTROL_NOT_FOUND', [`API ${id}`]);
      if (!isObj(document)) throw new InvalidDocument('API definition', [{ path: '', message: 'expected an OpenAPI document (an object)' }]);
      const given = documentId(document);
      if (given !== undefined && given !== id) {
        throw new InvalidDocument('API definition', [{ path: 'x-tyk-api-gateway.info.id', message: `is ${JSON.stringify(given)} but the URL names ${JSON.stringify(id)}; they must match` }]);
      }
      const doc = withId(document, id);
      const def = this.#validate(doc, id);
      try {
        await this.#o.runtime.load(def);
      } catch (err) {
        if (prev.def.active) await this.#o.runtime.load(prev.def).catch(() => undefined);
        throw err;
      }
      await this.#o.store.putApi(id, doc);
      const entry: CatalogEntry = { id, document: doc, def, source: 'store' };
      this.#entries.set(id, entry);
      await this.#o.bus.publish({ kind: 'api', id, action: 'updated' });
      this.#o.logger.info('API updated', { api: id });
      return entry;
    });
  }

  remove(id: string): Promise<boolean> {
    return this.#serial(async () => {
      const prev = this.#entries.get(id);
      const stored = await this.#o.store.deleteApi(id);
      if (!prev && !stored) return false;
      this.#entries.delete(id);
      await this.#o.runtime.unload(id);
      await this.#o.bus.publish({ kind: 'api', id, action: 'deleted' });
      this.#o.logger.info('API deleted', { api: id });
      return true;
    });
  }

  /** Re-reads every stored API and applies what changed (Tyk's `/tyk/reload`). */
  resync(): Promise<void> {
    return this.#serial(async () => {
      const stored = await this.#o.store.listApis();
      const ids = new Set(stored.map((a) => a.id));
      for (const a of stored) {
        const cur = this.#entries.get(a.id);
        if (cur && cur.source === 'store' && JSON.stringify(cur.document) === JSON.stringify(a.document)) continue;
        await this.#apply(a.id, a.document).catch((err: unknown) => this.#o.logger.error('stored API could not be started', { api: a.id, error: (err as Error).message }));
      }
      for (const e of [...this.#entries.values()]) {
        if (e.source === 'store' && !ids.has(e.id)) {
          this.#entries.delete(e.id);
          await this.#o.runtime.unload(e.id);
        }
      }
    });
  }

  async #remote(m: ChangeMessage): Promise<void> {
    if (m.kind === 'reload') {
      void this.resync(); // queued after this change
      return;
    }
    if (m.kind !== 'api') return;
    try {
      if (m.action === 'deleted') {
        if (this.#entries.delete(m.id)) await this.#o.runtime.unload(m.id);
        return;
      }
      const a = await this.#o.store.getApi(m.id);
      if (!a) return;
      await this.#apply(a.id, a.document);
      this.#o.logger.info('API changed by another process: applied', { api: m.id });
    } catch (err) {
      this.#o.logger.error('could not apply an API change from another process', { api: m.id, error: (err as Error).message });
    }
  }

  close(): void {
    this.#unsubscribe();
  }
}
