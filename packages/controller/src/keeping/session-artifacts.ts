import {
  type BlobStore,
  type RecordedEvent,
  type SessionLogEntry,
  sessionLogKey,
  sessionRecordingKey,
} from '@wallcrawler/contracts';

/**
 * Keeps a session's CDP log in the blob store once its browser is gone; an empty log keeps nothing.
 * @returns whether anything was written
 */
export async function keepSessionLog(
  blobs: BlobStore,
  sessionId: string,
  entries: readonly SessionLogEntry[],
): Promise<boolean> {
  if (entries.length === 0) return false;
  await blobs.put(sessionLogKey(sessionId), JSON.stringify(entries));
  return true;
}

/**
 * Keeps a session's rrweb recording in the blob store once its browser is gone; an empty one keeps nothing.
 * @returns whether anything was written
 */
export async function keepSessionRecording(
  blobs: BlobStore,
  sessionId: string,
  events: readonly RecordedEvent[],
): Promise<boolean> {
  if (events.length === 0) return false;
  await blobs.put(sessionRecordingKey(sessionId), JSON.stringify(events));
  return true;
}
