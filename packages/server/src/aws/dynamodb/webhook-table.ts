import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed } from '@wallcrawler/controller/aws';
import { z } from 'zod';
import { CorruptRecordError, WebhookEndpointTakenError, WriteConflictError } from '../../domain/errors.js';
import {
  WEBHOOK_EVENT_TYPES,
  type WebhookAttemptRecord,
  type WebhookRecord,
  type WebhookSecretRecord,
} from '../../domain/webhook.js';
import { WEBHOOK_LOG_SIZE, type WebhookChanges, type WebhookStore } from '../../ports/webhook-store.js';

/** A project's webhooks are one item: `webhooks#<projectId>`. */
const webhooksKey = (projectId: string) => `webhooks#${projectId}`;
/** A webhook's delivery log is one item: `webhook-log#<webhookId>`, its attempts newest first. */
const logKey = (webhookId: string) => `webhook-log#${webhookId}`;

const millis = z.number().int().nonnegative();
const webhookJson = z.object({
  id: z.string().min(1),
  projectId: z.string().min(1),
  endpoint: z.string().min(1),
  eventTypes: z.array(z.enum(WEBHOOK_EVENT_TYPES)),
  secrets: z.array(z.object({ sealed: z.string().min(1), retiresAt: millis.optional() })),
  createdAt: millis,
  updatedAt: millis,
});
type WebhookJson = z.infer<typeof webhookJson>;

/**
 * The DynamoDB store's webhooks, in the resources table. A project has few webhooks and reads them all on every
 * session event, so they are kept together in one item per project, written whole under an optimistic `version`
 * check: an endpoint's uniqueness in its project is then checked in the same write, with no index. Each webhook's
 * delivery log is an item of its own, a list trimmed to the latest `WEBHOOK_LOG_SIZE` attempts.
 */
export class WebhookTable implements WebhookStore {
  readonly #db: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #maxRetries: number;

  constructor(db: DynamoDBDocumentClient, table: string, maxRetries = 8) {
    this.#db = db;
    this.#table = table;
    this.#maxRetries = maxRetries;
  }

