/**
 * @module
 * `@wallcrawler/controller`: one browser session — Chromium, the authenticated CDP proxy in front of it, and
 * its lifecycle. The Wallcrawler server embeds it for local sessions; a Fargate task runs it standalone
 * (`wallcrawler-controller`, see `startController`).
 */

export {
  cancellationReasons,
  isConditionalCheckFailed,
  isTransactionConflict,
  queryAll,
  scanAll,
} from './aws/dynamodb-reads.js';
export { DynamoDbSessionReporter } from './aws/dynamodb-session-reporter.js';
export {
  createTableInput,
  createTables,
  DEFAULT_TABLE_NAMES,
  type DynamoDbTableNames,
  type IndexDefinition,
  type KeyAttribute,
  TABLES,
  type TableDefinition,
  type TableKey,
} from './aws/dynamodb-tables.js';
export { findPublicAddress } from './aws/public-address.js';
export {
  type EndResult,
  type SessionPlacement,
  SessionTable,
  SessionTableConflictError,
  type SessionTableEnd,
  type SessionTableOptions,
} from './aws/session-table.js';
export { parseTaskMetadata, readTaskMetadata, type TaskMetadata } from './aws/task-metadata.js';
export { type PoolTask, TaskTable, type TaskTableOptions } from './aws/task-table.js';
export {
  BrowserSession,
  type BrowserSessionOptions,
  DEFAULT_VIEWPORT,
  type DevToolsTarget,
  removeDirs,
  type SessionArtifacts,
  type SessionEnding,
  type SessionEndStatus,
  type SessionPreparation,
} from './browser-session.js';
export { CdpClient, type CdpEvent } from './cdp/cdp-client.js';
export {
  BrowserPool,
  type BrowserPoolOptions,
  type BrowserPoolStats,
  type PooledBrowser,
} from './chromium/browser-pool.js';
export { findChromium } from './chromium/find-chromium.js';
export { type ChromiumFlagOptions, chromiumFlags } from './chromium/flags.js';
export {
  type ChromiumExit,
  ChromiumExitedError,
  ChromiumLaunchTimeoutError,
  type ChromiumProcess,
  type LaunchChromiumOptions,
  launchChromium,
} from './chromium/launch-chromium.js';
export { findProcesses, listProcesses, type ProcessInfo } from './chromium/process-table.js';
export {
  type ControllerBaseConfig,
  type ControllerConfig,
  loadControllerConfig,
  loadControllerEnvironment,
  type SessionSettings,
} from './config.js';
export {
  ConnectAuthError,
  type ConnectTokenClaims,
  type SignOptions,
  signConnectToken,
  type TokenPurpose,
  verifyConnectToken,
} from './connect-token.js';
export {
  type PackProfileOptions,
  PROFILE_CIPHER,
  ProfileArchiveError,
  packProfile,
  type UnpackProfileOptions,
  unpackProfile,
} from './context/profile-archive.js';
export { type DownloadFailure, DownloadWatcher } from './downloads/download-watcher.js';
export { CONTROLLER_ENV } from './env-names.js';
export { CdpGateway, type CdpGatewayOptions, type ConnectAuthenticator, type ConnectCredentials } from './gateway.js';
export { type Logger, silentLogger } from './logger.js';
export { CdpTrafficLog, type CdpTrafficLogOptions, type SessionLogEntry } from './logs/cdp-traffic-log.js';
export { REDACTED, redactParams, redactResult } from './logs/redaction.js';
export { formatMiB, packageDirectory } from './package-files.js';
export {
  checkProxy,
  ForwardProxy,
  type ForwardProxyOptions,
  openTunnel,
  type ProxyRoute,
  proxyLabel,
  UpstreamProxyError,
} from './proxy/forward-proxy.js';
export { openProxyRoutes, sealProxyRoutes } from './proxy/sealed-routes.js';
export { type MessageSink, WebSocketTap } from './proxy/websocket-tap.js';
export { type RecordedEvent, SessionRecorder, type SessionRecorderOptions } from './recording/session-recorder.js';
export { listSessionDirs, type SessionDirs, sessionDirs } from './session-dirs.js';
export type { SessionPlacementReport, SessionReporter } from './session-reporter.js';
export {
  EVENT_STREAM_HEADERS,
  type EventFraming,
  EventStream,
  framingFor,
  type StreamEvent,
} from './stagehand/event-stream.js';
export {
  asCallError,
  type ReplayPage,
  STAGEHAND_METHODS,
  StagehandCallError,
  type StagehandCallHeaders,
  type StagehandMethod,
  StagehandRunner,
  type StagehandRunnerOptions,
  type StagehandStartRequest,
} from './stagehand/stagehand-runner.js';
export {
  type RunningController,
  SessionNotPendingError,
  type StartControllerOptions,
  startController,
} from './standalone-controller.js';
export { runWarmPoolTask, type WarmPoolOutcome, type WarmPoolTaskOptions } from './warm-pool-task.js';
