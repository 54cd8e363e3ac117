/**
 * The environment variables each deployable reads: the controller (`CONTROLLER_ENV`), the local server
 * (`SERVER_ENV`), the API's Lambda functions (`AWS_API_ENV`) and the connect edge (`EDGE_ENV`). The CDK stack sets them by these same
 * constants, so a runtime and the infrastructure cannot disagree on a name.
 */

/** The environment variables the controller reads (embedded in the server, or as a Fargate task's program). */
export const CONTROLLER_ENV = {
  sessionId: 'WALLCRAWLER_SESSION_ID',
  projectId: 'WALLCRAWLER_PROJECT_ID',
  /** The HS256 secret connect tokens are signed with, base64url-encoded (32 bytes or more). */
  connectSecret: 'WALLCRAWLER_CONNECT_SECRET',
  expiresAt: 'WALLCRAWLER_SESSION_EXPIRES_AT',
  keepAlive: 'WALLCRAWLER_SESSION_KEEP_ALIVE',
  viewport: 'WALLCRAWLER_SESSION_VIEWPORT',
  /** The session's proxy routes, sealed for it (see `proxy/sealed-routes.ts`): never a password in plain text. */
  proxies: 'WALLCRAWLER_SESSION_PROXIES',
  host: 'WALLCRAWLER_CONTROLLER_HOST',
  port: 'WALLCRAWLER_CONTROLLER_PORT',
  externalUrl: 'WALLCRAWLER_CONTROLLER_EXTERNAL_URL',
  chromePath: 'WALLCRAWLER_CHROME_PATH',
  dataDir: 'WALLCRAWLER_DATA_DIR',
  disconnectGraceMs: 'WALLCRAWLER_DISCONNECT_GRACE_MS',
  logLevel: 'WALLCRAWLER_LOG_LEVEL',
  /** Ends a session that no client has connected to for this long since it started (ms). */
  idleTimeoutMs: 'WALLCRAWLER_SESSION_IDLE_TIMEOUT_MS',
  /** Task mode: the DynamoDB tables the controller reports its session's status to. */
  sessionsTable: 'WALLCRAWLER_SESSIONS_TABLE',
  projectsTable: 'WALLCRAWLER_PROJECTS_TABLE',
  /** The warm pool's table: with it and no session, the task waits idle for a create to claim it. */
  tasksTable: 'WALLCRAWLER_TASKS_TABLE',
  /** A warm-pool task ends itself after waiting this long unclaimed (ms). */
  poolIdleTimeoutMs: 'WALLCRAWLER_POOL_IDLE_TIMEOUT_MS',
  /** How often an idle warm-pool task checks whether it was claimed (ms). */
  claimPollMs: 'WALLCRAWLER_CLAIM_POLL_MS',
  /** How often a running session's proxy byte count is written to its item, in task mode (ms). */
  proxyBytesIntervalMs: 'WALLCRAWLER_PROXY_BYTES_INTERVAL_MS',
  /** How long Chromium may take to start (ms). */
  launchTimeoutMs: 'WALLCRAWLER_LAUNCH_TIMEOUT_MS',
  /** Task mode, tests and local emulators only: a DynamoDB endpoint other than AWS's. */
  dynamodbEndpoint: 'WALLCRAWLER_DYNAMODB_ENDPOINT',
  /** Task mode: the S3 bucket session blobs live in (contexts, extensions, downloads, logs, recordings). */
  blobsBucket: 'WALLCRAWLER_BLOBS_BUCKET',
  /** Tests and local emulators only: an S3 endpoint other than AWS's (`s3rver`); addressed path-style. */
  s3Endpoint: 'WALLCRAWLER_S3_ENDPOINT',
  /**
   * Contexts' AES-256-GCM key: 32 bytes as 64 hex digits or base64. In a task it comes only through ECS
   * `secrets` (a Secrets Manager secret), never in RunTask overrides or the task definition's plain environment.
   */
  contextKey: 'WALLCRAWLER_CONTEXT_KEY',
  /** The most a context's files may add up to, in MiB (past it the profile is not saved, and the reason says so). */
  contextMaxMb: 'WALLCRAWLER_CONTEXT_MAX_MB',
  /** The most one session's downloads may add up to, in MiB (the local server's setting of the same name). */
  sessionDownloadsMaxMb: 'WALLCRAWLER_SESSION_DOWNLOADS_MAX_MB',
  /** The most one session's CDP log keeps, in MiB (the oldest entries go first). */
  sessionLogMaxMb: 'WALLCRAWLER_SESSION_LOG_MAX_MB',
  /** The most one session's rrweb recording keeps, in MiB (past it the recording stops). */
  sessionRecordingMaxMb: 'WALLCRAWLER_SESSION_RECORDING_MAX_MB',
  /**
   * Task mode: the resources table (contexts and extensions), where a task checks that the context it saves
   * still exists and releases the context's lock as its session ends.
   */
  resourcesTable: 'WALLCRAWLER_RESOURCES_TABLE',
  /**
   * Which address the controller gives clients: `private` (the task's address in its VPC) or `public` (its
   * public IP, looked up through ECS and EC2; for tasks with `assignPublicIp`).
   */
  advertise: 'WALLCRAWLER_ADVERTISE_ADDRESS',
  /** Set by AWS in every task. */
  awsRegion: 'AWS_REGION',
  /** Set by ECS in every task: the task metadata endpoint (version 4). */
  ecsMetadataUri: 'ECS_CONTAINER_METADATA_URI_V4',
} as const;

