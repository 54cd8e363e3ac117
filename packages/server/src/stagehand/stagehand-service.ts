import type { LogLine, ModelConfiguration, StagehandMetrics, V3 } from '@browserbasehq/stagehand';
import { type Logger, silentLogger } from '@wallcrawler/controller';
import { NotSupportedError, SessionNotRunningError } from '../domain/errors.js';
import { ApiError } from '../http/api-error.js';
import type { CreateSessionInput, SessionService } from '../services/session-service.js';

/** The Stagehand calls that run on the server, as their URL names them. */
export type StagehandMethod = 'act' | 'extract' | 'observe' | 'navigate' | 'agentExecute';

/** What `/v1/sessions/start` takes (Stagehand's `SessionStartRequest`; the rest is accepted and unused). */
export interface StartRequest {
  modelName: string;
  verbose?: 0 | 1 | 2 | undefined;
  systemPrompt?: string | undefined;
  selfHeal?: boolean | undefined;
  domSettleTimeoutMs?: number | undefined;
  browserbaseSessionID?: string | undefined;
}

export interface StartResult {
  sessionId: string;
  available: boolean;
  cdpUrl: string | null;
}

/** One call, for `GET /v1/sessions/{id}/replay` (Stagehand's `ReplayAction`). */
interface ReplayAction {
  method: StagehandMethod;
  parameters: unknown;
  result: unknown;
  timestamp: number;
  endTime: number;
  tokenUsage?: {
    inputTokens: number;
    outputTokens: number;
    reasoningTokens: number;
    cachedInputTokens: number;
    timeMs: number;
  };
}

interface ReplayPage {
  url: string;
  timestamp: number;
  duration: number;
  actions: ReplayAction[];
}

/** A Stagehand instance of this server's, attached to one session's browser through the connect gateway. */
interface Run {
  sessionId: string;
  stagehand: Promise<V3>;
  /** Where the current call's log lines go. */
  sink: ((line: LogLine) => void) | undefined;
  /** Calls run one at a time, so each call's log lines reach its own stream. */
  queue: Promise<unknown>;
  /** Model keys seen on this run, scrubbed from every log line sent out. */
  secrets: Set<string>;
  pages: ReplayPage[];
  closed: boolean;
}

export interface StagehandServiceOptions {
  sessions: SessionService;
  /**
   * The base URL (`http://127.0.0.1:<port>`) at which this process reaches its own connect gateway. Undefined
   * where sessions' browsers run elsewhere (AWS): the Stagehand routes then answer 501.
   */
  gatewayUrl: () => string | undefined;
  logger?: Logger;
}

/** How long a call waits for the page its `frameId` names to appear (the client may have just opened it). */
const PAGE_WAIT_MS = 5_000;

/** The per-method token counters of Stagehand's metrics. */
const METRIC_PREFIX: Partial<Record<StagehandMethod, string>> = {
  act: 'act',
  extract: 'extract',
  observe: 'observe',
  agentExecute: 'agent',
};

/**
 * Stagehand's hosted API (`/v1/sessions/start`, `act`, `extract`, `observe`, `navigate`, `end`, `replay`) served
 * by running Stagehand itself on the server, attached to the session's browser as one more CDP client. The model
 * calls go to the endpoint the client names, with the key it sends; the key lives only in memory for the call
 * (and the run's default model), and is never stored or logged.
 */
export class StagehandService {
  readonly #sessions: SessionService;
  readonly #gatewayUrl: () => string | undefined;
  readonly #logger: Logger;
  readonly #runs = new Map<string, Run>();

