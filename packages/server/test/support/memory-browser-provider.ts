import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { SessionEndStatus } from '@wallcrawler/contracts';
import {
  listSessionDirs,
  removeDirs,
  removeSessionDirs,
  type SessionDirs,
  sessionDirs,
  writeSessionUpload,
} from '@wallcrawler/controller';
import { localDownloads } from '../../src/adapters/local/local-session-files.js';
import { SessionNotRunningError } from '../../src/domain/errors.js';
import type { SessionRecord } from '../../src/domain/model.js';
import type {
  BrowserProvider,
  BrowserStartRequest,
  DevToolsTarget,
  LiveSessionFiles,
  SessionEnding,
} from '../../src/ports/browser-provider.js';

/** One session's browser, as this provider keeps it: its start request, its directories and its timer. */
interface MemoryBrowser {
  request: BrowserStartRequest;
  dirs: SessionDirs;
  expiry: NodeJS.Timeout;
  /** Set when the ending starts; resolves once the ending is recorded. */
  recorded?: Promise<SessionEnding>;
  /** Resolves once the directories are gone and `onGone` was called. */
  gone?: Promise<void>;
}

/**
 * A {@link BrowserProvider} whose browsers live in memory, for app-level tests that need no Chromium. It keeps
 * the port's contract as the local provider does: a session runs from `start` until it ends (released, timed out
 * at its `expiresAt`, shut down), and it ends exactly once, through one close path that keeps what the session
 * collected (downloads, log, recording, the context's profile), records the ending through `onEnd`, deletes the
 * session's directories and then calls `onGone`. The directories are the local provider's own
 * (`sessionDirs(dataDir, id)`), so `expectNothingLeft(dataDir)` checks this provider as it checks Chromium's.
 *
 * What it cannot have without a browser: pages and CDP traffic. Each browser has one blank page; its log and
 * recording stay empty; nothing is ever downloaded.
 */
export class MemoryBrowserProvider implements BrowserProvider {
  readonly capabilities = { contexts: true, extensions: true, files: true, proxies: true };
  /** Every session a start was asked for, in order: what the tests read to know whether a browser started. */
  readonly started: SessionRecord[] = [];
  /** Every ending, by session. */
  readonly endings = new Map<string, SessionEnding>();
  /** What failed inside close paths (recording an ending, keeping files): the close path goes on, as Chromium's does. */
  readonly errors: unknown[] = [];
  readonly #dataDir: string;
  readonly #browsers = new Map<string, MemoryBrowser>();

  constructor({ dataDir }: { dataDir: string }) {
    this.#dataDir = dataDir;
  }

  /** The sessions whose browsers are running (not yet ending). */
  get running(): string[] {
    return [...this.#browsers].filter(([, b]) => !b.recorded).map(([id]) => id);
  }

  async start(request: BrowserStartRequest): Promise<undefined> {
    const { session, profile, extensions = [] } = request;
    if (this.#browsers.has(session.id)) throw new Error(`session ${session.id} already has a browser`);
    this.started.push(session);
    const dirs = sessionDirs(this.#dataDir, session.id);
    try {
      await Promise.all([dirs.profile, dirs.downloads, dirs.tmp].map((dir) => mkdir(dir, { recursive: true })));
      await profile?.hydrate(dirs.profile);
      for (const extension of extensions) await extension.unpack(join(dirs.root, 'extensions', extension.id));
    } catch (error) {
      // As a failed Chromium start: nothing is left, and the caller records the failure (no `onEnd`).
      await removeSessionDirs(dirs);
      throw error;
    }
    const expiry = setTimeout(
      () => void this.#end(session.id, 'TIMED_OUT', 'The session reached its timeout'),
      Math.max(0, session.expiresAt.getTime() - Date.now()),
    );
    this.#browsers.set(session.id, { request, dirs, expiry });
    return undefined;
  }

  async release(session: SessionRecord, reason: string): Promise<SessionEnding | undefined> {
    return this.#end(session.id, 'COMPLETED', reason);
  }

  isRunning({ id }: SessionRecord): boolean {
    const browser = this.#browsers.get(id);
    return browser !== undefined && !browser.recorded;
  }

  proxyBytes(session: SessionRecord): number | undefined {
    return this.isRunning(session) ? 0 : undefined;
  }

  files(session: SessionRecord): LiveSessionFiles | undefined {
    const browser = this.#browsers.get(session.id);
    if (!browser || browser.recorded) return undefined;
    const { logs, recording } = browser.request;
    return {
      downloads: async () => ({ files: await localDownloads(browser.dirs.downloads), failures: [] }),
      logs: async () => (logs ? [] : undefined),
      recording: async () => (recording ? [] : undefined),
    };
  }

  async upload(session: SessionRecord, fileName: string, bytes: Uint8Array): Promise<string> {
    const browser = this.#browsers.get(session.id);
    if (!browser || browser.recorded) throw new SessionNotRunningError(session.id, session.status);
    return writeSessionUpload(browser.dirs.uploads, fileName, bytes);
  }

  async targets(session: SessionRecord): Promise<DevToolsTarget[]> {
    if (!this.isRunning(session)) return [];
    return [{ id: `page-${session.id}`, type: 'page', title: '', url: 'about:blank' }];
  }

  async reconcile(active: readonly SessionRecord[]): Promise<string[]> {
    const live = new Set(this.#browsers.keys());
    await removeDirs(
      ...listSessionDirs(this.#dataDir)
        .filter((d) => !live.has(d.sessionId))
        .map((d) => d.path),
    );
    return active.filter((s) => !live.has(s.id)).map((s) => s.id);
  }

  async shutdown(reason: string): Promise<void> {
    await Promise.all([...this.#browsers.keys()].map((id) => this.#end(id, 'COMPLETED', reason)));
    await Promise.all([...this.#browsers.values()].map((b) => b.gone));
  }

  /**
   * The one close path; later calls get the first one's ending. It answers once the ending is recorded: first,
   * as the local provider's sessions do, unless a context is saved, whose note then joins the reason.
   */
  #end(id: string, status: SessionEndStatus, reason: string): Promise<SessionEnding> | undefined {
    const browser = this.#browsers.get(id);
    if (!browser) return undefined;
    if (browser.recorded) return browser.recorded;
    clearTimeout(browser.expiry);
    const { request, dirs } = browser;
    const record = async (ending: SessionEnding) => {
      this.endings.set(id, ending);
      await Promise.resolve(request.onEnd(ending)).catch((error: unknown) => void this.errors.push(error));
      return ending;
    };
    const collect = async () => {
      await request.downloads?.keep(dirs.downloads, []);
      await request.logs?.keep([]);
      await request.recording?.keep([]);
      return request.profile?.persist?.(dirs.profile);
    };
    let resolveRecorded!: (ending: SessionEnding) => void;
    browser.recorded = new Promise((resolve) => {
      resolveRecorded = resolve;
    });
    browser.gone = (async () => {
      try {
        if (request.profile?.persist) {
          const note = await collect().catch((error: unknown) => void this.errors.push(error));
          resolveRecorded(await record({ status, reason: note ? `${reason}; ${note}` : reason, endedAt: new Date() }));
        } else {
          resolveRecorded(await record({ status, reason, endedAt: new Date() }));
          await collect().catch((error: unknown) => void this.errors.push(error));
        }
      } finally {
        await removeSessionDirs(dirs);
        this.#browsers.delete(id);
        request.onGone?.();
      }
    })();
    return browser.recorded;
  }
}