const SERVER_ENV_UNSUPPORTED_FIELDS = 'WALLCRAWLER_UNSUPPORTED_FIELDS';
const AWS_API_ENV_CONNECT_BASE_URL = 'WALLCRAWLER_CONNECT_BASE_URL';

/**
 * The server-wide model endpoint `POST /v1/llm/responses` forwards to when a project has none of its own
 * (`wallcrawler projects model set`): Stagehand 4's `act`, `extract` and `observe` with no model in the client.
 */
const MODEL_ENV = {
  /** An OpenAI-compatible base URL, `/v1` included (`https://api.openai.com/v1`, `http://127.0.0.1:11434/v1`). */
  modelBaseUrl: 'WALLCRAWLER_MODEL_BASE_URL',
  /** The model a request for `"auto"` (Stagehand 4's default) is sent as. */
  modelName: 'WALLCRAWLER_MODEL_NAME',
  /** The endpoint's API key; never logged. On AWS, prefer `WALLCRAWLER_MODEL_API_KEY_SECRET_ARN`. */
  modelApiKey: 'WALLCRAWLER_MODEL_API_KEY',
  /** `responses` (default) or `chat`: the endpoint speaks only Chat Completions (most local model servers). */
  modelApi: 'WALLCRAWLER_MODEL_API',
} as const;

