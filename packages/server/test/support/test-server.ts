import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from '@wallcrawler/contracts';
import { tempDir } from '@wallcrawler/test-support';
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
export async function startTestServer(
  env: Record<string, string> = {},
  { logger }: { logger?: Logger } = {},
): Promise<TestServer> {
  const dir = tempDir('wallcrawler-server-');
  const apiKey = `wc_test_${randomBytes(16).toString('hex')}`;
  const config = loadServerConfig({
    WALLCRAWLER_PORT: '0',
    WALLCRAWLER_DATA_DIR: dir.path,
    WALLCRAWLER_API_KEY: apiKey,
    WALLCRAWLER_LOG_LEVEL: 'silent',
    WALLCRAWLER_DISCONNECT_GRACE_MS: '300',
    // Off unless a test is about the pool: its idle browsers would count as leftovers in every other test.
    WALLCRAWLER_POOL_SIZE: '0',
    ...env,
  });
  const server = await startLocalServer(config, logger);
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

/** A log line a {@link memoryLogger} kept. */
export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string | undefined;
  fields: Record<string, unknown>;
}

/** A logger that keeps every line in `lines`, for tests that check what the server logs. */
export function memoryLogger(
  lines: LogLine[] = [],
  bindings: Record<string, unknown> = {},
): Logger & { lines: LogLine[] } {
  const at = (level: LogLine['level']) => (fields: Record<string, unknown>, message?: string) =>
    void lines.push({ level, message, fields: { ...bindings, ...fields } });
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => memoryLogger(lines, { ...bindings, ...more }),
  };
}

/** The value of one sample in a Prometheus scrape, e.g. `wallcrawler_sessions{status="RUNNING"}`. */
export function metricSample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : undefined;
}
