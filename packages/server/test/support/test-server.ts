import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { tempDir } from '../../../../test-support/index.js';
import { SqliteStore } from '../../src/adapters/sqlite/sqlite-store.js';
import { loadServerConfig } from '../../src/config.js';
import { type LocalServer, startLocalServer } from '../../src/runtime/node.js';

export interface TestServer {
  server: LocalServer;
  url: string;
  /** The default project's API key. */
  apiKey: string;
  /** The default project. */
  projectId: string;
  dataDir: string;
  /** A second handle on the server's SQLite file, for arranging and inspecting state. */
  store: SqliteStore;
  /** Stops the server and removes its data dir. */
  close(): Promise<void>;
}

/**
 * A real local server on a random loopback port with its own data dir (unless `env` names one), configured
 * through the same environment variables a user sets. The disconnect grace is short so ending paths are quick to observe.
 */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const dir = tempDir('wallcrawler-server-');
  const apiKey = `wc_test_${randomBytes(16).toString('hex')}`;
  const config = loadServerConfig({
    WALLCRAWLER_PORT: '0',
    WALLCRAWLER_DATA_DIR: dir.path,
    WALLCRAWLER_API_KEY: apiKey,
    WALLCRAWLER_LOG_LEVEL: 'silent',
    WALLCRAWLER_DISCONNECT_GRACE_MS: '300',
    ...env,
  });
  const server = await startLocalServer(config);
  const store = await SqliteStore.open(join(config.dataDir, 'wallcrawler.db'));
  const [project] = await store.listProjects();
  if (!project) throw new Error('the server did not create its default project');
  return {
    server,
    url: server.url,
    apiKey,
    projectId: project.id,
    dataDir: config.dataDir,
    store,
    async close() {
      await server.close();
      await store.close();
      dir.remove();
    },
  };
}
