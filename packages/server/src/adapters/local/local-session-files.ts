import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type BrowserSession, finishedDownloads } from '@wallcrawler/controller';
import type { LiveDownload, LiveSessionFiles } from '../../ports/browser-provider.js';

/** The finished downloads in a session's downloads directory on this machine. */
export async function localDownloads(dir: string): Promise<LiveDownload[]> {
  const files: LiveDownload[] = [];
  for (const name of await finishedDownloads(dir)) {
    const path = join(dir, name);
    const size = (await stat(path).catch(() => undefined))?.size;
    if (size !== undefined) files.push({ name, size, open: async () => createReadStream(path) });
  }
  return files;
}

/** A running session's files, read from this machine (its browser is this process's child). */
export function localSessionFiles(browser: BrowserSession): LiveSessionFiles {
  return {
    downloads: async () => ({
      files: await localDownloads(browser.dirs.downloads),
      failures: browser.downloadFailures,
    }),
    logs: async () => browser.logs,
    recording: async () => browser.recording,
  };
}
