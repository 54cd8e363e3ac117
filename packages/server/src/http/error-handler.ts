import { STATUS_CODES } from 'node:http';
import { InvalidBlobKeyError, STAGEHAND_METHODS } from '@wallcrawler/contracts';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import {
  BrowserNotReadyError,
  CapacityExceededError,
  DependencyUnavailableError,
  DomainError,
  ModelUnreachableError,
  SessionEndingError,
} from '../domain/errors.js';
import type { ErrorBody } from '../schemas/error.js';
import { HostAtCapacityError } from '../services/host-admission.js';
import { ApiError } from './api-error.js';
import type { AppEnv } from './app-env.js';

/** The one place domain error codes become HTTP statuses. */
const STATUS_BY_CODE: Record<string, number> = {
  missing_api_key: 401,
  invalid_api_key: 401,
  revoked_api_key: 401,
  project_not_allowed: 403,
  project_not_found: 404,
  session_not_found: 404,
  session_not_running: 409,
  concurrency_limit_exceeded: 429,
  host_at_capacity: 429,
  invalid_query: 400,
  invalid_blob_key: 400,
  browser_launch_failed: 500,
  browser_not_ready: 503,
  dependency_unavailable: 503,
  corrupt_record: 500,
  write_conflict: 409,
  already_exists: 409,
  context_not_found: 404,
  context_name_taken: 409,
  context_in_use: 409,
  context_unusable: 422,
  extension_not_found: 404,
  invalid_upload: 400,
  too_large: 413,
  not_supported: 501,
  proxy_auth_failed: 400,
  proxy_unreachable: 502,
  controller_unreachable: 502,
  session_ending: 503,
  fetch_failed: 502,
  fetch_timeout: 504,
  proxies_not_configured: 400,
  invalid_fetch: 400,
  model_not_configured: 400,
  search_unavailable: 502,
  model_unreachable: 502,
  webhook_not_found: 404,
  webhook_endpoint_taken: 409,
  invalid_webhook_endpoint: 400,
};

/** Stagehand's hosted-API routes, whose clients read `{success: false, message}` from an error. */
const STAGEHAND_PATH = new RegExp(
  `^/v1/(sessions/start|sessions/[^/]+/(${[...STAGEHAND_METHODS, 'end', 'replay'].join('|')})|cache/(get|set))$`,
);

/**
 * Builds the error response every non-2xx answer uses (docs/architecture.md, "The contract"). On Stagehand's
 * routes it also says `success: false`, the shape Stagehand's clients expect.
 */
export function errorResponse(c: Context<AppEnv>, error: ApiError): Response {
  const body: ErrorBody & { success?: false } = {
    ...(STAGEHAND_PATH.test(c.req.path) ? { success: false as const } : {}),
    statusCode: error.status,
    error: STATUS_CODES[error.status] ?? 'Error',
    code: error.code,
    message: error.message,
    requestId: c.get('requestId') ?? '',
    ...(error.details ? { details: error.details } : {}),
  };
  for (const [name, value] of Object.entries(error.headers ?? {})) c.header(name, value);
  c.get('metrics')?.rejections.inc({ code: error.code });
  return c.json(body, error.status as ContentfulStatusCode);
}

/** Translates whatever was thrown into an `ApiError`. Unknown errors become a 500 that reveals nothing. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  // The blob store's key check belongs to its contract (shared with the controller), not to the domain's errors.
  if (error instanceof InvalidBlobKeyError) return new ApiError(400, error.code, error.message);
  if (error instanceof DomainError) {
    const status = STATUS_BY_CODE[error.code] ?? 500;
    const headers: Record<string, string> = {};
    if (
      error instanceof CapacityExceededError ||
      error instanceof BrowserNotReadyError ||
      error instanceof DependencyUnavailableError ||
      error instanceof HostAtCapacityError ||
      error instanceof SessionEndingError
    )
      headers['retry-after'] = String(error.retryAfterSeconds);
    // A session that is not running will not start running: retrying is pointless. (A failed launch, by
    // contrast, may well succeed on retry; its session has already ended, so a retry makes no duplicate.)
    // A write conflict, though, is a lost race: the same request can succeed at once.
    if (status === 409) headers['x-should-retry'] = error.code === 'write_conflict' ? 'true' : 'false';
    // A fetch's target that gave no answer is the target's doing: clients (which retry a 5xx) should not load it
    // again at once.
    // Nor is a feature this deployment lacks going to appear on a retry.
    if (error.code === 'fetch_failed' || error.code === 'fetch_timeout' || status === 501) {
      headers['x-should-retry'] = 'false';
    }
    // The upstream model's own status, so a client can tell a bad key (401) from an outage (503).
    const details =
      error instanceof ModelUnreachableError
        ? [{ path: 'upstream.status', message: error.upstreamStatus ? String(error.upstreamStatus) : 'no answer' }]
        : undefined;
    return new ApiError(status, error.code, error.message, details, headers);
  }
  if (error instanceof HTTPException) {
    if (error.status === 413)
      return new ApiError(413, 'payload_too_large', 'The request body is too large (the limit is 1 MiB).');
    if (error.status === 415)
      return new ApiError(
        415,
        'unsupported_media_type',
        'Send the request body as JSON, with Content-Type: application/json.',
      );
    if (error.status === 400)
      return new ApiError(400, 'invalid_json', `The request body is not valid JSON: ${error.message}`);
    return new ApiError(error.status, 'http_error', error.message);
  }
  return new ApiError(
    500,
    'internal_error',
    'The server failed to handle the request. Quote the requestId when reporting it.',
  );
}

/** `app.onError`: logs server faults (never client mistakes) and answers with the error body. */
export function handleError(error: Error, c: Context<AppEnv>): Response {
  const apiError = toApiError(error);
  if (apiError.status >= 500) c.get('logger')?.error({ err: error, requestId: c.get('requestId') }, 'request failed');
  return errorResponse(c, apiError);
}
