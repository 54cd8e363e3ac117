import type {
  ApiKeyRecord,
  ContextRecord,
  ExtensionRecord,
  ProjectModelRecord,
  ProjectRecord,
  SessionRecord,
  SessionStatus,
} from '../domain/model.js';
import type { WebhookStore } from './webhook-store.js';

/** A string-equality condition on a session's user metadata: `userMetadata[path[0]][path[1]]... === value`. */
export interface MetadataCondition {
  path: string[];
  value: string;
}

export interface SessionFilter {
  status?: SessionStatus;
  metadata?: MetadataCondition[];
}

/** The fields a session's end changes. */
export interface SessionEnd {
  status: Extract<SessionStatus, 'COMPLETED' | 'TIMED_OUT' | 'ERROR'>;
  endedAt: Date;
  endReason: string;
  /** Bytes through the session's proxies, when it had any (kept by the local store; AWS runs no proxied sessions). */
  proxyBytes?: number;
}

/**
 * Where the server keeps its metadata: projects, API keys, sessions, contexts, extensions and webhooks.
 * Implemented by the embedded SQLite store and by DynamoDB; one contract test suite runs against every
 * implementation.
 */
export interface Store extends WebhookStore {
  createProject(project: ProjectRecord): Promise<void>;
  getProject(id: string): Promise<ProjectRecord | undefined>;
  /** All projects, oldest first; or just those with the given ids. */
  listProjects(ids?: readonly string[]): Promise<ProjectRecord[]>;

  /**
   * Sets (or replaces) the project's model endpoint.
   * @throws ProjectNotFoundError when there is no such project
   */
  setProjectModel(model: ProjectModelRecord): Promise<void>;
  getProjectModel(projectId: string): Promise<ProjectModelRecord | undefined>;
  /** @returns false when the project had no model endpoint. */
  deleteProjectModel(projectId: string): Promise<boolean>;

  createApiKey(key: ApiKeyRecord): Promise<void>;
  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  listApiKeys(): Promise<ApiKeyRecord[]>;
  /** @returns false when there is no such key. Revoking twice keeps the first date. */
  revokeApiKey(id: string, at: Date): Promise<boolean>;

  /**
   * Inserts a new session unless its project already has `limit` sessions PENDING or RUNNING; the check and
   * the insert are atomic.
   * @returns false, inserting nothing, when the project is at its limit.
   * @throws ContextInUseError when the session persists a context that an active session already persists
   */
  insertSessionWithinLimit(session: SessionRecord, limit: number): Promise<boolean>;
  getSession(id: string): Promise<SessionRecord | undefined>;
  /** The project's sessions, newest first. */
  listSessions(projectId: string, filter?: SessionFilter): Promise<SessionRecord[]>;
  /** Sessions PENDING or RUNNING in any project. */
  listActiveSessions(): Promise<SessionRecord[]>;
  /** PENDING → RUNNING. @returns the session, or undefined if it was no longer PENDING. */
  markSessionRunning(id: string, at: Date): Promise<SessionRecord | undefined>;
  /**
   * Records a session's end, if it has not ended yet (the first ending wins).
   * @returns the session as it is afterwards; undefined if there is no such session.
   */
  endSession(id: string, end: SessionEnd): Promise<SessionRecord | undefined>;

  /** @throws ContextNameTakenError when the project has a context of that name (whatever its case) */
  createContext(context: ContextRecord): Promise<void>;
  getContext(id: string): Promise<ContextRecord | undefined>;
  /** Sets `updatedAt` (the context was saved). @returns false when there is no such context. */
  touchContext(id: string, at: Date): Promise<boolean>;
  /** @returns false when there is no such context. */
  deleteContext(id: string): Promise<boolean>;

  createExtension(extension: ExtensionRecord): Promise<void>;
  getExtension(id: string): Promise<ExtensionRecord | undefined>;
  /** @returns false when there is no such extension. */
  deleteExtension(id: string): Promise<boolean>;

  close(): Promise<void>;
}
