import { randomUUID } from 'node:crypto';
import { contextArchiveKey, type Logger, silentLogger } from '@wallcrawler/contracts';
import { hydrateProfile, ProfileArchiveError, persistProfile } from '@wallcrawler/controller';
import { ContextArchiveError, ContextNotFoundError, NotSupportedError } from '../domain/errors.js';
import type { ContextRecord } from '../domain/model.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { ProfileHooks } from '../ports/browser-provider.js';
import type { Store } from '../ports/store.js';

export interface ContextServiceOptions {
  store: Store;
  blobs: BlobStore;
  /**
   * The AES-256-GCM key archives are sealed with (32 bytes). Without one, contexts can be created and deleted
   * but no session can start from one.
   */
  key?: Buffer | (() => Promise<Buffer>) | undefined;
  /** The most a context's files may add up to, uncompressed. @default 256 MiB */
  maxBytes?: number;
  logger?: Logger;
}

/**
 * Contexts: saved Chromium profiles that sessions start from, and save back into with `persist: true`. The
 * archives are sealed (see `packProfile`) and kept in the blob store; the records in the store.
 */
export class ContextService {
  readonly #store: Store;
  readonly #blobs: BlobStore;
  readonly #key: Buffer | (() => Promise<Buffer>) | undefined;
  readonly #maxBytes: number;
  readonly #logger: Logger;

  constructor({ store, blobs, key, maxBytes = 256 * 1024 * 1024, logger = silentLogger }: ContextServiceOptions) {
    this.#store = store;
    this.#blobs = blobs;
    this.#key = key;
    this.#maxBytes = maxBytes;
    this.#logger = logger;
  }

  /**
   * @param name already trimmed and checked by the route
   * @throws ContextNameTakenError
   */
  async create(projectId: string, name?: string): Promise<ContextRecord> {
    const now = new Date();
    const trimmed = name;
    const context: ContextRecord = {
      id: randomUUID(),
      projectId,
      createdAt: now,
      updatedAt: now,
      ...(trimmed !== undefined ? { name: trimmed } : {}),
    };
    await this.#store.createContext(context);
    return context;
  }

  /** @throws ContextNotFoundError when there is no such context in the project */
  async retrieve(projectId: string, id: string): Promise<ContextRecord> {
    const context = await this.#store.getContext(id);
    // Another project's context is indistinguishable from a missing one.
    if (!context || context.projectId !== projectId) throw new ContextNotFoundError(id);
    return context;
  }

  /** Browserbase's deprecated `PUT`: nothing to change but the date. */
  async touch(projectId: string, id: string): Promise<ContextRecord> {
    await this.retrieve(projectId, id);
    await this.#store.touchContext(id, new Date());
    return this.retrieve(projectId, id);
  }

  /** Deletes the context and its saved profile. */
  async delete(projectId: string, id: string): Promise<void> {
    await this.retrieve(projectId, id);
    await this.#blobs.delete(contextArchiveKey(id));
    await this.#store.deleteContext(id);
    this.#logger.info({ contextId: id }, 'context deleted');
  }

  /**
   * What a session started from the context does with its profile: fill it from the saved archive before the
   * browser starts and, with `persist`, save it back when the session ends.
   * @throws ContextNotFoundError; NotSupportedError when no key is configured
   */
  async profileHooks(projectId: string, id: string, persist: boolean): Promise<ProfileHooks> {
    await this.retrieve(projectId, id);
    if (!this.#key)
      throw new NotSupportedError('This deployment has no context key configured, so sessions cannot use contexts.');
    const key = typeof this.#key === 'function' ? await this.#key() : this.#key;
    return {
      hydrate: (profileDir) => this.#hydrate(id, key, profileDir),
      ...(persist ? { persist: (profileDir: string) => this.#persist(id, key, profileDir) } : {}),
    };
  }

  async #hydrate(id: string, key: Buffer, profileDir: string): Promise<void> {
    try {
      await hydrateProfile({ blobs: this.#blobs, contextId: id, key, maxBytes: this.#maxBytes, profileDir });
    } catch (error) {
      if (error instanceof ProfileArchiveError) {
        throw new ContextArchiveError(`Context ${id} cannot be used: ${error.message}`);
      }
      throw error;
    }
  }

  /** @returns why the profile was not saved, if it was not */
  async #persist(id: string, key: Buffer, profileDir: string): Promise<string | undefined> {
    if (!(await this.#store.getContext(id)))
      return `context ${id} was deleted while the session ran, so it was not saved`;
    try {
      const { contentBytes, archiveBytes } = await persistProfile({
        blobs: this.#blobs,
        contextId: id,
        key,
        maxBytes: this.#maxBytes,
        profileDir,
      });
      await this.#store.touchContext(id, new Date());
      this.#logger.info({ contextId: id, contentBytes, archiveBytes }, 'context saved');
      return undefined;
    } catch (error) {
      this.#logger.warn({ contextId: id, err: error }, 'context not saved');
      return `the context was not saved: ${(error as Error).message}`;
    }
  }
}
