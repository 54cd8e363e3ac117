/** Webhooks: the records the server keeps for them, the event types, and the signature of a delivery. No I/O. */
import { createHmac } from 'node:crypto';

/** Browserbase's own event types (Functions), accepted as they are; Wallcrawler runs no functions, so none fire. */
export const FUNCTION_EVENT_TYPES = [
  'functions.builds.running',
  'functions.builds.completed',
  'functions.builds.failed',
  'functions.invocations.pending',
  'functions.invocations.running',
  'functions.invocations.completed',
  'functions.invocations.failed',
] as const;

/** Wallcrawler's session lifecycle events. */
export const SESSION_EVENT_TYPES = ['session.created', 'session.running', 'session.ended'] as const;
export type SessionEventType = (typeof SESSION_EVENT_TYPES)[number];

export const WEBHOOK_EVENT_TYPES = [...FUNCTION_EVENT_TYPES, ...SESSION_EVENT_TYPES] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** A signing secret, sealed at rest. A secret replaced without `revokeImmediately` keeps signing until `retiresAt`. */
export interface WebhookSecretRecord {
  sealed: string;
  retiresAt?: Date;
}

export interface WebhookRecord {
  id: string;
  projectId: string;
  endpoint: string;
  eventTypes: WebhookEventType[];
  /** The current secret first, then any retiring ones. */
  secrets: WebhookSecretRecord[];
  createdAt: Date;
  updatedAt: Date;
}

/** One attempt at delivering one event to one webhook, as the delivery log keeps it. */
export interface WebhookAttemptRecord {
  id: string;
  webhookId: string;
  /** The event's id: every attempt at one delivery shares it. */
  eventId: string;
  eventType: SessionEventType;
  /** 1 for the first try. */
  attempt: number;
  attemptedAt: Date;
  /** The receiver's status; absent when no answer came (refused, timed out). */
  responseStatus?: number;
  /** Why the attempt failed, when it did. */
  error?: string;
  succeeded: boolean;
  /** When the next attempt is due, if there is one. */
  nextAttemptAt?: Date;
}

/** The header a delivery's signature travels in. */
export const SIGNATURE_HEADER = 'x-wallcrawler-signature';

/**
 * The signature header's value: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, one `v1` per signing
 * secret (two during a rotation's grace period). The HMAC's key is the secret string itself (`whsec_…`), as UTF-8.
 */
export function signatureHeader(secrets: readonly string[], timestampSeconds: number, body: string): string {
  const signed = `${timestampSeconds}.${body}`;
  const signatures = secrets.map((secret) => `v1=${createHmac('sha256', secret).update(signed).digest('hex')}`);
  return [`t=${timestampSeconds}`, ...signatures].join(',');
}
