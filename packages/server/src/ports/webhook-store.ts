import type { WebhookAttemptRecord, WebhookEventType, WebhookRecord, WebhookSecretRecord } from '../domain/webhook.js';

/** What an update of a webhook may change. */
export interface WebhookChanges {
  endpoint?: string;
  eventTypes?: WebhookEventType[];
  secrets?: WebhookSecretRecord[];
  updatedAt: Date;
}

/**
 * The webhooks part of the `Store`: every read and write is scoped to a project, so another project's webhook is
 * indistinguishable from a missing one. The delivery log keeps each webhook's latest attempts.
 */
export interface WebhookStore {
  /** @throws WebhookEndpointTakenError when the project already has a webhook with that endpoint */
  createWebhook(webhook: WebhookRecord): Promise<void>;
  getWebhook(projectId: string, id: string): Promise<WebhookRecord | undefined>;
  /** The project's webhooks, newest first. */
  listWebhooks(projectId: string): Promise<WebhookRecord[]>;
  /**
   * @returns the webhook as it is afterwards; undefined when the project has no such webhook
   * @throws WebhookEndpointTakenError when another of the project's webhooks has the new endpoint
   */
  updateWebhook(projectId: string, id: string, changes: WebhookChanges): Promise<WebhookRecord | undefined>;
  /** Deletes the webhook and its delivery log. @returns false when the project has no such webhook. */
  deleteWebhook(projectId: string, id: string): Promise<boolean>;
  /** Adds an attempt to the webhook's log, which keeps the latest `WEBHOOK_LOG_SIZE`. */
  addWebhookAttempt(attempt: WebhookAttemptRecord): Promise<void>;
  /** The webhook's logged attempts, newest first. */
  listWebhookAttempts(webhookId: string): Promise<WebhookAttemptRecord[]>;
}

/** How many attempts a webhook's delivery log keeps. */
export const WEBHOOK_LOG_SIZE = 100;
