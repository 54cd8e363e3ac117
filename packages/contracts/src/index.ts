/**
 * @module
 * `@wallcrawler/contracts`: what Wallcrawler's packages must agree on, as plain data and pure functions. The
 * server (API and local runtime), the controller (the browser's side, embedded or in a Fargate task) and the CDK
 * stack each import these instead of one another, so a name, a key or a path is written once.
 */
export {
  contextArchiveKey,
  downloadErrorsKey,
  downloadFileKey,
  downloadsPrefix,
  extensionZipKey,
  largeAnswerKey,
  SESSION_ARTIFACT_PREFIXES,
  sessionLogKey,
  sessionRecordingKey,
} from './blob-keys.js';
export {
  assertBlobKey,
  assertBlobPrefix,
  type BlobBody,
  type BlobInfo,
  type BlobStore,
  InvalidBlobKeyError,
  type StoredBlob,
} from './blob-store.js';
export {
  ConnectAuthError,
  type ConnectTokenClaims,
  type SignOptions,
  signConnectToken,
  TOKEN_AUDIENCES,
  TOKEN_ISSUER,
  type TokenPurpose,
  verifyConnectToken,
} from './connect-token.js';
export type { DevToolsTarget } from './devtools-target.js';
export {
  DEFAULT_TABLE_NAMES,
  type DynamoDbTableNames,
  type IndexDefinition,
  type KeyAttribute,
  TABLES,
  type TableDefinition,
  type TableKey,
} from './dynamodb-tables.js';
export { AWS_API_ENV, CONTROLLER_ENV, EDGE_ENV, SERVER_ENV } from './env-names.js';
export { FRONT_DOOR_FAILURE, frontDoorFailureBody } from './front-door.js';
export { type Logger, silentLogger } from './logger.js';
export type { ExternalProxyRoute, ProxyRoute } from './proxy-route.js';
export type { DownloadFailure, DownloadListing, RecordedEvent, SessionLogEntry } from './session-artifacts.js';
export type { SessionEnding, SessionEndStatus, SessionStartFailure } from './session-ending.js';
export {
  BROWSER_SOCKET_PATH,
  browserSocketUrl,
  CONNECT_EDGE_PATH_PATTERNS,
  DEVTOOLS_FRONTEND_PATH,
  devtoolsFrontendPath,
  EDGE_BROWSER_SOCKET_PATH,
  isConnectEdgePath,
  LIVE_VIEW_PATH,
  liveViewPath,
  PAGE_SOCKET_PATH,
  POOL_CLAIM_PATH,
  pageSocketPath,
  pageViewUrls,
  replayPageUrl,
  SESSION_FILES_PATH,
  type SessionFilesResource,
  SIGNING_KEY_PARAM,
  STAGEHAND_PATH,
  type StagehandOperation,
  sessionFilesPath,
  signingKeyQuery,
  stagehandPath,
} from './session-paths.js';
export { STAGEHAND_METHODS, type StagehandMethod } from './stagehand-methods.js';
export { formatMiB } from './units.js';
export { DEFAULT_VIEWPORT, type Viewport } from './viewport.js';
