import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  DEFAULT_VIEWPORT,
  type DevToolsTarget,
  type DownloadFailure,
  type Logger,
  type RecordedEvent,
  type SessionEnding,
  type SessionEndStatus,
  type SessionLogEntry,
  silentLogger,
} from '@wallcrawler/contracts';
import type { BrowserSessionOptions } from './browser-session-options.js';
import { CdpClient } from './cdp/cdp-client.js';
import {
  ChromiumExitedError,
  ChromiumLaunchTimeoutError,
  type ChromiumProcess,
  launchChromium,
} from './chromium/launch-chromium.js';
import { pointProfileDownloadsAt } from './downloads/download-watcher.js';
import { CdpTrafficLog } from './logs/cdp-traffic-log.js';
import { CdpConnection } from './proxy/cdp-connection.js';
import { ForwardProxy } from './proxy/forward-proxy.js';
import { CLOSE_INTERNAL_ERROR, CLOSE_NORMAL } from './proxy/websocket-frames.js';
import { WebSocketTap } from './proxy/websocket-tap.js';
import { removeProfileLocks, removeSessionDirs, type SessionDirs, sessionDirs } from './session-dirs.js';
import { type SessionMonitor, startSessionMonitor } from './session-monitor.js';

/** How long the close path waits for clients to answer their close frame. */
const CLOSE_FRAME_WAIT_MS = 300;
/** After Chromium drops a client, how long to wait for its exit before treating the drop as a target closing. */
const EXIT_SETTLE_MS = 250;
/** How long a browser asked to shut down cleanly gets before its process group is killed. */
const CLEAN_EXIT_WAIT_MS = 5_000;
/**
 * The least time worth a second start after one timed out: a start takes about a second on a host with a core to
 * spare, and a shorter wait on a host that was just too busy for the first is a second failure, only later.
 */
export const MIN_RETRY_WAIT_MS = 5_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * One browser session: a Chromium process, the CDP clients connected to it, and the timers that end it.
 *
 * Every way a session can end — release, timeout, the last client leaving, Chromium exiting — goes through
 * one close path ({@link close}): clients get a close frame with the reason, the whole process group is killed,
 * the session directory is deleted, and `onEnd` records the outcome (first, with `recordFirst`, so that a
 * {@link release} answers before the kill). It runs once; later calls return the same result.
 */
export class BrowserSession {
  readonly id: string;
  readonly keepAlive: boolean;
  readonly expiresAt: Date;
  /** Resolves with the outcome once the session has fully ended. */
  readonly ended: Promise<SessionEnding>;
  readonly #chromium: ChromiumProcess;
  readonly #options: BrowserSessionOptions;
  readonly #logger: Logger;
  readonly #clients = new Set<CdpConnection>();
  #resolveEnded!: (ending: SessionEnding) => void;
  /** Resolves once the ending is recorded: at the close path's start with `recordFirst`, at its end otherwise. */
  readonly #recorded: Promise<SessionEnding>;
  #resolveRecorded!: (ending: SessionEnding) => void;
  #closing: Promise<SessionEnding> | undefined;
  #expiryTimer: NodeJS.Timeout | undefined;
  #graceTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;

  readonly #dirs: SessionDirs;

  /** Set once the session's own CDP connection is up (it is started beside the session, not before it). */
  #monitor: SessionMonitor | undefined;
  readonly #monitorStarted: Promise<SessionMonitor | undefined>;
  readonly #traffic: CdpTrafficLog | undefined;
  readonly #proxy: ForwardProxy | undefined;

