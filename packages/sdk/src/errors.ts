import type { ErrorDetail } from './types.js';

/** Base class of every error this SDK throws, including misconfiguration of the client itself. */
export class WallcrawlerError extends Error {
  // Spelled out per class: bundlers that mangle class names would otherwise turn `name` into gibberish.
  override name = 'WallcrawlerError';
}

/**
 * The API answered with a non-2xx status, or (for the connection subclasses) did not answer at all.
 *
 * `error` holds the response body: the parsed JSON (normally an `ErrorBody`), the raw text when it is not
 * JSON, or `undefined` when there is none.
 */
export class APIError<
  TStatus extends number | undefined = number | undefined,
  THeaders extends Headers | undefined = Headers | undefined,
> extends WallcrawlerError {
  override name = 'APIError';
  /** HTTP status of the response. */
  readonly status: TStatus;
  /** Headers of the response. */
  readonly headers: THeaders;
  /** The response body: parsed JSON, raw text if not JSON, `undefined` if empty. */
  readonly error: unknown;
  /** Stable, machine-readable code from the body, e.g. `session_not_found`. */
  readonly code: string | undefined;
  /** The server's id for the request (body `requestId`, else the `x-request-id` header); quote it in bug reports. */
  readonly requestId: string | undefined;
  /** For validation errors, one entry per problem. */
  readonly details: ErrorDetail[] | undefined;

  /**
   * @param error The parsed body (see {@link APIError.error}).
   * @param message Defaults to `"<status> <body.message>"`, or `"<status> <body as JSON>"` without one.
   */
  constructor(status: TStatus, error: unknown, headers: THeaders, message?: string) {
    super(message ?? describe(status, error, error === undefined ? '' : rawText(error)));
    this.status = status;
    this.headers = headers;
    this.error = error;
    const body = isRecord(error) ? error : {};
    this.code = typeof body.code === 'string' ? body.code : undefined;
    this.requestId = typeof body.requestId === 'string' ? body.requestId : (headers?.get('x-request-id') ?? undefined);
    this.details = Array.isArray(body.details) ? (body.details as ErrorDetail[]) : undefined;
  }

  /**
   * The error for a non-2xx response, as the subclass matching its status.
   *
   * @param body The body as received (text, parsed as JSON when it is JSON) or already parsed.
   */
  static generate(
    status: number,
    body: unknown,
    headers: ConstructorParameters<typeof Headers>[0],
  ): APIError<number, Headers> {
    const responseHeaders = new Headers(headers);
    const raw = typeof body === 'string' ? body : body === undefined ? '' : rawText(body);
    const parsed = typeof body === 'string' ? parseBody(body) : body;
    return statusError(status, parsed, responseHeaders, describe(status, parsed, raw));
  }
}

/** 400: the request is malformed or fails validation; see `details`. */
export class BadRequestError extends APIError<400, Headers> {
  override name = 'BadRequestError';
}

/** 401: no API key, or an unknown or revoked one. */
export class AuthenticationError extends APIError<401, Headers> {
  override name = 'AuthenticationError';
}

/** 403: the key does not cover the project named in `x-wc-project-id`. */
export class PermissionDeniedError extends APIError<403, Headers> {
  override name = 'PermissionDeniedError';
}

/** 404: no such resource in this project. */
export class NotFoundError extends APIError<404, Headers> {
  override name = 'NotFoundError';
}

/** 409: the resource is not in a state that allows this, e.g. the session has ended. */
export class ConflictError extends APIError<409, Headers> {
  override name = 'ConflictError';
}

/** 413: the request body is over the server's size limit. */
export class PayloadTooLargeError extends APIError<413, Headers> {
  override name = 'PayloadTooLargeError';
}

/** 422: the request is well-formed but cannot be processed. */
export class UnprocessableEntityError extends APIError<422, Headers> {
  override name = 'UnprocessableEntityError';
}

/** 429: the project is at its session concurrency. Retried by default, honouring `Retry-After`. */
export class RateLimitError extends APIError<429, Headers> {
  override name = 'RateLimitError';
}

/** 5xx: the server failed; for session creation, the browser could not be launched. */
export class InternalServerError extends APIError<number, Headers> {
  override name = 'InternalServerError';
}

/** No response: DNS, refused or reset connection, and the like. The underlying error is in `cause`. */
export class APIConnectionError extends APIError<undefined, undefined> {
  override name = 'APIConnectionError';

  constructor({ message, cause }: { message?: string | undefined; cause?: unknown } = {}) {
    super(undefined, undefined, undefined, message ?? 'Connection error.');
    if (cause !== undefined) this.cause = cause;
  }
}

/** No response within the `timeout`, on the last attempt. */
export class APIConnectionTimeoutError extends APIConnectionError {
  override name = 'APIConnectionTimeoutError';

  constructor({ message }: { message?: string | undefined } = {}) {
    super({ message: message ?? 'Request timed out.' });
  }
}

/** The caller's `signal` aborted the request; it is never retried. The signal's reason is in `cause`. */
export class APIUserAbortError extends APIError<undefined, undefined> {
  override name = 'APIUserAbortError';

  constructor({ message, cause }: { message?: string | undefined; cause?: unknown } = {}) {
    super(undefined, undefined, undefined, message ?? 'Request was aborted.');
    if (cause !== undefined) this.cause = cause;
  }
}

function statusError(status: number, error: unknown, headers: Headers, message: string): APIError<number, Headers> {
  switch (status) {
    case 400:
      return new BadRequestError(status, error, headers, message);
    case 401:
      return new AuthenticationError(status, error, headers, message);
    case 403:
      return new PermissionDeniedError(status, error, headers, message);
    case 404:
      return new NotFoundError(status, error, headers, message);
    case 409:
      return new ConflictError(status, error, headers, message);
    case 413:
      return new PayloadTooLargeError(status, error, headers, message);
    case 422:
      return new UnprocessableEntityError(status, error, headers, message);
    case 429:
      return new RateLimitError(status, error, headers, message);
    default:
      return status >= 500
        ? new InternalServerError(status, error, headers, message)
        : new APIError(status, error, headers, message);
  }
}

function describe(status: number | undefined, parsed: unknown, raw: string): string {
  const detail = isRecord(parsed) && typeof parsed.message === 'string' ? parsed.message : raw;
  if (status === undefined) return detail || '(no status code or body)';
  return detail ? `${status} ${detail}` : `${status} status code (no body)`;
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function rawText(body: unknown): string {
  return typeof body === 'string' ? body : (JSON.stringify(body) ?? String(body));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
