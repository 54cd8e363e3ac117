/**
 * The embedded store's schema, as numbered migrations. Append only: a released migration is never edited,
 * a change is a new entry. Each runs in its own transaction and is recorded in `schema_migrations`.
 */
export const MIGRATIONS: readonly { version: number; name: string; statements: readonly string[] }[] = [
  {
    version: 1,
    name: 'projects, api keys, sessions',
    statements: [
      `CREATE TABLE projects (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        owner_id TEXT NOT NULL,
        default_timeout INTEGER NOT NULL,
        concurrency INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      )`,
      `CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        key_hash TEXT NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        created_at TEXT NOT NULL,
        revoked_at TEXT
      )`,
      `CREATE TABLE api_key_projects (
        api_key_id TEXT NOT NULL REFERENCES api_keys(id),
        project_id TEXT NOT NULL REFERENCES projects(id),
        position INTEGER NOT NULL,
        PRIMARY KEY (api_key_id, project_id)
      )`,
      `CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        project_id TEXT NOT NULL REFERENCES projects(id),
        status TEXT NOT NULL,
        region TEXT NOT NULL,
        keep_alive INTEGER NOT NULL,
        timeout_seconds INTEGER NOT NULL,
        viewport_width INTEGER,
        viewport_height INTEGER,
        user_metadata TEXT,
        context_id TEXT,
        proxy_bytes INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        started_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        ended_at TEXT,
        end_reason TEXT
      )`,
      'CREATE INDEX sessions_by_project ON sessions (project_id, created_at DESC)',
      'CREATE INDEX sessions_by_status ON sessions (status)',
    ],
  },
  {
    version: 2,
    name: 'contexts, extensions',
    statements: [
      `CREATE TABLE contexts (
        id TEXT PRIMARY KEY,
        project_id TEXT NOT NULL REFERENCES projects(id),
        name TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      )`,
      // Browserbase: a name is unique in its project, whatever its case.
      'CREATE UNIQUE INDEX contexts_by_name ON contexts (project_id, lower(name)) WHERE name IS NOT NULL',
      `CREATE TABLE extensions (
        id TEXT PRIMARY KEY,
        project_id TEXT NOT NULL REFERENCES projects(id),
        file_name TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      )`,
      'ALTER TABLE sessions ADD COLUMN context_persist INTEGER NOT NULL DEFAULT 0',
      'ALTER TABLE sessions ADD COLUMN extension_id TEXT',
      // The rule for two sessions on one context: at most one active session saves into it.
      `CREATE UNIQUE INDEX sessions_persisting_context ON sessions (context_id)
        WHERE context_persist = 1 AND status IN ('PENDING', 'RUNNING')`,
    ],
  },
  {
    version: 3,
    name: 'project models',
    statements: [
      // One model endpoint per project (POST /v1/llm/responses); the key only ever sealed.
      `CREATE TABLE project_models (
        project_id TEXT PRIMARY KEY REFERENCES projects(id),
        base_url TEXT NOT NULL,
        model TEXT NOT NULL,
        api TEXT NOT NULL,
        sealed_api_key TEXT,
        updated_at TEXT NOT NULL
      )`,
    ],
  },
  {
    version: 4,
    name: 'webhooks and their delivery log',
    statements: [
      `CREATE TABLE webhooks (
        id TEXT PRIMARY KEY,
        project_id TEXT NOT NULL REFERENCES projects(id),
        endpoint TEXT NOT NULL,
        event_types TEXT NOT NULL,
        secrets TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      )`,
      // Browserbase: an endpoint is registered once per project.
      'CREATE UNIQUE INDEX webhooks_by_endpoint ON webhooks (project_id, endpoint)',
      `CREATE TABLE webhook_attempts (
        id TEXT PRIMARY KEY,
        webhook_id TEXT NOT NULL,
        attempted_at TEXT NOT NULL,
        attempt TEXT NOT NULL
      )`,
      'CREATE INDEX webhook_attempts_by_webhook ON webhook_attempts (webhook_id, attempted_at DESC)',
    ],
  },
];
