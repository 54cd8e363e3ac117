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
