import type { SessionEvent } from '../ports/session-events.js';

/** What a session event's delivery carries: its JSON body (docs/webhooks.md). */
export interface WebhookEventBody {
  id: string;
  type: SessionEvent['type'];
  createdAt: string;
  projectId: string;
  data: {
    sessionId: string;
    status: string;
    /** Why the session ended (session.ended only). */
    reason?: string;
    session: {
      id: string;
      projectId: string;
      status: string;
      region: string;
      keepAlive: boolean;
      createdAt: string;
      startedAt: string;
      expiresAt: string;
      endedAt?: string;
      endReason?: string;
      userMetadata?: Record<string, unknown>;
    };
  };
}

export function webhookEventBody(eventId: string, { type, session, at }: SessionEvent): WebhookEventBody {
  return {
    id: eventId,
    type,
    createdAt: at.toISOString(),
    projectId: session.projectId,
    data: {
      sessionId: session.id,
      status: session.status,
      ...(type === 'session.ended' && session.endReason !== undefined ? { reason: session.endReason } : {}),
      session: {
        id: session.id,
        projectId: session.projectId,
        status: session.status,
        region: session.region,
        keepAlive: session.keepAlive,
        createdAt: session.createdAt.toISOString(),
        startedAt: session.startedAt.toISOString(),
        expiresAt: session.expiresAt.toISOString(),
        ...(session.endedAt ? { endedAt: session.endedAt.toISOString() } : {}),
        ...(session.endReason !== undefined ? { endReason: session.endReason } : {}),
        ...(session.userMetadata !== undefined ? { userMetadata: session.userMetadata } : {}),
      },
    },
  };
}
