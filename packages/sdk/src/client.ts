import type { Client } from 'openapi-fetch';
import { readEnv } from './env.js';
import {
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
import type { paths } from './generated/openapi.js';
import { checkMaxRetries, checkTimeout } from './option-checks.js';
import { createRawClient } from './raw-client.js';
import type { APIContext } from './resources/api-context.js';
import { Contexts } from './resources/contexts.js';
import { Extensions } from './resources/extensions.js';
import { Projects } from './resources/projects.js';
import { Sessions } from './resources/sessions.js';
import { DEFAULT_MAX_RETRIES, sleep } from './retry.js';
import { type Fetch, type RequestOptions, send, type TransportConfig } from './transport.js';

/** Where a local `wallcrawler start` listens. */
export const DEFAULT_BASE_URL = 'http://127.0.0.1:3000';
/** Milliseconds per attempt: one minute, as a session launch can take a while on a cold machine. */
export const DEFAULT_TIMEOUT = 60_000;

/** Options of {@link Wallcrawler}. */
export interface ClientOptions {
  /**
   * API key, sent as `x-wc-api-key`. `wallcrawler keys create` makes one; the first `npm start` prints one.
   * @default process.env.WALLCRAWLER_API_KEY
   */
  apiKey?: string | undefined;
  /**
   * Server URL. A path prefix is kept: `http://host/prefix` calls `http://host/prefix/v1/sessions`.
   * @default process.env.WALLCRAWLER_BASE_URL, else `http://127.0.0.1:3000`
   */
  baseURL?: string | undefined;
  /**
   * Project to work in, sent as `x-wc-project-id`, for keys that cover several.
   * @default the key's first project
   */
  projectId?: string | undefined;
  /**
   * Retries after a connection error, a timeout, or a 408, 409, 429 or 5xx response.
   * @default 2
   */
  maxRetries?: number | undefined;
  /**
   * Milliseconds each attempt may take before it is abandoned and retried. Retries and their waits come on top.
   * @default 60000
   */
  timeout?: number | undefined;
  /**
   * `fetch` implementation, called as `fetch(url, init)`.
   * @default globalThis.fetch
   */
  fetch?: Fetch | undefined;
  /** Headers sent with every request; `null` removes one the client would send. */
  defaultHeaders?: Record<string, string | null | undefined> | undefined;
}

/**
 * Client for the Wallcrawler API, shaped like `@browserbasehq/sdk`'s `Browserbase`.
 *
 * @example
 * const wallcrawler = new Wallcrawler({ apiKey: process.env.WALLCRAWLER_API_KEY });
 * const session = await wallcrawler.sessions.create();
 */
export class Wallcrawler {
  /** The API key in use. */
  readonly apiKey: string;
  /** The server URL, without a trailing slash. */
  readonly baseURL: string;
  /** The project sent as `x-wc-project-id`, if any. */
  readonly projectId: string | undefined;
  /** Retries per call unless a call says otherwise. */
  readonly maxRetries: number;
  /** Milliseconds per attempt unless a call says otherwise. */
  readonly timeout: number;

  /**
   * The typed openapi-fetch client underneath, for anything the resources do not cover. It shares the base URL,
   * headers, retries and timeouts, but keeps openapi-fetch's contract: non-2xx answers come back as `{ error }`
   * rather than thrown.
   */
  readonly raw: Client<paths>;

  /** Browser sessions. */
  readonly sessions: Sessions;
  /** Browser profiles kept between sessions. */
  readonly contexts: Contexts;
  /** Chrome extensions sessions can load. */
  readonly extensions: Extensions;
  /** Projects the API key covers. */
  readonly projects: Projects;

  /**
   * @throws {WallcrawlerError} without an API key, or with an invalid `baseURL`, `timeout` or `maxRetries`.
   */
  constructor(options: ClientOptions = {}) {
    const apiKey = options.apiKey || readEnv('WALLCRAWLER_API_KEY');
    if (!apiKey) {
      throw new WallcrawlerError(
        'Missing Wallcrawler API key: pass it as the `apiKey` option (new Wallcrawler({ apiKey })) or set the ' +
          'WALLCRAWLER_API_KEY environment variable. Create one with `wallcrawler keys create`; the first ' +
          '`npm start` of a server also prints one.',
      );
    }
    this.apiKey = apiKey;
    this.baseURL = normalizeBaseURL(options.baseURL || readEnv('WALLCRAWLER_BASE_URL') || DEFAULT_BASE_URL);
    this.projectId = options.projectId || undefined;
    this.maxRetries = checkMaxRetries(options.maxRetries ?? DEFAULT_MAX_RETRIES);
    this.timeout = checkTimeout(options.timeout ?? DEFAULT_TIMEOUT);

    const fetch = options.fetch ?? globalFetch();
    const transport: TransportConfig = {
      fetch,
      timeout: this.timeout,
      maxRetries: this.maxRetries,
      // Late-bound so subclasses can override `sleep`.
      sleep: (ms, signal) => this.sleep(ms, signal),
    };

    this.raw = createRawClient({
      baseUrl: this.baseURL,
      headers: {
        accept: 'application/json',
        'x-wc-api-key': apiKey,
        'x-wc-project-id': this.projectId,
        ...options.defaultHeaders,
      },
      fetch: (request) => send(request, transport),
    });

    const api: APIContext = {
      raw: this.raw,
      callOptions: (callOptions: RequestOptions | undefined) => {
        if (callOptions?.timeout !== undefined) checkTimeout(callOptions.timeout);
        if (callOptions?.maxRetries !== undefined) checkMaxRetries(callOptions.maxRetries);
        return {
          fetch: async (request) => {
            const response = await send(request, transport, callOptions);
            if (!response.ok) throw APIError.generate(response.status, await response.text(), response.headers);
            return response;
          },
          headers: callOptions?.headers,
        };
      },
    };
    this.sessions = new Sessions(api);
    this.projects = new Projects(api);
    this.contexts = new Contexts(api);
    this.extensions = new Extensions(api);
  }

  /**
   * Waits `ms` between attempts, rejecting when `signal` aborts. Override to change how the client waits; tests
   * use this to skip the wait.
   */
  protected sleep(ms: number, signal: AbortSignal): Promise<void> {
    return sleep(ms, signal);
  }

  static readonly DEFAULT_BASE_URL = DEFAULT_BASE_URL;
  static readonly DEFAULT_TIMEOUT = DEFAULT_TIMEOUT;
  static readonly DEFAULT_MAX_RETRIES = DEFAULT_MAX_RETRIES;

  static readonly WallcrawlerError = WallcrawlerError;
  static readonly APIError = APIError;
  static readonly APIConnectionError = APIConnectionError;
  static readonly APIConnectionTimeoutError = APIConnectionTimeoutError;
  static readonly APIUserAbortError = APIUserAbortError;
  static readonly BadRequestError = BadRequestError;
  static readonly AuthenticationError = AuthenticationError;
  static readonly PermissionDeniedError = PermissionDeniedError;
  static readonly NotFoundError = NotFoundError;
  static readonly ConflictError = ConflictError;
  static readonly PayloadTooLargeError = PayloadTooLargeError;
  static readonly UnprocessableEntityError = UnprocessableEntityError;
  static readonly RateLimitError = RateLimitError;
  static readonly InternalServerError = InternalServerError;
}

function normalizeBaseURL(baseURL: string): string {
  let url: URL;
  try {
    url = new URL(baseURL);
  } catch {
    throw new WallcrawlerError(`baseURL must be an absolute http(s) URL; got ${JSON.stringify(baseURL)}.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new WallcrawlerError(`baseURL must be an absolute http(s) URL; got ${JSON.stringify(baseURL)}.`);
  }
  // Paths are appended as-is, so a query or fragment here would end up in the middle of every URL.
  if (url.search || url.hash) {
    throw new WallcrawlerError(`baseURL must not have a query or fragment; got ${JSON.stringify(baseURL)}.`);
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

function globalFetch(): Fetch {
  if (typeof globalThis.fetch !== 'function') {
    throw new WallcrawlerError('No global `fetch` in this runtime: pass one as the `fetch` option.');
  }
  // Looked up per call, and called unbound: some runtimes throw "Illegal invocation" on a detached `this`.
  return (url, init) => globalThis.fetch(url, init);
}
