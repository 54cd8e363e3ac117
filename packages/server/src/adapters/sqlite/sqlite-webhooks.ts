import type { Client, Row } from '@libsql/client/sqlite3';
import { WebhookEndpointTakenError } from '../../domain/errors.js';
import type {
  WebhookAttemptRecord,
  WebhookEventType,
  WebhookRecord,
  WebhookSecretRecord,
} from '../../domain/webhook.js';
import { WEBHOOK_LOG_SIZE, type WebhookChanges, type WebhookStore } from '../../ports/webhook-store.js';

/** The SQLite store's webhooks and their delivery log (migration 3). */
export class SqliteWebhooks implements WebhookStore {
  constructor(private readonly db: Client) {}

  async createWebhook(w: WebhookRecord): Promise<void> {
    await this.#uniqueEndpoint(
      w.endpoint,
      this.db.execute({
        sql: 'INSERT INTO webhooks (id, project_id, endpoint, event_types, secrets, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        args: [
          w.id,
          w.projectId,
          w.endpoint,
          JSON.stringify(w.eventTypes),
          secretsJson(w.secrets),
          w.createdAt.toISOString(),
          w.updatedAt.toISOString(),
        ],
      }),
    );
  }

  async getWebhook(projectId: string, id: string): Promise<WebhookRecord | undefined> {
    const { rows } = await this.db.execute({
      sql: 'SELECT * FROM webhooks WHERE id = ? AND project_id = ?',
      args: [id, projectId],
    });
    return rows[0] ? toWebhook(rows[0]) : undefined;
  }

  async listWebhooks(projectId: string): Promise<WebhookRecord[]> {
    const { rows } = await this.db.execute({
      sql: 'SELECT * FROM webhooks WHERE project_id = ? ORDER BY created_at DESC, id DESC',
      args: [projectId],
    });
    return rows.map(toWebhook);
  }

  async updateWebhook(projectId: string, id: string, changes: WebhookChanges): Promise<WebhookRecord | undefined> {
    const { rows } = await this.#uniqueEndpoint(
      changes.endpoint ?? '',
      this.db.execute({
        sql: `UPDATE webhooks SET endpoint = COALESCE(?, endpoint), event_types = COALESCE(?, event_types),
              secrets = COALESCE(?, secrets), updated_at = ? WHERE id = ? AND project_id = ? RETURNING *`,
        args: [
          changes.endpoint ?? null,
          changes.eventTypes ? JSON.stringify(changes.eventTypes) : null,
          changes.secrets ? secretsJson(changes.secrets) : null,
          changes.updatedAt.toISOString(),
          id,
          projectId,
        ],
      }),
    );
    return rows[0] ? toWebhook(rows[0]) : undefined;
  }

  async deleteWebhook(projectId: string, id: string): Promise<boolean> {
    const [deleted] = await this.db.batch(
      [
        { sql: 'DELETE FROM webhooks WHERE id = ? AND project_id = ?', args: [id, projectId] },
        {
          sql: 'DELETE FROM webhook_attempts WHERE webhook_id = ? AND NOT EXISTS (SELECT 1 FROM webhooks WHERE id = ?)',
          args: [id, id],
        },
      ],
      'write',
    );
    return (deleted?.rowsAffected ?? 0) > 0;
  }

  async addWebhookAttempt(a: WebhookAttemptRecord): Promise<void> {
    await this.db.batch(
      [
        {
          sql: 'INSERT INTO webhook_attempts (id, webhook_id, attempted_at, attempt) VALUES (?, ?, ?, ?)',
          args: [a.id, a.webhookId, a.attemptedAt.toISOString(), JSON.stringify(a)],
        },
        // The log keeps the latest attempts only.
        {
          sql: `DELETE FROM webhook_attempts WHERE webhook_id = ? AND id NOT IN
                (SELECT id FROM webhook_attempts WHERE webhook_id = ? ORDER BY attempted_at DESC, id DESC LIMIT ?)`,
          args: [a.webhookId, a.webhookId, WEBHOOK_LOG_SIZE],
        },
      ],
      'write',
    );
  }

  async listWebhookAttempts(webhookId: string): Promise<WebhookAttemptRecord[]> {
    const { rows } = await this.db.execute({
      sql: 'SELECT attempt FROM webhook_attempts WHERE webhook_id = ? ORDER BY attempted_at DESC, id DESC',
      args: [webhookId],
    });
    return rows.map((r) => attemptFromJson(String(r.attempt)));
  }

  async #uniqueEndpoint<T>(endpoint: string, write: Promise<T>): Promise<T> {
    try {
      return await write;
    } catch (error) {
      if (/UNIQUE constraint failed/.test(String((error as Error).message))) {
        throw new WebhookEndpointTakenError(endpoint);
      }
      throw error;
    }
  }
}

function secretsJson(secrets: readonly WebhookSecretRecord[]): string {
  return JSON.stringify(secrets.map((s) => ({ sealed: s.sealed, retiresAt: s.retiresAt?.toISOString() })));
}

export function secretsFromJson(json: string): WebhookSecretRecord[] {
  return (JSON.parse(json) as { sealed: string; retiresAt?: string }[]).map((s) => ({
    sealed: s.sealed,
    ...(s.retiresAt ? { retiresAt: new Date(s.retiresAt) } : {}),
  }));
}

/** An attempt as `JSON.stringify` wrote it (dates as ISO strings). */
export function attemptFromJson(json: string): WebhookAttemptRecord {
  const raw = JSON.parse(json) as Omit<WebhookAttemptRecord, 'attemptedAt' | 'nextAttemptAt'> & {
    attemptedAt: string;
    nextAttemptAt?: string;
  };
  const { nextAttemptAt, ...rest } = raw;
  return {
    ...rest,
    attemptedAt: new Date(raw.attemptedAt),
    ...(nextAttemptAt ? { nextAttemptAt: new Date(nextAttemptAt) } : {}),
  };
}

function toWebhook(r: Row): WebhookRecord {
  return {
    id: String(r.id),
    projectId: String(r.project_id),
    endpoint: String(r.endpoint),
    eventTypes: JSON.parse(String(r.event_types)) as WebhookEventType[],
    secrets: secretsFromJson(String(r.secrets)),
    createdAt: new Date(String(r.created_at)),
    updatedAt: new Date(String(r.updated_at)),
  };
}