  async createWebhook(webhook: WebhookRecord): Promise<void> {
    await this.#change(webhook.projectId, (hooks) => {
      if (hooks.some((h) => h.endpoint === webhook.endpoint)) throw new WebhookEndpointTakenError(webhook.endpoint);
      return [...hooks, webhook];
    });
  }

  async getWebhook(projectId: string, id: string): Promise<WebhookRecord | undefined> {
    return (await this.#read(projectId)).hooks.find((h) => h.id === id);
  }

  async listWebhooks(projectId: string): Promise<WebhookRecord[]> {
    return newestFirst((await this.#read(projectId)).hooks);
  }

  async updateWebhook(projectId: string, id: string, changes: WebhookChanges): Promise<WebhookRecord | undefined> {
    let updated: WebhookRecord | undefined;
    await this.#change(projectId, (hooks) => {
      const current = hooks.find((h) => h.id === id);
      if (!current) return undefined;
      const { endpoint } = changes;
      if (endpoint !== undefined && hooks.some((h) => h.id !== id && h.endpoint === endpoint)) {
        throw new WebhookEndpointTakenError(endpoint);
      }
      updated = {
        ...current,
        ...(endpoint !== undefined ? { endpoint } : {}),
        ...(changes.eventTypes ? { eventTypes: changes.eventTypes } : {}),
        ...(changes.secrets ? { secrets: changes.secrets } : {}),
        updatedAt: changes.updatedAt,
      };
      const replacement = updated;
      return hooks.map((h) => (h.id === id ? replacement : h));
    });
    return updated;
  }

  async deleteWebhook(projectId: string, id: string): Promise<boolean> {
    let found = false;
    await this.#change(projectId, (hooks) => {
      found = hooks.some((h) => h.id === id);
      return found ? hooks.filter((h) => h.id !== id) : undefined;
    });
    if (found) await this.#db.send(new DeleteCommand({ TableName: this.#table, Key: { resourceId: logKey(id) } }));
    return found;
  }

  async addWebhookAttempt(attempt: WebhookAttemptRecord): Promise<void> {
    const { Attributes } = await this.#db.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: { resourceId: logKey(attempt.webhookId) },
        UpdateExpression: 'SET kind = :kind, attempts = list_append(:new, if_not_exists(attempts, :empty))',
        ExpressionAttributeValues: { ':kind': 'webhook-log', ':new': [JSON.stringify(attempt)], ':empty': [] },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const length = (Attributes?.attempts as unknown[] | undefined)?.length ?? 0;
    if (length <= WEBHOOK_LOG_SIZE) return;
    // Trim the oldest, unless another attempt was added meanwhile (the next one trims then).
    const extra = Array.from({ length: length - WEBHOOK_LOG_SIZE }, (_, i) => `attempts[${WEBHOOK_LOG_SIZE + i}]`);
    try {
      await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { resourceId: logKey(attempt.webhookId) },
          UpdateExpression: `REMOVE ${extra.join(', ')}`,
          ConditionExpression: 'size(attempts) = :length',
          ExpressionAttributeValues: { ':length': length },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  async listWebhookAttempts(webhookId: string): Promise<WebhookAttemptRecord[]> {
    const { Item } = await this.#db.send(
      new GetCommand({ TableName: this.#table, Key: { resourceId: logKey(webhookId) }, ConsistentRead: true }),
    );
    const attempts = (Item?.attempts as string[] | undefined) ?? [];
    return attempts.map((json) => {
      const raw = JSON.parse(json) as WebhookAttemptRecord & { attemptedAt: string; nextAttemptAt?: string };
      return {
        ...raw,
        attemptedAt: new Date(raw.attemptedAt),
        ...(raw.nextAttemptAt ? { nextAttemptAt: new Date(raw.nextAttemptAt) } : {}),
      };
    });
  }

  async #read(projectId: string): Promise<{ hooks: WebhookRecord[]; version: number }> {
    const { Item } = await this.#db.send(
      new GetCommand({ TableName: this.#table, Key: { resourceId: webhooksKey(projectId) }, ConsistentRead: true }),
    );
    if (!Item) return { hooks: [], version: 0 };
    const parsed = z.array(webhookJson).safeParse(JSON.parse(String(Item.hooks ?? '[]')));
    if (!parsed.success) throw new CorruptRecordError('webhooks of project', projectId, parsed.error.message);
    return { hooks: parsed.data.map(fromJson), version: Number(Item.version ?? 0) };
  }

  /** Rewrites the project's webhooks as `edit` returns them (undefined: no change), retrying lost races. */
  async #change(projectId: string, edit: (hooks: WebhookRecord[]) => WebhookRecord[] | undefined): Promise<void> {
    for (let attempt = 0; attempt < this.#maxRetries; attempt++) {
      const { hooks, version } = await this.#read(projectId);
      const next = edit(hooks);
      if (!next) return;
      try {
        await this.#db.send(
          new PutCommand({
            TableName: this.#table,
            Item: {
              resourceId: webhooksKey(projectId),
              kind: 'webhooks',
              projectId,
              hooks: JSON.stringify(next.map(toJson)),
              version: version + 1,
            },
            ConditionExpression: version === 0 ? 'attribute_not_exists(resourceId)' : 'version = :version',
            ...(version === 0 ? {} : { ExpressionAttributeValues: { ':version': version } }),
          }),
        );
        return;
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
      }
    }
    throw new WriteConflictError(`Changing the webhooks of project ${projectId}`);
  }
}

function newestFirst(hooks: WebhookRecord[]): WebhookRecord[] {
  return [...hooks].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1));
}

function toJson(h: WebhookRecord): WebhookJson {
  return {
    ...h,
    secrets: h.secrets.map((s) => ({ sealed: s.sealed, ...(s.retiresAt ? { retiresAt: s.retiresAt.getTime() } : {}) })),
    createdAt: h.createdAt.getTime(),
    updatedAt: h.updatedAt.getTime(),
  };
}

function fromJson(h: WebhookJson): WebhookRecord {
  const secrets: WebhookSecretRecord[] = h.secrets.map((s) => ({
    sealed: s.sealed,
    ...(s.retiresAt !== undefined ? { retiresAt: new Date(s.retiresAt) } : {}),
  }));
  return { ...h, secrets, createdAt: new Date(h.createdAt), updatedAt: new Date(h.updatedAt) };
}
