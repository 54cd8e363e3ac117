import { join } from 'node:path';
import { tempDir } from '@wallcrawler/test-support';
import { expect, it } from 'vitest';
import { SqliteStore } from '../../src/adapters/sqlite/sqlite-store.js';
import { describeStoreContract } from './store-contract.js';

describeStoreContract('SQLite', async () => {
  const dir = tempDir('wallcrawler-store-');
  const path = join(dir.path, 'db', 'wallcrawler.db');
  const store = await SqliteStore.open(path);
  return {
    store,
    reopen: () => SqliteStore.open(path),
    async dispose() {
      await store.close();
      dir.remove();
    },
  };
});

it('applies migrations once: reopening an existing database keeps its data', async () => {
  const dir = tempDir('wallcrawler-store-');
  const path = join(dir.path, 'wallcrawler.db');
  const first = await SqliteStore.open(path);
  const { newProject } = await import('../../src/bootstrap.js');
  const project = newProject('kept');
  await first.createProject(project);
  await first.close();
  const second = await SqliteStore.open(path);
  expect(await second.getProject(project.id)).toEqual(project);
  await second.close();
  dir.remove();
});

it('lets one active session at a time persist a context; readers and ended sessions do not count', async () => {
  const dir = tempDir('wallcrawler-store-');
  const store = await SqliteStore.open(join(dir.path, 'wallcrawler.db'));
  const { newProject } = await import('../../src/bootstrap.js');
  const { sessionRecord } = await import('../support/records.js');
  const { ContextInUseError } = await import('../../src/domain/errors.js');
  const project = newProject('p');
  await store.createProject(project);
  const writer = sessionRecord(project.id, { contextId: 'ctx', contextPersist: true });
  expect(await store.insertSessionWithinLimit(writer, 10)).toBe(true);
  expect(await store.insertSessionWithinLimit(sessionRecord(project.id, { contextId: 'ctx' }), 10)).toBe(true);
  const second = sessionRecord(project.id, { contextId: 'ctx', contextPersist: true });
  await expect(store.insertSessionWithinLimit(second, 10)).rejects.toBeInstanceOf(ContextInUseError);
  expect(await store.getSession(second.id)).toBeUndefined();
  await store.endSession(writer.id, { status: 'COMPLETED', endedAt: new Date(), endReason: 'done' });
  expect(await store.insertSessionWithinLimit(second, 10)).toBe(true);
  await store.close();
  dir.remove();
});
