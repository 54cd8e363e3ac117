import { APIConnectionError, APIConnectionTimeoutError, APIUserAbortError } from './errors.js';
import { RETRY_COUNT_HEADER, retryDelay, shouldRetry } from './retry.js';

/** A `fetch`-compatible function. Called as `fetch(url, init)` with a string URL and a plain init object. */
export type Fetch = (input: string, init: RequestInit) => Promise<Response>;

/** Per-call options accepted as the last argument of every resource method. */
export interface RequestOptions {
  /** Aborts the call, including any retry still waiting; it then rejects with `APIUserAbortError`. */
  signal?: AbortSignal | undefined;
  /**
   * Milliseconds each attempt may take, body included, before it is abandoned (and retried).
   * @default the client's `timeout`
   */
  timeout?: number | undefined;
  /**
   * Retries after a retryable failure.
   * @default the client's `maxRetries`
   */
  maxRetries?: number | undefined;
  /** Extra headers for this call; `null` removes a header the client would send. */
  headers?: Record<string, string | null | undefined> | undefined;
}

/** What every attempt of every request shares. */
export interface TransportConfig {
  fetch: Fetch;
  /** Milliseconds per attempt. */
  timeout: number;
  maxRetries: number;
  /** Waits between attempts; rejects with the signal's reason when it aborts. */
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
}

// Statuses whose responses must be built with a null body.
const NULL_BODY_STATUSES = new Set([204, 205, 304]);

/**
 * Sends `request`, retrying connection errors, timeouts and retryable statuses (see `shouldRetry`). Resolves with
 * the final response, successful or not, its body already read; rejects with `APIConnectionError`,
 * `APIConnectionTimeoutError` or `APIUserAbortError`.
 *
 * @param overrides Per-call `signal`, `timeout` and `maxRetries`; without a `signal`, the request's own is used.
 */
export async function send(
  request: Request,
  config: TransportConfig,
  overrides: Pick<RequestOptions, 'signal' | 'timeout' | 'maxRetries'> = {},
): Promise<Response> {
  const signal = overrides.signal ?? request.signal;
  const timeout = overrides.timeout ?? config.timeout;
  const maxRetries = overrides.maxRetries ?? config.maxRetries;
  // A Request body can be read once; keeping the bytes lets every attempt send it again. (Bytes, not text:
  // a multipart upload carries binary files.)
  const body = request.body === null ? undefined : await request.arrayBuffer();

  for (let retryCount = 0; ; retryCount++) {
    if (signal.aborted) throw new APIUserAbortError({ cause: signal.reason });

    const headers = new Headers(request.headers);
    headers.set(RETRY_COUNT_HEADER, String(retryCount));
    // Only fields every runtime accepts: Cloudflare Workers, for one, throws on `credentials` and `mode`.
    const init: RequestInit = { method: request.method, headers, redirect: request.redirect };
    if (body !== undefined) init.body = body;

    let response: Response;
    try {
      response = await attempt(config.fetch, request.url, init, timeout, signal);
    } catch (error) {
      if (signal.aborted) throw new APIUserAbortError({ cause: signal.reason });
      const failure =
        error instanceof APIConnectionTimeoutError
          ? error
          : new APIConnectionError({ message: connectionMessage(error), cause: error });
      if (retryCount >= maxRetries) throw failure;
      await pause(config, retryDelay(undefined, retryCount), signal);
      continue;
    }

    if (response.ok || retryCount >= maxRetries || !shouldRetry(response)) return response;
    await pause(config, retryDelay(response.headers, retryCount), signal);
  }
}

/**
 * One attempt, bounded by `timeout` and the caller's `signal`. The body is read inside the bound so a server that
 * stalls mid-body times out like one that never answers.
 */
async function attempt(
  fetch: Fetch,
  url: string,
  init: RequestInit,
  timeout: number,
  signal: AbortSignal,
): Promise<Response> {
  const controller = new AbortController();
  const onCallerAbort = () => controller.abort(signal.reason);
  signal.addEventListener('abort', onCallerAbort, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeout);
  // Racing the abort, rather than trusting `fetch` to honour the signal, bounds custom fetches that ignore it.
  const aborted = new Promise<never>((_, reject) => {
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
  });

  const exchange = async () => {
    const response = await fetch(url, { ...init, signal: controller.signal });
    const bytes = await response.arrayBuffer();
    return new Response(NULL_BODY_STATUSES.has(response.status) ? null : bytes, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };

  try {
    return await Promise.race([exchange(), aborted]);
  } catch (error) {
    if (timedOut && !signal.aborted) {
      throw new APIConnectionTimeoutError({ message: `Request timed out after ${timeout} ms.` });
    }
    throw error;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onCallerAbort);
  }
}

async function pause(config: TransportConfig, ms: number, signal: AbortSignal): Promise<void> {
  try {
    await config.sleep(ms, signal);
  } catch (error) {
    if (signal.aborted) throw new APIUserAbortError({ cause: signal.reason });
    throw error;
  }
}

function connectionMessage(error: unknown): string {
  const detail = error instanceof Error ? error.message : undefined;
  return detail ? `Connection error: ${detail}` : 'Connection error.';
}
