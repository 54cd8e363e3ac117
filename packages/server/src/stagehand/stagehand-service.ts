import { type Logger, type StagehandMethod, silentLogger } from '@wallcrawler/contracts';
import {
  asCallError,
  EVENT_STREAM_HEADERS,
  type ReplayPage,
  type StagehandCallHeaders,
  StagehandRunner,
  type StagehandStartRequest,
} from '@wallcrawler/controller';
import type { Census } from '../census.js';
import { NotSupportedError, SessionNotRunningError } from '../domain/errors.js';
import { ApiError } from '../http/api-error.js';
import type { CreateSessionInput } from '../services/browser-start-planner.js';
import type { SessionLifecycle } from '../services/session-lifecycle.js';
import type { SessionView, SessionViews } from '../services/session-views.js';

export type { StagehandMethod };

export interface StartResult {
  sessionId: string;
  available: boolean;
  cdpUrl: string | null;
}

export interface StagehandServiceOptions {
  lifecycle: SessionLifecycle;
  views: SessionViews;
  /**
   * The base URL (`http://127.0.0.1:<port>`) at which this process reaches its own connect gateway, for
   * sessions whose browsers run here. Sessions in a task of their own (AWS) are served by their controller.
   */
  gatewayUrl: () => string | undefined;
  /** @default globalThis.fetch; how requests reach a session's controller */
  fetch?: typeof fetch;
  logger?: Logger;
  /** Where the attached runners are counted (the leak check). */
  census?: Census | undefined;
}

/** What a forwarded call carries to the controller. */
const FORWARDED_HEADERS = ['x-model-api-key', 'x-stream-response', 'x-language', 'x-sdk-version'] as const;

/**
 * Stagehand's hosted API (`/v1/sessions/start`, `act`, `extract`, `observe`, `navigate`, `end`, `replay`). Each
 * session gets a `StagehandRunner`: a Stagehand 3.7 attached to its browser as one more CDP client, which runs
 * the calls against the model endpoint the client names. A local session's runner lives in this process,
 * attached through its own gateway on loopback; a session in an AWS task has its runner in that task's
 * controller, and the calls are forwarded to it with the session's connect token.
 */
export class StagehandService {
  readonly #lifecycle: SessionLifecycle;
  readonly #views: SessionViews;
  readonly #gatewayUrl: () => string | undefined;
  readonly #fetch: typeof fetch;
  readonly #logger: Logger;
  readonly #runners = new Map<string, StagehandRunner>();

