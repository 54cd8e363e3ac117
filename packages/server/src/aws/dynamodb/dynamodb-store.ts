import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { DEFAULT_TABLE_NAMES, type DynamoDbTableNames, TABLES } from '@wallcrawler/contracts';
import {
  cancellationReasons,
  contextLockKey,
  isConditionalCheckFailed,
  queryAll,
  SessionTable,
  SessionTableConflictError,
  scanAll,
} from '@wallcrawler/controller/aws';
import { ContextInUseError, ProjectNotFoundError, RecordExistsError, WriteConflictError } from '../../domain/errors.js';
import { matchesMetadata } from '../../domain/metadata-query.js';
import {
  ACTIVE_STATUSES,
  type ApiKeyRecord,
  type ContextRecord,
  type ExtensionRecord,
  type ProjectModelRecord,
  type ProjectRecord,
  type SessionRecord,
} from '../../domain/model.js';
import type { WebhookAttemptRecord, WebhookRecord } from '../../domain/webhook.js';
import type { SessionEnd, SessionFilter, Store } from '../../ports/store.js';
import type { WebhookChanges } from '../../ports/webhook-store.js';
import { apiKeyToItem, itemToApiKey, itemToProject, itemToSession, projectToItem, sessionToItem } from './items.js';
import { ProjectModelTable } from './project-model-table.js';
import { ResourceTable } from './resource-table.js';
import { WebhookTable } from './webhook-table.js';

export interface DynamoDbStoreOptions {
  client: DynamoDBClient;
  /** @default DEFAULT_TABLE_NAMES (`wallcrawler-sessions`, `wallcrawler-projects`, `wallcrawler-api-keys`) */
  tables?: Partial<DynamoDbTableNames>;
  /** How long DynamoDB keeps an ended session before its TTL deletes it, in seconds. @default 30 days */
  endedSessionRetentionSeconds?: number;
  /** Attempts at a transaction that keeps losing races to concurrent ones. @default 8 */
  maxConflictRetries?: number;
}

const SESSIONS_BY_PROJECT = TABLES.sessions.indexes[0].name;
const SESSIONS_BY_STATUS = TABLES.sessions.indexes[1].name;
type Item = Record<string, unknown>;

/**
 * The store on DynamoDB: sessions, projects and API keys, in the tables `TABLES` describes; contexts and
 * extensions are the resources table's (`ResourceTable`), and so are webhooks (`WebhookTable`); a project's model is
 * `ProjectModelTable`'s.
 *
 * Admission is atomic without a scan: each project item carries `activeSessions`, and a session is admitted by
 * one transaction that increments it under the condition `activeSessions < limit` and puts the session. Its
 * ending gives the slot back in one transaction with the status change, conditioned on the session still
 * being active, so however many endings race, exactly one decrements. A session that persists a context also
 * puts the context's lock item (`contextLockKey`) in its admission, and its ending deletes it (`SessionTable`).
 */
export class DynamoDbStore implements Store {
  readonly #db: DynamoDBDocumentClient;
  readonly #tables: DynamoDbTableNames;
  readonly #sessions: SessionTable;
  readonly #resources: ResourceTable;
  readonly #webhooks: WebhookTable;
  readonly #models: ProjectModelTable;

