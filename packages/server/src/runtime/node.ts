import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { getRequestListener } from '@hono/node-server';
import { DEFAULT_VIEWPORT, type Logger, silentLogger } from '@wallcrawler/contracts';
import { BrowserPool, CdpGateway, findChromium } from '@wallcrawler/controller';
import { withSessionCache } from '../adapters/cached-sessions.js';
import { DiskBlobStore } from '../adapters/disk/disk-blob-store.js';
import { loadContextKeyFile } from '../adapters/local/context-key-file.js';
import { FileTokenSigner } from '../adapters/local/file-token-signer.js';
import { LocalBrowserProvider } from '../adapters/local/local-browser-provider.js';
import { SqliteStore } from '../adapters/sqlite/sqlite-store.js';
import { createApi } from '../app.js';
import { type BootstrapResult, bootstrap } from '../bootstrap.js';
import { Census } from '../census.js';
import type { ServerConfig } from '../config.js';
import { ServerMetrics } from '../metrics.js';
import { ArtifactRetention } from '../services/artifact-retention.js';
import { DownloadService } from '../services/download-service.js';
import { HostAdmission } from '../services/host-admission.js';
import { SessionArtifactService } from '../services/session-artifact-service.js';

/** How long a shutdown waits for webhook deliveries in flight. */
const WEBHOOK_SHUTDOWN_GRACE_MS = 2_000;
const SWEEP_INTERVAL_MS = 15 * 60_000;

import { localConnectAuthenticator } from './connect-authenticator.js';
import { lockDataDir } from './data-dir-lock.js';

/** A running local server. */
export interface LocalServer {
  /** `http://host:port`, the port resolved when the config asked for 0. */
  url: string;
  port: number;
  /** The Chromium binary sessions use. */
  chromePath: string;
  /** What this start created (the default project, a generated key). */
  bootstrap: BootstrapResult;
  /** Sessions a previous run left running, now ended. */
  reconciled: number;
  /**
   * What the server holds in memory for sessions (maps, caches, queues, idle browsers), counted: with no session
   * running, each count is back where it was. For the leak check.
   */
  census(): Record<string, number>;
  /** Stops accepting requests, ends every session through its close path, closes the store. */
  close(): Promise<void>;
}

/**
 * Starts Wallcrawler on one port: the REST API, and the connect gateway for CDP WebSockets and DevTools
 * discovery. Sessions run in this process's children. On start it ends sessions a previous run left behind
 * and reaps their processes and directories.
 */
