import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
// The local-file client only: the package's main entry also loads its remote (HTTP and WebSocket) clients.
import { type Client, createClient, type InStatement, type Row } from '@libsql/client/sqlite3';
import { ContextInUseError, ContextNameTakenError, ProjectNotFoundError } from '../../domain/errors.js';
import { matchesMetadata } from '../../domain/metadata-query.js';
import {
  ACTIVE_STATUSES,
  type ApiKeyRecord,
  type ContextRecord,
  type ExtensionRecord,
  type ModelApi,
  type ProjectModelRecord,
  type ProjectRecord,
  type Region,
  type SessionRecord,
  type SessionStatus,
} from '../../domain/model.js';
import type { WebhookAttemptRecord, WebhookRecord } from '../../domain/webhook.js';
import type { SessionEnd, SessionFilter, Store } from '../../ports/store.js';
import type { WebhookChanges } from '../../ports/webhook-store.js';
import { MIGRATIONS } from './migrations.js';
import { SqliteWebhooks } from './sqlite-webhooks.js';

const iso = (date: Date) => date.toISOString();
const date = (value: unknown) => new Date(String(value));
const optionalDate = (value: unknown) => (value === null || value === undefined ? undefined : date(value));
const activeList = ACTIVE_STATUSES.map((s) => `'${s}'`).join(', ');

/**
 * The embedded store: one SQLite file (through `@libsql/client`, which ships prebuilt binaries). Safe to open
 * from several processes at once, such as the server and a `wallcrawler keys` command: WAL mode plus a busy
 * timeout serialise writers, and no operation holds a transaction open across an await.
 */
export class SqliteStore implements Store {
  readonly #webhooks: SqliteWebhooks;

  private constructor(private readonly db: Client) {
    this.#webhooks = new SqliteWebhooks(db);
  }

  /** Opens (creating if needed) the database at `path` and brings its schema up to date. */
  static async open(path: string): Promise<SqliteStore> {
    mkdirSync(dirname(path), { recursive: true });
    // One connection: local statements run synchronously in this process, so more would add no parallelism,
    // and per-connection settings (foreign_keys) would be missing on pooled connections opened later.
    const db = createClient({ url: `file:${path}`, concurrency: 1, timeout: 5_000 });
    await db.execute('PRAGMA journal_mode = WAL');
    await db.execute('PRAGMA foreign_keys = ON');
    const store = new SqliteStore(db);
    await store.migrate();
    return store;
  }

