import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type BlobStore, contextArchiveKey } from '@wallcrawler/contracts';
import { packProfile, unpackProfile } from '../context/profile-archive.js';

/**
 * A context's profile between a session and the blob store: filled before the browser starts, saved back after
 * it exited. The local server and the Fargate task both call these, so a profile is sealed and checked one way.
 */
export interface ContextProfileOptions {
  blobs: BlobStore;
  contextId: string;
  /** The AES-256-GCM key archives are sealed with (32 bytes). */
  key: Buffer;
  /** The most the profile's files may add up to, uncompressed. */
  maxBytes: number;
  /** Where the scratch files go. @default the OS's temporary directory */
  workRoot?: string;
}

/**
 * Fills `profileDir` from the context's saved archive; a context never saved leaves it empty.
 * @throws ProfileArchiveError when the archive is corrupt, sealed under another key or for another context,
 *   unsafe or too large (nothing is extracted then)
 */
export async function hydrateProfile(options: ContextProfileOptions & { profileDir: string }): Promise<void> {
  const { blobs, contextId, key, maxBytes, profileDir } = options;
  const blob = await blobs.get(contextArchiveKey(contextId));
  if (!blob) return;
  const work = await mkdtemp(join(options.workRoot ?? tmpdir(), 'wallcrawler-context-'));
  try {
    const file = join(work, 'archive');
    await pipeline(blob.body, createWriteStream(file));
    await unpackProfile({ inFile: file, profileDir, contextId, key, maxBytes, workDir: work });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Seals `profileDir` (its browser exited) and writes it over the context's archive. The archive is built whole
 * before the write, and the store replaces a blob atomically, so a failure leaves the previous one in place.
 * @returns the archive's sizes
 * @throws ProfileArchiveError `too_large`, or the store's error
 */
export async function persistProfile(
  options: ContextProfileOptions & { profileDir: string },
): Promise<{ contentBytes: number; archiveBytes: number }> {
  const { blobs, contextId, key, maxBytes, profileDir } = options;
  const work = await mkdtemp(join(options.workRoot ?? tmpdir(), 'wallcrawler-context-'));
  try {
    const file = join(work, 'archive');
    const sizes = await packProfile({ profileDir, outFile: file, contextId, key, maxBytes });
    await blobs.put(contextArchiveKey(contextId), createReadStream(file));
    return sizes;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Reads a context key as operators write it: 64 hex digits, or base64 (`openssl rand -hex 32`).
 * @throws Error when it is not 32 bytes (the message never contains the key)
 */
export function parseContextKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) throw new Error('A context key must be 32 bytes: 64 hex digits, or base64.');
  return key;
}
