import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { type BlobStore, extensionZipKey, formatMiB } from '@wallcrawler/contracts';
import type { Entry, ZipFile } from 'yauzl';

/**
 * Extension zips, as Browserbase takes them (checked by the server on upload, unpacked by whichever machine runs
 * the session's browser): `manifest.json` at the root. A zip is checked whole before it is
 * accepted, and again before it is unpacked: no entry may leave the target directory or be a link, and the
 * entries' declared sizes (which yauzl holds each entry to while inflating) must add up to less than the limit,
 * so a zip bomb is refused before anything is inflated.
 */

/**
 * Why a zip is not an extension that may be unpacked: `invalid` (the server answers 400) or `too_large` (413);
 * `missing` when the stored zip is gone.
 */
export class ExtensionArchiveError extends Error {
  override readonly name = 'ExtensionArchiveError';
  constructor(
    readonly code: 'invalid' | 'too_large' | 'missing',
    message: string,
  ) {
    super(message);
  }
}

const invalid = (message: string) => new ExtensionArchiveError('invalid', message);
const tooLarge = (message: string) => new ExtensionArchiveError('too_large', message);

export interface ExtensionZipLimits {
  /** The most the entries may add up to, uncompressed. */
  maxUnpackedBytes: number;
  /** The most entries a zip may have. @default 10_000 */
  maxEntries?: number;
}

/** What the manifest says, for logs and errors. */
export interface ExtensionManifest {
  name: string;
  version: string;
  manifestVersion: number;
}

const MANIFEST_BYTES = 1024 * 1024;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

async function openZip(bytes: Buffer): Promise<ZipFile> {
  // Loaded on the first upload, not at start: an idle server holds only what it uses (memory at rest).
  const { default: yauzl } = await import('yauzl');
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(bytes, { lazyEntries: true, strictFileNames: true, validateEntrySizes: true }, (error, zip) => {
      if (error || !zip) reject(invalid(`The file is not a valid zip archive: ${error?.message ?? 'unreadable'}.`));
      else resolve(zip);
    });
  });
}

/** Why an entry may not be unpacked, if it may not. */
function entryProblem(entry: Entry): string | undefined {
  const name = entry.fileName;
  const mode = (entry.externalFileAttributes >>> 16) & 0xffff;
  if ((mode & S_IFMT) === S_IFLNK) return `${JSON.stringify(name)} is a symbolic link`;
  const normalized = posix.normalize(name);
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name) || name.includes('\\')) {
    return `${JSON.stringify(name)} is an absolute or Windows path`;
  }
  if (normalized === '..' || normalized.startsWith('../') || name.split('/').includes('..')) {
    return `${JSON.stringify(name)} points outside the extension`;
  }
  return undefined;
}

function readEntry(zip: ZipFile, entry: Entry, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (error, stream) => {
      if (error || !stream) return reject(error ?? new Error('unreadable entry'));
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > max) stream.destroy(new Error(`over ${max} bytes`));
        else chunks.push(chunk);
      });
      stream.on('error', reject);
      stream.on('end', () => resolve(Buffer.concat(chunks)));
    });
  });
}

/** Visits every entry in order; `visit` may read it before the next one is read. */
async function forEachEntry(zip: ZipFile, visit: (entry: Entry) => Promise<void>): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    zip.on('error', reject);
    zip.on('end', () => resolve());
    zip.on('entry', (entry: Entry) => {
      visit(entry).then(
        () => zip.readEntry(),
        (error: unknown) => {
          zip.close();
          reject(error);
        },
      );
    });
    zip.readEntry();
  });
}

/**
 * Checks an uploaded extension zip: a zip, with a valid `manifest.json` at its root, no unsafe entries, within
 * the limits.
 * @throws ExtensionArchiveError `invalid` or `too_large`, saying which rule the file broke
 */
