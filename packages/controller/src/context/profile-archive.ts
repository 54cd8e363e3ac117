import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, open, readdir, rm } from 'node:fs/promises';
import { isAbsolute, join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { formatMiB } from '@wallcrawler/contracts';
import { PROFILE_LOCK_NAMES } from '../session-dirs.js';

/** tar, loaded on a context's first save or load rather than at start: an idle server holds only what it uses. */
const loadTar = () => import('tar');

/**
 * A context is a Chromium profile (user-data-dir) kept between sessions. At rest it is a tar.gz, encrypted with
 * AES-256-GCM under a key the operator controls, in this layout:
 *
 *   "WCX1" (4 bytes) | IV (12 bytes) | ciphertext | GCM tag (16 bytes)
 *
 * The context's id is the additional authenticated data, so an archive cannot be passed off as another
 * context's. Nothing is trusted before the tag checks out, and extraction refuses links and paths that leave
 * the profile, whatever the archive says.
 */

const MAGIC = Buffer.from('WCX1');
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = MAGIC.length + IV_BYTES;
/** The only cipher; the name Browserbase clients see in `cipherAlgorithm` is theirs, not this. */
export const PROFILE_CIPHER = 'aes-256-gcm';

/** Why an archive could not be made or used. `code` says which rule it broke. */
export class ProfileArchiveError extends Error {
  override readonly name = 'ProfileArchiveError';
  constructor(
    readonly code: 'too_large' | 'unsafe_entry' | 'not_authentic' | 'malformed',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Parts of a profile that are caches or belong to the running browser: rebuilt on the next start, so they
 * are not worth keeping, and the `Singleton*` entries are symlinks to a process that no longer exists.
 */
const SKIPPED_NAMES = new Set<string>([
  ...PROFILE_LOCK_NAMES,
  'Cache',
  'Code Cache',
  'GPUCache',
  'GrShaderCache',
  'GraphiteDawnCache',
  'DawnGraphiteCache',
  'DawnWebGPUCache',
  'ShaderCache',
  'Crashpad',
  'Crash Reports',
  'BrowserMetrics',
  'component_crx_cache',
  'Download Service',
]);

const aadFor = (contextId: string) => Buffer.from(`wallcrawler-context:${contextId}`);

function checkKey(key: Buffer): void {
  if (key.length !== 32) throw new Error(`A context key must be 32 bytes (it is ${key.length}).`);
}

/**
 * The profile's files worth keeping, as paths relative to `dir`, and their total size. Symlinks, sockets and
 * the caches above are left out.
 */
async function profileFiles(dir: string): Promise<{ files: string[]; bytes: number }> {
  const files: string[] = [];
  let bytes = 0;
  const walk = async (relative: string) => {
    for (const entry of await readdir(join(dir, relative), { withFileTypes: true })) {
      if (SKIPPED_NAMES.has(entry.name)) continue;
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) {
        files.push(path);
        bytes += (await lstat(join(dir, path))).size;
      }
    }
  };
  await walk('');
  return { files, bytes };
}

export interface PackProfileOptions {
  /** The profile directory; the browser using it must have exited. */
  profileDir: string;
  /** Where the encrypted archive is written. */
  outFile: string;
  contextId: string;
  /** 32 bytes. */
  key: Buffer;
  /** The most the kept files may add up to, uncompressed. */
  maxBytes: number;
}

/**
 * Archives and encrypts a profile into `outFile`.
 * @returns the size of the files archived (uncompressed) and of the archive.
 * @throws ProfileArchiveError `too_large` when the files exceed `maxBytes` (nothing is written then)
 */
export async function packProfile(
  options: PackProfileOptions,
): Promise<{ contentBytes: number; archiveBytes: number }> {
  const { profileDir, outFile, contextId, key, maxBytes } = options;
  checkKey(key);
  const { files, bytes } = await profileFiles(profileDir);
  if (bytes > maxBytes) {
    throw new ProfileArchiveError(
      'too_large',
      `The profile holds ${formatMiB(bytes)} of files, over the context size limit of ${formatMiB(maxBytes)}.`,
    );
  }
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(PROFILE_CIPHER, key, iv);
  cipher.setAAD(aadFor(contextId));
  let archiveBytes = 0;
  const tar = await loadTar();
  // An empty profile still makes a valid archive, of its root alone.
  const source = tar.create(
    { cwd: profileDir, gzip: true, portable: true, noDirRecurse: true },
    files.length > 0 ? files : ['.'],
  );
  await pipeline(
    source,
    async function* (chunks: AsyncIterable<Buffer>) {
      yield Buffer.concat([MAGIC, iv]);
      for await (const chunk of chunks) yield cipher.update(chunk);
      yield cipher.final();
      yield cipher.getAuthTag();
    },
    async function* (chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) {
        archiveBytes += chunk.length;
        yield chunk;
      }
    },
    createWriteStream(outFile),
  );
  return { contentBytes: bytes, archiveBytes };
}

export interface UnpackProfileOptions {
  /** The encrypted archive, as `packProfile` wrote it. */
  inFile: string;
  /** Where the profile goes; created if missing. */
  profileDir: string;
  contextId: string;
  key: Buffer;
  /** The most the extracted files may add up to. */
  maxBytes: number;
  /** A scratch directory for the decrypted archive; it is removed again. */
  workDir: string;
}

/** Whether a tar entry may be extracted: plain files and directories, inside the target. */
function entryProblem(path: string, type: string): string | undefined {
  if (type !== 'File' && type !== 'OldFile' && type !== 'ContiguousFile' && type !== 'Directory') {
    return `${JSON.stringify(path)} is a ${type}; only files and directories are allowed`;
  }
  const normalized = posix.normalize(path);
  if (isAbsolute(path) || path.startsWith('/') || normalized === '..' || normalized.startsWith('../')) {
    return `${JSON.stringify(path)} points outside the profile`;
  }
  if (path.split('/').includes('..')) return `${JSON.stringify(path)} contains '..'`;
  return undefined;
}

/**
 * Checks the tar.gz at `file` without extracting it.
 * @throws ProfileArchiveError for a link, a path that leaves the target, or content over `maxBytes`
 */
async function vetArchive(file: string, maxBytes: number): Promise<void> {
  let total = 0;
  let problem: ProfileArchiveError | undefined;
  const tar = await loadTar();
  const parser = new tar.Parser({
    strict: true,
    onReadEntry(entry) {
      if (!problem) {
        const why = entryProblem(entry.path, entry.type);
        if (why) problem = new ProfileArchiveError('unsafe_entry', `The context archive was refused: ${why}.`);
        total += entry.size ?? 0;
        if (!problem && total > maxBytes) {
          problem = new ProfileArchiveError(
            'too_large',
            `The context archive expands to more than the context size limit of ${formatMiB(maxBytes)}.`,
          );
        }
      }
      entry.resume();
    },
  });
  const input = createReadStream(file);
  try {
    await new Promise<void>((resolve, reject) => {
      parser.on('end', resolve);
      parser.on('error', reject);
      input.on('error', reject);
      input.on('end', () => parser.end());
      input.on('data', (chunk) => {
        // Stop reading at the first problem: a tar bomb is not inflated to the end.
        if (problem) {
          input.destroy();
          resolve();
        } else parser.write(chunk as Buffer);
      });
    });
  } catch (error) {
    if (!problem) {
      throw new ProfileArchiveError(
        'malformed',
        `The context archive is not a valid tar.gz: ${(error as Error).message}`,
      );
    }
  } finally {
    input.destroy();
  }
  if (problem) throw problem;
}

/**
 * Decrypts, checks and extracts a context archive into `profileDir`. Nothing is extracted unless the whole
 * archive is authentic and every entry passes the checks.
 * @throws ProfileArchiveError `not_authentic` (wrong key, another context's archive, tampering),
 *   `unsafe_entry`, `too_large` or `malformed`
 */
export async function unpackProfile(options: UnpackProfileOptions): Promise<void> {
  const { inFile, profileDir, contextId, key, maxBytes, workDir } = options;
  checkKey(key);
  await mkdir(workDir, { recursive: true });
  const plain = join(workDir, `context-${randomBytes(6).toString('hex')}.tar.gz`);
  try {
    const handle = await open(inFile, 'r');
    let iv: Buffer;
    let tag: Buffer;
    let size: number;
    try {
      size = (await handle.stat()).size;
      if (size < HEADER_BYTES + TAG_BYTES)
        throw new ProfileArchiveError('malformed', 'The context archive is truncated.');
      const header = Buffer.alloc(HEADER_BYTES);
      await handle.read(header, 0, HEADER_BYTES, 0);
      if (!header.subarray(0, MAGIC.length).equals(MAGIC)) {
        throw new ProfileArchiveError('malformed', 'The blob is not a Wallcrawler context archive.');
      }
      iv = header.subarray(MAGIC.length);
      tag = Buffer.alloc(TAG_BYTES);
      await handle.read(tag, 0, TAG_BYTES, size - TAG_BYTES);
    } finally {
      await handle.close();
    }
    const decipher = createDecipheriv(PROFILE_CIPHER, key, iv);
    decipher.setAAD(aadFor(contextId));
    decipher.setAuthTag(tag);
    try {
      // An empty range (no ciphertext) is `end < start`, which createReadStream rejects.
      const body = size - HEADER_BYTES - TAG_BYTES;
      const source = body > 0 ? createReadStream(inFile, { start: HEADER_BYTES, end: size - TAG_BYTES - 1 }) : [];
      await pipeline(source, decipher, createWriteStream(plain));
    } catch {
      throw new ProfileArchiveError(
        'not_authentic',
        'The context archive failed its integrity check: it was altered, or it was sealed with another key or for another context.',
      );
    }
    await vetArchive(plain, maxBytes);
    await mkdir(profileDir, { recursive: true });
    const tar = await loadTar();
    await tar.extract({
      file: plain,
      cwd: profileDir,
      strict: true,
      // A second line of defence; vetArchive already refused all of these.
      filter: (path, entry) => entryProblem(path, 'type' in entry ? entry.type : 'File') === undefined,
    });
  } finally {
    await rm(plain, { force: true });
  }
}
