import type { Readable } from 'node:stream';

/** What a blob can be written from: bytes, text, or a stream read once and never held whole in memory. */
export type BlobBody = Uint8Array | string | Readable | AsyncIterable<Uint8Array>;

export interface BlobInfo {
  key: string;
  /** Bytes. */
  size: number;
  lastModified: Date;
}

export interface StoredBlob extends BlobInfo {
  /** The content, streamed: read it once. */
  body: Readable;
}

/**
 * Where blobs live: context archives, extension zips, downloads, logs and recordings. A directory on disk
 * locally, S3 in AWS (written by the API and by the session's task alike); one contract test suite runs
 * against both.
 *
 * Keys are `/`-separated paths of safe segments (`contexts/<id>/profile.tar.gz.enc`); anything else is an
 * `InvalidBlobKeyError`, so no key can reach outside the store.
 */
export interface BlobStore {
  /** Writes the blob whole, replacing any blob at `key`; readers never see a partial one. */
  put(key: string, body: BlobBody): Promise<BlobInfo>;
  /** @returns undefined when there is no such blob. */
  get(key: string): Promise<StoredBlob | undefined>;
  /** @returns undefined when there is no such blob. */
  head(key: string): Promise<BlobInfo | undefined>;
  /** Removes the blob; removing a missing one is not an error. */
  delete(key: string): Promise<void>;
  /** The blobs whose keys start with `prefix`, in key order. */
  list(prefix: string): Promise<BlobInfo[]>;
}

/** A blob key that breaks the rules below. The server answers it with a 400 `invalid_blob_key`. */
export class InvalidBlobKeyError extends Error {
  override readonly name = 'InvalidBlobKeyError';
  readonly code = 'invalid_blob_key';
  constructor(key: string, why: string) {
    super(`The blob key ${JSON.stringify(key)} is not valid: ${why}.`);
  }
}

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._=-]*$/;

/**
 * Checks a blob key: 1–1024 characters of `/`-separated segments of letters, digits, `_`, `-`, `.` and `=`,
 * none empty, none starting with a dot (so no `..`, no hidden files).
 * @throws InvalidBlobKeyError
 */
export function assertBlobKey(key: string): void {
  if (key.length === 0 || key.length > 1024) throw new InvalidBlobKeyError(key, 'it must have 1 to 1024 characters');
  for (const segment of key.split('/')) {
    if (!SEGMENT.test(segment)) {
      throw new InvalidBlobKeyError(
        key,
        `the segment ${JSON.stringify(segment)} must be non-empty letters, digits, '_', '-', '.' or '=', not starting with '.'`,
      );
    }
  }
}

/** Checks a listing prefix: a key, or a key's beginning (it may end in `/`), or empty for everything. */
export function assertBlobPrefix(prefix: string): void {
  if (prefix === '') return;
  assertBlobKey(prefix.endsWith('/') ? prefix.slice(0, -1) : `${prefix}x`);
}
