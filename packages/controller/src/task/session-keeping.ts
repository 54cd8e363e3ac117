import { join } from 'node:path';
import type { BlobStore, Logger } from '@wallcrawler/contracts';
import type { ContextItems } from '../aws/context-items.js';
import type { BrowserSessionOptions } from '../browser-session-options.js';
import { hydrateProfile, persistProfile } from '../keeping/context-profile.js';
import { unpackStoredExtension } from '../keeping/extension-archive.js';
import type { FileLimits } from './file-keeping.js';

/**
 * What a task's session needs from the blob store, as the API wrote it on the session's item at admission: the
 * same item a task started by RunTask and a warm-pool task that a create claimed both read.
 */
export interface SessionNeeds {
  /** The context the profile comes from; with `persist`, where it is saved back on every ending. */
  context?: { id: string; persist: boolean };
  /** The uploaded extension to load. */
  extensionId?: string;
}

/** Reads a session item's needs; attributes of the wrong type count as absent (the API always writes them right). */
export function sessionNeedsOf(item: Record<string, unknown>): SessionNeeds {
  const { contextId, contextPersist, extensionId } = item;
  return {
    ...(typeof contextId === 'string' && contextId
      ? { context: { id: contextId, persist: contextPersist === true } }
      : {}),
    ...(typeof extensionId === 'string' && extensionId ? { extensionId } : {}),
  };
}

/** Whether a session needs anything before its browser starts (so a browser started ahead cannot serve it). */
export const needsPreparation = (needs: SessionNeeds) => Boolean(needs.context || needs.extensionId);

/** The task's access to blobs, when the stack gave it a bucket. */
export interface TaskBlobs {
  store: BlobStore;
  /** Contexts' key; without it, sessions with a context cannot start here. */
  contextKey: Buffer | undefined;
  contextMaxBytes: number;
  /** The most a session keeps of its downloads, CDP log and recording. */
  fileLimits: FileLimits;
  /** The contexts' items, to check a context still exists before saving into it. */
  contexts: ContextItems | undefined;
}

/** The most an extension may unpack to, as the API checks it on upload. */
const EXTENSION_MAX_BYTES = 256 * 1024 * 1024;

/**
 * The browser session's hooks for what it needs: fill the profile and unpack the extension before Chromium
 * starts; with `persist`, save the profile back in the close path (whatever ended the session), but only for a
 * session this task really served: one that ended before its browser was reported running (its create gave up,
 * it was released meanwhile) no longer holds the context's lock, so it must not write.
 */
export function keepingHooks(
  needs: SessionNeeds,
  blobs: TaskBlobs | undefined,
  { served, logger }: { served: () => boolean; logger: Logger },
): Pick<BrowserSessionOptions, 'prepare' | 'collect' | 'cleanShutdown'> {
  if (!needsPreparation(needs)) return {};
  if (!blobs) {
    return {
      prepare: async () => {
        throw new Error(
          'This task has no blob bucket configured, so it cannot start a session with a context or an extension.',
        );
      },
    };
  }
  const context = needs.context;
  const key = blobs.contextKey;
  const profileOptions =
    context && key ? { blobs: blobs.store, contextId: context.id, key, maxBytes: blobs.contextMaxBytes } : undefined;
  return {
    prepare: async (dirs) => {
      if (context) {
        if (!profileOptions)
          throw new Error('This task has no context key, so it cannot start a session with a context.');
        await hydrateProfile({ ...profileOptions, profileDir: dirs.profile });
      }
      if (!needs.extensionId) return undefined;
      const dir = join(dirs.root, 'extensions', needs.extensionId);
      await unpackStoredExtension({
        blobs: blobs.store,
        extensionId: needs.extensionId,
        dir,
        limits: { maxUnpackedBytes: EXTENSION_MAX_BYTES },
      });
      return { extensionDirs: [dir] };
    },
    ...(context?.persist && profileOptions
      ? {
          cleanShutdown: true,
          collect: async (dirs) => {
            if (!served()) return undefined;
            if (blobs.contexts && !(await blobs.contexts.exists(context.id)))
              return `context ${context.id} was deleted while the session ran, so it was not saved`;
            try {
              const sizes = await persistProfile({ ...profileOptions, profileDir: dirs.profile });
              await blobs.contexts?.touch(context.id, new Date());
              logger.info({ contextId: context.id, ...sizes }, 'context saved');
              return undefined;
            } catch (error) {
              logger.warn({ contextId: context.id, err: error }, 'context not saved');
              return `the context was not saved: ${(error as Error).message}`;
            }
          },
        }
      : {}),
  };
}
