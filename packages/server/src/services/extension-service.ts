import { randomUUID } from 'node:crypto';
import { extensionZipKey, type Logger, silentLogger } from '@wallcrawler/contracts';
import {
  ExtensionArchiveError,
  type ExtensionZipLimits,
  inspectExtensionZip,
  unpackStoredExtension,
} from '@wallcrawler/controller';
import { ExtensionNotFoundError, InvalidUploadError, TooLargeError } from '../domain/errors.js';
import type { ExtensionRecord } from '../domain/model.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { ExtensionSource } from '../ports/browser-provider.js';
import type { Store } from '../ports/store.js';

export interface ExtensionServiceOptions {
  store: Store;
  blobs: BlobStore;
  /** The most an extension may unpack to. @default 256 MiB */
  maxUnpackedBytes?: number;
  logger?: Logger;
}

/** Uploaded Chrome extensions: zips checked on upload, kept in the blob store, unpacked into sessions that ask. */
export class ExtensionService {
  readonly #store: Store;
  readonly #blobs: BlobStore;
  readonly #limits: ExtensionZipLimits;
  readonly #logger: Logger;

  constructor({ store, blobs, maxUnpackedBytes = 256 * 1024 * 1024, logger = silentLogger }: ExtensionServiceOptions) {
    this.#store = store;
    this.#blobs = blobs;
    this.#limits = { maxUnpackedBytes };
    this.#logger = logger;
  }

  /**
   * Checks and stores an uploaded zip. Each upload is a new extension, even of the same zip (as Browserbase).
   * @throws InvalidUploadError, TooLargeError
   */
  async create(projectId: string, fileName: string, bytes: Buffer): Promise<ExtensionRecord> {
    const manifest = await inspectExtensionZip(bytes, this.#limits).catch(asUploadError);
    const now = new Date();
    const extension: ExtensionRecord = {
      id: randomUUID(),
      projectId,
      fileName: fileName || 'extension.zip',
      createdAt: now,
      updatedAt: now,
    };
    // The blob first: a record never points at a missing zip.
    await this.#blobs.put(extensionZipKey(extension.id), bytes);
    try {
      await this.#store.createExtension(extension);
    } catch (error) {
      await this.#blobs.delete(extensionZipKey(extension.id));
      throw error;
    }
    this.#logger.info(
      { extensionId: extension.id, name: manifest.name, version: manifest.version },
      'extension uploaded',
    );
    return extension;
  }

  /** @throws ExtensionNotFoundError when there is no such extension in the project */
  async retrieve(projectId: string, id: string): Promise<ExtensionRecord> {
    const extension = await this.#store.getExtension(id);
    if (!extension || extension.projectId !== projectId) throw new ExtensionNotFoundError(id);
    return extension;
  }

  async delete(projectId: string, id: string): Promise<void> {
    await this.retrieve(projectId, id);
    await this.#store.deleteExtension(id);
    await this.#blobs.delete(extensionZipKey(id));
    this.#logger.info({ extensionId: id }, 'extension deleted');
  }

  /**
   * The extension, ready for a session to load.
   * @throws ExtensionNotFoundError
   */
  async source(projectId: string, id: string): Promise<ExtensionSource> {
    await this.retrieve(projectId, id);
    return {
      id,
      unpack: (dir) =>
        unpackStoredExtension({ blobs: this.#blobs, extensionId: id, dir, limits: this.#limits }).catch(asUploadError),
    };
  }
}

/** The archive's verdict in the domain's words: 413 for a zip too large, else 400. */
function asUploadError(error: unknown): never {
  if (error instanceof ExtensionArchiveError) {
    throw error.code === 'too_large' ? new TooLargeError(error.message) : new InvalidUploadError(error.message);
  }
  throw error;
}
