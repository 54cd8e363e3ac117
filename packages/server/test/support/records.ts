import { randomUUID } from 'node:crypto';
import type { SessionRecord } from '../../src/domain/model.js';

/** A PENDING session record of `projectId` with a 300 s timeout, for arranging store state without a browser. */
export function sessionRecord(projectId: string, overrides: Partial<SessionRecord> = {}): SessionRecord {
  const now = new Date();
  return {
    id: randomUUID(),
    projectId,
    status: 'PENDING',
    region: 'us-west-2',
    keepAlive: false,
    timeoutSeconds: 300,
    proxyBytes: 0,
    createdAt: now,
    updatedAt: now,
    startedAt: now,
    expiresAt: new Date(now.getTime() + 300_000),
    ...overrides,
  };
}