export async function startLocalServer(config: ServerConfig, logger: Logger = silentLogger): Promise<LocalServer> {
  const chromePath = findChromium(config.chromePath);
  mkdirSync(config.dataDir, { recursive: true });
  const unlock = lockDataDir(config.dataDir);
  let store: SqliteStore | undefined;
  const census = new Census();
  try {
    // This server alone writes its sessions (the data-dir lock), so it may answer session reads from memory.
    store = withSessionCache(await SqliteStore.open(join(config.dataDir, 'wallcrawler.db')), { census });
    const signer = FileTokenSigner.load(join(config.dataDir, 'connect-secret'));
    const created = await bootstrap(store, config.apiKey);
    const blobs = await DiskBlobStore.open(join(config.dataDir, 'blobs'));
    const contextKey = config.contextKey ?? loadContextKeyFile(join(config.dataDir, 'context-key'));
    const retention = new ArtifactRetention(blobs, config.artifactsRetention, logger);
    const downloads = new DownloadService({ blobs, retention, logger });
    const artifacts = new SessionArtifactService({ blobs, retention, logger });
    await retention.sweep();
    // Retention is applied after each session too; the timer catches artifacts that merely grew old.
    const sweeper = setInterval(() => void retention.sweep().catch(() => {}), SWEEP_INTERVAL_MS);
    sweeper.unref();
    census.add('artifactSweeps', () => (retention.sweeping ? 1 : 0));
    const admission = new HostAdmission(config.admission);
    // Idle browsers count against the host's limit: the pool only holds what the sessions leave room for.
    const pool = new BrowserPool({
      size: config.poolSize,
      dataDir: config.dataDir,
      executablePath: chromePath,
      viewport: DEFAULT_VIEWPORT,
      room: () => admission.maxSessions - admission.stats.running,
      launchTimeoutMs: config.launchTimeoutMs,
      logger,
    });
    census.add('hostBrowsers', () => admission.stats.running);
    census.add('queuedCreates', () => admission.stats.queued);
    census.add('poolStarting', () => pool.stats.starting);
    census.add('poolWaiters', () => pool.stats.waiting);
    const openStore = store;
    const metrics = new ServerMetrics({ activeSessions: () => openStore.listActiveSessions(), admission, pool });
    const gateway = new CdpGateway({
      authenticate: localConnectAuthenticator(signer, store),
      onConnectionClosed: ({ fromClient, toClient, messages }) =>
        metrics.connectionClosed(fromClient, toClient, messages),
      externalUrl: () => config.publicUrl,
      logger,
    });
    census.add('gatewaySessions', () => gateway.sessions().length);
    const provider = new LocalBrowserProvider({
      gateway,
      dataDir: config.dataDir,
      chromePath,
      disconnectGraceMs: config.disconnectGraceMs,
      launchTimeoutMs: config.launchTimeoutMs,
      pool,
      logger,
    });
    // Set once listening: the Stagehand this server runs reaches sessions through its own gateway, on loopback.
    let internalUrl: string | undefined;
    const { app, fastRoute, lifecycle, webhookDispatcher } = createApi({
      store,
      provider,
      signer,
      blobs,
      contextKey,
      contextMaxBytes: config.contextMaxBytes,
      uploadMaxBytes: config.uploadMaxBytes,
      downloads,
      artifacts,
      sessionLogMaxBytes: config.sessionLogMaxBytes,
      sessionRecordingMaxBytes: config.sessionRecordingMaxBytes,
      fetchMaxBytes: config.fetch.maxBytes,
      fetchTimeoutMs: config.fetch.timeoutMs,
      ...(config.searchUrl ? { searchUrl: config.searchUrl } : {}),
      sessionDownloadsMaxBytes: config.sessionDownloadsMaxBytes,
      unsupportedFields: config.unsupportedFields,
      ...(config.model ? { model: config.model } : {}),
      minSessionTimeoutSeconds: config.minSessionTimeoutSeconds,
      admission,
      metrics,
      internalGatewayUrl: () => internalUrl,
      census,
      logger,
      webhooks: { allowPrivateTargets: config.webhooksAllowPrivate },
      ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
    });

    // Before the pool starts and before the first request: reconciling kills every browser process of this data
    // dir and ends the sessions a previous run left.
    const reconciled = await lifecycle.reconcile();
    pool.start();

    const api = getRequestListener(app.fetch);
    const server = createServer((request, response) => {
      if (gateway.handleRequest(request, response)) return;
      const fast = fastRoute(request, response);
      if (!fast) void api(request, response);
      else
        void fast.then((served) => {
          if (!served) void api(request, response);
        });
    });
    server.on('upgrade', (request, socket, head) => void gateway.handleUpgrade(request, socket, head));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, resolve);
    });
    const { port } = server.address() as AddressInfo;
    const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    internalUrl = url;
    logger.info(
      {
        url,
        dataDir: config.dataDir,
        chromePath,
        reconciled,
        maxSessions: config.admission.maxSessions,
        poolSize: config.poolSize,
      },
      'wallcrawler listening',
    );

    let closing: Promise<void> | undefined;
    return {
      url,
      port,
      chromePath,
      bootstrap: created,
      reconciled,
      census: () => census.read(),
      close() {
        closing ??= (async () => {
          clearInterval(sweeper);
          const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
          await provider.shutdown('The server shut down');
          // The endings the shutdown caused get a moment to reach their webhooks.
          await webhookDispatcher?.close(WEBHOOK_SHUTDOWN_GRACE_MS);
          server.closeAllConnections();
          await stopped;
          await openStore.close();
          unlock();
        })();
        return closing;
      },
    };
  } catch (error) {
    await store?.close();
    unlock();
    throw error;
  }
}
