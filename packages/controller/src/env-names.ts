/**
 * The environment variables the controller reads. Shared with the infrastructure code that sets them, so the
 * two cannot disagree on a name.
 */
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
