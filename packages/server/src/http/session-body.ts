import type { SessionRecord } from '../domain/model.js';
import type { SessionBody } from '../schemas/session.js';
import type { SessionView } from '../services/session-service.js';

/** A session record as Browserbase's `Session` body. */
export function sessionBody(s: SessionRecord): SessionBody {
  return {
    id: s.id,
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
    startedAt: s.startedAt.toISOString(),
    expiresAt: s.expiresAt.toISOString(),
    ...(s.endedAt ? { endedAt: s.endedAt.toISOString() } : {}),
    keepAlive: s.keepAlive,
    projectId: s.projectId,
    proxyBytes: s.proxyBytes,
    region: s.region,
    status: s.status,
    ...(s.contextId ? { contextId: s.contextId } : {}),
    ...(s.userMetadata !== undefined ? { userMetadata: s.userMetadata } : {}),
  };
}

/** A session plus its connect URLs, as `SessionCreateResponse` / `SessionRetrieveResponse`. */
export function sessionViewBody({ session, connect }: SessionView) {
  return { ...sessionBody(session), ...connect };
}
