import { type Logger, SESSION_ARTIFACT_PREFIXES, silentLogger } from '@wallcrawler/contracts';
import type { BlobStore } from '../ports/blob-store.js';

export interface RetentionLimits {
  /** Artifacts older than this are deleted. */
  maxAgeMs: number;
  /** Past this total, the oldest artifacts are deleted first. */
  maxBytes: number;
}

/**
 * Keeps sessions' artifacts (downloads, CDP logs, recordings) within an age and a total size, so that the disk
 * never fills with them. Contexts and extensions are the user's own and never expire.
 */
export class ArtifactRetention {
  readonly #blobs: BlobStore;
  readonly #limits: RetentionLimits;
  readonly #logger: Logger;
  #running: Promise<{ deleted: number }> | undefined;
  #requested = false;

  constructor(blobs: BlobStore, limits: RetentionLimits, logger: Logger = silentLogger) {
    this.#blobs = blobs;
    this.#limits = limits;
    this.#logger = logger;
  }

  /**
   * Asks for a sweep soon, off the caller's path: a session's close path keeps its downloads, log and recording
   * one after another, and they share one sweep instead of listing every artifact three times before the
   * ending is recorded.
   */
  requestSweep(): void {
    if (this.#requested) return;
    this.#requested = true;
    setImmediate(() => {
      this.#requested = false;
      this.sweep().catch((error: unknown) =>
        this.#logger.warn({ err: error }, 'sweeping old session artifacts failed'),
      );
    });
  }

  /** Whether a sweep is asked for or running: until it ends, it holds a listing of every artifact in memory. */
  get sweeping(): boolean {
    return this.#requested || this.#running !== undefined;
  }

  /** Deletes what is past the age limit, then the oldest until under the size limit. One sweep at a time. */
  sweep(now = Date.now()): Promise<{ deleted: number }> {
    this.#running ??= this.#sweep(now).finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #sweep(now: number): Promise<{ deleted: number }> {
    const all = (await Promise.all(SESSION_ARTIFACT_PREFIXES.map((p) => this.#blobs.list(p)))).flat();
    const expired = all.filter((b) => now - b.lastModified.getTime() > this.#limits.maxAgeMs);
    const kept = all
      .filter((b) => !expired.includes(b))
      .sort((a, b) => a.lastModified.getTime() - b.lastModified.getTime());
    let total = kept.reduce((n, b) => n + b.size, 0);
    const over: typeof all = [];
    for (const blob of kept) {
      if (total <= this.#limits.maxBytes) break;
      over.push(blob);
      total -= blob.size;
    }
    for (const blob of [...expired, ...over]) await this.#blobs.delete(blob.key);
    const deleted = expired.length + over.length;
    if (deleted > 0)
      this.#logger.info({ expired: expired.length, overSize: over.length }, 'old session artifacts deleted');
    return { deleted };
  }
}
