import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { type DownloadFailure, downloadsPrefix, type Logger, silentLogger } from '@wallcrawler/contracts';
import { finishedDownloads as finishedFiles, keepDownloads } from '@wallcrawler/controller';
import type { BlobStore } from '../ports/blob-store.js';
import type { ArtifactRetention } from './artifact-retention.js';

export interface DownloadServiceOptions {
  blobs: BlobStore;
  /** Applied after each session that kept downloads. */
  retention: ArtifactRetention;
  logger?: Logger;
}

/** A session's downloads while it runs: its directory, and what was cancelled. */
export interface LiveDownloads {
  dir: string;
  failures: readonly DownloadFailure[];
}

/** The zip entry that lists cancelled downloads and why; present only when there were some. */
export const DOWNLOAD_ERRORS_ENTRY = 'wallcrawler-download-errors.json';

/**
 * What sessions downloaded: served as a zip while the session runs (from its directory) and after it ended (from
 * the blob store, where the close path keeps them), until the retention limits delete them.
 */
export class DownloadService {
  readonly #blobs: BlobStore;
  readonly #retention: ArtifactRetention;
  readonly #logger: Logger;

  constructor({ blobs, retention, logger = silentLogger }: DownloadServiceOptions) {
    this.#blobs = blobs;
    this.#retention = retention;
    this.#logger = logger;
  }

  /** Keeps a session's finished downloads (and the list of cancelled ones) once its browser is gone. */
  async keep(sessionId: string, dir: string, failures: readonly DownloadFailure[]): Promise<void> {
    const kept = await keepDownloads(this.#blobs, sessionId, dir, failures);
    if (kept > 0 || failures.length > 0) {
      this.#logger.info({ sessionId, files: kept, failed: failures.length }, 'downloads kept');
      this.#retention.requestSweep();
    }
  }

  /**
   * The session's downloads as a zip stream: from `live` while it runs, else what was kept. A session with none
   * gets a valid empty zip.
   */
  async zip(sessionId: string, live?: LiveDownloads): Promise<Readable> {
    // Loaded on the first download, not at start (memory at rest).
    const { default: yazl } = await import('yazl');
    const zip = new yazl.ZipFile();
    if (live) {
      for (const name of await finishedFiles(live.dir)) {
        zip.addReadStreamLazy(name, (cb) => cb(null, createReadStream(join(live.dir, name))));
      }
      if (live.failures.length > 0)
        zip.addBuffer(Buffer.from(JSON.stringify(live.failures, null, 2)), DOWNLOAD_ERRORS_ENTRY);
    } else {
      for (const blob of await this.#blobs.list(downloadsPrefix(sessionId))) {
        const segment = blob.key.slice(downloadsPrefix(sessionId).length);
        if (segment === 'errors.json') {
          const stored = await this.#blobs.get(blob.key);
          if (stored) zip.addBuffer(await buffer(stored.body), DOWNLOAD_ERRORS_ENTRY);
          continue;
        }
        const name = Buffer.from(segment.slice(1), 'base64url').toString();
        zip.addReadStreamLazy(name, { mtime: blob.lastModified }, (cb) => {
          this.#blobs.get(blob.key).then(
            (stored) =>
              stored ? cb(null, stored.body) : cb(new Error(`download ${name} vanished`), undefined as never),
            (error: unknown) => cb(error, undefined as never),
          );
        });
      }
    }
    zip.end();
    return zip.outputStream as Readable;
  }
}
