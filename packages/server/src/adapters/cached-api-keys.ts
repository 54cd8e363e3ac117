import type { Census } from '../census.js';
import type { ApiKeyRecord } from '../domain/model.js';
import type { Store } from '../ports/store.js';
import { overrideStore } from './store-overrides.js';

export interface ApiKeyCacheOptions {
  /**
   * How long a looked-up key is trusted without reading the store again: a key revoked by another process (the
   * CLI, another API server) stops working within this. A revocation through this store is immediate.
   * @default 2_000
   */
  ttlMs?: number;
  /** @default 1_000 */
  maxEntries?: number;
  now?: () => number;
  /** Counts the cache's entries. */
  census?: Census | undefined;
}

/**
 * The store, with API-key lookups (`findApiKeyByHash`, done on every authenticated request) answered from a
 * small, short-lived cache. Revoking a key through it empties the cache, so the revocation takes effect at once
 * on this server. Only found keys are kept, so a key created elsewhere works on its first use.
 */
export function withApiKeyCache<S extends Store>(
  store: S,
  { ttlMs = 2_000, maxEntries = 1_000, now = Date.now, census }: ApiKeyCacheOptions = {},
): S {
  const cache = new Map<string, { record: ApiKeyRecord; until: number }>();
  census?.add('apiKeyCache', () => cache.size);
  const findApiKeyByHash = async (hash: string): Promise<ApiKeyRecord | undefined> => {
    const hit = cache.get(hash);
    if (hit && hit.until > now()) return hit.record;
    cache.delete(hash);
    const record = await store.findApiKeyByHash(hash);
    if (record) {
      // Insertion order is age order: past the bound, the oldest entry goes.
      if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
      cache.set(hash, { record, until: now() + ttlMs });
    }
    return record;
  };
  const revokeApiKey = async (id: string, at: Date): Promise<boolean> => {
    try {
      return await store.revokeApiKey(id, at);
    } finally {
      cache.clear();
    }
  };
  return overrideStore(store, { findApiKeyByHash, revokeApiKey });
}
