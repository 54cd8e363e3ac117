import type { SessionRecord } from '../domain/model.js';
import type { SessionBody } from '../schemas/session.js';
import type { SessionView } from '../services/session-views.js';

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

/** Each stored record's answer as JSON, with the connect URLs it was made with. */
const viewJson = new WeakMap<SessionRecord, { connectUrl?: string; seleniumRemoteUrl?: string; json: string }>();

/**
 * `sessionViewBody` as JSON, made once per stored record: a session that clients poll is serialized once, not on
 * every read (it was a third of the fast read's time). Records are never changed in place, and a changed session is a
 * new record, so an entry is current for as long as its record is; it goes with the record.
 */
export function sessionViewJson(view: SessionView): string {
  const { connectUrl, seleniumRemoteUrl } = view.connect ?? {};
  const hit = viewJson.get(view.session);
  if (hit && hit.connectUrl === connectUrl && hit.seleniumRemoteUrl === seleniumRemoteUrl) return hit.json;
  const json = JSON.stringify(sessionViewBody(view));
  viewJson.set(view.session, {
    ...(connectUrl !== undefined ? { connectUrl } : {}),
    ...(seleniumRemoteUrl !== undefined ? { seleniumRemoteUrl } : {}),
    json,
  });
  return json;
}
