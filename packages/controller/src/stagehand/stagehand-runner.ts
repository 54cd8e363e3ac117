import type { LogLine, ModelConfiguration, StagehandMetrics, V3 } from '@browserbasehq/stagehand';
import { type Logger, type StagehandMethod, silentLogger } from '@wallcrawler/contracts';
import { EVENT_STREAM_HEADERS, EventStream, framingFor } from './event-stream.js';

/** The Stagehand calls that run on the server, as their URL names them. */
/** What `/v1/sessions/start` takes for the session's Stagehand (Stagehand's `SessionStartRequest`). */
export interface StagehandStartRequest {
  modelName: string;
  verbose?: 0 | 1 | 2 | undefined;
  systemPrompt?: string | undefined;
  selfHeal?: boolean | undefined;
  domSettleTimeoutMs?: number | undefined;
}

/** A failure the caller made (a bad body, a frame that is no page): its status and code say so. */
export class StagehandCallError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'StagehandCallError';
  }
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

export interface ReplayPage {
  url: string;
  timestamp: number;
  duration: number;
  actions: ReplayAction[];
}

/** The headers of a Stagehand call that decide its answer. */
export interface StagehandCallHeaders {
  modelApiKey?: string | undefined;
  streamResponse?: string | undefined;
  language?: string | undefined;
  sdkVersion?: string | undefined;
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

export interface StagehandRunnerOptions {
  sessionId: string;
  /** The session's connect URL on loopback, where this process's Stagehand attaches as one more CDP client. */
  cdpUrl: () => Promise<string>;
  logger?: Logger;
}

/**
 * One session's Stagehand: a Stagehand 3.7 (the code its clients run locally with `disableAPI`) attached to the
 * session's browser, running the hosted API's calls one at a time so each call's log lines reach its own stream.
 * The model calls go to the endpoint the client names, with the key it sends; keys live only in memory, are
 * scrubbed from the log lines sent back, and are never stored or logged. Runs in the local server and in the
 * controller of an AWS task.
 */
export class StagehandRunner {
  readonly sessionId: string;
  readonly #cdpUrl: () => Promise<string>;
  readonly #logger: Logger;
  #stagehand: Promise<V3> | undefined;
  #sink: ((line: LogLine) => void) | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #secrets = new Set<string>();
  readonly #pages: ReplayPage[] = [];
  #closed = false;

  constructor({ sessionId, cdpUrl, logger = silentLogger }: StagehandRunnerOptions) {
    this.sessionId = sessionId;
    this.#cdpUrl = cdpUrl;
    this.#logger = logger;
  }

