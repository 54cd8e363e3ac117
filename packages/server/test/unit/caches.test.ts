import { join } from 'node:path';
import { tempDir } from '@wallcrawler/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withApiKeyCache } from '../../src/adapters/cached-api-keys.js';
import { withSessionCache } from '../../src/adapters/cached-sessions.js';
import { SqliteStore } from '../../src/adapters/sqlite/sqlite-store.js';
import { generateApiKey, hashApiKey } from '../../src/api-keys.js';
import { newProject } from '../../src/bootstrap.js';
import { sessionRecord } from '../support/records.js';

/** The caches in front of the store, over a real SQLite store, with a second handle playing "another process". */
const dir = tempDir('wallcrawler-caches-');
let store: SqliteStore;
let other: SqliteStore;
let projectId: string;

beforeAll(async () => {
  store = await SqliteStore.open(join(dir.path, 'db.sqlite'));
  other = await SqliteStore.open(join(dir.path, 'db.sqlite'));
  const project = newProject('caches', { concurrency: 10 });
  await store.createProject(project);
  projectId = project.id;
});

afterAll(async () => {
  await store.close();
  await other.close();
  dir.remove();
});

describe('withApiKeyCache', () => {
  it('answers repeated lookups from memory until the TTL, and a revocation through it at once', async () => {
    let now = 0;
    const cached = withApiKeyCache(store, { ttlMs: 2_000, now: () => now });
    const { key, record } = generateApiKey('cached', [projectId]);
    await store.createApiKey(record);
    const hash = hashApiKey(key);
    expect((await cached.findApiKeyByHash(hash))?.revokedAt).toBeUndefined();
    // Revoked elsewhere: still trusted within the TTL, seen after it.
    await other.revokeApiKey(record.id, new Date());
    now = 1_999;
    expect((await cached.findApiKeyByHash(hash))?.revokedAt).toBeUndefined();
    now = 2_001;
    expect((await cached.findApiKeyByHash(hash))?.revokedAt).toBeInstanceOf(Date);

    const second = generateApiKey('second', [projectId]);
    await store.createApiKey(second.record);
    expect((await cached.findApiKeyByHash(hashApiKey(second.key)))?.revokedAt).toBeUndefined();
    await cached.revokeApiKey(second.record.id, new Date());
    expect((await cached.findApiKeyByHash(hashApiKey(second.key)))?.revokedAt).toBeInstanceOf(Date);
  });

  it('keeps no miss: a key created elsewhere works on its first use', async () => {
    const cached = withApiKeyCache(store);
    const { key, record } = generateApiKey('later', [projectId]);
    expect(await cached.findApiKeyByHash(hashApiKey(key))).toBeUndefined();
    await other.createApiKey(record);
    expect((await cached.findApiKeyByHash(hashApiKey(key)))?.id).toBe(record.id);
  });

  it('passes every other method through to the store', async () => {
    const cached = withApiKeyCache(store);
    expect((await cached.getProject(projectId))?.id).toBe(projectId);
  });
});

describe('withSessionCache', () => {
  it('serves reads from memory and drops the entry on every write of the session', async () => {
    const cached = withSessionCache(store);
    const session = sessionRecord(projectId, { status: 'PENDING' });
    expect(await cached.insertSessionWithinLimit(session, 10)).toBe(true);
    expect((await cached.getSession(session.id))?.status).toBe('PENDING');
    await cached.markSessionRunning(session.id, new Date());
    expect((await cached.getSession(session.id))?.status).toBe('RUNNING');
    // A second read is a hit: the record is the same object.
    expect(await cached.getSession(session.id)).toBe(await cached.getSession(session.id));
    await cached.endSession(session.id, { status: 'COMPLETED', endedAt: new Date(), endReason: 'test' });
    expect((await cached.getSession(session.id))?.status).toBe('COMPLETED');
  });

  it('does not keep a read that raced a write', async () => {
    const cached = withSessionCache(store);
    const session = sessionRecord(projectId, { status: 'RUNNING' });
    await store.insertSessionWithinLimit(session, 10);
    const racing = cached.getSession(session.id);
    await cached.endSession(session.id, { status: 'COMPLETED', endedAt: new Date(), endReason: 'raced' });
    await racing;
    expect((await cached.getSession(session.id))?.status).toBe('COMPLETED');
  });
});
