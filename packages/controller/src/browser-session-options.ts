import type {
  DownloadFailure,
  Logger,
  ProxyRoute,
  RecordedEvent,
  SessionEnding,
  SessionLogEntry,
} from '@wallcrawler/contracts';
import type { ChromiumProcess } from './chromium/launch-chromium.js';
import type { SessionDirs } from './session-dirs.js';

export interface BrowserSessionOptions {
  id: string;
  /** The Chromium binary. */
  executablePath: string;
  /** The data directory; the session's own directories (see `sessionDirs`) are created on start and deleted on every ending. */
  dataDir: string;
  /** The session ends with TIMED_OUT at this moment. */
  expiresAt: Date;
  /** Keep running after the last client disconnects. */
  keepAlive: boolean;
  /** @default { width: 1024, height: 768 } */
  viewport?: { width: number; height: number };
  /**
   * How long a session without keepAlive waits after its last client disconnected before it ends, so that a
   * client can reconnect (Puppeteer's `disconnect()` then `connect()`, a reloading tool).
   * @default 5_000
   */
  disconnectGraceMs?: number;
  /**
   * Ends the session (COMPLETED) when no client has connected within this long after the start: a create whose
   * client never came must not hold a browser until its timeout. Off when undefined.
   */
  idleTimeoutMs?: number;
  /**
   * A Chromium already started for this session (a warm-pool task starts one while it waits), with the
   * directories it was started in; they become the session's and are deleted with it.
   */
  prelaunched?: { chromium: ChromiumProcess; dirs: SessionDirs };
  /** @default true when running as root */
  noSandbox?: boolean;
  extraArgs?: readonly string[];
  /** @default 30_000 */
  launchTimeoutMs?: number;
  /**
   * The moment by which the start must be over (its create's deadline). A Chromium that did not open its port
   * within the launch timeout (a starved host) is started once more only while at least `MIN_RETRY_WAIT_MS`
   * (or the whole launch timeout, if that is shorter) is left before it, and waits no longer than what is left.
   * Without it, such a start is not retried.
   */
  startDeadline?: Date;
  logger?: Logger;
  /**
   * Prepares the session's new directories before Chromium starts: fills the profile (a context's saved one),
   * unpacks extensions (whose directories it returns, to be loaded). If it throws, the start fails and the
   * directories are deleted.
   */
  prepare?: (dirs: SessionDirs) => Promise<SessionPreparation | undefined>;
  /**
   * Runs inside the close path once the browser is gone and before its directories are deleted: the place to
   * keep what outlives the session (the context's profile, downloads). What it returns is added to the ending's
   * reason (for example why a context was not saved); errors are logged, never thrown.
   */
  collect?: (
    dirs: SessionDirs,
    ending: Omit<SessionEnding, 'endedAt'>,
    artifacts: SessionArtifacts,
  ) => Promise<string | undefined>;
  /**
   * Ask the browser to shut down cleanly before the close path kills it, so that it writes its cookies and
   * storage to disk (a context that is saved). Costs up to a few seconds per ending.
   */
  cleanShutdown?: boolean;
  /**
   * Record the ending (`onEnd`) as soon as the close path starts, before the browser is killed and its files
   * kept and deleted, so that {@link BrowserSession.release} answers at once; `ended` still resolves only once
   * everything is gone. Only for sessions whose `collect` adds nothing to the reason (no context is saved): what
   * it returns is then logged, not recorded.
   */
  recordFirst?: boolean;
  /**
   * Send the browser's downloads to the session's `downloads` directory, and cancel any that would take them
   * past `maxBytes`. Off when undefined: downloads then go wherever Chromium puts them.
   */
  downloads?: { maxBytes: number };
  /**
   * Log the clients' CDP commands and answers (`SessionLog`s), secrets redacted, keeping at most `maxBytes`
   * (the oldest go first). Off when undefined.
   */
  trafficLog?: { maxBytes: number };
  /** Record every page with rrweb, keeping at most `maxBytes` of events. Off when undefined. */
  recording?: { maxBytes: number };
  /**
   * Send the browser's traffic through proxies of the user's: a {@link ForwardProxy} of the session's own, which
   * adds the upstream credentials and counts the bytes. Not with `prelaunched` (the proxy is a launch flag).
   */
  proxy?: { routes: readonly ProxyRoute[] };
  /**
   * Runs inside the close path, after the browser is gone and its directory deleted, and before `ended`
   * resolves: the place to persist the final status. Errors are logged, never thrown.
   */
  onEnd?: (ending: SessionEnding) => void | Promise<void>;
}

/** What the session produced besides its files. */
export interface SessionArtifacts {
  /** Downloads that were cancelled, and why. */
  downloadFailures: readonly DownloadFailure[];
  /** The CDP log, when it was on. */
  logs: readonly SessionLogEntry[] | undefined;
  /** The rrweb recording, when it was on. */
  recording: readonly RecordedEvent[] | undefined;
}

/** What `prepare` made for the browser to use. */
export interface SessionPreparation {
  /** Unpacked extensions to load. */
  extensionDirs?: readonly string[];
}
