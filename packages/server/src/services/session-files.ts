import type { Readable } from 'node:stream';
import { type Logger, type SessionLogEntry, silentLogger } from '@wallcrawler/contracts';
import {
  ControllerUnreachableError,
  InvalidUploadError,
  NotSupportedError,
  SessionEndingError,
  SessionNotRunningError,
} from '../domain/errors.js';
import type { SessionRecord } from '../domain/model.js';
import type { BrowserProvider, LiveSessionFiles } from '../ports/browser-provider.js';
import type { DownloadService } from './download-service.js';
import type { SessionArtifactService } from './session-artifact-service.js';
import type { SessionLifecycle } from './session-lifecycle.js';

/**
 * How long a read waits for a session found ending (its task shipping its files to the blob store) to record its
 * ending, and how often it looks: within the API's own deadline.
 */
const ENDING_WAIT_MS = 15_000;
const ENDING_POLL_MS = 200;

const isActive = (session: SessionRecord) => session.status === 'RUNNING' || session.status === 'PENDING';

/** Browserbase's `SessionRecording`, plus the page the event is from. */
export interface SessionRecordingEvent {
  data: unknown;
  sessionId: string;
  timestamp: number;
  type: number;
  pageId: string;
}

export interface SessionFilesOptions {
  lifecycle: SessionLifecycle;
  provider: BrowserProvider;
  /** Keeps and serves sessions' downloads; without it, downloads are not collected. */
  downloads?: DownloadService | undefined;
  /** Keeps and serves CDP logs and recordings; without it, sessions are neither logged nor recorded. */
  artifacts?: SessionArtifactService | undefined;
  logger?: Logger;
}

/**
 * A session's files: what it kept (downloads, its CDP log, its rrweb recording), read live from the running
 * browser and from the blob store after it ended; and uploads, which the provider puts where the browser runs.
 */
export class SessionFiles {
  readonly #lifecycle: SessionLifecycle;
  readonly #provider: BrowserProvider;
  readonly #downloads: DownloadService | undefined;
  readonly #artifacts: SessionArtifactService | undefined;
  readonly #logger: Logger;

  constructor({ lifecycle, provider, downloads, artifacts, logger = silentLogger }: SessionFilesOptions) {
    this.#lifecycle = lifecycle;
    this.#provider = provider;
    this.#downloads = downloads;
    this.#artifacts = artifacts;
    this.#logger = logger;
  }

  /**
   * The session's downloads as a zip: live while it runs, kept after it ended (until the retention limits).
   * @throws SessionNotFoundError; NotSupportedError where downloads are not collected
   */
  async downloadsZip(projectId: string, sessionId: string): Promise<Readable> {
    const session = await this.#lifecycle.settled(projectId, sessionId);
    if (!this.#downloads) throw new NotSupportedError('This deployment does not collect downloads yet.');
    return this.#downloads.zip(sessionId, await this.#live(session, (files) => files.downloads()));
  }

  /**
   * The session's CDP log (Browserbase's `SessionLog`s): live while it runs, kept after it ended.
   * @throws SessionNotFoundError; NotSupportedError where sessions are not logged
   */
  async logs(projectId: string, sessionId: string): Promise<readonly SessionLogEntry[]> {
    const session = await this.#lifecycle.settled(projectId, sessionId);
    if (!this.#artifacts || !this.#provider.capabilities.files) {
      throw new NotSupportedError('This deployment does not log sessions yet.');
    }
    return this.#artifacts.logs(sessionId, await this.#live(session, (files) => files.logs()));
  }

  /**
   * The session's rrweb events, every page's, in order (Browserbase's `SessionRecording`s).
   * @throws SessionNotFoundError; NotSupportedError where sessions are not recorded
   */
  async recording(projectId: string, sessionId: string): Promise<SessionRecordingEvent[]> {
    const session = await this.#lifecycle.settled(projectId, sessionId);
    if (!this.#artifacts || !this.#provider.capabilities.files) {
      throw new NotSupportedError('This deployment does not record sessions yet.');
    }
    const events = await this.#artifacts.recording(sessionId, await this.#live(session, (files) => files.recording()));
    return events.map((e) => ({ data: e.data, sessionId, timestamp: e.timestamp, type: e.type, pageId: e.pageId }));
  }

  /**
   * Reads the running session's files where its browser runs; undefined when it does not run, so the caller reads
   * what it kept. A session found ending meanwhile (its task is shipping its files) is waited for until its ending
   * is recorded, when what it kept is complete.
   * @throws SessionEndingError when the ending is not recorded within `ENDING_WAIT_MS`
   */
  async #live<T>(session: SessionRecord, read: (files: LiveSessionFiles) => Promise<T>): Promise<T | undefined> {
    const files = this.#provider.files(session);
    if (!files) return undefined;
    try {
      return await read(files);
    } catch (error) {
      // A task that went away right after its ending was recorded cannot be reached; one that is still running is
      // a real failure.
      const gone = error instanceof ControllerUnreachableError && !isActive(await this.#refresh(session));
      if (!(error instanceof SessionEndingError) && !gone) throw error;
    }
    const deadline = Date.now() + ENDING_WAIT_MS;
    while (Date.now() < deadline) {
      if (!isActive(await this.#refresh(session))) return undefined;
      await new Promise((resolve) => setTimeout(resolve, ENDING_POLL_MS));
    }
    throw new SessionEndingError(session.id);
  }

  #refresh(session: SessionRecord): Promise<SessionRecord> {
    return this.#lifecycle.settled(session.projectId, session.id);
  }

  /** The recorded pages, in page order, each with the time span of its events. */
  async recordedPages(
    projectId: string,
    sessionId: string,
  ): Promise<{ pageId: string; startTimeMs: number; endTimeMs: number }[]> {
    const byPage = new Map<string, { start: number; end: number }>();
    for (const e of await this.recording(projectId, sessionId)) {
      const span = byPage.get(e.pageId);
      if (span) {
        span.start = Math.min(span.start, e.timestamp);
        span.end = Math.max(span.end, e.timestamp);
      } else byPage.set(e.pageId, { start: e.timestamp, end: e.timestamp });
    }
    return [...byPage.entries()]
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([pageId, span]) => ({ pageId, startTimeMs: span.start, endTimeMs: span.end }));
  }

  /**
   * Stores an uploaded file where the session's browser can read it (for a file input: CDP
   * `DOM.setFileInputFiles` with the returned path).
   * @returns the file's path on the browser's machine
   * @throws SessionNotRunningError; InvalidUploadError for an empty file; NotSupportedError where uploads are not
   *   taken
   */
  async upload(projectId: string, sessionId: string, fileName: string, bytes: Uint8Array): Promise<string> {
    const session = await this.#lifecycle.get(projectId, sessionId);
    if (!this.#provider.capabilities.files) throw new NotSupportedError('This deployment does not take uploads yet.');
    if (session.status !== 'RUNNING' || !this.#provider.isRunning(session)) {
      throw new SessionNotRunningError(sessionId, session.status);
    }
    if (bytes.length === 0) throw new InvalidUploadError('The file is empty.');
    const path = await this.#provider.upload(session, fileName, bytes);
    this.#logger.info({ sessionId, bytes: bytes.length }, 'file uploaded');
    return path;
  }
}
