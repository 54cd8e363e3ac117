import type { Logger } from '@wallcrawler/contracts';
import type { BrowserSessionOptions } from './browser-session-options.js';
import { CdpClient } from './cdp/cdp-client.js';
import type { ChromiumProcess } from './chromium/launch-chromium.js';
import { DownloadWatcher } from './downloads/download-watcher.js';
import { SessionRecorder } from './recording/session-recorder.js';
import type { SessionDirs } from './session-dirs.js';

/** The session's own CDP connection, and what watches the browser through it. */
export interface SessionMonitor {
  cdp: CdpClient;
  downloads: DownloadWatcher | undefined;
  recorder: SessionRecorder | undefined;
}

/** The session's own CDP connection and what watches through it (downloads), when the options ask for them. */
export async function startSessionMonitor(
  chromium: ChromiumProcess,
  dirs: SessionDirs,
  options: BrowserSessionOptions,
  logger: Logger,
): Promise<SessionMonitor | undefined> {
  if (!options.downloads && !options.recording) return undefined;
  const cdp = await CdpClient.connect(`ws://127.0.0.1:${chromium.port}${chromium.browserPath}`);
  try {
    const downloads = options.downloads
      ? await DownloadWatcher.start(cdp, { dir: dirs.downloads, maxBytes: options.downloads.maxBytes, logger })
      : undefined;
    const recorder = options.recording
      ? await SessionRecorder.start(cdp, { maxBytes: options.recording.maxBytes, logger })
      : undefined;
    return { cdp, downloads, recorder };
  } catch (error) {
    cdp.close();
    throw error;
  }
}
