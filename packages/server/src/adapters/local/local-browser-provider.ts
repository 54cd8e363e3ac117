import { basename, join, resolve } from 'node:path';
import { DEFAULT_VIEWPORT, type Logger, silentLogger } from '@wallcrawler/contracts';
import {
  type BrowserPool,
  BrowserSession,
  type CdpGateway,
  ChromiumLaunchTimeoutError,
  findProcesses,
  listSessionDirs,
  removeDirs,
  type SessionArtifacts,
  type SessionDirs,
  type SessionPreparation,
  writeSessionUpload,
} from '@wallcrawler/controller';
import { BrowserNotReadyError, SessionNotRunningError } from '../../domain/errors.js';
import type { SessionRecord } from '../../domain/model.js';
import type {
  BrowserProvider,
  BrowserStartRequest,
  DevToolsTarget,
  DownloadHooks,
  ExtensionSource,
  LiveSessionFiles,
  LogHooks,
  ProfileHooks,
  RecordingHooks,
  SessionEnding,
} from '../../ports/browser-provider.js';
import { localSessionFiles } from './local-session-files.js';

/** The start hook that fills the profile from the context and unpacks the extensions into the session's dir. */
function prepareDirs(profile: ProfileHooks | undefined, extensions: readonly ExtensionSource[]) {
  return async (dirs: SessionDirs): Promise<SessionPreparation> => {
    await profile?.hydrate(dirs.profile);
    const extensionDirs: string[] = [];
    for (const extension of extensions) {
      const dir = join(dirs.root, 'extensions', extension.id);
      await extension.unpack(dir);
      extensionDirs.push(dir);
    }
    return { extensionDirs };
  };
}

/** The close-path hook that saves the session's profile and keeps its downloads. */
function collectFiles(
  persist: ProfileHooks['persist'],
  downloads: DownloadHooks | undefined,
  logHooks: LogHooks | undefined,
  recordingHooks: RecordingHooks | undefined,
) {
  return async (dirs: SessionDirs, _ending: unknown, { downloadFailures, logs, recording }: SessionArtifacts) => {
    await downloads?.keep(dirs.downloads, downloadFailures);
    if (logs) await logHooks?.keep(logs);
    if (recording) await recordingHooks?.keep(recording);
    return persist?.(dirs.profile);
  };
}

/**
 * A create's deadline, from the moment it arrived: a minute, the default request timeout of the official clients
 * (Browserbase's SDKs, Stagehand through them, and Wallcrawler's). An answer later than that reaches no one, and
 * the browser it started would wait for a client that left. Only a second start after one that timed out is held
 * to it (see `startDeadline`): the first always gets the whole launch timeout.
 */
export const CREATE_DEADLINE_MS = 60_000;

export interface LocalBrowserProviderOptions {
  /** Serves the sessions' CDP connections on the API server's port. */
  gateway: CdpGateway;
  dataDir: string;
  chromePath: string;
  /** @default 5_000 */
  disconnectGraceMs?: number;
  /** How long a Chromium start may take. @default 30_000 */
  launchTimeoutMs?: number;
  /** Retry-After, in seconds, on a 503 when no browser could start in time. @default 5 */
  retryAfterSeconds?: number;
  /** Browsers started ahead of sessions; sessions it can serve take one instead of starting their own. */
  pool?: BrowserPool | undefined;
  logger?: Logger;
}

/**
 * Runs each session's browser on this machine, as a child of this process, and serves it through the shared
 * connect gateway.
 */
export class LocalBrowserProvider implements BrowserProvider {
  readonly #options: LocalBrowserProviderOptions;
  readonly #logger: Logger;

  constructor(options: LocalBrowserProviderOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
  }

  readonly capabilities = { contexts: true, extensions: true, files: true, proxies: true };

