import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type DownloadFailure, formatMiB, type Logger } from '@wallcrawler/contracts';
import type { CdpClient, CdpEvent } from '../cdp/cdp-client.js';

export interface DownloadWatcherOptions {
  /** The session's downloads directory. */
  dir: string;
  /** The most the session's downloads may add up to; a download that would pass it is cancelled. */
  maxBytes: number;
  logger: Logger;
}

interface Download {
  fileName: string;
  receivedBytes: number;
  done: boolean;
}

/**
 * Points the browser's downloads at the session's own directory and holds them to the session's quota. It
 * keeps its CDP connection open for the session's life: Chromium forgets a connection's download settings when
 * it closes. Clients may still set their own (Stagehand sets `downloads`, relative, which lands in the session
 * directory: Chromium runs in it); the watcher sees every download's progress either way.
 */
export class DownloadWatcher {
  readonly failures: DownloadFailure[] = [];
  readonly #options: DownloadWatcherOptions;
  readonly #cdp: CdpClient;
  readonly #downloads = new Map<string, Download>();
  #completedBytes = 0;

  private constructor(cdp: CdpClient, options: DownloadWatcherOptions) {
    this.#cdp = cdp;
    this.#options = options;
    cdp.on('event', (event) => this.#onEvent(event));
  }

  static async start(cdp: CdpClient, options: DownloadWatcherOptions): Promise<DownloadWatcher> {
    await mkdir(options.dir, { recursive: true });
    const watcher = new DownloadWatcher(cdp, options);
    await cdp.send('Browser.setDownloadBehavior', {
      behavior: 'allow',
      downloadPath: options.dir,
      eventsEnabled: true,
    });
    return watcher;
  }

  #onEvent({ method, params }: CdpEvent): void {
    if (method === 'Browser.downloadWillBegin') {
      this.#downloads.set(String(params.guid), {
        fileName: String(params.suggestedFilename ?? 'download'),
        receivedBytes: 0,
        done: false,
      });
      return;
    }
    if (method !== 'Browser.downloadProgress') return;
    const guid = String(params.guid);
    const download = this.#downloads.get(guid);
    if (!download || download.done) return;
    download.receivedBytes = Number(params.receivedBytes ?? 0);
    if (params.state === 'completed') {
      download.done = true;
      this.#completedBytes += download.receivedBytes;
    } else if (params.state === 'canceled') {
      download.done = true;
    } else {
      const inFlight = [...this.#downloads.values()].filter((d) => !d.done).reduce((n, d) => n + d.receivedBytes, 0);
      const total = Math.max(Number(params.totalBytes ?? 0), download.receivedBytes);
      if (
        this.#completedBytes + inFlight > this.#options.maxBytes ||
        this.#completedBytes + total > this.#options.maxBytes
      ) {
        download.done = true;
        const reason = `it would take the session's downloads past their limit of ${formatMiB(this.#options.maxBytes)} (WALLCRAWLER_SESSION_DOWNLOADS_MAX_MB)`;
        this.failures.push({ fileName: download.fileName, reason, at: new Date().toISOString() });
        this.#options.logger.warn({ fileName: download.fileName, reason }, 'download cancelled');
        void this.#cdp.send('Browser.cancelDownload', { guid }).catch(() => {});
      }
    }
  }
}

/**
 * Makes the profile's own download directory the session's, for downloads started while no watcher holds the
 * browser's download settings (a client reset them to `default`). Merged into an existing `Preferences` (a
 * context's).
 */
export async function pointProfileDownloadsAt(profileDir: string, dir: string): Promise<void> {
  const file = join(profileDir, 'Default', 'Preferences');
  let prefs: Record<string, unknown> = {};
  try {
    prefs = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch {}
  const download = (prefs.download ?? {}) as Record<string, unknown>;
  prefs.download = { ...download, default_directory: dir, prompt_for_download: false, directory_upgrade: true };
  prefs.savefile = { ...((prefs.savefile ?? {}) as Record<string, unknown>), default_directory: dir };
  await mkdir(join(profileDir, 'Default'), { recursive: true });
  await writeFile(file, JSON.stringify(prefs));
}