/** The environment variables the server reads; shared with the infrastructure code that sets them. */
export const SERVER_ENV = {
  host: 'WALLCRAWLER_HOST',
  port: 'WALLCRAWLER_PORT',
  dataDir: CONTROLLER_ENV.dataDir,
  chromePath: CONTROLLER_ENV.chromePath,
  apiKey: 'WALLCRAWLER_API_KEY',
  publicUrl: 'WALLCRAWLER_PUBLIC_URL',
  logLevel: CONTROLLER_ENV.logLevel,
  disconnectGraceMs: CONTROLLER_ENV.disconnectGraceMs,
  /** How long Chromium may take to open its DevTools port, in ms; past it the start is an overload (503). */
  launchTimeoutMs: CONTROLLER_ENV.launchTimeoutMs,
  /** Contexts' encryption key: 32 bytes as 64 hex digits or base64. @default a key generated into the data dir */
  contextKey: CONTROLLER_ENV.contextKey,
  /** The most a context's files may add up to, in MiB. */
  contextMaxMb: CONTROLLER_ENV.contextMaxMb,
  /** The most an uploaded file (an extension zip, a session upload) may hold, in MiB. */
  uploadMaxMb: 'WALLCRAWLER_UPLOAD_MAX_MB',
  /** How long session artifacts (downloads, logs, recordings) are kept after their session, in hours. */
  artifactsRetentionHours: 'WALLCRAWLER_ARTIFACTS_RETENTION_HOURS',
  /** The most all kept artifacts may add up to, in MiB; the oldest go first. */
  artifactsMaxMb: 'WALLCRAWLER_ARTIFACTS_MAX_MB',
  /** The most one session's downloads may add up to, in MiB. */
  sessionDownloadsMaxMb: CONTROLLER_ENV.sessionDownloadsMaxMb,
  /** The most one session's CDP log keeps, in MiB (the oldest entries go first). */
  sessionLogMaxMb: CONTROLLER_ENV.sessionLogMaxMb,
  /** The most one session's rrweb recording keeps, in MiB (past it the recording stops). */
  sessionRecordingMaxMb: CONTROLLER_ENV.sessionRecordingMaxMb,
  /** `refuse` (default): a create asking for what the server cannot do (a managed proxy) gets a 400; `ignore`: it is accepted and the field ignored. */
  unsupportedFields: SERVER_ENV_UNSUPPORTED_FIELDS,
  /** Browsers this host runs at once. @default from the memory and CPUs (cgroup limits included) */
  maxSessions: 'WALLCRAWLER_MAX_SESSIONS',
  /** Creates that may wait for a browser slot, per project. */
  queueSize: 'WALLCRAWLER_QUEUE_SIZE',
  /** How long a create waits for a slot before its 429, in ms. */
  queueTimeoutMs: 'WALLCRAWLER_QUEUE_TIMEOUT_MS',
  /** Browsers kept started ahead of sessions (the warm pool); 0 turns it off. @default from free memory and CPUs */
  poolSize: 'WALLCRAWLER_POOL_SIZE',
  /** The most of a body (or a rendered page) one `POST /v1/fetch` answers with, in MiB; the rest is cut. */
  fetchMaxMb: 'WALLCRAWLER_FETCH_MAX_MB',
  /** A `POST /v1/fetch`'s deadline, in ms: past it the answer is a 504. */
  fetchTimeoutMs: 'WALLCRAWLER_FETCH_TIMEOUT_MS',
  /** A SearXNG instance's base URL, for `POST /v1/search` (its JSON API); without it search answers 501. */
  searchUrl: 'WALLCRAWLER_SEARCH_URL',
  ...MODEL_ENV,
  /** `true`: webhooks may target loopback, private and link-local addresses (tests, on-premises installs). */
  webhooksAllowPrivate: 'WALLCRAWLER_WEBHOOKS_ALLOW_PRIVATE',
} as const;

/**
 * The environment variables of the API's Lambda functions in AWS; the CDK stack sets exactly these. The
 * controller's task reads its own (`CONTROLLER_ENV`), and the two share the table names.
 */
