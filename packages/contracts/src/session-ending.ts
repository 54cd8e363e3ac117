/** The final status a session can end with (Browserbase's terminal statuses). */
export type SessionEndStatus = 'COMPLETED' | 'TIMED_OUT' | 'ERROR';

/**
 * Why a session's browser never started, when it is the session's own doing rather than the platform's: its
 * context's archive could not be used (the API answers 422 `context_unusable`), or its extension could not be
 * unpacked (400 `invalid_upload`).
 */
export type SessionStartFailure = 'context_unusable' | 'extension_unusable';

/**
 * How and when a session ended. The browser's close path produces it (locally in the server's process, on AWS
 * in the session's task) and the store records it.
 */
export interface SessionEnding {
  status: SessionEndStatus;
  /** Also sent to every connected client as the close frame's reason. */
  reason: string;
  endedAt: Date;
  /** Bytes that went through the session's upstream proxies, when it had any. */
  proxyBytes?: number;
  /** Set when the browser never started because of what the session asked for. */
  startFailure?: SessionStartFailure;
}
