import { buffer } from 'node:stream/consumers';
import {
  type Logger,
  type RecordedEvent,
  type SessionLogEntry,
  sessionLogKey,
  sessionRecordingKey,
  silentLogger,
} from '@wallcrawler/contracts';
import { keepSessionLog, keepSessionRecording } from '@wallcrawler/controller';
import type { BlobStore } from '../ports/blob-store.js';
import type { ArtifactRetention } from './artifact-retention.js';

export interface SessionArtifactServiceOptions {
  blobs: BlobStore;
  /** Applied after each session that kept artifacts. */
  retention: ArtifactRetention;
  logger?: Logger;
}

/**
 * A session's CDP log and rrweb recording: read from the running session, and kept in the blob store by its
 * close path (on every ending) until the retention limits.
 */
export class SessionArtifactService {
  readonly #blobs: BlobStore;
  readonly #retention: ArtifactRetention;
  readonly #logger: Logger;

  constructor({ blobs, retention, logger = silentLogger }: SessionArtifactServiceOptions) {
    this.#blobs = blobs;
    this.#retention = retention;
    this.#logger = logger;
  }

  async keepLogs(sessionId: string, entries: readonly SessionLogEntry[]): Promise<void> {
    if (!(await keepSessionLog(this.#blobs, sessionId, entries))) return;
    this.#logger.debug({ sessionId, entries: entries.length }, 'session log kept');
    this.#retention.requestSweep();
  }

  /** The running session's log if given, else the kept one; none is an empty list. */
  async logs(sessionId: string, live?: readonly SessionLogEntry[]): Promise<readonly SessionLogEntry[]> {
    return live ?? (await this.#json<SessionLogEntry>(sessionLogKey(sessionId)));
  }

  async keepRecording(sessionId: string, events: readonly RecordedEvent[]): Promise<void> {
    if (!(await keepSessionRecording(this.#blobs, sessionId, events))) return;
    this.#logger.debug({ sessionId, events: events.length }, 'session recording kept');
    this.#retention.requestSweep();
  }

  /** The running session's recording if given, else the kept one; none is an empty list. */
  async recording(sessionId: string, live?: readonly RecordedEvent[]): Promise<readonly RecordedEvent[]> {
    return live ?? (await this.#json<RecordedEvent>(sessionRecordingKey(sessionId)));
  }

  async #json<T>(key: string): Promise<T[]> {
    const blob = await this.#blobs.get(key);
    if (!blob) return [];
    return JSON.parse((await buffer(blob.body)).toString()) as T[];
  }
}
