import type { Census } from '../census.js';
import type { SessionRecord } from '../domain/model.js';
import type { Store } from '../ports/store.js';
import { overrideStore } from './store-overrides.js';

/**
 * The store, with `getSession` answered from memory for a store this process alone writes sessions to: the
 * local server's SQLite, which its data-dir lock keeps to one server (the CLI never writes sessions). Every
 * session write goes through here and drops its entry; a read that raced a write is not kept, so a read never
 * sees an older record than the store holds. Ended sessions are not kept. Not for DynamoDB, where tasks and other
 * API functions write too.
 */
export function withSessionCache<S extends Store>(
  store: S,
  { maxEntries = 10_000, census }: { maxEntries?: number; census?: Census | undefined } = {},
): S {
  const cache = new Map<string, SessionRecord>();
  census?.add('sessionCache', () => cache.size);
  /** Bumped by every write of the session: a read started before it must not fill the cache. */
  let writes = 0;
  const written = (id: string) => {
    writes++;
    cache.delete(id);
  };
  const overrides: Partial<Store> = {
    async getSession(id) {
      const hit = cache.get(id);
      if (hit) return hit;
      const before = writes;
      const record = await store.getSession(id);
      // Only sessions still starting or running: they are the ones read over and over (by their clients and
      // their connect URLs), and an ended one's entry would stay until the bound pushed it out.
      const active = record?.status === 'PENDING' || record?.status === 'RUNNING';
      if (record && active && writes === before) {
        if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
        cache.set(id, record);
      }
      return record;
    },
    async insertSessionWithinLimit(session, limit) {
      written(session.id);
      return store.insertSessionWithinLimit(session, limit);
    },
    async markSessionRunning(id, at) {
      written(id);
      try {
        return await store.markSessionRunning(id, at);
      } finally {
        written(id);
      }
    },
    async endSession(id, end) {
      written(id);
      try {
        return await store.endSession(id, end);
      } finally {
        written(id);
      }
    },
  };
  return overrideStore(store, overrides);
}