  /** Attaches Stagehand to the session (in the background; calls wait for it). Again after a failed attach. */
  attach(request: StagehandStartRequest, modelApiKey?: string): void {
    if (modelApiKey) this.#secrets.add(modelApiKey);
    if (this.#stagehand) return;
    const attaching = this.#attach(request, modelApiKey);
    this.#stagehand = attaching;
    // A failed attach is reported to the call that waits for it; the next call attaches again.
    attaching.catch(() => {
      if (this.#stagehand === attaching) this.#stagehand = undefined;
    });
  }

  /**
   * Runs one call on the page whose main frame is `body.frameId` and returns its result; log lines go to
   * `onLog` as they come.
   */
  call(
    method: StagehandMethod,
    body: Record<string, unknown>,
    modelApiKey: string | undefined,
    onLog: (line: LogLine) => void,
  ): Promise<unknown> {
    if (this.#closed) return Promise.reject(new StagehandCallError(409, 'session_not_running', 'The session ended.'));
    const options = isRecord(body.options) ? body.options : {};
    // An agent names its model in `agentConfig`; the other calls in `options`.
    const agentConfig = isRecord(body.agentConfig) ? body.agentConfig : {};
    const model = modelFor(method === 'agentExecute' ? agentConfig.model : options.model, modelApiKey);
    if (modelApiKey) this.#secrets.add(modelApiKey);
    if (model?.apiKey) this.#secrets.add(model.apiKey);
    this.attach({ modelName: model?.modelName ?? 'openai/gpt-4.1-mini' }, modelApiKey);
    const work = this.#queue.then(async () => {
      this.#sink = (line) => onLog(scrub(line, this.#secrets));
      try {
        return await this.#perform(method, body, options, model);
      } finally {
        this.#sink = undefined;
      }
    });
    this.#queue = work.catch(() => {});
    return work;
  }

  /**
   * A call's HTTP answer: server-sent events framed for the client with `x-stream-response: true`, else one
   * JSON body. In a stream a failure is an `error` event; without one it is thrown (`StagehandCallError`), for
   * the caller to answer in its error body.
   */
  async respond(
    method: StagehandMethod,
    body: Record<string, unknown>,
    headers: StagehandCallHeaders,
  ): Promise<Response> {
    const stream =
      typeof body.streamResponse === 'boolean' ? body.streamResponse : headers.streamResponse?.toLowerCase() === 'true';
    if (!stream) {
      try {
        const result = await this.call(method, body, headers.modelApiKey, () => {});
        return Response.json({ success: true, data: { result } });
      } catch (error) {
        throw asCallError(error);
      }
    }
    const events = new EventStream(framingFor(headers.language, headers.sdkVersion));
    events.write({ type: 'system', data: { status: 'starting' } });
    events.write({ type: 'system', data: { status: 'connected' } });
    this.call(method, body, headers.modelApiKey, (message) =>
      events.write({ type: 'log', data: { status: 'running', message } }),
    )
      .then(
        (result) => events.write({ type: 'system', data: { status: 'finished', result } }),
        (error: unknown) =>
          events.write({ type: 'system', data: { status: 'error', error: asCallError(error).message } }),
      )
      .finally(() => events.close());
    return new Response(events.body, { status: 200, headers: EVENT_STREAM_HEADERS });
  }

  /** The calls made so far, by page, for `await stagehand.metrics`. */
  replay(): { pages: ReplayPage[] } {
    return { pages: this.#pages };
  }

  /** Detaches Stagehand from the session's browser. */
  async close(): Promise<void> {
    this.#closed = true;
    const stagehand = await this.#stagehand?.catch(() => undefined);
    this.#stagehand = undefined;
    await stagehand?.close({ force: true }).catch(() => {});
  }

  async #attach(request: StagehandStartRequest, modelApiKey: string | undefined): Promise<V3> {
    const cdpUrl = await this.#cdpUrl();
    const { V3 } = await import('@browserbasehq/stagehand');
    const stagehand = new V3({
      env: 'LOCAL',
      localBrowserLaunchOptions: { cdpUrl },
      // Without a key the model call fails with the provider's own message; never fall back to this process's env.
      model: { modelName: request.modelName, apiKey: modelApiKey ?? '' },
      verbose: request.verbose ?? 1,
      disablePino: true,
      logger: (line) => this.#sink?.(line),
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
    if (this.#closed) {
      await stagehand.close({ force: true }).catch(() => {});
      throw new StagehandCallError(409, 'session_not_running', 'The session ended.');
    }
    this.#logger.info({ sessionId: this.sessionId }, 'stagehand attached');
    return stagehand;
  }

  async #perform(
    method: StagehandMethod,
    body: Record<string, unknown>,
    options: Record<string, unknown>,
    model: ModelConfig | undefined,
  ): Promise<unknown> {
    const stagehand = await (this.#stagehand ?? Promise.reject(new Error('Stagehand is not attached.')));
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
        const actOptions = { ...common, ...(isRecord(options.variables) ? { variables: options.variables } : {}) };
        result = await (typeof body.input === 'string'
          ? stagehand.act(body.input, actOptions as never)
          : stagehand.act(body.input as never, actOptions as never));
        break;
      }
      case 'extract': {
        const extractOptions = { ...common, ...pick(options, ['selector', 'ignoreSelectors', 'screenshot']) } as never;
        const instruction = typeof body.instruction === 'string' ? body.instruction : undefined;
        if (isRecord(body.schema)) {
          const { jsonSchemaToZod } = await import('@browserbasehq/stagehand');
          result = await stagehand.extract(
            instruction ?? '',
            jsonSchemaToZod(body.schema as never) as never,
            extractOptions,
          );
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
      case 'agentExecute':
        result = await runAgent(stagehand, page, body, model);
        break;
      case 'navigate': {
        if (typeof body.url !== 'string' || body.url === '') {
          throw new StagehandCallError(400, 'validation_failed', 'navigate needs a `url`.');
        }
        const response = await page.goto(body.url, {
          ...(typeof options.waitUntil === 'string' ? { waitUntil: options.waitUntil as never } : {}),
          ...(typeof options.timeout === 'number' ? { timeoutMs: options.timeout } : {}),
        });
        result = serializableResponse(response);
        break;
      }
    }
    const prefix = METRIC_PREFIX[method];
    const tokenUsage = before && prefix ? usageSince(before, await stagehand.metrics, prefix) : undefined;
    const plainResult = plain(result);
    this.#record(page.url(), {
      method,
      parameters: withoutSecrets(body),
      result: plainResult,
      timestamp,
      endTime: Date.now(),
      ...(tokenUsage ? { tokenUsage } : {}),
    });
    return plainResult;
  }

  #record(url: string, action: ReplayAction): void {
    let page = this.#pages.at(-1);
    if (!page || page.url !== url) {
      page = { url, timestamp: action.timestamp, duration: 0, actions: [] };
      this.#pages.push(page);
    }
    page.actions.push(action);
    page.duration = action.endTime - page.timestamp;
  }
}

/**
 * Stagehand's agent loop (DOM mode, or the `mode` asked) on the page, with the client's model: each step's tool
 * calls and reasoning reach the call's stream as Stagehand's own log lines. MCP integrations and CUA need the
 * client's process, as on Browserbase.
 */
async function runAgent(stagehand: V3, page: unknown, body: Record<string, unknown>, model: ModelConfig | undefined) {
  const config = isRecord(body.agentConfig) ? body.agentConfig : {};
  const execute = isRecord(body.executeOptions) ? body.executeOptions : {};
  if (typeof execute.instruction !== 'string' || execute.instruction === '') {
    throw new StagehandCallError(400, 'validation_failed', 'agentExecute needs `executeOptions.instruction`.');
  }
  if (config.cua === true || config.mode === 'cua') {
    throw new StagehandCallError(
      501,
      'not_supported',
      'Computer-use agents (cua) do not run on Wallcrawler; use mode "dom".',
    );
  }
  const agent = stagehand.agent({
    ...(model ? { model: model as ModelConfiguration } : {}),
    ...(typeof config.systemPrompt === 'string' ? { systemPrompt: config.systemPrompt } : {}),
    ...(config.mode === 'dom' || config.mode === 'hybrid' ? { mode: config.mode } : {}),
  } as never);
  return agent.execute({
    ...pick(execute, ['instruction', 'maxSteps', 'highlightCursor', 'toolTimeout', 'excludeTools', 'variables']),
    page,
  } as never);
}

/** A thrown value as a call error: Stagehand's own failures (a model's 401, no element found) keep their message. */
export function asCallError(error: unknown): StagehandCallError {
  if (error instanceof StagehandCallError) return error;
  const message = error instanceof Error && error.message ? error.message : String(error);
  return new StagehandCallError(422, 'stagehand_failed', message);
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
    return { ...option, modelName: option.modelName, apiKey: apiKey ?? '' };
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
    if (Date.now() > deadline) {
      throw new StagehandCallError(404, 'page_not_found', `No page of this session has frame ${frameId}.`);
    }
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
