/**
 * @module
 * `@wallcrawler/controller`: the browser's side of a session — Chromium, the authenticated CDP gateway in
 * front of it, and its one close path — which the Wallcrawler server embeds for local sessions. It loads no
 * AWS SDK and no Stagehand until a Stagehand call comes.
 *
 * Two more entry points: `@wallcrawler/controller/aws` (the DynamoDB tables the API and the tasks share) and
 * `@wallcrawler/controller/task` (the Fargate task's program, `wallcrawler-controller`).
 */

export { BrowserSession } from './browser-session.js';
export type { BrowserSessionOptions, SessionArtifacts, SessionPreparation } from './browser-session-options.js';
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
  type PackProfileOptions,
  PROFILE_CIPHER,
  ProfileArchiveError,
  packProfile,
  type UnpackProfileOptions,
  unpackProfile,
} from './context/profile-archive.js';
export { DownloadWatcher } from './downloads/download-watcher.js';
export {
  fetchThroughBrowser,
  headerValue,
  PageFetchError,
  type PageFetchRequest,
  type PageFetchResult,
} from './fetch/page-fetch.js';
export { CdpGateway, type CdpGatewayOptions, type ConnectAuthenticator, type ConnectCredentials } from './gateway.js';
export {
  type ContextProfileOptions,
  ExtensionArchiveError,
  type ExtensionManifest,
  type ExtensionZipLimits,
  finishedDownloads,
  hydrateProfile,
  inspectExtensionZip,
  keepDownloads,
  keepSessionLog,
  keepSessionRecording,
  parseContextKey,
  persistProfile,
  unpackExtensionZip,
  unpackStoredExtension,
} from './keeping/index.js';
export { CdpTrafficLog, type CdpTrafficLogOptions } from './logs/cdp-traffic-log.js';
export { REDACTED, redactParams, redactResult } from './logs/redaction.js';
export { packageDirectory } from './package-files.js';
export {
  checkProxy,
  ForwardProxy,
  type ForwardProxyOptions,
  openTunnel,
  proxyLabel,
  UpstreamProxyError,
} from './proxy/forward-proxy.js';
export { openProxyRoutes, sealProxyRoutes } from './proxy/sealed-routes.js';
export { type MessageSink, WebSocketTap } from './proxy/websocket-tap.js';
export { SessionRecorder, type SessionRecorderOptions } from './recording/session-recorder.js';
export {
  listSessionDirs,
  PROFILE_LOCK_NAMES,
  removeDirs,
  removeSessionDirs,
  type SessionDirs,
  sessionDirs,
} from './session-dirs.js';
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
  StagehandCallError,
  type StagehandCallHeaders,
  StagehandRunner,
  type StagehandRunnerOptions,
  type StagehandStartRequest,
} from './stagehand/stagehand-runner.js';
export { safeFileName, writeSessionUpload } from './uploads/session-upload.js';
