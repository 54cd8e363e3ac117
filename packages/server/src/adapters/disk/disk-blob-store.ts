import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  assertBlobKey,
  assertBlobPrefix,
  type BlobBody,
  type BlobInfo,
  type BlobStore,
  type StoredBlob,
} from '../../ports/blob-store.js';

/**
 * Blobs as files under one directory: `objects/<key>`. A write goes to `incoming/` first and is renamed into
 * place, so a reader sees the old blob or the new one, never a partial file, and a crash mid-write leaves only
 * a temporary file that the next start clears.
 */
export class DiskBlobStore implements BlobStore {
  readonly #objects: string;
  readonly #incoming: string;

  private constructor(root: string) {
    this.#objects = join(root, 'objects');
    this.#incoming = join(root, 'incoming');
  }

  /** Opens (creating) the store at `root`, clearing writes a previous process left unfinished. */
  static async open(root: string): Promise<DiskBlobStore> {
    const store = new DiskBlobStore(root);
    await rm(store.#incoming, { recursive: true, force: true });
    await mkdir(store.#incoming, { recursive: true });
    await mkdir(store.#objects, { recursive: true });
    return store;
  }

  async put(key: string, body: BlobBody): Promise<BlobInfo> {
    assertBlobKey(key);
    const path = this.#path(key);
    const temp = join(this.#incoming, randomUUID());
    try {
      const source = typeof body === 'string' || body instanceof Uint8Array ? Readable.from([Buffer.from(body)]) : body;
      await pipeline(source, createWriteStream(temp, { flags: 'wx' }));
      // A durable blob: flushed before it becomes visible under its key.
      const handle = await open(temp, 'r');
      await handle.sync();
      await handle.close();
      await mkdir(dirname(path), { recursive: true });
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    return (await this.head(key)) as BlobInfo;
  }

  async get(key: string): Promise<StoredBlob | undefined> {
    const info = await this.head(key);
    if (!info) return undefined;
    // Opened before returning, so a blob deleted after `head` is a clean miss rather than a stream error.
    const handle = await open(this.#path(key), 'r').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (!handle) return undefined;
    return { ...info, body: handle.createReadStream() };
  }

  async head(key: string): Promise<BlobInfo | undefined> {
    assertBlobKey(key);
    try {
      const s = await stat(this.#path(key));
      return s.isFile() ? { key, size: s.size, lastModified: s.mtime } : undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR')
        return undefined;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    assertBlobKey(key);
    await rm(this.#path(key), { force: true });
    // Leave no empty directories behind, up to the store's root.
    let dir = dirname(this.#path(key));
    while (dir !== this.#objects) {
      try {
        await rmdir(dir);
      } catch {
        break;
      }
      dir = dirname(dir);
    }
  }

  async list(prefix: string): Promise<BlobInfo[]> {
    assertBlobPrefix(prefix);
    // Walk only the deepest directory the prefix names.
    const base = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const found: BlobInfo[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      for (const entry of entries) {
        const path = join(dir, entry.name);
        const key = relative(this.#objects, path).split(sep).join('/');
        if (entry.isDirectory()) {
          if (`${key}/`.startsWith(prefix) || prefix.startsWith(`${key}/`)) await walk(path);
        } else if (entry.isFile() && key.startsWith(prefix)) {
          const s = await stat(path).catch(() => undefined);
          if (s) found.push({ key, size: s.size, lastModified: s.mtime });
        }
      }
    };
    await walk(base ? join(this.#objects, ...base.split('/')) : this.#objects);
    return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  #path(key: string): string {
    return join(this.#objects, ...key.split('/'));
  }
}
