/**
 * What a session keeps of itself besides its files, in the shapes the browser's side produces and the API
 * serves (Browserbase's `SessionLog` and `SessionRecording`).
 */

/** A download the browser's side cancelled, and why. */
export interface DownloadFailure {
  fileName: string;
  reason: string;
  /** ISO time. */
  at: string;
}

/** One CDP command and its answer, secrets redacted (Browserbase's `SessionLog`). */
export interface SessionLogEntry {
  method: string;
  /** The page the command went to: 0, 1, ... in the order pages appeared (0 also for browser-level commands). */
  pageId: number;
  sessionId: string;
  frameId?: string;
  loaderId?: string;
  request?: { params: Record<string, unknown>; rawBody: string; timestamp: number };
  response?: { rawBody: string; result: Record<string, unknown>; timestamp: number };
  timestamp: number;
}

/** One rrweb event of a recorded page. */
export interface RecordedEvent {
  /** rrweb's event type (2 full snapshot, 3 incremental, 4 meta, ...). */
  type: number;
  /** ms since the epoch. */
  timestamp: number;
  /** rrweb's event payload. */
  data: unknown;
  /** The page: "0", "1", ... in the order pages appeared. */
  pageId: string;
}

/**
 * A running session's downloads as its task's controller lists them (`GET /files/downloads`): the finished files,
 * in name order, and the cancelled ones.
 */
export interface DownloadListing {
  files: { name: string; size: number }[];
  failures: DownloadFailure[];
}