export const AWS_API_ENV = {
  sessionsTable: CONTROLLER_ENV.sessionsTable,
  projectsTable: CONTROLLER_ENV.projectsTable,
  apiKeysTable: 'WALLCRAWLER_API_KEYS_TABLE',
  /** Contexts and extensions. */
  resourcesTable: CONTROLLER_ENV.resourcesTable,
  /** The warm pool's table; without it every create starts a task of its own. */
  tasksTable: CONTROLLER_ENV.tasksTable,
  /** The Secrets Manager secret holding the connect-token secret (base64url, 32 bytes or more). */
  connectSecretArn: 'WALLCRAWLER_CONNECT_SECRET_ARN',
  /** The connect-token secret itself, instead of the ARN (tests and emulators). */
  connectSecret: CONTROLLER_ENV.connectSecret,
  /**
   * The Secrets Manager secret whose value CloudFront adds to every request to the API (the origin-secret
   * header): with it set, a request without that value is refused with a 403, so the API is reached only
   * through CloudFront (and its WAF). Read on first use.
   */
  originSecretArn: 'WALLCRAWLER_ORIGIN_SECRET_ARN',
  /** The origin secret itself, instead of the ARN (tests and emulators). */
  originSecret: 'WALLCRAWLER_ORIGIN_SECRET',
  cluster: 'WALLCRAWLER_ECS_CLUSTER',
  taskDefinition: 'WALLCRAWLER_TASK_DEFINITION',
  containerName: 'WALLCRAWLER_TASK_CONTAINER',
  subnets: 'WALLCRAWLER_TASK_SUBNETS',
  securityGroups: 'WALLCRAWLER_TASK_SECURITY_GROUPS',
  assignPublicIp: 'WALLCRAWLER_TASK_PUBLIC_IP',
  /**
   * The public https base of the connect edge (`https://<distribution domain>`). When set, sessions' `connectUrl`
   * and live/DevTools URLs are `wss://`/`https://` on it, never a task's address; unset, today's direct URLs.
   */
  connectBaseUrl: AWS_API_ENV_CONNECT_BASE_URL,
  readyTimeoutMs: 'WALLCRAWLER_READY_TIMEOUT_MS',
  unsupportedFields: SERVER_ENV_UNSUPPORTED_FIELDS,
  /** The warm pool's ECS service, and its size (the scaler function's settings). */
  poolService: 'WALLCRAWLER_POOL_SERVICE',
  poolMin: 'WALLCRAWLER_POOL_MIN',
  poolMax: 'WALLCRAWLER_POOL_MAX',
  poolTargetIdle: 'WALLCRAWLER_POOL_TARGET_IDLE',
  region: CONTROLLER_ENV.awsRegion,
  logLevel: CONTROLLER_ENV.logLevel,
  /** The S3 bucket of contexts, extensions and session artifacts (the tasks get the same name). */
  blobsBucket: CONTROLLER_ENV.blobsBucket,
  /** The Secrets Manager secret holding contexts' key (the tasks get it through ECS `secrets`); read lazily. */
  contextKeySecretArn: 'WALLCRAWLER_CONTEXT_KEY_SECRET_ARN',
  /** Contexts' key itself, instead of the ARN (tests and emulators). */
  contextKey: CONTROLLER_ENV.contextKey,
  /** Tests and emulators only: endpoints other than AWS's. */
  dynamodbEndpoint: CONTROLLER_ENV.dynamodbEndpoint,
  s3Endpoint: CONTROLLER_ENV.s3Endpoint,
  ecsEndpoint: 'WALLCRAWLER_ECS_ENDPOINT',
  ...MODEL_ENV,
  /** The Secrets Manager secret holding the server-wide model key (read on first use), instead of the key itself. */
  modelApiKeySecretArn: 'WALLCRAWLER_MODEL_API_KEY_SECRET_ARN',
} as const;

/**
 * The environment of the connect edge (`node dist/edge/main.js` in the controller's image): the gateway service
 * that checks a session's token at the upgrade and relays to the session's task. It also reads
 * `CONTROLLER_ENV`'s sessions table, connect secret, region, DynamoDB endpoint and log level.
 */
export const EDGE_ENV = {
  /** @default 127.0.0.1 (the stack sets 0.0.0.0, behind its internal load balancer) */
  host: 'WALLCRAWLER_EDGE_HOST',
  /** @default 8080 */
  port: 'WALLCRAWLER_EDGE_PORT',
  /** How often each client's WebSocket is pinged, in ms (CloudFront drops a WebSocket idle 10 minutes). @default 60000 */
  pingMs: 'WALLCRAWLER_EDGE_PING_MS',
  /**
   * The public base clients reach the edge at (the API's `WALLCRAWLER_CONNECT_BASE_URL`), for the URLs in DevTools
   * discovery answers. @default the request's `Host`, with `X-Forwarded-Proto`
   */
  publicUrl: AWS_API_ENV_CONNECT_BASE_URL,
  sessionsTable: CONTROLLER_ENV.sessionsTable,
  connectSecret: CONTROLLER_ENV.connectSecret,
  awsRegion: CONTROLLER_ENV.awsRegion,
  dynamodbEndpoint: CONTROLLER_ENV.dynamodbEndpoint,
  logLevel: CONTROLLER_ENV.logLevel,
} as const;
