/**
 * A store that keeps everything in memory and forgets it on exit. For unit tests and for
 * embedding Sluice where nothing must touch the disk; `sluice start` uses the durable stores.
 */
import type { Policy, Session } from '../access/types.js';
import { latestVersion } from './schema.js';
import type { PutResult, Store, StoredApi } from './store.js';

const copy = <T>(v: T): T => structuredClone(v);

export class MemoryStore implements Store {
  readonly kind = 'pglite' as const;
  readonly location = '(memory)';
  readonly #apis = new Map<string, StoredApi>();
  readonly #policies = new Map<string, Policy>();
  readonly #keys = new Map<string, Session>();

  async listApis(): Promise<StoredApi[]> {
    return [...this.#apis.values()].sort((a, b) => a.id.localeCompare(b.id)).map(copy);
  }
  async getApi(id: string): Promise<StoredApi | undefined> {
    const a = this.#apis.get(id);
    return a && copy(a);
  }
  async putApi(id: string, document: Record<string, unknown>): Promise<PutResult> {
    const had = this.#apis.has(id);
    this.#apis.set(id, { id, document: copy(document), updatedAt: new Date() });
    return had ? 'updated' : 'created';
  }
  async createApi(id: string, document: Record<string, unknown>): Promise<boolean> {
    if (this.#apis.has(id)) return false;
    await this.putApi(id, document);
    return true;
  }
  async deleteApi(id: string): Promise<boolean> {
    return this.#apis.delete(id);
  }

  async listPolicies(): Promise<Policy[]> {
    return [...this.#policies.values()].sort((a, b) => a.id.localeCompare(b.id)).map(copy);
  }
  async getPolicy(id: string): Promise<Policy | undefined> {
    const p = this.#policies.get(id);
    return p && copy(p);
  }
  async putPolicy(policy: Policy): Promise<PutResult> {
    const had = this.#policies.has(policy.id);
    this.#policies.set(policy.id, copy(policy));
    return had ? 'updated' : 'created';
  }
  async deletePolicy(id: string): Promise<boolean> {
    return this.#policies.delete(id);
  }

  async listKeyHashes(): Promise<string[]> {
    return [...this.#keys.keys()];
  }
  async listKeys(): Promise<{ keyHash: string; session: Session }[]> {
    return [...this.#keys].map(([keyHash, session]) => ({ keyHash, session: copy(session) }));
  }
  async getKey(keyHash: string): Promise<Session | undefined> {
    const s = this.#keys.get(keyHash);
    return s && copy(s);
  }
  async putKey(keyHash: string, session: Session): Promise<PutResult> {
    const had = this.#keys.has(keyHash);
    this.#keys.set(keyHash, copy(session));
    return had ? 'updated' : 'created';
  }
  async deleteKey(keyHash: string): Promise<boolean> {
    return this.#keys.delete(keyHash);
  }

  async schemaVersion(): Promise<number> {
    return latestVersion;
  }
  async close(): Promise<void> {}
}