  constructor({ sessions, gatewayUrl, logger = silentLogger }: StagehandServiceOptions) {
    this.#sessions = sessions;
    this.#gatewayUrl = gatewayUrl;
    this.#logger = logger;
    sessions.onEnded((sessionId) => void this.#dispose(sessionId));
  }

  /**
   * Creates a session (or adopts `browserbaseSessionID`) and attaches Stagehand to it.
   * @throws SessionNotFoundError / SessionNotRunningError for an adopted session that cannot be used
   */
  async start(
    projectId: string,
    request: StartRequest,
    createInput: CreateSessionInput,
    modelApiKey: string | undefined,
    publicGatewayUrl: string,
  ): Promise<StartResult> {
    const internal = this.#internalUrl();
    const view = request.browserbaseSessionID
      ? await this.#sessions.retrieve(projectId, request.browserbaseSessionID, publicGatewayUrl)
      : await this.#sessions.create(projectId, createInput, publicGatewayUrl);
    const { session, connect } = view;
    if (!connect) throw new SessionNotRunningError(session.id, session.status);
    if (!this.#runs.has(session.id)) this.#open(projectId, session.id, internal, request, modelApiKey);
    return { sessionId: session.id, available: true, cdpUrl: connect.connectUrl };
  }

  /**
   * Runs one call on the session's page and returns its result; log lines go to `onLog` as they come.
   * @throws SessionNotFoundError (404) before anything runs; the call's own failures reject the promise
   */
  async call(
    projectId: string,
    sessionId: string,
    method: StagehandMethod,
    body: Record<string, unknown>,
    modelApiKey: string | undefined,
    onLog: (line: LogLine) => void,
  ): Promise<unknown> {
    const internal = this.#internalUrl();
    const { session } = await this.#sessions.retrieve(projectId, sessionId, internal);
    if (session.status !== 'RUNNING') throw new SessionNotRunningError(sessionId, session.status);
    const options = (body.options ?? {}) as Record<string, unknown>;
    const model = modelFor(options.model, modelApiKey);
    const run =
      this.#runs.get(sessionId) ??
      this.#open(projectId, sessionId, internal, { modelName: model?.modelName ?? 'openai/gpt-4.1-mini' }, modelApiKey);
    if (modelApiKey) run.secrets.add(modelApiKey);
    if (model?.apiKey) run.secrets.add(model.apiKey);
    const work = run.queue.then(async () => {
      run.sink = (line) => onLog(scrub(line, run.secrets));
      try {
        return await this.#perform(run, method, body, options, model);
      } finally {
        run.sink = undefined;
      }
    });
    run.queue = work.catch(() => {});
    return work;
  }

  /**
   * @throws SessionNotFoundError / SessionNotRunningError when no call can run on the session; NotSupportedError
   *   where this server cannot attach to its browsers
   */
  async check(projectId: string, sessionId: string): Promise<void> {
    const { session } = await this.#sessions.retrieve(projectId, sessionId, this.#internalUrl());
    if (session.status !== 'RUNNING') throw new SessionNotRunningError(sessionId, session.status);
  }

  /** Detaches Stagehand and releases the session (Stagehand's `close()` without keepAlive). */
  async end(projectId: string, sessionId: string): Promise<void> {
    await this.#sessions.retrieve(projectId, sessionId, this.#internalUrl());
    await this.#dispose(sessionId);
    await this.#sessions.release(projectId, sessionId);
  }

  /** The calls made so far, by page, for `await stagehand.metrics`. */
  async replay(projectId: string, sessionId: string): Promise<{ pages: ReplayPage[] }> {
    await this.#sessions.retrieve(projectId, sessionId, this.#internalUrl());
    return { pages: this.#runs.get(sessionId)?.pages ?? [] };
  }

  #internalUrl(): string {
    const url = this.#gatewayUrl();
    if (!url) {
      throw new NotSupportedError(
        "This deployment does not serve Stagehand's API yet (its browsers run in their own tasks). Use Stagehand with disableAPI: true.",
      );
    }
    return url;
  }

  #open(projectId: string, sessionId: string, internal: string, request: StartRequest, modelApiKey?: string): Run {
    const run: Run = {
      sessionId,
      stagehand: Promise.resolve(undefined as unknown as V3),
      sink: undefined,
      queue: Promise.resolve(),
      secrets: new Set(modelApiKey ? [modelApiKey] : []),
      pages: [],
      closed: false,
    };
    run.stagehand = this.#attach(projectId, run, internal, request, modelApiKey);
    // A failed attach is reported to the call that waits for it; the next call opens a new run.
    run.stagehand.catch(() => {
      if (this.#runs.get(sessionId) === run) this.#runs.delete(sessionId);
    });
    this.#runs.set(sessionId, run);
    return run;
  }

  async #attach(
    projectId: string,
    run: Run,
    internal: string,
    request: StartRequest,
    modelApiKey: string | undefined,
  ): Promise<V3> {
    const { connect } = await this.#sessions.retrieve(projectId, run.sessionId, internal);
    if (!connect) throw new SessionNotRunningError(run.sessionId, 'ended');
    const { V3 } = await import('@browserbasehq/stagehand');
    const stagehand = new V3({
      env: 'LOCAL',
      localBrowserLaunchOptions: { cdpUrl: connect.connectUrl },
      // Without a key the model call fails with the provider's own message; never fall back to this server's env.
      model: { modelName: request.modelName, apiKey: modelApiKey ?? '' },
      verbose: request.verbose ?? 1,
      disablePino: true,
      logger: (line) => run.sink?.(line),
      ...(request.systemPrompt ? { systemPrompt: request.systemPrompt } : {}),
      ...(request.selfHeal !== undefined ? { selfHeal: request.selfHeal } : {}),
      ...(request.domSettleTimeoutMs !== undefined ? { domSettleTimeout: request.domSettleTimeoutMs } : {}),
    });
    try {
      await stagehand.init();
    } catch (error) {
      await stagehand.close({ force: true }).catch(() => {});
      throw error;
    }
    if (run.closed) {
      await stagehand.close({ force: true }).catch(() => {});
      throw new SessionNotRunningError(run.sessionId, 'ended');
    }
    this.#logger.info({ sessionId: run.sessionId }, 'stagehand attached');
    return stagehand;
  }

  async #perform(
    run: Run,
    method: StagehandMethod,
    body: Record<string, unknown>,
    options: Record<string, unknown>,
    model: ModelConfig | undefined,
  ): Promise<unknown> {
    const stagehand = await run.stagehand;
    const page = await pageFor(stagehand, body.frameId);
    // Stagehand updates its metrics object in place: keep a copy.
    const before = METRIC_PREFIX[method] ? { ...(await stagehand.metrics) } : undefined;
    const timestamp = Date.now();
    const common = {
      page,
      ...(model ? { model: model as ModelConfiguration } : {}),
      ...(typeof options.timeout === 'number' ? { timeout: options.timeout } : {}),
    };
    let result: unknown;
    switch (method) {
      case 'act': {
        const input = body.input;
        const actOptions = { ...common, ...(isRecord(options.variables) ? { variables: options.variables } : {}) };
        result = await (typeof input === 'string'
          ? stagehand.act(input, actOptions as never)
          : stagehand.act(input as never, actOptions as never));
        break;
      }
      case 'extract': {
        const extractOptions = {
          ...common,
          ...pick(options, ['selector', 'ignoreSelectors', 'screenshot']),
        } as never;
        const instruction = typeof body.instruction === 'string' ? body.instruction : undefined;
        if (isRecord(body.schema)) {
          const { jsonSchemaToZod } = await import('@browserbasehq/stagehand');
          const schema = jsonSchemaToZod(body.schema as never);
          result = await stagehand.extract(instruction ?? '', schema as never, extractOptions);
        } else if (instruction) {
          result = await stagehand.extract(instruction, extractOptions);
        } else {
          result = await stagehand.extract(extractOptions);
        }
        break;
      }
      case 'observe': {
        const observeOptions = {
          ...common,
          ...pick(options, ['selector', 'ignoreSelectors']),
          ...(isRecord(options.variables) ? { variables: options.variables } : {}),
        } as never;
        result = await (typeof body.instruction === 'string'
          ? stagehand.observe(body.instruction, observeOptions)
          : stagehand.observe(observeOptions));
        break;
      }
      case 'navigate': {
        if (typeof body.url !== 'string' || body.url === '') {
          throw new ApiError(400, 'validation_failed', 'navigate needs a `url`.');
        }
        const response = await page.goto(body.url, {
          ...(typeof options.waitUntil === 'string' ? { waitUntil: options.waitUntil as never } : {}),
          ...(typeof options.timeout === 'number' ? { timeoutMs: options.timeout } : {}),
        });
        result = serializableResponse(response);
        break;
      }
      case 'agentExecute':
        throw new NotSupportedError(
          'agentExecute does not run on Wallcrawler yet; run the agent in your own process (Stagehand with disableAPI: true).',
        );
    }
    const tokenUsage = before ? usageSince(before, await stagehand.metrics, METRIC_PREFIX[method] ?? '') : undefined;
    record(run, page.url(), {
      method,
      parameters: withoutSecrets(body),
      result: plain(result),
      timestamp,
      endTime: Date.now(),
      ...(tokenUsage ? { tokenUsage } : {}),
    });
    return plain(result);
  }