  constructor({
    client,
    tables,
    endedSessionRetentionSeconds = 30 * 86_400,
    maxConflictRetries = 8,
  }: DynamoDbStoreOptions) {
    this.#db = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    this.#tables = { ...DEFAULT_TABLE_NAMES, ...tables };
    this.#sessions = new SessionTable({
      db: this.#db,
      tables: this.#tables,
      endedSessionRetentionSeconds,
      maxConflictRetries,
    });
    this.#resources = new ResourceTable(this.#db, this.#tables.resources);
    this.#webhooks = new WebhookTable(this.#db, this.#tables.resources, maxConflictRetries);
    this.#models = new ProjectModelTable(this.#db, this.#tables.projects);
  }

  async createProject(project: ProjectRecord): Promise<void> {
    try {
      await this.#db.send(
        new PutCommand({
          TableName: this.#tables.projects,
          Item: { ...projectToItem(project), activeSessions: 0 },
          ConditionExpression: 'attribute_not_exists(projectId)',
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new RecordExistsError('project', project.id);
      throw error;
    }
  }

  async getProject(id: string): Promise<ProjectRecord | undefined> {
    const { Item } = await this.#db.send(
      new GetCommand({ TableName: this.#tables.projects, Key: { projectId: id }, ConsistentRead: true }),
    );
    return Item ? itemToProject(Item) : undefined;
  }

  async listProjects(ids?: readonly string[]): Promise<ProjectRecord[]> {
    let items: Item[] = [];
    if (ids) {
      for (let i = 0; i < ids.length; i += 100) {
        let keys: Item[] | undefined = [...new Set(ids.slice(i, i + 100))].map((projectId) => ({ projectId }));
        // BatchGet may return some keys unprocessed under load: ask again for those.
        while (keys?.length) {
          const result: BatchGetCommandOutput = await this.#db.send(
            new BatchGetCommand({ RequestItems: { [this.#tables.projects]: { Keys: keys, ConsistentRead: true } } }),
          );
          items.push(...(result.Responses?.[this.#tables.projects] ?? []));
          keys = result.UnprocessedKeys?.[this.#tables.projects]?.Keys;
        }
      }
    } else {
      items = await scanAll(this.#db, { TableName: this.#tables.projects, ConsistentRead: true });
    }
    return items.map(itemToProject).sort(byCreatedAtThenId);
  }

  setProjectModel(model: ProjectModelRecord): Promise<void> {
    return this.#models.set(model);
  }

  getProjectModel(projectId: string): Promise<ProjectModelRecord | undefined> {
    return this.#models.get(projectId);
  }

  deleteProjectModel(projectId: string): Promise<boolean> {
    return this.#models.delete(projectId);
  }

  async createApiKey(key: ApiKeyRecord): Promise<void> {
    try {
      await this.#db.send(
        new PutCommand({
          TableName: this.#tables.apiKeys,
          Item: apiKeyToItem(key),
          ConditionExpression: 'attribute_not_exists(keyHash)',
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new RecordExistsError('API key', key.id);
      throw error;
    }
  }

  async findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const { Item } = await this.#db.send(
      new GetCommand({ TableName: this.#tables.apiKeys, Key: { keyHash: hash }, ConsistentRead: true }),
    );
    return Item ? itemToApiKey(Item) : undefined;
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    return (await scanAll(this.#db, { TableName: this.#tables.apiKeys, ConsistentRead: true }))
      .map(itemToApiKey)
      .sort(byCreatedAtThenId);
  }

  async revokeApiKey(id: string, at: Date): Promise<boolean> {
    const { Items = [] } = await this.#db.send(
      new QueryCommand({
        TableName: this.#tables.apiKeys,
        IndexName: TABLES.apiKeys.indexes[0].name,
        KeyConditionExpression: 'apiKeyId = :id',
        ExpressionAttributeValues: { ':id': id },
      }),
    );
    for (const item of Items) {
      await this.#db.send(
        new UpdateCommand({
          TableName: this.#tables.apiKeys,
          Key: { keyHash: item.keyHash },
          // Revoking twice keeps the first date.
          UpdateExpression: 'SET revokedAt = if_not_exists(revokedAt, :at)',
          ExpressionAttributeValues: { ':at': at.getTime() },
        }),
      );
    }
    return Items.length > 0;
  }

  async insertSessionWithinLimit(session: SessionRecord, limit: number): Promise<boolean> {
    // A session that persists a context takes the context's lock in the same transaction; its ending releases it.
    const contextLock = session.contextPersist && session.contextId ? contextLockKey(session.contextId) : undefined;
    return this.#retrying('Admitting the session', async () => {
      try {
        await this.#db.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: this.#tables.projects,
                  Key: { projectId: session.projectId },
                  UpdateExpression: 'SET activeSessions = if_not_exists(activeSessions, :zero) + :one',
                  ConditionExpression:
                    'attribute_exists(projectId) AND (attribute_not_exists(activeSessions) OR activeSessions < :limit)',
                  ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':limit': limit },
                },
              },
              {
                Put: {
                  TableName: this.#tables.sessions,
                  Item: sessionToItem(session),
                  ConditionExpression: 'attribute_not_exists(sessionId)',
                },
              },
              ...(contextLock
                ? [
                    {
                      Put: {
                        TableName: this.#tables.resources,
                        Item: { resourceId: contextLock, kind: 'context-lock', sessionId: session.id },
                        ConditionExpression: 'attribute_not_exists(resourceId)',
                      },
                    },
                  ]
                : []),
            ],
          }),
        );
        return true;
      } catch (error) {
        const [project, put, lock] = cancellationReasons(error) ?? [];
        if (put === 'ConditionalCheckFailed') throw new RecordExistsError('session', session.id);
        if (project === 'ConditionalCheckFailed') {
          if (!(await this.getProject(session.projectId))) throw new ProjectNotFoundError(session.projectId);
          return false;
        }
        if (lock === 'ConditionalCheckFailed' && contextLock && session.contextId) {
          // A lock whose session has ended is one an ending failed to release: clear it and try again.
          if (await this.#clearStaleLock(contextLock)) throw new StaleContextLockError();
          throw new ContextInUseError(session.contextId);
        }
        throw error;
      }
    }).catch((error: unknown) => {
      if (error instanceof StaleContextLockError) return this.insertSessionWithinLimit(session, limit);
      throw error;
    });
  }

  /** @returns whether the context lock at `key` belonged to a session no longer active, and is now gone */
  async #clearStaleLock(key: string): Promise<boolean> {
    const { Item } = await this.#db.send(
      new GetCommand({ TableName: this.#tables.resources, Key: { resourceId: key }, ConsistentRead: true }),
    );
    const holder = typeof Item?.sessionId === 'string' ? Item.sessionId : undefined;
    if (!holder) return !Item;
    const session = await this.getSession(holder).catch(() => undefined);
    if (session && ACTIVE_STATUSES.includes(session.status)) return false;
    try {
      await this.#db.send(
        new DeleteCommand({
          TableName: this.#tables.resources,
          Key: { resourceId: key },
          ConditionExpression: 'sessionId = :holder',
          ExpressionAttributeValues: { ':holder': holder },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
    return true;
  }

  async getSession(id: string): Promise<SessionRecord | undefined> {
    const item = await this.#sessions.get(id);
    return item ? itemToSession(item) : undefined;
  }

  async listSessions(projectId: string, filter: SessionFilter = {}): Promise<SessionRecord[]> {
    const values: Item = { ':project': projectId, ':now': Math.floor(Date.now() / 1000) };
    // TTL deletion lags (up to days): an expired item must not reappear in the meantime.
    let condition = '(attribute_not_exists(#ttl) OR #ttl > :now)';
    const names: Record<string, string> = { '#ttl': 'ttl' };
    if (filter.status) {
      condition += ' AND #status = :status';
      names['#status'] = 'status';
      values[':status'] = filter.status;
    }
    const items = await queryAll(this.#db, {
      TableName: this.#tables.sessions,
      IndexName: SESSIONS_BY_PROJECT,
      KeyConditionExpression: 'projectId = :project',
      FilterExpression: condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ScanIndexForward: false,
    });
    const sessions = items.map(itemToSession).sort(newestFirst);
    const conditions = filter.metadata;
    return conditions?.length ? sessions.filter((s) => matchesMetadata(s.userMetadata, conditions)) : sessions;
  }

  async listActiveSessions(): Promise<SessionRecord[]> {
    const groups = await Promise.all(
      ACTIVE_STATUSES.map((status) =>
        queryAll(this.#db, {
          TableName: this.#tables.sessions,
          IndexName: SESSIONS_BY_STATUS,
          KeyConditionExpression: '#status = :status',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':status': status },
        }),
      ),
    );
    // The index is eventually consistent: confirm each against its item, which may have moved on.
    const sessions = await Promise.all(groups.flat().map((item) => this.getSession(String(item.sessionId))));
    return sessions
      .filter((s): s is SessionRecord => s !== undefined && ACTIVE_STATUSES.includes(s.status))
      .sort(byCreatedAtThenId);
  }

  async markSessionRunning(id: string, at: Date): Promise<SessionRecord | undefined> {
    const item = await this.#sessions.markRunning(id, at);
    return item ? itemToSession(item) : undefined;
  }

  async endSession(id: string, end: SessionEnd): Promise<SessionRecord | undefined> {
    await this.#retrying('Ending the session', () => this.#sessions.end(id, end));
    return this.getSession(id);
  }

  createContext(context: ContextRecord): Promise<void> {
    return this.#resources.createContext(context);
  }

  getContext(id: string): Promise<ContextRecord | undefined> {
    return this.#resources.getContext(id);
  }

  touchContext(id: string, at: Date): Promise<boolean> {
    return this.#resources.touchContext(id, at);
  }

  deleteContext(id: string): Promise<boolean> {
    return this.#resources.deleteContext(id);
  }

  createExtension(extension: ExtensionRecord): Promise<void> {
    return this.#resources.createExtension(extension);
  }

  getExtension(id: string): Promise<ExtensionRecord | undefined> {
    return this.#resources.getExtension(id);
  }

  deleteExtension(id: string): Promise<boolean> {
    return this.#resources.deleteExtension(id);
  }

  createWebhook(webhook: WebhookRecord): Promise<void> {
    return this.#webhooks.createWebhook(webhook);
  }

  getWebhook(projectId: string, id: string): Promise<WebhookRecord | undefined> {
    return this.#webhooks.getWebhook(projectId, id);
  }

  listWebhooks(projectId: string): Promise<WebhookRecord[]> {
    return this.#webhooks.listWebhooks(projectId);
  }

  updateWebhook(projectId: string, id: string, changes: WebhookChanges): Promise<WebhookRecord | undefined> {
    return this.#webhooks.updateWebhook(projectId, id, changes);
  }

  deleteWebhook(projectId: string, id: string): Promise<boolean> {
    return this.#webhooks.deleteWebhook(projectId, id);
  }

  addWebhookAttempt(attempt: WebhookAttemptRecord): Promise<void> {
    return this.#webhooks.addWebhookAttempt(attempt);
  }

  listWebhookAttempts(webhookId: string): Promise<WebhookAttemptRecord[]> {
    return this.#webhooks.listWebhookAttempts(webhookId);
  }

  async close(): Promise<void> {
    this.#db.destroy();
  }

  /** Retries transactions that lost races; past the limit, a retryable `WriteConflictError`. */
  async #retrying<T>(what: string, attempt: () => Promise<T>): Promise<T> {
    try {
      return await this.#sessions.withConflictRetries(what, attempt);
    } catch (error) {
      if (error instanceof SessionTableConflictError) throw new WriteConflictError(what);
      throw error;
    }
  }
}

/** The context lock was stale and is cleared: admit again (once per stale lock, so it ends). */
class StaleContextLockError extends Error {}

type Dated = { createdAt: Date; id: string };
const byId = (a: Dated, b: Dated) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Oldest first, then by id (SQLite's `ORDER BY created_at, id`). */
function byCreatedAtThenId(a: Dated, b: Dated): number {
  return a.createdAt.getTime() - b.createdAt.getTime() || byId(a, b);
}

/** Newest first, then by id (SQLite's `ORDER BY created_at DESC, id`). */
function newestFirst(a: Dated, b: Dated): number {
  return b.createdAt.getTime() - a.createdAt.getTime() || byId(a, b);
}