  private async migrate(): Promise<void> {
    await this.db.execute(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
    );
    const applied = new Set(
      (await this.db.execute('SELECT version FROM schema_migrations')).rows.map((r) => Number(r.version)),
    );
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      await this.db.batch(
        [
          ...migration.statements,
          {
            sql: 'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
            args: [migration.version, migration.name, iso(new Date())],
          },
        ],
        'write',
      );
    }
  }

  async createProject(p: ProjectRecord): Promise<void> {
    await this.db.execute({
      sql: 'INSERT INTO projects (id, name, owner_id, default_timeout, concurrency, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      args: [p.id, p.name, p.ownerId, p.defaultTimeout, p.concurrency, iso(p.createdAt), iso(p.updatedAt)],
    });
  }

  async getProject(id: string): Promise<ProjectRecord | undefined> {
    const { rows } = await this.db.execute({ sql: 'SELECT * FROM projects WHERE id = ?', args: [id] });
    return rows[0] ? toProject(rows[0]) : undefined;
  }

  async listProjects(ids?: readonly string[]): Promise<ProjectRecord[]> {
    if (ids && ids.length === 0) return [];
    const { rows } = ids
      ? await this.db.execute({
          sql: `SELECT * FROM projects WHERE id IN (${ids.map(() => '?').join(', ')}) ORDER BY created_at, id`,
          args: [...ids],
        })
      : await this.db.execute('SELECT * FROM projects ORDER BY created_at, id');
    return rows.map(toProject);
  }

  async setProjectModel(m: ProjectModelRecord): Promise<void> {
    if (!(await this.getProject(m.projectId))) throw new ProjectNotFoundError(m.projectId);
    await this.db.execute({
      sql: `INSERT INTO project_models (project_id, base_url, model, api, sealed_api_key, updated_at) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (project_id) DO UPDATE SET base_url = excluded.base_url, model = excluded.model, api = excluded.api,
              sealed_api_key = excluded.sealed_api_key, updated_at = excluded.updated_at`,
      args: [m.projectId, m.baseUrl, m.model, m.api, m.sealedApiKey ?? null, iso(m.updatedAt)],
    });
  }

  async getProjectModel(projectId: string): Promise<ProjectModelRecord | undefined> {
    const { rows } = await this.db.execute({
      sql: 'SELECT * FROM project_models WHERE project_id = ?',
      args: [projectId],
    });
    const r = rows[0];
    if (!r) return undefined;
    return {
      projectId: String(r.project_id),
      baseUrl: String(r.base_url),
      model: String(r.model),
      api: String(r.api) as ModelApi,
      ...(r.sealed_api_key !== null && r.sealed_api_key !== undefined
        ? { sealedApiKey: String(r.sealed_api_key) }
        : {}),
      updatedAt: date(r.updated_at),
    };
  }

  async deleteProjectModel(projectId: string): Promise<boolean> {
    const result = await this.db.execute({ sql: 'DELETE FROM project_models WHERE project_id = ?', args: [projectId] });
    return result.rowsAffected > 0;
  }

  async createApiKey(key: ApiKeyRecord): Promise<void> {
    const statements: InStatement[] = [
      {
        sql: 'INSERT INTO api_keys (id, name, key_hash, prefix, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)',
        args: [key.id, key.name, key.hash, key.prefix, iso(key.createdAt), key.revokedAt ? iso(key.revokedAt) : null],
      },
      ...key.projectIds.map((projectId, position) => ({
        sql: 'INSERT INTO api_key_projects (api_key_id, project_id, position) VALUES (?, ?, ?)',
        args: [key.id, projectId, position],
      })),
    ];
    await this.db.batch(statements, 'write');
  }

  async findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const { rows } = await this.db.execute({
      sql: `SELECT k.*, (SELECT json_group_array(project_id) FROM (SELECT project_id FROM api_key_projects WHERE api_key_id = k.id ORDER BY position)) AS project_ids
            FROM api_keys k WHERE k.key_hash = ?`,
      args: [hash],
    });
    return rows[0] ? toApiKey(rows[0]) : undefined;
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    const { rows } = await this.db.execute(
      `SELECT k.*, (SELECT json_group_array(project_id) FROM (SELECT project_id FROM api_key_projects WHERE api_key_id = k.id ORDER BY position)) AS project_ids
       FROM api_keys k ORDER BY k.created_at, k.id`,
    );
    return rows.map(toApiKey);
  }

  async revokeApiKey(id: string, at: Date): Promise<boolean> {
    const result = await this.db.execute({
      sql: 'UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?',
      args: [iso(at), id],
    });
    return result.rowsAffected > 0;
  }

  async insertSessionWithinLimit(s: SessionRecord, limit: number): Promise<boolean> {
    // One statement, so the count and the insert are atomic (SQLite holds the write lock for the statement)
    // across connections and processes, with no transaction to hold a connection open.
    const result = await this.#unique(
      () => new ContextInUseError(s.contextId ?? ''),
      this.db.execute({
        sql: `INSERT INTO sessions (id, project_id, status, region, keep_alive, timeout_seconds, viewport_width, viewport_height,
              user_metadata, context_id, context_persist, extension_id, proxy_bytes, created_at, updated_at, started_at,
              expires_at, ended_at, end_reason)
            SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
            WHERE (SELECT COUNT(*) FROM sessions WHERE project_id = ? AND status IN (${activeList})) < ?`,
        args: [
          s.id,
          s.projectId,
          s.status,
          s.region,
          s.keepAlive ? 1 : 0,
          s.timeoutSeconds,
          s.viewport?.width ?? null,
          s.viewport?.height ?? null,
          s.userMetadata === undefined ? null : JSON.stringify(s.userMetadata),
          s.contextId ?? null,
          s.contextPersist ? 1 : 0,
          s.extensionId ?? null,
          s.proxyBytes,
          iso(s.createdAt),
          iso(s.updatedAt),
          iso(s.startedAt),
          iso(s.expiresAt),
          s.endedAt ? iso(s.endedAt) : null,
          s.endReason ?? null,
          s.projectId,
          limit,
        ],
      }),
    );
    return result.rowsAffected === 1;
  }

  async getSession(id: string): Promise<SessionRecord | undefined> {
    const { rows } = await this.db.execute({ sql: 'SELECT * FROM sessions WHERE id = ?', args: [id] });
    return rows[0] ? toSession(rows[0]) : undefined;
  }

  async listSessions(projectId: string, filter: SessionFilter = {}): Promise<SessionRecord[]> {
    const { rows } = filter.status
      ? await this.db.execute({
          sql: 'SELECT * FROM sessions WHERE project_id = ? AND status = ? ORDER BY created_at DESC, id',
          args: [projectId, filter.status],
        })
      : await this.db.execute({
          sql: 'SELECT * FROM sessions WHERE project_id = ? ORDER BY created_at DESC, id',
          args: [projectId],
        });
    const sessions = rows.map(toSession);
    const conditions = filter.metadata;
    return conditions?.length ? sessions.filter((s) => matchesMetadata(s.userMetadata, conditions)) : sessions;
  }

  async listActiveSessions(): Promise<SessionRecord[]> {
    const { rows } = await this.db.execute(
      `SELECT * FROM sessions WHERE status IN (${activeList}) ORDER BY created_at`,
    );
    return rows.map(toSession);
  }

  async markSessionRunning(id: string, at: Date): Promise<SessionRecord | undefined> {
    const { rows } = await this.db.execute({
      sql: "UPDATE sessions SET status = 'RUNNING', updated_at = ? WHERE id = ? AND status = 'PENDING' RETURNING *",
      args: [iso(at), id],
    });
    return rows[0] ? toSession(rows[0]) : undefined;
  }

  async endSession(id: string, end: SessionEnd): Promise<SessionRecord | undefined> {
    await this.db.execute({
      sql: `UPDATE sessions SET status = ?, ended_at = ?, end_reason = ?, updated_at = ?, proxy_bytes = COALESCE(?, proxy_bytes) WHERE id = ? AND status IN (${activeList})`,
      args: [end.status, iso(end.endedAt), end.endReason, iso(end.endedAt), end.proxyBytes ?? null, id],
    });
    return this.getSession(id);
  }

  async createContext(c: ContextRecord): Promise<void> {
    await this.#unique(
      () => new ContextNameTakenError(c.name ?? ''),
      this.db.execute({
        sql: 'INSERT INTO contexts (id, project_id, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
        args: [c.id, c.projectId, c.name ?? null, iso(c.createdAt), iso(c.updatedAt)],
      }),
    );
  }

  async getContext(id: string): Promise<ContextRecord | undefined> {
    const { rows } = await this.db.execute({ sql: 'SELECT * FROM contexts WHERE id = ?', args: [id] });
    const r = rows[0];
    if (!r) return undefined;
    return {
      id: String(r.id),
      projectId: String(r.project_id),
      ...(r.name !== null ? { name: String(r.name) } : {}),
      createdAt: date(r.created_at),
      updatedAt: date(r.updated_at),
    };
  }

  async touchContext(id: string, at: Date): Promise<boolean> {
    const result = await this.db.execute({
      sql: 'UPDATE contexts SET updated_at = ? WHERE id = ?',
      args: [iso(at), id],
    });
    return result.rowsAffected > 0;
  }

  async deleteContext(id: string): Promise<boolean> {
    const result = await this.db.execute({ sql: 'DELETE FROM contexts WHERE id = ?', args: [id] });
    return result.rowsAffected > 0;
  }

  async createExtension(e: ExtensionRecord): Promise<void> {
    await this.db.execute({
      sql: 'INSERT INTO extensions (id, project_id, file_name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
      args: [e.id, e.projectId, e.fileName, iso(e.createdAt), iso(e.updatedAt)],
    });
  }

  async getExtension(id: string): Promise<ExtensionRecord | undefined> {
    const { rows } = await this.db.execute({ sql: 'SELECT * FROM extensions WHERE id = ?', args: [id] });
    const r = rows[0];
    if (!r) return undefined;
    return {
      id: String(r.id),
      projectId: String(r.project_id),
      fileName: String(r.file_name),
      createdAt: date(r.created_at),
      updatedAt: date(r.updated_at),
    };
  }

  async deleteExtension(id: string): Promise<boolean> {
    const result = await this.db.execute({ sql: 'DELETE FROM extensions WHERE id = ?', args: [id] });
    return result.rowsAffected > 0;
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
    this.db.close();
  }

  /** Runs a write; a UNIQUE constraint failure becomes the domain error `conflict` makes. */
  async #unique<T>(conflict: () => Error, write: Promise<T>): Promise<T> {
    try {
      return await write;
    } catch (error) {
      if (/UNIQUE constraint failed/.test(String((error as Error).message))) throw conflict();
      throw error;
    }
  }
}

