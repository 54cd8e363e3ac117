import type { BlobStore, Logger } from '@wallcrawler/contracts';
import type { BrowserSessionOptions } from '../browser-session-options.js';
import { keepDownloads } from '../keeping/downloads.js';
import { keepSessionLog, keepSessionRecording } from '../keeping/session-artifacts.js';
import type { SessionKeeps } from './session-reporter.js';

/**
 * The most a task's session keeps: `WALLCRAWLER_SESSION_DOWNLOADS_MAX_MB`, `WALLCRAWLER_SESSION_LOG_MAX_MB` and
 * `WALLCRAWLER_SESSION_RECORDING_MAX_MB` in the task's environment (the stack's `sessionLimits`), with the local
 * server's defaults (512, 16, 64 MiB).
 */
export interface FileLimits {
  downloadsMaxBytes: number;
  logMaxBytes: number;
  recordingMaxBytes: number;
}

export interface FileKeepingOptions {
  blobs: BlobStore;
  limits: FileLimits;
  sessionId: string;
  keeps: SessionKeeps;
  logger: Logger;
}

/**
 * What a task's session keeps of itself, as browser-session options: its downloads collected, its CDP log and
 * recording taken (as its record asks), and the close path's `collect`, which ships them to the blob bucket
 * under `@wallcrawler/contracts`' keys on every ending, before the ending is recorded (so that once the API sees
 * the session ended, what it kept is all there). A file that cannot be kept is said in the ending's reason.
 */
export function fileKeeping({
  blobs,
  limits,
  sessionId,
  keeps,
  logger,
}: FileKeepingOptions): Pick<BrowserSessionOptions, 'downloads' | 'trafficLog' | 'recording' | 'collect'> {
  return {
    downloads: { maxBytes: limits.downloadsMaxBytes },
    ...(keeps.logs ? { trafficLog: { maxBytes: limits.logMaxBytes } } : {}),
    ...(keeps.recording ? { recording: { maxBytes: limits.recordingMaxBytes } } : {}),
    collect: async (dirs, _ending, { downloadFailures, logs, recording }) => {
      const problems: string[] = [];
      const keep = async (what: string, step: () => Promise<unknown>) => {
        try {
          await step();
        } catch (error) {
          logger.error({ err: error, what }, 'keeping a session file failed');
          problems.push(`its ${what} could not be kept (${(error as Error).message})`);
        }
      };
      const started = performance.now();
      await keep('downloads', () => keepDownloads(blobs, sessionId, dirs.downloads, downloadFailures));
      if (logs) await keep('CDP log', () => keepSessionLog(blobs, sessionId, logs));
      if (recording) await keep('recording', () => keepSessionRecording(blobs, sessionId, recording));
      logger.info(
        { ms: Math.round(performance.now() - started), logEntries: logs?.length, events: recording?.length },
        'session files kept',
      );
      return problems.length > 0 ? problems.join('; ') : undefined;
    },
  };
}