export async function inspectExtensionZip(bytes: Buffer, limits: ExtensionZipLimits): Promise<ExtensionManifest> {
  if (bytes.length === 0) throw invalid('The file is empty; upload a zip with manifest.json at its root.');
  const zip = await openZip(bytes);
  const maxEntries = limits.maxEntries ?? 10_000;
  if (zip.entryCount > maxEntries) {
    zip.close();
    throw tooLarge(`The zip has ${zip.entryCount} entries; an extension may have at most ${maxEntries}.`);
  }
  let total = 0;
  let manifest: Buffer | undefined;
  let nestedManifest: string | undefined;
  try {
    await forEachEntry(zip, async (entry) => {
      const problem = entryProblem(entry);
      if (problem) throw invalid(`The zip was refused: ${problem}.`);
      total += entry.uncompressedSize;
      if (total > limits.maxUnpackedBytes) {
        throw tooLarge(
          `The zip unpacks to more than ${formatMiB(limits.maxUnpackedBytes)}, the limit for an extension (a zip bomb, or an extension too large).`,
        );
      }
      if (entry.fileName === 'manifest.json') manifest = await readEntry(zip, entry, MANIFEST_BYTES);
      else if (entry.fileName.endsWith('/manifest.json')) nestedManifest ??= entry.fileName;
    });
  } catch (error) {
    if (error instanceof ExtensionArchiveError) throw error;
    throw invalid(`The zip archive is damaged: ${(error as Error).message}.`);
  }
  if (!manifest) {
    throw invalid(
      nestedManifest
        ? `manifest.json must be at the zip's root, not at ${nestedManifest}: zip the extension's folder contents, not the folder.`
        : 'The zip has no manifest.json at its root, so it is not a Chrome extension.',
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(manifest.toString('utf8').replace(/^\uFEFF/, ''));
  } catch (error) {
    throw invalid(`manifest.json is not valid JSON: ${(error as Error).message}.`);
  }
  const m = parsed as Record<string, unknown>;
  if (typeof m !== 'object' || m === null || typeof m.manifest_version !== 'number' || typeof m.name !== 'string') {
    throw invalid('manifest.json must be an object with a numeric manifest_version and a name.');
  }
  return { name: m.name, version: typeof m.version === 'string' ? m.version : '', manifestVersion: m.manifest_version };
}

/**
 * Unpacks an extension zip into `dir`, checking every entry again as it goes.
 * @throws ExtensionArchiveError as `inspectExtensionZip`
 */
export async function unpackExtensionZip(bytes: Buffer, dir: string, limits: ExtensionZipLimits): Promise<void> {
  await inspectExtensionZip(bytes, limits);
  const zip = await openZip(bytes);
  await mkdir(dir, { recursive: true });
  await forEachEntry(zip, async (entry) => {
    const problem = entryProblem(entry);
    if (problem) throw invalid(`The zip was refused: ${problem}.`);
    const target = join(dir, entry.fileName);
    if (entry.fileName.endsWith('/')) {
      await mkdir(target, { recursive: true });
      return;
    }
    await mkdir(dirname(target), { recursive: true });
    const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) =>
      zip.openReadStream(entry, (error, s) => (error || !s ? reject(error) : resolve(s))),
    );
    await pipeline(stream, createWriteStream(target, { mode: 0o644 }));
  });
}

/**
 * Unpacks the extension stored under `extensionId` into `dir`, for a session about to launch its browser.
 * @throws ExtensionArchiveError `missing` when the store has no zip for it, else as `inspectExtensionZip`
 */
export async function unpackStoredExtension(options: {
  blobs: BlobStore;
  extensionId: string;
  dir: string;
  limits: ExtensionZipLimits;
}): Promise<void> {
  const blob = await options.blobs.get(extensionZipKey(options.extensionId));
  if (!blob)
    throw new ExtensionArchiveError('missing', `Extension ${options.extensionId} has no stored zip; upload it again.`);
  await unpackExtensionZip(await buffer(blob.body), options.dir, options.limits);
}
