/**
 * Typed client for the Wallcrawler API: self-hostable, Browserbase-compatible remote browsers. Mirrors the
 * surface of `@browserbasehq/sdk` (sessions, projects, error classes, retries) on types generated from
 * Wallcrawler's OpenAPI contract. Runs wherever `fetch` exists: Node 20+, browsers, Deno, Bun, edge runtimes.
 *
 * @example
 * import { Wallcrawler } from '@wallcrawler/sdk';
 *
 * const wallcrawler = new Wallcrawler(); // WALLCRAWLER_API_KEY, WALLCRAWLER_BASE_URL
 * const session = await wallcrawler.sessions.create();
 * // ...connect a CDP client to session.connectUrl...
 * await wallcrawler.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
 *
 * @module
 */
import { Wallcrawler } from './client.js';

export { type ClientOptions, DEFAULT_BASE_URL, DEFAULT_TIMEOUT, Wallcrawler } from './client.js';
export {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  ConflictError,
  InternalServerError,
  NotFoundError,
  PayloadTooLargeError,
  PermissionDeniedError,
  RateLimitError,
  UnprocessableEntityError,
  WallcrawlerError,
} from './errors.js';
export type { components, operations, paths } from './generated/openapi.js';
export { Contexts } from './resources/contexts.js';
export { Extensions } from './resources/extensions.js';
export { Projects } from './resources/projects.js';
export {
  RecordingDownloadsResource,
  SessionDownloads,
  SessionLogs,
  SessionRecordingResource,
  SessionReplays,
  Sessions,
  SessionUploads,
} from './resources/sessions.js';
export type { Uploadable } from './resources/uploadable.js';
export { DEFAULT_MAX_RETRIES, RETRY_COUNT_HEADER } from './retry.js';
export type { Fetch, RequestOptions } from './transport.js';
export type {
  BrowserSettings,
  Context,
  ContextCreateParams,
  ContextCreateResponse,
  ErrorBody,
  ErrorDetail,
  Extension,
  Project,
  ProjectListResponse,
  ProjectUsage,
  RecordingDownloads,
  Region,
  ReplayListing,
  Session,
  SessionCreateParams,
  SessionCreateResponse,
  SessionDebugParams,
  SessionListParams,
  SessionListResponse,
  SessionLivePage,
  SessionLiveURLs,
  SessionLog,
  SessionRecording,
  SessionRetrieveResponse,
  SessionStatus,
  SessionUpdateParams,
  SessionUploadResponse,
  Viewport,
} from './types.js';
export {
  DEFAULT_WEBHOOK_TOLERANCE_SECONDS,
  type VerifyWebhookParams,
  verifyWebhook,
  WEBHOOK_SIGNATURE_HEADER,
  type WebhookEvent,
  WebhookVerificationError,
} from './webhooks.js';

export default Wallcrawler;
