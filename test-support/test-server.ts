/**
 * The e2e fixture: a real local Wallcrawler server (through `@wallcrawler/server`'s public exports, which resolve to
 * its sources in the tests) with its own data dir and API key, an SDK client for it, and a teardown that proves
 * nothing of it is left.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from '@wallcrawler/contracts';
import { type ClientOptions, Wallcrawler } from '@wallcrawler/sdk';
import { loadServerConfig, SqliteStore } from '@wallcrawler/server';
import { type LocalServer, startLocalServer } from '@wallcrawler/server/node';
import { afterAll, beforeAll } from 'vitest';
import { expectNothingLeft, type PageServer, startPageServer, tempDir } from './index.js';

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
  /**
   * Stops the server, checks that no process or session directory of it is left (throwing with what leaked), and
   * removes its data dir.
   */
  close(): Promise<void>;
}

export interface TestServerOptions {
  logger?: Logger;
  /**
   * The shortest session `timeout` a create accepts, in seconds, for a test that waits a timeout out.
   * @default 60, Browserbase's (the API's contract)
   */
  minSessionTimeoutSeconds?: number;
}

/**
 * A real local server on a random loopback port with its own data dir (unless `env` names one), configured
 * through the same environment variables a user sets. The disconnect grace is short so ending paths are quick to
 * observe.
 */
export async function startTestServer(
  env: Record<string, string> = {},
  { logger, minSessionTimeoutSeconds }: TestServerOptions = {},
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
  if (minSessionTimeoutSeconds !== undefined) config.minSessionTimeoutSeconds = minSessionTimeoutSeconds;
  const server = await startLocalServer(config, logger);
  const store = await SqliteStore.open(join(config.dataDir, 'wallcrawler.db'));
  const [project] = await store.listProjects();
  if (!project) throw new Error('the server did not create its default project');
  let closing: Promise<void> | undefined;
  return {
    server,
    url: server.url,
    apiKey,
    projectId: project.id,
    dataDir: config.dataDir,
    store,
    close() {
      closing ??= (async () => {
        try {
          await server.close();
          await store.close();
          await expectNothingLeft(config.dataDir);
        } finally {
          dir.remove();
        }
      })();
      return closing;
    },
  };
}

/** A {@link TestServer} that {@link useTestServer} starts, with an SDK client for its default project. */
export interface TestServerFixture extends TestServer {
  /** `@wallcrawler/sdk` for the default project; `maxRetries: 0` unless the fixture was given other options. */
  readonly client: Wallcrawler;
}

/**
 * The setup every e2e file shares: starts a {@link startTestServer} in `beforeAll` of the enclosing file or
 * `describe`, and closes it in `afterAll` (which fails the file if a browser or a session directory is left).
 * The fixture's fields are there from `beforeAll` on: read them in hooks and tests, not at the top level.
 */
export function useTestServer(
  env: Record<string, string> = {},
  options: TestServerOptions & { sdk?: Partial<ClientOptions> } = {},
): TestServerFixture {
  let started: { t: TestServer; client: Wallcrawler } | undefined;
  beforeAll(async () => {
    const t = await startTestServer(env, options);
    started = { t, client: new Wallcrawler({ apiKey: t.apiKey, baseURL: t.url, maxRetries: 0, ...options.sdk }) };
  });
  afterAll(async () => {
    await started?.t.close();
  });
  const running = () => {
    if (!started) throw new Error('The test server starts in beforeAll: use it in a hook or a test.');
    return started;
  };
  return {
    get server() {
      return running().t.server;
    },
    get url() {
      return running().t.url;
    },
    get apiKey() {
      return running().t.apiKey;
    },
    get projectId() {
      return running().t.projectId;
    },
    get dataDir() {
      return running().t.dataDir;
    },
    get store() {
      return running().t.store;
    },
    get client() {
      return running().client;
    },
    close: () => running().t.close(),
  };
}

/** A {@link startPageServer} started in `beforeAll` of the enclosing file or `describe`, closed in `afterAll`. */
export function usePageServer(): PageServer {
  let pages: PageServer | undefined;
  beforeAll(async () => {
    pages = await startPageServer();
  });
  afterAll(async () => {
    await pages?.close();
  });
  const running = () => {
    if (!pages) throw new Error('The page server starts in beforeAll: use it in a hook or a test.');
    return pages;
  };
  return {
    get url() {
      return running().url;
    },
    close: () => running().close(),
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