  constructor({
    lifecycle,
    views,
    gatewayUrl,
    fetch: fetcher = fetch,
    logger = silentLogger,
    census,
  }: StagehandServiceOptions) {
    census?.add('stagehandRunners', () => this.#runners.size);
    this.#lifecycle = lifecycle;
    this.#views = views;
    this.#gatewayUrl = gatewayUrl;
    this.#fetch = fetcher;
    this.#logger = logger;
    lifecycle.onEnded((sessionId) => {
      const runner = this.#runners.get(sessionId);
      this.#runners.delete(sessionId);
      void runner?.close();
    });
  }

  /**
   * Creates a session (or adopts `browserbaseSessionID`) and attaches Stagehand to it.
   * @throws SessionNotFoundError / SessionNotRunningError for an adopted session that cannot be used
   */
  async start(
    projectId: string,
    request: StagehandStartRequest & { browserbaseSessionID?: string | undefined },
    createInput: CreateSessionInput,
    modelApiKey: string | undefined,
    publicGatewayUrl: string,
  ): Promise<StartResult> {
    const view = request.browserbaseSessionID
      ? await this.#views.retrieve(projectId, request.browserbaseSessionID, publicGatewayUrl)
      : await this.#views.of(await this.#lifecycle.create(projectId, createInput), publicGatewayUrl);
    const { session, connect } = view;
    if (!connect) throw new SessionNotRunningError(session.id, session.status);
    const { browserbaseSessionID: _, ...start } = request;
    if (session.connectEndpoint) {
      await this.#forward(view, 'start', 'POST', start, { 'x-model-api-key': modelApiKey });
    } else {
      this.#runner(view).attach(start, modelApiKey);
    }
    return { sessionId: session.id, available: true, cdpUrl: connect.connectUrl };
  }

  /**
   * One call's HTTP answer (server-sent events, or one JSON body).
   * @throws SessionNotFoundError / SessionNotRunningError before anything runs
   */
  async call(
    projectId: string,
    sessionId: string,
    method: StagehandMethod,
    body: Record<string, unknown>,
    headers: StagehandCallHeaders,
  ): Promise<Response> {
    const view = await this.#running(projectId, sessionId);
    if (view.session.connectEndpoint) {
      return this.#forward(view, method, 'POST', body, {
        'x-model-api-key': headers.modelApiKey,
        'x-stream-response': headers.streamResponse,
        'x-language': headers.language,
        'x-sdk-version': headers.sdkVersion,
      });
    }
    try {
      return await this.#runner(view).respond(method, body, headers);
    } catch (error) {
      const failure = asCallError(error);
      throw new ApiError(failure.status, failure.code, failure.message);
    }
  }

  /** Detaches Stagehand and releases the session (Stagehand's `close()` without keepAlive). */
  async end(projectId: string, sessionId: string): Promise<void> {
    const view = await this.#views.retrieve(projectId, sessionId, this.#lookupUrl());
    if (view.connect && view.session.connectEndpoint) {
      await this.#forward(view, 'end', 'POST', {}, {}).catch(() => {});
    } else {
      const runner = this.#runners.get(sessionId);
      this.#runners.delete(sessionId);
      await runner?.close();
    }
    await this.#lifecycle.release(projectId, sessionId);
  }

  /** The calls made so far, by page, for `await stagehand.metrics`. */
  async replay(projectId: string, sessionId: string): Promise<{ pages: ReplayPage[] }> {
    const view = await this.#views.retrieve(projectId, sessionId, this.#lookupUrl());
    if (view.connect && view.session.connectEndpoint) {
      const response = await this.#forward(view, 'replay', 'POST', {}, {});
      return ((await response.json()) as { data: { pages: ReplayPage[] } }).data;
    }
    return this.#runners.get(sessionId)?.replay() ?? { pages: [] };
  }

  /** @throws SessionNotFoundError / SessionNotRunningError when no call can run on the session */
  async #running(projectId: string, sessionId: string): Promise<SessionView> {
    const view = await this.#views.retrieve(projectId, sessionId, this.#lookupUrl());
    if (view.session.status !== 'RUNNING' || !view.connect) {
      throw new SessionNotRunningError(sessionId, view.session.status);
    }
    return view;
  }

  /**
   * The base URL lookups build connect URLs from: the loopback gateway here. (A session in a task has its own
   * endpoint, which its connect URL uses whatever this is.)
   */
  #lookupUrl(): string {
    return this.#gatewayUrl() ?? 'http://127.0.0.1';
  }

  #runner(view: SessionView): StagehandRunner {
    const { id } = view.session;
    let runner = this.#runners.get(id);
    if (!runner) {
      const internal = this.#gatewayUrl();
      if (!internal) throw new NotSupportedError('This server cannot attach Stagehand to its sessions.');
      runner = new StagehandRunner({
        sessionId: id,
        cdpUrl: async () => {
          const { connect } = await this.#views.retrieve(view.session.projectId, id, internal);
          if (!connect) throw new SessionNotRunningError(id, 'ended');
          return connect.connectUrl;
        },
        logger: this.#logger,
      });
      this.#runners.set(id, runner);
    }
    return runner;
  }

  /**
   * Sends a Stagehand operation to the session's controller, authenticated by the session's connect token, and
   * returns its answer as it is (status, content type, body). A controller that cannot be reached is a 502.
   */
  async #forward(
    view: SessionView,
    operation: string,
    method: 'POST',
    body: Record<string, unknown>,
    headers: Partial<Record<(typeof FORWARDED_HEADERS)[number], string | undefined>>,
  ): Promise<Response> {
    const endpoint = view.session.connectEndpoint?.replace(/^ws/, 'http');
    const token = view.connect?.signingKey;
    if (!endpoint || !token) throw new SessionNotRunningError(view.session.id, view.session.status);
    let response: Response;
    try {
      response = await this.#fetch(`${endpoint}/stagehand/${operation}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          ...Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)),
        },
        body: JSON.stringify(body),
      });
    } catch (error) {
      this.#logger.warn({ sessionId: view.session.id, err: error }, "the session's controller is unreachable");
      throw new ApiError(502, 'controller_unreachable', "The session's browser task could not be reached.");
    }
    if (!response.ok && !response.headers.get('content-type')?.includes('json')) {
      throw new ApiError(502, 'controller_unreachable', `The session's browser task answered ${response.status}.`);
    }
    if (!response.ok) {
      const error = (await response.json()) as { statusCode?: number; code?: string; message?: string };
      throw new ApiError(response.status, error.code ?? 'stagehand_failed', error.message ?? 'The call failed.');
    }
    const type = response.headers.get('content-type') ?? 'application/json';
    return new Response(response.body, {
      status: response.status,
      headers: type.startsWith('text/event-stream') ? EVENT_STREAM_HEADERS : { 'content-type': type },
    });
  }
}
