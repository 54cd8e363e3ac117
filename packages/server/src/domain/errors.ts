/**
 * Domain errors: what went wrong, in the domain's words. Adapters and services throw them; the HTTP layer maps
 * each `code` to a status in exactly one place (`http/error-handler.ts`).
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
  override readonly name: string = this.constructor.name;
}

export class MissingApiKeyError extends DomainError {
  readonly code = 'missing_api_key';
  constructor() {
    super(
      'An API key is required. Send it in the x-wc-api-key header (or X-BB-API-Key, or Authorization: Bearer <key>).',
    );
  }
}

export class InvalidApiKeyError extends DomainError {
  readonly code = 'invalid_api_key';
  constructor() {
    super('The API key is not valid. Create one with `wallcrawler keys create`.');
  }
}

export class RevokedApiKeyError extends DomainError {
  readonly code = 'revoked_api_key';
  constructor() {
    super('The API key has been revoked. Create a new one with `wallcrawler keys create`.');
  }
}

export class ProjectNotAllowedError extends DomainError {
  readonly code = 'project_not_allowed';
  constructor(projectId: string) {
    super(
      `The API key does not cover project ${projectId}. Omit the project to use the key's default one, or use a key created for it.`,
    );
  }
}

export class ProjectNotFoundError extends DomainError {
  readonly code = 'project_not_found';
  constructor(projectId: string) {
    super(`Project ${projectId} was not found.`);
  }
}

export class SessionNotFoundError extends DomainError {
  readonly code = 'session_not_found';
  constructor(sessionId: string) {
    super(`Session ${sessionId} was not found.`);
  }
}

export class SessionNotRunningError extends DomainError {
  readonly code = 'session_not_running';
  constructor(sessionId: string, status: string) {
    super(`Session ${sessionId} is not running (its status is ${status}).`);
  }
}

export class CapacityExceededError extends DomainError {
  readonly code = 'concurrency_limit_exceeded';
  constructor(
    readonly limit: number,
    readonly retryAfterSeconds: number,
  ) {
    super(
      `The project is at its concurrency limit of ${limit} running sessions. Release a session (POST /v1/sessions/{id} {"status":"REQUEST_RELEASE"}) or retry later.`,
    );
  }
}

export class BrowserLaunchError extends DomainError {
  readonly code = 'browser_launch_failed';
}

/** No browser became ready in time (no capacity, a slow start); the same request may well succeed later. */
export class BrowserNotReadyError extends DomainError {
  readonly code = 'browser_not_ready';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/**
 * A service the request needs (on AWS: DynamoDB, ECS, Secrets Manager) failed or could not be reached; the same
 * request may well succeed in a moment. The message names the service, never what the request carried.
 */
export class DependencyUnavailableError extends DomainError {
  readonly code = 'dependency_unavailable';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class InvalidQueryError extends DomainError {
  readonly code = 'invalid_query';
}

/** A record in the store is missing attributes or holds values of the wrong kind: it is reported, never guessed at. */
export class CorruptRecordError extends DomainError {
  readonly code = 'corrupt_record';
  constructor(kind: string, id: string, problems: string) {
    super(`The stored ${kind} ${id} is corrupt (${problems}). It was left as it is; an operator must repair it.`);
  }
}

/** A write lost a race with another one on the same record; the caller may simply retry. */
export class WriteConflictError extends DomainError {
  readonly code = 'write_conflict';
  constructor(what: string) {
    super(`${what} conflicted with a concurrent change. Retry the request.`);
  }
}

/** A create named a record that already exists. */
export class RecordExistsError extends DomainError {
  readonly code = 'already_exists';
  constructor(kind: string, id: string) {
    super(`A ${kind} with id ${id} already exists.`);
  }
}

/** A blob key that could reach outside the blob store, or is otherwise malformed. */
/** Thrown by the blob store's key checks, which live with its contract (the error handler maps it to 400). */
export { InvalidBlobKeyError } from '@wallcrawler/contracts';

export class ContextNotFoundError extends DomainError {
  readonly code = 'context_not_found';
  constructor(contextId: string) {
    super(`Context ${contextId} was not found.`);
  }
}

export class ContextNameTakenError extends DomainError {
  readonly code = 'context_name_taken';
  constructor(name: string) {
    super(
      `The project already has a context named ${JSON.stringify(name)}; context names are unique, whatever their case.`,
    );
  }
}

/**
 * Only one live session at a time may save into a context: two writers would each overwrite the other's
 * profile. Sessions that only read it (`persist: false`) are not limited.
 */
export class ContextInUseError extends DomainError {
  readonly code = 'context_in_use';
  constructor(contextId: string) {
    super(
      `Context ${contextId} is being persisted by another running session. Only one session at a time may use a context with persist: true; release that session first, or start this one with persist: false to use the context's last saved state.`,
    );
  }
}

/** A context's saved profile could not be used (tampered with, sealed with another key, too large). */
export class ContextArchiveError extends DomainError {
  readonly code = 'context_unusable';
}

export class ExtensionNotFoundError extends DomainError {
  readonly code = 'extension_not_found';
  constructor(extensionId: string) {
    super(`Extension ${extensionId} was not found.`);
  }
}

/** An upload that cannot be used: not a zip, no manifest, empty, a zip bomb. */
export class InvalidUploadError extends DomainError {
  readonly code = 'invalid_upload';
}

/** An upload or an archive over a size limit. */
export class TooLargeError extends DomainError {
  readonly code = 'too_large';
}

/** The deployment cannot do what the request asks (yet); the message says what is missing. */
export class NotSupportedError extends DomainError {
  readonly code = 'not_supported';
}

/** A session's proxy refused the credentials it was given (407): the create is refused, nothing is started. */
export class ProxyAuthError extends DomainError {
  readonly code = 'proxy_auth_failed';
}

/** A session's proxy could not be reached or did not answer: the create is refused, nothing is started. */
export class ProxyUnreachableError extends DomainError {
  readonly code = 'proxy_unreachable';
}

/** The session's task's controller could not be reached, or answered what it should not (AWS). */
export class ControllerUnreachableError extends DomainError {
  readonly code = 'controller_unreachable';
}

/**
 * The session is ending: what it kept is on its way to the blob store, and is served from there once its ending
 * is recorded. Retry after a moment.
 */
export class SessionEndingError extends DomainError {
  readonly code = 'session_ending';
  constructor(
    sessionId: string,
    readonly retryAfterSeconds = 2,
  ) {
    super(`Session ${sessionId} is ending and still keeping its files. Retry in a moment.`);
  }
}

/** `POST /v1/fetch`: the target gave no answer (unreachable, a certificate refused); the message has Chromium's reason. */
export class FetchFailedError extends DomainError {
  readonly code = 'fetch_failed';
}

/** `POST /v1/fetch`: the target did not answer (or its page did not load) before the fetch's deadline. */
export class FetchTimeoutError extends DomainError {
  readonly code = 'fetch_timeout';
}

/** A fetch that cannot be done as asked (`format: "json"` without a `schema`). */
export class InvalidFetchError extends DomainError {
  readonly code = 'invalid_fetch';
}

/** `proxies: true` on a fetch, in a project that has no proxies of its own to send it through. */
export class ProxiesNotConfiguredError extends DomainError {
  readonly code = 'proxies_not_configured';
}

/** The configured search backend failed, could not be reached, or did not answer in time. */
export class SearchUnavailableError extends DomainError {
  readonly code = 'search_unavailable';
}

/** `POST /v1/llm/responses` for a project with no model endpoint, on a server with no default one. */
export class ModelNotConfiguredError extends DomainError {
  readonly code = 'model_not_configured';
  constructor(projectId: string) {
    super(
      `No model is configured for project ${projectId}. Set one with \`wallcrawler projects model set ${projectId} --base-url <url> --model <name> --api-key-stdin\`, or a server-wide default with WALLCRAWLER_MODEL_BASE_URL, WALLCRAWLER_MODEL_NAME and WALLCRAWLER_MODEL_API_KEY.`,
    );
  }
}

/** The model endpoint failed (a non-2xx answer) or could not be reached; `upstreamStatus` is its status, if any. */
export class ModelUnreachableError extends DomainError {
  readonly code = 'model_unreachable';
  constructor(
    message: string,
    readonly upstreamStatus: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class WebhookNotFoundError extends DomainError {
  readonly code = 'webhook_not_found';
  constructor(id: string) {
    super(`Webhook ${id} was not found.`);
  }
}

export class WebhookEndpointTakenError extends DomainError {
  readonly code = 'webhook_endpoint_taken';
  constructor(endpoint: string) {
    super(`The project already has a webhook for ${endpoint}; update that one instead.`);
  }
}

/** An endpoint that is not http(s), or that reaches a loopback, private or link-local address. */
export class InvalidWebhookEndpointError extends DomainError {
  readonly code = 'invalid_webhook_endpoint';
}