function toProject(r: Row): ProjectRecord {
  return {
    id: String(r.id),
    name: String(r.name),
    ownerId: String(r.owner_id),
    defaultTimeout: Number(r.default_timeout),
    concurrency: Number(r.concurrency),
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
  };
}

function toApiKey(r: Row): ApiKeyRecord {
  const key: ApiKeyRecord = {
    id: String(r.id),
    name: String(r.name),
    hash: String(r.key_hash),
    prefix: String(r.prefix),
    projectIds: JSON.parse(String(r.project_ids ?? '[]')) as string[],
    createdAt: date(r.created_at),
  };
  const revokedAt = optionalDate(r.revoked_at);
  if (revokedAt) key.revokedAt = revokedAt;
  return key;
}

function toSession(r: Row): SessionRecord {
  const session: SessionRecord = {
    id: String(r.id),
    projectId: String(r.project_id),
    status: String(r.status) as SessionStatus,
    region: String(r.region) as Region,
    keepAlive: Number(r.keep_alive) === 1,
    timeoutSeconds: Number(r.timeout_seconds),
    proxyBytes: Number(r.proxy_bytes),
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
    startedAt: date(r.started_at),
    expiresAt: date(r.expires_at),
  };
  if (r.viewport_width !== null && r.viewport_height !== null) {
    session.viewport = { width: Number(r.viewport_width), height: Number(r.viewport_height) };
  }
  if (r.user_metadata !== null) session.userMetadata = JSON.parse(String(r.user_metadata)) as Record<string, unknown>;
  if (r.context_id !== null) session.contextId = String(r.context_id);
  if (Number(r.context_persist) === 1) session.contextPersist = true;
  if (r.extension_id !== null) session.extensionId = String(r.extension_id);
  const endedAt = optionalDate(r.ended_at);
  if (endedAt) session.endedAt = endedAt;
  if (r.end_reason !== null) session.endReason = String(r.end_reason);
  return session;
}
