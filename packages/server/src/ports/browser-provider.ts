import type { Readable } from 'node:stream';
import type {
  DevToolsTarget,
  DownloadFailure,
  ProxyRoute,
  RecordedEvent,
  SessionEnding,
  SessionLogEntry,
} from '@wallcrawler/contracts';
import type { SessionRecord } from '../domain/model.js';

export type { DevToolsTarget, SessionEnding };

/** What happens to a session's profile directory around its browser's life (a context's). */
export interface ProfileHooks {
  /** Fills the empty profile directory before the browser starts. */
  hydrate(profileDir: string): Promise<void>;
  /**
   * Saves the profile once the browser has exited, on every ending path.
   * @returns why it was not saved, if it was not (added to the session's end reason)
   */
  persist?(profileDir: string): Promise<string | undefined>;
}

/** An uploaded extension a session loads. */
export interface ExtensionSource {
  id: string;
  /** Unpacks the extension into `dir` (created). */
  unpack(dir: string): Promise<void>;
}

/** What a provider can do beyond running a plain browser. */
export interface ProviderCapabilities {
  /** Start sessions from contexts, and save them back. */
  contexts: boolean;
  /** Load uploaded extensions. */
  extensions: boolean;
  /** Collect downloads and take uploads. */
  files: boolean;
  /** Send sessions' traffic through proxies of the user's. */
  proxies: boolean;
}

/** What a session does with its downloads. */
export interface DownloadHooks {
  /** The most the session's downloads may add up to; a download past it is cancelled. */
  maxBytes: number;
  /** Keeps the finished downloads once the browser has exited, on every ending path. */
  keep(dir: string, failures: readonly DownloadFailure[]): Promise<void>;
}

/** One finished download of a running session. */
export interface LiveDownload {
  name: string;
  size: number;
  /** Its bytes, read where the browser runs. */
  open(): Promise<Readable>;
}

/** A running session's downloads so far. */
export interface LiveDownloads {
  /** The finished files, in name order. */
  files: readonly LiveDownload[];
  /** The downloads that were cancelled, and why. */
  failures: readonly DownloadFailure[];
}

/**
 * A running session's files, read where its browser runs: this machine's disk (local), or the session's task,
 * whose controller serves them over HTTP to a caller with the session's connect token (AWS; see
 * `sessionFilesPath`). A read that finds the session ending meanwhile throws SessionEndingError: what it kept is
 * then read from the blob store once its ending is recorded.
 */
export interface LiveSessionFiles {
  downloads(): Promise<LiveDownloads>;
  /** The CDP log so far; undefined when the session does not log. */
  logs(): Promise<SessionLogEntry[] | undefined>;
  /** The rrweb recording so far; undefined when the session does not record. */
  recording(): Promise<RecordedEvent[] | undefined>;
}

/** What a session does with its rrweb recording. */
export interface RecordingHooks {
  /** The most the recording keeps; past it, it stops. */
  maxBytes: number;
  /** Keeps the recording once the browser has exited, on every ending path. */
  keep(events: readonly RecordedEvent[]): Promise<void>;
}

/** What a session does with its CDP log. */
export interface LogHooks {
  /** The most the log keeps (the oldest entries go first). */
  maxBytes: number;
  /** Keeps the log once the browser has exited, on every ending path. */
  keep(entries: readonly SessionLogEntry[]): Promise<void>;
}

export interface BrowserStartRequest {
  session: SessionRecord;
  /** The session's context, if it has one. */
  profile?: ProfileHooks;
  /** The extensions to load. */
  extensions?: readonly ExtensionSource[];
  /** Collect the session's downloads. */
  downloads?: DownloadHooks;
  /** Log the session's CDP traffic. */
  logs?: LogHooks;
  /** Record the session's pages with rrweb. */
  recording?: RecordingHooks;
  /** Where the session's traffic goes (proxies of the user's); straight out when undefined. */
  proxies?: readonly ProxyRoute[];
  /** Called exactly once, whichever way the browser ends; it must record the ending. */
  onEnd: (ending: SessionEnding) => Promise<void>;
  /**
   * Called once after `onEnd`, when the browser's processes and directories are gone (a release may answer
   * before that). A provider that calls `onEnd` must call this too.
   */
  onGone?: () => void;
}

/**
 * Where sessions' browsers run: in this process (local) or in Fargate tasks (AWS). The session lifecycle talks
 * only to this interface, and hands it the session records it has read, so a provider never reads them again.
 */
export interface BrowserProvider {
  readonly capabilities: ProviderCapabilities;
  /**
   * Starts the session's browser; resolves once it accepts CDP connections.
   * @returns the session as stored once RUNNING, when the provider had to read it for that (a remote browser
   *   marks it RUNNING itself); undefined when the caller is to mark it RUNNING.
   * @throws BrowserLaunchError when it could not start; BrowserNotReadyError when it was not ready in time
   */
  start(request: BrowserStartRequest): Promise<SessionRecord | undefined>;
  /**
   * Ends the session's browser through its close path (COMPLETED with `reason`), answering once the ending is
   * recorded (the kill and cleanup may still be running; `onGone` tells when they are done).
   * @returns the ending, or undefined when the provider has no such running browser.
   */
  release(session: SessionRecord, reason: string): Promise<SessionEnding | undefined>;
  /** Whether the session's browser is running. */
  isRunning(session: SessionRecord): boolean;
  /** Bytes through the running session's proxies so far, when its browser runs on this machine. */
  proxyBytes?(session: SessionRecord): number | undefined;
  /** The running session's files, wherever its browser runs; undefined when it does not run. */
  files(session: SessionRecord): LiveSessionFiles | undefined;
  /**
   * Puts an uploaded file where the running session's browser can read it (its machine: this one, or a task).
   * @returns the file's path there, for `DOM.setFileInputFiles`
   * @throws SessionNotRunningError when the browser is gone; NotSupportedError where the provider cannot
   */
  upload(session: SessionRecord, fileName: string, bytes: Uint8Array): Promise<string>;
  /** The browser's targets (pages and others). */
  targets(session: SessionRecord): Promise<DevToolsTarget[]>;
  /**
   * After a restart: stops whatever a previous run left behind (processes, directories).
   * @returns the ids among `active` whose browsers are gone, which the caller then ends.
   */
  reconcile(active: readonly SessionRecord[]): Promise<string[]>;
  /** Ends every running browser (the server is stopping). */
  shutdown(reason: string): Promise<void>;
}
