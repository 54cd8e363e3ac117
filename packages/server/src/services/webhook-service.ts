import { randomUUID } from 'node:crypto';
import { InvalidQueryError, WebhookNotFoundError } from '../domain/errors.js';
import type { WebhookAttemptRecord, WebhookEventType, WebhookRecord } from '../domain/webhook.js';
import type { Store } from '../ports/store.js';
import { newWebhookSecret, type WebhookSecrets } from './webhook-secrets.js';
import type { WebhookTargets } from './webhook-targets.js';

/** How long a replaced secret keeps signing deliveries, unless revoked immediately: Browserbase's 24 hours. */
export const SECRET_GRACE_MS = 24 * 3600 * 1000;

export interface WebhookPage {
  data: WebhookRecord[];
  limit: number;
  nextCursor: string | null;
}

/** Webhooks' CRUD and secret rotation, scoped to the caller's project. Deliveries are `WebhookDispatcher`'s. */
export class WebhookService {
  constructor(private readonly deps: { store: Store; secrets: WebhookSecrets; targets: WebhookTargets }) {}

  /** @returns the webhook and its signing secret, which is never readable again */
  async create(
    projectId: string,
    input: { endpoint: string; eventTypes: WebhookEventType[] },
  ): Promise<{ webhook: WebhookRecord; secret: string }> {
    const endpoint = await this.deps.targets.check(input.endpoint);
    const id = randomUUID();
    const secret = newWebhookSecret();
    const now = new Date();
    const webhook: WebhookRecord = {
      id,
      projectId,
      endpoint,
      eventTypes: unique(input.eventTypes),
      secrets: [{ sealed: await this.deps.secrets.seal(id, secret) }],
      createdAt: now,
      updatedAt: now,
    };
    await this.deps.store.createWebhook(webhook);
    return { webhook, secret };
  }

  async retrieve(projectId: string, id: string): Promise<WebhookRecord> {
    const webhook = await this.deps.store.getWebhook(projectId, id);
    if (!webhook) throw new WebhookNotFoundError(id);
    return webhook;
  }

  async update(
    projectId: string,
    id: string,
    input: { endpoint?: string | undefined; eventTypes?: WebhookEventType[] | undefined },
  ): Promise<WebhookRecord> {
    await this.retrieve(projectId, id);
    const endpoint = input.endpoint === undefined ? undefined : await this.deps.targets.check(input.endpoint);
    const updated = await this.deps.store.updateWebhook(projectId, id, {
      ...(endpoint !== undefined ? { endpoint } : {}),
      ...(input.eventTypes ? { eventTypes: unique(input.eventTypes) } : {}),
      updatedAt: new Date(),
    });
    if (!updated) throw new WebhookNotFoundError(id);
    return updated;
  }

  /** Newest first; the cursor is the last webhook's id of the previous page. */
  async list(
    projectId: string,
    { cursor, limit = 10 }: { cursor?: string | undefined; limit?: number },
  ): Promise<WebhookPage> {
    const all = await this.deps.store.listWebhooks(projectId);
    let start = 0;
    if (cursor !== undefined && cursor !== '') {
      const index = all.findIndex((w) => w.id === cursor);
      if (index < 0) throw new InvalidQueryError(`The cursor ${JSON.stringify(cursor)} is not one of this list's.`);
      start = index + 1;
    }
    const data = all.slice(start, start + limit);
    const last = data.at(-1);
    return { data, limit, nextCursor: last && start + limit < all.length ? last.id : null };
  }

  async delete(projectId: string, id: string): Promise<void> {
    if (!(await this.deps.store.deleteWebhook(projectId, id))) throw new WebhookNotFoundError(id);
  }

  /**
   * A new signing secret. The previous one keeps signing (deliveries carry both signatures) for
   * `SECRET_GRACE_MS`, unless `revokeImmediately`.
   */
  async rotateSecret(projectId: string, id: string, { revokeImmediately = false } = {}): Promise<string> {
    const webhook = await this.retrieve(projectId, id);
    const now = new Date();
    const secret = newWebhookSecret();
    const [current] = webhook.secrets;
    // Only the secret being replaced gets a grace period: older retiring ones keep their own end.
    const retiring = revokeImmediately
      ? []
      : [
          ...(current ? [{ sealed: current.sealed, retiresAt: new Date(now.getTime() + SECRET_GRACE_MS) }] : []),
          ...webhook.secrets.slice(1).filter((s) => s.retiresAt && s.retiresAt > now),
        ];
    const updated = await this.deps.store.updateWebhook(projectId, id, {
      secrets: [{ sealed: await this.deps.secrets.seal(id, secret) }, ...retiring],
      updatedAt: now,
    });
    if (!updated) throw new WebhookNotFoundError(id);
    return secret;
  }

  /** The webhook's delivery log, newest attempt first. */
  async deliveries(projectId: string, id: string): Promise<WebhookAttemptRecord[]> {
    await this.retrieve(projectId, id);
    return this.deps.store.listWebhookAttempts(id);
  }
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}
