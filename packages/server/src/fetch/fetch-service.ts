import { type Logger, silentLogger } from '@wallcrawler/contracts';
import { fetchThroughBrowser, PageFetchError } from '@wallcrawler/controller';
import {
  ControllerUnreachableError,
  FetchFailedError,
  FetchTimeoutError,
  InvalidFetchError,
  ProxiesNotConfiguredError,
  SessionNotRunningError,
} from '../domain/errors.js';
import type { ModelGateway } from '../llm/model-gateway.js';
import type { SessionLifecycle } from '../services/session-lifecycle.js';
import type { SessionViews } from '../services/session-views.js';
import { decodeBody, type FetchContent } from './fetch-content.js';
import { extractBySchema } from './json-extraction.js';
import { htmlToMarkdown } from './page-markdown.js';

/** `POST /v1/fetch`'s body (validated). */
export interface FetchInput {
  url: string;
  allowInsecureSsl?: boolean | undefined;
  allowRedirects?: boolean | undefined;
  format?: 'raw' | 'json' | 'markdown' | undefined;
  proxies?: boolean | undefined;
  schema?: Record<string, unknown> | undefined;
}

/** Browserbase's `FetchAPICreateResponse`, plus `truncated` when the content was cut at the cap. */
export interface FetchAnswer {
  id: string;
  /** A string for `raw` and `markdown`; for `json`, the object the model extracted by `schema`. */
  content: string | Record<string, unknown>;
  contentType: string;
  encoding: string;
  headers: Record<string, string>;
  statusCode: number;
  truncated?: true;
}

export interface FetchServiceOptions {
  lifecycle: SessionLifecycle;
  views: SessionViews;
  /** The base URL at which this process reaches its own connect gateway (local sessions). */
  gatewayUrl: () => string | undefined;
  /** The project's model, for `format: "json"` (an extraction by `schema`). */
  models: ModelGateway;
  /** The most of a body (or of a rendered page) an answer carries. @default 4 MiB */
  maxBytes?: number;
  /** A fetch's deadline, from the session's start to the answer. @default 30 s */
  timeoutMs?: number;
  logger?: Logger;
}

/** Seconds a fetch's session may outlive its deadline if this process dies mid-fetch (then its timeout ends it). */
const SESSION_TIMEOUT_MARGIN_SECONDS = 60;

/**
 * Fetches a URL through a browser session of the project's own: a real session, admitted against the project's
 * concurrency like any other, released (and its browser gone) before the answer, whatever happens.
 */
export class FetchService {
  readonly #lifecycle: SessionLifecycle;
  readonly #views: SessionViews;
  readonly #gatewayUrl: () => string | undefined;
  readonly #models: ModelGateway;
  readonly #logger: Logger;
  readonly maxBytes: number;
  readonly timeoutMs: number;

  constructor({
    lifecycle,
    views,
    gatewayUrl,
    models,
    maxBytes = 4 * 1024 * 1024,
    timeoutMs = 30_000,
    logger = silentLogger,
  }: FetchServiceOptions) {
    this.#lifecycle = lifecycle;
    this.#views = views;
    this.#gatewayUrl = gatewayUrl;
    this.#models = models;
    this.#logger = logger;
    this.maxBytes = maxBytes;
    this.timeoutMs = timeoutMs;
  }

  /**
   * @throws ModelNotConfiguredError, ModelUnreachableError for `json` (after the session's release);
   *   InvalidFetchError for `json` without a schema; ProxiesNotConfiguredError for `proxies: true`; FetchFailedError
   *   when the target gives no answer; FetchTimeoutError at the deadline; the session create's own errors (429)
   */
  async fetch(projectId: string, input: FetchInput): Promise<FetchAnswer> {
    const format = input.format ?? 'raw';
    if (format === 'json' && !input.schema) {
      throw new InvalidFetchError('format "json" needs a `schema` (a JSON Schema of what to extract).');
    }
    // Before any session starts: a fetch that cannot be extracted should cost nothing.
    if (format === 'json') await this.#models.ensureConfigured(projectId);
    if (input.proxies) {
      // Projects have no proxies of their own here (a session's proxies come with its create), and Wallcrawler
      // has no managed proxies to stand in for them.
      throw new ProxiesNotConfiguredError(
        'proxies: true sends the fetch through the project\'s own proxies, and this project has none configured (Wallcrawler has no managed proxies). Omit proxies, or create a session with `proxies: [{ type: "external", server }]` and load the page through it.',
      );
    }
    const session = await this.#lifecycle.create(projectId, {
      timeout: Math.ceil(this.timeoutMs / 1000) + SESSION_TIMEOUT_MARGIN_SECONDS,
      logSession: false,
      recordSession: false,
    });
    const log = this.#logger.child({ sessionId: session.id, projectId });
    let fetched: FetchAnswer;
    try {
      const { connect } = await this.#views.of(session, this.#gatewayUrl() ?? 'http://127.0.0.1');
      if (!connect) throw new SessionNotRunningError(session.id, session.status);
      const page = await fetchThroughBrowser(connect.connectUrl, {
        url: input.url,
        allowRedirects: input.allowRedirects ?? true,
        allowInsecureSsl: input.allowInsecureSsl ?? false,
        render: format !== 'raw',
        maxBytes: this.maxBytes,
        timeoutMs: this.timeoutMs,
      });
      let truncated = page.truncated;
      let content: FetchContent;
      if (page.html === undefined) {
        content = decodeBody(page.body, page.headers);
      } else {
        const markdown = Buffer.from(htmlToMarkdown(page.html), 'utf8');
        // Cut at a byte, decoded leniently: a character split at the cap becomes one replacement character.
        if (markdown.length > this.maxBytes) truncated = true;
        content = {
          content: markdown.subarray(0, this.maxBytes).toString('utf8'),
          contentType: 'text/markdown',
          encoding: 'utf-8',
        };
      }
      log.info({ statusCode: page.statusCode, format, truncated }, 'fetched');
      fetched = {
        id: session.id,
        ...content,
        headers: page.headers,
        statusCode: page.statusCode,
        ...(truncated ? { truncated: true as const } : {}),
      };
    } catch (error) {
      if (!(error instanceof PageFetchError)) throw error;
      if (error.kind === 'deadline') throw new FetchTimeoutError(`${error.reason}.`);
      if (error.kind === 'browser') throw new ControllerUnreachableError(`${error.reason}.`);
      const hint = /CERT|SSL/.test(error.reason) ? ' Set allowInsecureSsl: true to accept its certificate.' : '';
      throw new FetchFailedError(`${input.url} could not be fetched: ${error.reason}.${hint}`);
    } finally {
      await this.#release(projectId, session.id, log);
    }
    // The model reads the rendered page after the browser is gone: a slow model holds no session.
    if (format !== 'json' || !input.schema || typeof fetched.content !== 'string') return fetched;
    const extracted = await extractBySchema(this.#models, projectId, {
      url: input.url,
      page: fetched.content,
      schema: input.schema,
    });
    return { ...fetched, content: extracted, contentType: 'application/json', encoding: 'utf-8' };
  }

  /** Ends the session and waits until its browser is gone; a failure here is logged, not the answer. */
  async #release(projectId: string, sessionId: string, log: Logger): Promise<void> {
    try {
      await this.#lifecycle.release(projectId, sessionId);
      await this.#lifecycle.settled(projectId, sessionId);
    } catch (error) {
      log.error({ err: error }, "the fetch's session could not be released");
    }
  }
}
