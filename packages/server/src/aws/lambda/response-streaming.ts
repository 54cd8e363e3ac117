/**
 * The API function as a streaming Lambda function: API Gateway's REST API invokes it with
 * `InvokeWithResponseStream` (integration response transfer mode `STREAM`), so what the app answers reaches the
 * client as it is written: Stagehand's server-sent events as they happen, a call longer than 29 s, a body
 * larger than 6 MB. The response starts with the prelude Lambda's `HttpResponseStream.from` writes (status,
 * headers, cookies), then the body.
 */
import { STATUS_CODES } from 'node:http';
import type { Writable } from 'node:stream';
import { type Logger, silentLogger } from '@wallcrawler/contracts';
import { DomainError } from '../../domain/errors.js';
import { requestIdOf } from '../../middleware/request-context.js';

/** What Lambda's Node.js runtime hands a streaming handler to write its answer to. */
export type ResponseStream = Writable & { setContentType(type: string): void };

/** The status, headers and cookies `HttpResponseStream.from` sends before the body. */
export interface HttpResponsePrelude {
  statusCode: number;
  headers: Record<string, string>;
  cookies: string[];
}

/** The `awslambda` global of Lambda's Node.js runtime (only the parts used here). */
export interface AwsLambdaRuntime {
  streamifyResponse<H extends StreamingHandler>(handler: H): H;
  HttpResponseStream: { from(stream: ResponseStream, prelude: HttpResponsePrelude): ResponseStream };
}

declare global {
  // Provided by Lambda's Node.js runtime (and by the local front door in tests). The AWS SDK also puts an object
  // of its own there, without these.
  var awslambda: Partial<AwsLambdaRuntime> | undefined;
}

export type StreamingHandler = (
  event: unknown,
  responseStream: ResponseStream,
  context: { awsRequestId?: string },
) => Promise<void>;

/** The REST API's Lambda proxy event (payload 1.0): the fields read here. */
interface RestApiEvent {
  httpMethod: string;
  path: string;
  multiValueHeaders?: Record<string, string[] | undefined> | null;
  headers?: Record<string, string | undefined> | null;
  multiValueQueryStringParameters?: Record<string, string[] | undefined> | null;
  body?: string | null;
  isBase64Encoded?: boolean;
}

function isRestApiEvent(event: unknown): event is RestApiEvent {
  const e = event as Partial<RestApiEvent> | null;
  return typeof e?.httpMethod === 'string' && typeof e.path === 'string';
}

/** The `Request` a REST API proxy event describes. */
export function requestFromRestEvent(event: RestApiEvent): Request {
  const headers = new Headers();
  for (const [name, values] of Object.entries(event.multiValueHeaders ?? {}))
    for (const value of values ?? []) headers.append(name, value);
  if (!event.multiValueHeaders)
    for (const [name, value] of Object.entries(event.headers ?? {})) if (value !== undefined) headers.set(name, value);
  const url = new URL(event.path, `https://${headers.get('host') ?? 'localhost'}`);
  for (const [name, values] of Object.entries(event.multiValueQueryStringParameters ?? {}))
    for (const value of values ?? []) url.searchParams.append(name, value);
  const method = event.httpMethod.toUpperCase();
  const body =
    event.body === undefined || event.body === null || method === 'GET' || method === 'HEAD'
      ? undefined
      : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
  return new Request(url, { method, headers, ...(body ? { body } : {}) });
}

/** The one error body, for the few answers given outside the app (no configuration, an event that is no request). */
function errorAnswer(status: number, code: string, message: string, requestId: string, retryAfter?: number) {
  const body = { statusCode: status, error: STATUS_CODES[status] ?? 'Error', code, message, requestId };
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      'content-type': 'application/json',
      'x-request-id': requestId,
      ...(retryAfter !== undefined ? { 'retry-after': String(retryAfter) } : {}),
    },
  });
}

/**
 * How long an event stream may stay silent before it gets a comment line (which every SSE client skips): CloudFront
 * cuts an answer silent for its origin response timeout (60 s in the stack), and a model may think longer.
 */