  private constructor(
    chromium: ChromiumProcess,
    options: BrowserSessionOptions,
    dirs: SessionDirs,
    logger: Logger,
    proxy?: ForwardProxy,
  ) {
    this.#dirs = dirs;
    this.#proxy = proxy;
    // Not awaited by `start`: Chromium answers its first DevTools connection slowly (~100 ms while it settles),
    // and a create need not wait for that. Until it is up, the profile's own download directory is already the
    // session's, and pages that exist by then are attached when it comes.
    this.#monitorStarted = startSessionMonitor(chromium, dirs, options, logger).then(
      (monitor) => {
        if (this.#closing) monitor?.cdp.close();
        else this.#monitor = monitor;
        return monitor;
      },
      (error: unknown) => {
        logger.warn({ err: error }, 'the session runs without its downloads watcher and recorder');
        return undefined;
      },
    );
    this.#traffic = options.trafficLog
      ? new CdpTrafficLog({ sessionId: options.id, maxBytes: options.trafficLog.maxBytes })
      : undefined;
    this.id = options.id;
    this.keepAlive = options.keepAlive;
    this.expiresAt = options.expiresAt;
    this.#chromium = chromium;
    this.#options = options;
    this.#logger = logger;
    this.ended = new Promise((resolve) => {
      this.#resolveEnded = resolve;
    });
    this.#recorded = new Promise((resolve) => {
      this.#resolveRecorded = resolve;
    });
    this.#expiryTimer = setTimeout(
      () => void this.close('TIMED_OUT', 'The session reached its timeout'),
      Math.max(0, options.expiresAt.getTime() - Date.now()),
    );
    if (options.idleTimeoutMs !== undefined) {
      const seconds = Math.round(options.idleTimeoutMs / 1000);
      this.#idleTimer = setTimeout(
        () => void this.close('COMPLETED', `No client connected within ${seconds} s of the session's start`),
        options.idleTimeoutMs,
      );
    }
    void chromium.mainExited.then(() => {
      this.#closing ??= this.#closeAfterExit();
    });
  }

  /**
   * Launches Chromium for the session and resolves once it accepts CDP connections.
   * On failure nothing is left behind: the process group is killed and the directory deleted.
   * @throws ChromiumLaunchTimeoutError when Chromium did not open its port in time (twice, if the deadline left
   *   room for a second start); ChromiumExitedError when it exited while starting, twice
   */
  static async start(options: BrowserSessionOptions): Promise<BrowserSession> {
    const logger = (options.logger ?? silentLogger).child({ sessionId: options.id });
    if (options.prelaunched) {
      const { chromium, dirs } = options.prelaunched;
      return new BrowserSession(chromium, options, dirs, logger);
    }
    const dirs = sessionDirs(options.dataDir, options.id);
    let chromium: ChromiumProcess | undefined;
    let proxy: ForwardProxy | undefined;
    try {
      if (options.proxy) proxy = await ForwardProxy.start({ routes: options.proxy.routes, logger });
      const prepared = await options.prepare?.(dirs);
      if (options.downloads) await pointProfileDownloadsAt(dirs.profile, dirs.downloads);
      const launch = (launchTimeoutMs = options.launchTimeoutMs) =>
        launchChromium({
          cwd: dirs.root,
          ...(prepared?.extensionDirs?.length ? { extensionDirs: prepared.extensionDirs } : {}),
          executablePath: options.executablePath,
          userDataDir: dirs.profile,
          tmpDir: dirs.tmp,
          viewport: options.viewport ?? DEFAULT_VIEWPORT,
          logger,
          ...(options.noSandbox !== undefined ? { noSandbox: options.noSandbox } : {}),
          ...(options.extraArgs?.length ? { extraArgs: options.extraArgs } : {}),
          ...(proxy ? { proxyServer: proxy.url } : {}),
          ...(launchTimeoutMs !== undefined ? { launchTimeoutMs } : {}),
        });
      try {
        chromium = await launch();
      } catch (error) {
        // A Chromium that dies while starting (rare, and seen under heavy load) gets one more try, on the same
        // profile, before the start fails; so does one that timed out (a starved host), when the deadline leaves
        // time for a second wait.
        const exited = error instanceof ChromiumExitedError;
        const wait =
          error instanceof ChromiumLaunchTimeoutError ? retryWait(error.timeoutMs, options.startDeadline) : undefined;
        if (!exited && wait === undefined) throw error;
        logger.warn(
          { err: error, ...(wait !== undefined ? { waitMs: wait } : {}) },
          exited
            ? 'Chromium exited while starting; starting it once more'
            : 'Chromium did not start in time; starting it once more',
        );
        await removeProfileLocks(dirs.profile);
        chromium = await launch(wait);
      }
      return new BrowserSession(chromium, options, dirs, logger, proxy);
    } catch (error) {
      await proxy?.close();
      await chromium?.kill();
      await removeSessionDirs(dirs);
      throw error;
    }
  }

  /** The session's directories. */
  get dirs(): SessionDirs {
    return this.#dirs;
  }

  /** The CDP log so far (undefined when it is off). */
  get logs(): SessionLogEntry[] | undefined {
    return this.#traffic?.entries();
  }

  /** The rrweb recording so far (undefined when it is off). */
  get recording(): RecordedEvent[] | undefined {
    return this.#monitor?.recorder?.events();
  }

  /** Downloads cancelled so far, and why. */
  get downloadFailures(): readonly DownloadFailure[] {
    return this.#monitor?.downloads?.failures ?? [];
  }

  /** Bytes through the session's upstream proxies so far (0 without any). */
  get proxyBytes(): number {
    return this.#proxy?.bytes ?? 0;
  }

  /** Chromium's pid, which is also its process group id. */
  get pid(): number {
    return this.#chromium.pid;
  }

  /** Chromium's DevTools port on 127.0.0.1. */
  get port(): number {
    return this.#chromium.port;
  }

  /** `/devtools/browser/<id>`: the browser target's path. */
  get browserPath(): string {
    return this.#chromium.browserPath;
  }

  get clientCount(): number {
    return this.#clients.size;
  }

  /** False from the moment the close path starts. */
  get isRunning(): boolean {
    return this.#closing === undefined;
  }

  /**
   * Pipes a client's WebSocket upgrade to `path` on this browser (the browser target or a page target).
   * The caller has already authenticated the request.
   * @returns the connection's message counts, readable at any time (final once the client's socket closed)
   */
  connect(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    path: string,
  ): { readonly messages: { fromClient: number; toClient: number } } {
    clearTimeout(this.#graceTimer);
    clearTimeout(this.#idleTimer);
    const connection = new CdpConnection({
      request,
      client: socket,
      head,
      port: this.#chromium.port,
      path,
      onUpstreamEnd: (c) => void this.#upstreamEnded(c),
      ...(this.#traffic ? { tap: new WebSocketTap(this.#traffic.sink(pageTargetOf(path))) } : {}),
    });
    this.#clients.add(connection);
    this.#logger.debug({ clients: this.#clients.size, path }, 'client connected');
    void connection.closed.then(() => {
      this.#clients.delete(connection);
      this.#logger.debug({ clients: this.#clients.size }, 'client disconnected');
      // A handshake Chromium refused (a stale page id, say) was never a client: it must not end the session.
      if (this.#clients.size === 0 && connection.upgraded && !this.keepAlive && !this.#closing) {
        this.#graceTimer = setTimeout(
          () => void this.close('COMPLETED', 'The last client disconnected'),
          this.#options.disconnectGraceMs ?? 5_000,
        );
      }
    });
    return connection;
  }

  /** The browser's targets (pages, workers, ...), from Chromium's `/json/list`. */
  async targets(): Promise<DevToolsTarget[]> {
    return (await this.#devtoolsJson('/json/list')) as DevToolsTarget[];
  }

  /** Chromium's `/json/version` (browser name, protocol version, user agent). */
  async version(): Promise<Record<string, string>> {
    return (await this.#devtoolsJson('/json/version')) as Record<string, string>;
  }

  /**
   * The one close path. Idempotent: the first call decides the status and reason, later calls get the same
   * outcome. A browser that has exited decides them itself, whatever the call asked for: its exit can race with
   * a release, a timeout or the last client's leaving (which its exit may well have caused: it dropped them), and
   * a crash must never be recorded as a clean end.
   */
  close(status: SessionEndStatus = 'COMPLETED', reason = 'The session was released'): Promise<SessionEnding> {
    this.#closing ??= this.#chromium.hasExited() ? this.#closeAfterExit() : this.#runClose(status, reason);
    return this.#closing;
  }

  /**
   * The close path for a browser that exited on its own: the ending is its exit's. Its helpers are killed at
   * once (the exit code is already the kernel's), and the ending waits only for that code.
   */
  async #closeAfterExit(): Promise<SessionEnding> {
    void this.#chromium.kill();
    const { code, stderrTail } = await this.#chromium.mainExited;
    // Exit code 0 means Chromium shut down cleanly: a client sent Browser.close (Puppeteer's browser.close()).
    if (code === 0) return this.#runClose('COMPLETED', 'The browser was closed by a client');
    this.#logger.warn({ code, stderr: stderrTail }, 'chromium exited unexpectedly');
    return this.#runClose('ERROR', `The browser exited unexpectedly (exit code ${code ?? 'unknown'})`);
  }

  /**
   * Ends the session through the close path, and resolves as soon as the ending is recorded: with `recordFirst`
   * that is before the browser is killed (the rest finishes in the background; see `ended`), otherwise once
   * everything is gone, like {@link close}.
   */
  release(status: SessionEndStatus = 'COMPLETED', reason = 'The session was released'): Promise<SessionEnding> {
    void this.close(status, reason);
    return this.#recorded;
  }

  async #record(ending: SessionEnding): Promise<void> {
    try {
      await this.#options.onEnd?.(ending);
    } catch (error) {
      this.#logger.error({ err: error }, 'recording the session ending failed');
    }
    this.#resolveRecorded(ending);
  }

  async #runClose(status: SessionEndStatus, reason: string): Promise<SessionEnding> {
    clearTimeout(this.#expiryTimer);
    clearTimeout(this.#graceTimer);
    clearTimeout(this.#idleTimer);
    this.#logger.info({ status, reason, clients: this.#clients.size }, 'session ending');
    const recordFirst = this.#options.recordFirst === true;
    // The browser's network goes first: nothing more passes through its proxies, so their count is final.
    await this.#proxy?.close();
    const proxyBytes = this.#proxy ? { proxyBytes: this.#proxy.bytes } : {};
    let ending: SessionEnding | undefined;
    if (recordFirst) {
      ending = { status, reason, endedAt: new Date(), ...proxyBytes };
      await this.#record(ending);
    }
    // Resources, then the record (unless it came first), then the clients: by the time a client hears that the
    // session ended, its status is final and nothing of it is left running or on disk.
    let finalReason = reason;
    const monitor = await this.#monitorStarted;
    if (this.#options.cleanShutdown) await this.#shutDownCleanly(monitor?.cdp);
    monitor?.cdp.close();
    await this.#chromium.kill();
    if (this.#options.collect) {
      try {
        const note = await this.#options.collect(
          this.#dirs,
          { status, reason },
          { downloadFailures: this.downloadFailures, logs: this.logs, recording: this.recording },
        );
        if (note && recordFirst) this.#logger.warn({ note }, 'the session ended, and keeping its files said');
        else if (note) finalReason = `${reason}; ${note}`;
      } catch (error) {
        this.#logger.error({ err: error }, 'keeping the session files failed');
      }
    }
    await removeSessionDirs(this.#dirs);
    if (!ending) {
      ending = { status, reason: finalReason, endedAt: new Date(), ...proxyBytes };
      await this.#record(ending);
    }
    const code = status === 'ERROR' ? CLOSE_INTERNAL_ERROR : CLOSE_NORMAL;
    await Promise.race([Promise.all([...this.#clients].map((c) => c.close(code, reason))), sleep(CLOSE_FRAME_WAIT_MS)]);
    this.#logger.info({ status }, 'session ended');
    this.#resolveEnded(ending);
    return ending;
  }

  /**
   * Asks Chromium to exit (CDP `Browser.close`), as a user closing the window would: it then writes its cookie
   * store and flushes storage. Gives up after a few seconds; the caller kills the group either way.
   */
  async #shutDownCleanly(open: CdpClient | undefined): Promise<void> {
    if (this.#chromium.hasExited()) return;
    const exited = this.#chromium.mainExited;
    try {
      // The session's own connection when it has one; otherwise one just for this.
      const cdp =
        open && !open.closed
          ? open
          : await CdpClient.connect(`ws://127.0.0.1:${this.#chromium.port}${this.#chromium.browserPath}`);
      try {
        // Chromium may exit before it answers: the exit is the answer.
        void cdp.send('Browser.close').catch(() => {});
        await Promise.race([exited, sleep(CLEAN_EXIT_WAIT_MS)]);
      } finally {
        cdp.close();
      }
    } catch (error) {
      this.#logger.debug({ err: error }, 'the browser could not be asked to shut down cleanly');
    }
  }

  async #upstreamEnded(connection: CdpConnection): Promise<void> {
    // Chromium dropped this client. If Chromium itself exited, the close path closes the client with the real
    // reason; otherwise the target the client was attached to went away (a page was closed).
    await Promise.race([this.#chromium.mainExited, sleep(EXIT_SETTLE_MS)]);
    if (this.#closing) return;
    if (this.#chromium.hasExited()) this.#closing = this.#closeAfterExit();
    else void connection.close(CLOSE_NORMAL, 'The target closed');
  }

  async #devtoolsJson(path: string): Promise<unknown> {
    const response = await fetch(`http://127.0.0.1:${this.#chromium.port}${path}`);
    if (!response.ok) throw new Error(`Chromium answered ${path} with ${response.status}`);
    return response.json();
  }
}

/**
 * How long a second start after one that timed out may wait: what is left before the deadline, at most the
 * launch timeout; undefined (no second start) without a deadline or when too little is left.
 */
function retryWait(launchTimeoutMs: number, deadline: Date | undefined): number | undefined {
  if (!deadline) return undefined;
  const left = deadline.getTime() - Date.now();
  return left >= Math.min(MIN_RETRY_WAIT_MS, launchTimeoutMs) ? Math.min(launchTimeoutMs, left) : undefined;
}

/** The page target of a page-level DevTools path (`/devtools/page/<id>`); undefined for the browser target. */
function pageTargetOf(path: string): string | undefined {
  return /^\/devtools\/page\/([^/?#]+)/.exec(path)?.[1];
}