  async #dispose(sessionId: string): Promise<void> {
    const run = this.#runs.get(sessionId);
    if (!run) return;
    this.#runs.delete(sessionId);
    run.closed = true;
    const stagehand = await run.stagehand.catch(() => undefined);
    await stagehand?.close({ force: true }).catch(() => {});
  }
}

interface ModelConfig {
  modelName: string;
  apiKey?: string;
  [key: string]: unknown;
}

/** The call's model (a name or a config object), with the `x-model-api-key` key when it carries none. */
function modelFor(option: unknown, modelApiKey: string | undefined): ModelConfig | undefined {
  if (typeof option === 'string' && option !== '') {
    return { modelName: option, ...(modelApiKey ? { apiKey: modelApiKey } : {}) };
  }
  if (isRecord(option) && typeof option.modelName === 'string') {
    const apiKey = typeof option.apiKey === 'string' && option.apiKey !== '' ? option.apiKey : modelApiKey;
    return { ...option, modelName: option.modelName, ...(apiKey ? { apiKey } : { apiKey: '' }) };
  }
  return undefined;
}

/** The page whose main frame is `frameId`, waiting briefly for it; the active page without one. */
async function pageFor(stagehand: V3, frameId: unknown) {
  const context = stagehand.context;
  if (typeof frameId !== 'string' || frameId === '') return context.awaitActivePage(PAGE_WAIT_MS);
  const deadline = Date.now() + PAGE_WAIT_MS;
  for (;;) {
    const page = context.resolvePageByMainFrameId(frameId);
    if (page) return page;
    if (Date.now() > deadline)
      throw new ApiError(404, 'page_not_found', `No page of this session has frame ${frameId}.`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Stagehand's `SerializableResponse` of a navigation (the client rebuilds its `Response` from it), or null. */
function serializableResponse(response: unknown): unknown {
  if (!isRecord(response) || typeof response.requestId !== 'string') return null;
  return {
    requestId: response.requestId,
    frameId: response.frameId,
    loaderId: response.loaderId,
    response: response.response,
    fromServiceWorkerFlag: response.fromServiceWorkerFlag ?? false,
    finishedSettled: response.finishedSettled ?? false,
    extraInfoHeaders: response.extraInfoHeaders ?? null,
    extraInfoHeadersText: response.extraInfoHeadersText,
  };
}

function usageSince(before: StagehandMetrics, after: StagehandMetrics, prefix: string): ReplayAction['tokenUsage'] {
  const delta = (name: string) =>
    ((after as unknown as Record<string, number>)[`${prefix}${name}`] ?? 0) -
    ((before as unknown as Record<string, number>)[`${prefix}${name}`] ?? 0);
  return {
    inputTokens: delta('PromptTokens'),
    outputTokens: delta('CompletionTokens'),
    reasoningTokens: delta('ReasoningTokens'),
    cachedInputTokens: delta('CachedInputTokens'),
    timeMs: delta('InferenceTimeMs'),
  };
}

function record(run: Run, url: string, action: ReplayAction): void {
  let page = run.pages.at(-1);
  if (!page || page.url !== url) {
    page = { url, timestamp: action.timestamp, duration: 0, actions: [] };
    run.pages.push(page);
  }
  page.actions.push(action);
  page.duration = action.endTime - page.timestamp;
}

/** The call's body as kept for replay: without any model key. */
function withoutSecrets(body: Record<string, unknown>): unknown {
  return JSON.parse(JSON.stringify(body, (key, value) => (key === 'apiKey' ? undefined : value)));
}

/** A result as JSON data (drops Stagehand's `cacheStatus` and anything not serialisable). */
function plain(value: unknown): unknown {
  if (value === undefined) return null;
  return JSON.parse(JSON.stringify(value, (key, v) => (key === 'cacheStatus' ? undefined : v)));
}

/** A log line with every model key replaced, whatever field it hides in. */
function scrub(line: LogLine, secrets: ReadonlySet<string>): LogLine {
  let json = JSON.stringify(line);
  for (const secret of secrets) if (secret.length >= 4) json = json.replaceAll(secret, '[redacted]');
  return JSON.parse(json) as LogLine;
}

function pick(source: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => source[k] !== undefined).map((k) => [k, source[k]]));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