  async start({
    session,
    onEnd,
    onGone,
    profile,
    extensions = [],
    downloads,
    logs,
    recording,
    proxies,
  }: BrowserStartRequest): Promise<undefined> {
    const { gateway, dataDir, chromePath, disconnectGraceMs, launchTimeoutMs, pool } = this.#options;
    // A pooled browser has started with an empty profile, no extensions and no proxy: only sessions that need
    // none of them before the start can have one.
    const pooled = await pool?.take({
      viewport: session.viewport ?? DEFAULT_VIEWPORT,
      fits: !profile && extensions.length === 0 && !proxies,
    });
    const browser = await BrowserSession.start({
      id: session.id,
      startDeadline: new Date(session.createdAt.getTime() + CREATE_DEADLINE_MS),
      ...(launchTimeoutMs !== undefined ? { launchTimeoutMs } : {}),
      ...(pooled ? { prelaunched: pooled } : {}),
      ...(proxies ? { proxy: { routes: proxies } } : {}),
      executablePath: chromePath,
      dataDir,
      expiresAt: session.expiresAt,
      keepAlive: session.keepAlive,
      logger: this.#logger,
      onEnd,
      ...(profile || extensions.length > 0 ? { prepare: prepareDirs(profile, extensions) } : {}),
      ...(profile?.persist || downloads || logs || recording
        ? { collect: collectFiles(profile?.persist, downloads, logs, recording) }
        : {}),
      ...(logs ? { trafficLog: { maxBytes: logs.maxBytes } } : {}),
      ...(recording ? { recording: { maxBytes: recording.maxBytes } } : {}),
      // Only a saved context can change the ending's reason after the kill: every other session's release
      // answers once its ending is recorded, and the kill and cleanup finish in the background.
      ...(profile?.persist ? { cleanShutdown: true } : { recordFirst: true }),
      ...(downloads ? { downloads: { maxBytes: downloads.maxBytes } } : {}),
      ...(session.viewport ? { viewport: session.viewport } : {}),
      ...(disconnectGraceMs !== undefined ? { disconnectGraceMs } : {}),
    }).catch((error: unknown) => {
      // A start that timed out (again, or with no time left for another) is the host being too busy: an overload
      // the client may retry, as on AWS, not a broken browser.
      if (!(error instanceof ChromiumLaunchTimeoutError)) throw error;
      this.#logger.warn({ err: error, sessionId: session.id }, 'no browser could be started in time');
      const retryAfter = this.#options.retryAfterSeconds ?? 5;
      throw new BrowserNotReadyError(
        `This host could not start a browser in time (Chromium did not open its DevTools port within ${error.timeoutMs} ms): it is overloaded. Retry after ${retryAfter} s.`,
        retryAfter,
      );
    });
    gateway.add(browser);
    void browser.ended.then(() => {
      onGone?.();
      pool?.refill();
    });
    return undefined;
  }

  async release({ id }: SessionRecord, reason: string): Promise<SessionEnding | undefined> {
    return this.#options.gateway.get(id)?.release('COMPLETED', reason);
  }

  files({ id }: SessionRecord): LiveSessionFiles | undefined {
    const browser = this.#options.gateway.get(id);
    return browser?.isRunning ? localSessionFiles(browser) : undefined;
  }

  async upload({ id, status }: SessionRecord, fileName: string, bytes: Uint8Array): Promise<string> {
    const browser = this.#options.gateway.get(id);
    if (!browser?.isRunning) throw new SessionNotRunningError(id, status);
    return writeSessionUpload(browser.dirs.uploads, fileName, bytes);
  }

  proxyBytes({ id }: SessionRecord): number | undefined {
    const browser = this.#options.gateway.get(id);
    return browser?.isRunning ? browser.proxyBytes : undefined;
  }

  isRunning({ id }: SessionRecord): boolean {
    return this.#options.gateway.get(id)?.isRunning ?? false;
  }

  async targets({ id }: SessionRecord): Promise<DevToolsTarget[]> {
    const browser = this.#options.gateway.get(id);
    return browser ? browser.targets() : [];
  }

  /**
   * A previous run of the server may have died (kill -9, power loss) with browsers running. They are orphans
   * now: nothing can reach them. Kill every process started for a session of this data dir, delete every
   * session directory, and report every active session whose browser is not running in this process.
   */
  async reconcile(active: readonly SessionRecord[]): Promise<string[]> {
    const marker = `--user-data-dir=${resolve(this.#options.dataDir, 'sessions')}`;
    const orphans = findProcesses(marker);
    for (const orphan of orphans) {
      for (const target of [-orphan.pgid, orphan.pid]) {
        try {
          process.kill(target, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }
    const live = new Set(this.#options.gateway.sessions().map((s) => s.id));
    // A session served by a pooled browser keeps the pool's directory name; idle pooled browsers are no one's.
    const liveDirs = new Set([
      ...this.#options.gateway.sessions().map((s) => basename(s.dirs.root)),
      ...(this.#options.pool?.idleRoots().map((root) => basename(root)) ?? []),
    ]);
    const dirs = listSessionDirs(this.#options.dataDir).filter((d) => !liveDirs.has(d.sessionId));
    await removeDirs(...dirs.map((d) => d.path));
    if (orphans.length || dirs.length) {
      this.#logger.warn({ processes: orphans.length, dirs: dirs.length }, 'reaped what a previous run left behind');
    }
    return active.filter((s) => !live.has(s.id)).map((s) => s.id);
  }

  async shutdown(reason: string): Promise<void> {
    await Promise.all([
      this.#options.pool?.close(),
      ...this.#options.gateway.sessions().map((s) => s.close('COMPLETED', reason)),
    ]);
  }
}
