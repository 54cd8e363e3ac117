/** The records the server keeps. Dates are `Date`s here; the store and the HTTP layer choose their own encodings. */
import type { SessionStartFailure } from '@wallcrawler/contracts';

export const SESSION_STATUSES = ['PENDING', 'RUNNING', 'ERROR', 'TIMED_OUT', 'COMPLETED'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];
/** Browserbase's four regions: clients validate `region` against exactly these. */
export const REGIONS = ['us-west-2', 'us-east-1', 'eu-central-1', 'ap-southeast-1'] as const;
export type Region = (typeof REGIONS)[number];

/** Statuses of a session that still holds (or is about to hold) a browser. */
export const ACTIVE_STATUSES: readonly SessionStatus[] = ['PENDING', 'RUNNING'];

export interface Viewport {
  width: number;
  height: number;
}

export interface SessionRecord {
  id: string;
  projectId: string;
  status: SessionStatus;
  region: Region;
  keepAlive: boolean;
  timeoutSeconds: number;
  viewport?: Viewport;
  userMetadata?: Record<string, unknown>;
  /** The context the session started from. */
  contextId?: string;
  /** Whether the session's profile is saved back to its context when it ends. */
  contextPersist?: boolean;
  /** The extension loaded into the session's browser. */
  extensionId?: string;
  /**
   * False when the session was created with `browserSettings.logSession: false` (or `recordSession: false`):
   * a task reads them from the session's item (AWS). Absent means on.
   */
  logSession?: boolean;
  recordSession?: boolean;
  proxyBytes: number;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date;
  expiresAt: Date;
  endedAt?: Date;
  /** Why the session ended, in words (also the close frame's reason). */
  endReason?: string;
  /**
   * Where the session's browser is reached when it runs elsewhere (`ws://host:port` of a Fargate task's
   * controller); absent when this server's own gateway serves it.
   */
  connectEndpoint?: string;
  /** The ECS task that serves the session, in AWS. */
  taskArn?: string;
  /** In AWS: why the task could not start the browser, when it was what the session asked for. */
  startFailure?: SessionStartFailure;
}

/** A saved browser profile that sessions can start from (Browserbase's context). */
export interface ContextRecord {
  id: string;
  projectId: string;
  /** Unique in the project, compared without case. */
  name?: string;
  createdAt: Date;
  /** The last time the context was created, saved or updated. */
  updatedAt: Date;
}

/** An uploaded Chrome extension (a zip with `manifest.json` at its root). */
export interface ExtensionRecord {
  id: string;
  projectId: string;
  /** The uploaded file's name. */
  fileName: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface ProjectRecord {
  id: string;
  name: string;
  ownerId: string;
  /** Seconds. */
  defaultTimeout: number;
  concurrency: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface ApiKeyRecord {
  id: string;
  name: string;
  /** SHA-256 of the key, hex. The key itself is never stored. */
  hash: string;
  /** The key's first characters, to tell keys apart in listings. */
  prefix: string;
  /** The projects the key covers, the default one first. */
  projectIds: string[];
  createdAt: Date;
  revokedAt?: Date;
}

/** Defaults of a project created without settings (the first start's default project among them). */
export const PROJECT_DEFAULTS = { defaultTimeout: 300, concurrency: 10 } as const;

/** Which API a model endpoint speaks: OpenAI's Responses API, or only Chat Completions (most local servers). */
export const MODEL_APIS = ['responses', 'chat'] as const;
export type ModelApi = (typeof MODEL_APIS)[number];

/**
 * The model endpoint a project's `POST /v1/llm/responses` calls go to (set with `wallcrawler projects model
 * set`). Its key is kept sealed (`llm/model-key-seal.ts`), never in clear.
 */
export interface ProjectModelRecord {
  projectId: string;
  /** The OpenAI-compatible base URL, `/v1` included (`https://api.openai.com/v1`, `http://127.0.0.1:11434/v1`). */
  baseUrl: string;
  /** What a request for the model `"auto"` (Stagehand 4's default) is sent as. */
  model: string;
  api: ModelApi;
  /** The endpoint's API key, sealed for this project; absent for a keyless (local) endpoint. */
  sealedApiKey?: string;
  updatedAt: Date;
}