export const EVENT_STREAM_HEARTBEAT_MS = 20_000;
const HEARTBEAT = ': keep-alive\n\n';

/** The reader's next chunk, or `'silent'` when none came within `ms` (the read stays pending). */
function nextOrSilence<T>(next: Promise<T>, ms: number | undefined): Promise<T | 'silent'> {
  if (ms === undefined) return next;
  let timer: NodeJS.Timeout | undefined;
  const silence = new Promise<'silent'>((resolve) => {
    timer = setTimeout(() => resolve('silent'), ms);
  });
  return Promise.race([next, silence]).finally(() => clearTimeout(timer));
}

/** Until `out` can take more, or is gone (the client went away): `drain` alone would never come then. */
function writable(out: Writable): Promise<void> {
  return new Promise((resolve) => {
    if (out.destroyed) return resolve();
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
  });
}

/**
 * Writes `response` to Lambda's response stream: the prelude, then each chunk of the body as it comes, waiting
 * when the stream is full; an event stream silent for `EVENT_STREAM_HEARTBEAT_MS` gets a comment line. A body
 * that fails half-way (the browser's task went away) ends the stream there.
 */
export async function writeResponse(response: Response, stream: ResponseStream, logger: Logger): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value;
  });
  const out = globalThis.awslambda?.HttpResponseStream?.from(stream, {
    statusCode: response.status,
    headers,
    cookies: response.headers.getSetCookie(),
  });
  if (!out) throw new Error('Not in a Lambda Node.js runtime: there is no awslambda.HttpResponseStream.');
  try {
    // The prelude goes out with the first write, so a response without a body still writes once.
    if (!out.write('')) await writable(out);
    const reader = response.body?.getReader();
    const heartbeat = response.headers.get('content-type')?.startsWith('text/event-stream')
      ? EVENT_STREAM_HEARTBEAT_MS
      : undefined;
    let next = reader?.read();
    while (next && !out.destroyed) {
      const read = await nextOrSilence(next, heartbeat);
      if (read !== 'silent' && read.done) break;
      const chunk = read === 'silent' ? HEARTBEAT : read.value;
      if (read !== 'silent') next = reader?.read();
      if (!out.write(chunk)) await writable(out);
    }
    // The client went away: stop what produces the body (a forwarded call's stream, a download).
    if (out.destroyed) await reader?.cancel().catch(() => {});
  } catch (error) {
    logger.warn({ err: error }, 'the response body failed while it streamed; the answer ends here');
  } finally {
    out.end();
  }
}

/**
 * The API function's handler: each REST API event becomes a `Request` for the app `app()` builds (on first use),
 * and the app's answer is streamed back. What fails before the app answers is still one of our error bodies:
 * a dependency that cannot be reached is a 503 with `Retry-After`, anything else a 500.
 */
export function streamingApiHandler(
  app: () => Promise<{ fetch(request: Request): Response | Promise<Response> }>,
  logger: Logger = silentLogger,
): StreamingHandler {
  return async (event, responseStream, context) => {
    let response: Response;
    const requestId = requestIdOf(context.awsRequestId);
    if (!isRestApiEvent(event)) {
      response = errorAnswer(400, 'invalid_event', 'The function takes API Gateway REST API proxy events.', requestId);
    } else {
      try {
        const request = requestFromRestEvent(event);
        response = await (await app()).fetch(request);
      } catch (error) {
        logger.error({ err: error, requestId }, 'the API could not answer');
        const retryAfter = (error as { retryAfterSeconds?: number }).retryAfterSeconds;
        response =
          error instanceof DomainError && retryAfter !== undefined
            ? errorAnswer(503, error.code, error.message, requestId, retryAfter)
            : errorAnswer(
                500,
                'internal_error',
                'The server failed to handle the request. Quote the requestId when reporting it.',
                requestId,
              );
      }
    }
    await writeResponse(response, responseStream, logger);
  };
}
