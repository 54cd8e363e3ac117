import { type Logger, silentLogger } from '@wallcrawler/contracts';
import { ModelUnreachableError } from '../domain/errors.js';
import { chatToResponsesAnswer, chatToResponsesStream } from './chat-to-responses.js';
import type { ModelEndpoints, ResolvedModelEndpoint } from './model-endpoint.js';
import { responsesToChatRequest } from './responses-to-chat.js';

type Json = Record<string, unknown>;

export interface ModelGatewayOptions {
  endpoints: ModelEndpoints;
  logger?: Logger;
  /** How long the endpoint may take to start answering (a stream may then take longer). @default 120 s */
  headersTimeoutMs?: number;
}

/** The model Stagehand 4 asks for when the client names none. */
const AUTO = 'auto';

/**
 * Stagehand 4's model gateway (`POST /v1/llm/responses`): an OpenAI Responses request, sent to the project's model
 * endpoint with `"auto"` mapped to its model, and answered in the Responses format, streamed when asked, whether
 * the endpoint speaks Responses or only Chat Completions. The key is sent to the endpoint and nowhere else.
 */
export class ModelGateway {
  readonly #endpoints: ModelEndpoints;
  readonly #logger: Logger;
  readonly #headersTimeoutMs: number;

  constructor({ endpoints, logger = silentLogger, headersTimeoutMs = 120_000 }: ModelGatewayOptions) {
    this.#endpoints = endpoints;
    this.#logger = logger;
    this.#headersTimeoutMs = headersTimeoutMs;
  }

  /**
   * For callers that would do work before their model call (a fetch's page load): fails as `responses` would.
   * @throws ModelNotConfiguredError when the project and the server have no model endpoint
   */
  async ensureConfigured(projectId: string): Promise<void> {
    await this.#endpoints.resolve(projectId);
  }

  /**
   * @throws ModelNotConfiguredError when the project and the server have no model endpoint
   * @throws ModelUnreachableError when the endpoint cannot be reached or answers with an error
   */
  async responses(projectId: string, body: Json, signal?: AbortSignal): Promise<Response> {
    const endpoint = await this.#endpoints.resolve(projectId);
    const model = body.model === undefined || body.model === '' || body.model === AUTO ? endpoint.model : body.model;
    const request = { ...body, model };
    const chat = endpoint.api === 'chat';
    const upstream = await this.#send(
      endpoint,
      chat ? 'chat/completions' : 'responses',
      chat ? responsesToChatRequest(request) : request,
      signal,
    );
    const streamed = body.stream === true && (upstream.headers.get('content-type') ?? '').includes('text/event-stream');
    if (streamed && upstream.body) {
      const events = chat ? chatToResponsesStream(upstream.body) : upstream.body;
      return new Response(events, {
        status: 200,
        headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
      });
    }
    let answer: Json;
    try {
      answer = (await upstream.json()) as Json;
    } catch (error) {
      throw new ModelUnreachableError(
        `The model endpoint at ${endpoint.baseUrl} answered ${upstream.status} with a body that is not JSON.`,
        upstream.status,
        { cause: error },
      );
    }
    return Response.json(chat ? chatToResponsesAnswer(answer) : answer);
  }

  async #send(endpoint: ResolvedModelEndpoint, path: string, body: Json, signal?: AbortSignal): Promise<Response> {
    const url = `${endpoint.baseUrl}/${path}`;
    const abort = new AbortController();
    const timer = setTimeout(
      () => abort.abort(new Error(`no answer in ${this.#headersTimeoutMs} ms`)),
      this.#headersTimeoutMs,
    );
    const onClientGone = () => abort.abort(new Error('the client went away'));
    signal?.addEventListener('abort', onClientGone, { once: true });
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: body.stream === true ? 'text/event-stream' : 'application/json',
          ...(endpoint.apiKey ? { authorization: `Bearer ${endpoint.apiKey}` } : {}),
        },
        body: JSON.stringify(body),
        signal: abort.signal,
      });
    } catch (error) {
      signal?.removeEventListener('abort', onClientGone);
      const reason = abort.signal.aborted ? String((abort.signal.reason as Error)?.message) : causeOf(error);
      this.#logger.warn({ url, reason }, 'model endpoint unreachable');
      throw new ModelUnreachableError(
        `The model endpoint at ${endpoint.baseUrl} could not be reached: ${reason}.`,
        undefined,
        { cause: error },
      );
    } finally {
      clearTimeout(timer);
    }
    if (response.ok) return response;
    signal?.removeEventListener('abort', onClientGone);
    const said = redact(await upstreamMessage(response), endpoint.apiKey);
    this.#logger.warn({ url, status: response.status }, 'model endpoint failed');
    throw new ModelUnreachableError(
      `The model endpoint at ${endpoint.baseUrl} answered ${response.status}${said ? `: ${said}` : '.'}`,
      response.status,
    );
  }
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

/** The endpoint's own error message (OpenAI's `{error: {message}}`, or the text), cut short. */
async function upstreamMessage(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  let message = text;
  try {
    const json = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    const error = json.error;
    message = String((typeof error === 'object' ? error?.message : error) ?? json.message ?? text);
  } catch {
    // Not JSON: the text itself.
  }
  return message.replace(/\s+/g, ' ').trim().slice(0, 300);
}

/** The key never travels back to the client, even quoted in the endpoint's message. */
const redact = (message: string, apiKey: string | undefined) =>
  apiKey ? message.replaceAll(apiKey, '[redacted]') : message;
