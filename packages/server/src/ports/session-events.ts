import type { SessionRecord } from '../domain/model.js';
import type { SessionEventType } from '../domain/webhook.js';

/** Something that happened to a session: created (PENDING), running, or ended (with its status and reason). */
export interface SessionEvent {
  type: SessionEventType;
  /** The session as stored when it happened. */
  session: SessionRecord;
  at: Date;
}

/**
 * Where the session lifecycle tells what happened to sessions. `publish` must return at once and never throw: it
 * is called on the paths that create and end sessions, which nothing may slow down (webhooks deliver later).
 */
export interface SessionEvents {
  publish(event: SessionEvent): void;
}
