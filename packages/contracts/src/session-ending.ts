/** The final status a session can end with (Browserbase's terminal statuses). */
export type SessionEndStatus = 'COMPLETED' | 'TIMED_OUT' | 'ERROR';

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
}
