import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { getRequestListener } from '@hono/node-server';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { tempDir } from '@wallcrawler/test-support';
import { withSessionCache } from '../../src/adapters/cached-sessions.js';
import { DiskBlobStore } from '../../src/adapters/disk/disk-blob-store.js';
import { SecretTokenSigner } from '../../src/adapters/secret-token-signer.js';
import { SqliteStore } from '../../src/adapters/sqlite/sqlite-store.js';
import { createApi } from '../../src/app.js';
import { bootstrap } from '../../src/bootstrap.js';
import { Census } from '../../src/census.js';
import { loadServerConfig } from '../../src/config.js';
import type { AppEnv } from '../../src/http/app-env.js';
import { ArtifactRetention } from '../../src/services/artifact-retention.js';
import { DownloadService } from '../../src/services/download-service.js';
import { HostAdmission } from '../../src/services/host-admission.js';
import { SessionArtifactService } from '../../src/services/session-artifact-service.js';
import { MemoryBrowserProvider } from './memory-browser-provider.js';

export interface TestApp {
  /** `http://127.0.0.1:<port>`, where the app is served over real HTTP. */
  url: string;
  app: OpenAPIHono<AppEnv>;
  /** The default project's API key. */
  apiKey: string;
  /** The default project. */
  projectId: string;
  dataDir: string;
  /** The store the app uses, for arranging and inspecting state (its SQLite file is `<dataDir>/wallcrawler.db`). */
  store: SqliteStore;
  /** The browsers: in memory, no Chromium. */
  provider: MemoryBrowserProvider;
  /** What the app holds in memory for sessions, counted (see `census.ts`). */
  census(): Record<string, number>;
  /** Ends every session, stops serving, closes the store and removes the data dir. */
  close(): Promise<void>;
}

/**
 * The API as `createApi` builds it, wired as the local server wires it (`runtime/node.ts`: a real SQLite store in
 * its own data dir, the disk blob store, downloads, logs and recordings kept, host admission, the session cache,
 * the fast session read before the app) and configured from the same environment variables, but with its
 * browsers in memory ({@link MemoryBrowserProvider}) and no connect gateway. For the tests of what the API
 * answers, which need no browser. Stagehand's routes answer 501 where they would attach to a session (there is
 * no gateway to reach it through).
 */
export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const dir = tempDir('wallcrawler-app-');
  const apiKey = `wc_test_${randomBytes(16).toString('hex')}`;
  const config = loadServerConfig({ WALLCRAWLER_DATA_DIR: dir.path, WALLCRAWLER_API_KEY: apiKey, ...env });
  const census = new Census();
  const raw = await SqliteStore.open(join(config.dataDir, 'wallcrawler.db'));
  const store = withSessionCache(raw, { census });
  await bootstrap(store, config.apiKey);
  const [project] = await store.listProjects();
  if (!project) throw new Error('bootstrap created no default project');
  const blobs = await DiskBlobStore.open(join(config.dataDir, 'blobs'));
  const retention = new ArtifactRetention(blobs, config.artifactsRetention);
  const admission = new HostAdmission(config.admission);
  census.add('hostBrowsers', () => admission.stats.running);
  census.add('queuedCreates', () => admission.stats.queued);
  const provider = new MemoryBrowserProvider({ dataDir: config.dataDir });
  census.add('memoryBrowsers', () => provider.running.length);
  const { app, fastRoute, lifecycle, webhookDispatcher } = createApi({
    store,
    provider,
    signer: new SecretTokenSigner(randomBytes(32)),
    blobs,
    contextKey: config.contextKey ?? randomBytes(32),
    contextMaxBytes: config.contextMaxBytes,
    uploadMaxBytes: config.uploadMaxBytes,
    downloads: new DownloadService({ blobs, retention }),
    artifacts: new SessionArtifactService({ blobs, retention }),
    sessionLogMaxBytes: config.sessionLogMaxBytes,
    sessionRecordingMaxBytes: config.sessionRecordingMaxBytes,
    sessionDownloadsMaxBytes: config.sessionDownloadsMaxBytes,
    unsupportedFields: config.unsupportedFields,
    ...(config.model ? { model: config.model } : {}),
    admission,
    census,
    webhooks: { allowPrivateTargets: config.webhooksAllowPrivate },
    ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
    ...(config.searchUrl ? { searchUrl: config.searchUrl } : {}),
  });
  await lifecycle.reconcile();

  const api = getRequestListener(app.fetch);
  const server = createServer((request, response) => {
    const fast = fastRoute(request, response);
    if (!fast) void api(request, response);
    else
      void fast.then((served) => {
        if (!served) void api(request, response);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    app,
    apiKey,
    projectId: project.id,
    dataDir: config.dataDir,
    store,
    provider,
    census: () => census.read(),
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        await provider.shutdown('The server shut down');
        await webhookDispatcher?.close();
        server.closeAllConnections();
        await stopped;
        await raw.close();
        dir.remove();
      })();
      return closing;
    },
  };
}
