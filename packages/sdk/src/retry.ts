// When and how long to wait before trying a request again. Same rules as the Stainless-generated
// `@browserbasehq/sdk`, so code moving between the two sees the same behaviour.

/** @default 2 */
export const DEFAULT_MAX_RETRIES = 2;

/** Request header carrying how many times this request has been retried so far (`0` on the first attempt). */
export const RETRY_COUNT_HEADER = 'x-wc-retry-count';

const INITIAL_RETRY_DELAY_SECONDS = 0.5;
const MAX_RETRY_DELAY_SECONDS = 8;
/** Server-requested delays beyond this fall back to backoff rather than parking the caller for minutes. */
const MAX_SERVER_DELAY_MS = 60_000;

/**
 * Whether a failed (non-2xx) response is worth retrying: the server's `x-should-retry: true|false` wins, then
 * 408 (request timeout), 409 (lock conflict), 429 (rate limit) and 5xx are retried.
 */
export function shouldRetry(response: Pick<Response, 'status' | 'headers'>): boolean {
  const verdict = response.headers.get('x-should-retry');
  if (verdict === 'true') return true;
  if (verdict === 'false') return false;
  const { status } = response;
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/**
 * Milliseconds to wait before retry number `retryCount + 1`.
 *
 * Honours `retry-after-ms`, then `retry-after` (seconds or an HTTP date) when they ask for 0 to 60 s (a date in
 * the past means now); otherwise exponential backoff `min(0.5 * 2^retryCount, 8)` s less up to 25 % jitter.
 *
 * @param headers The failed response's headers; `undefined` after a connection error or timeout.
 * @param retryCount Retries already made: 0 before the first.
 */
export function retryDelay(
  headers: Headers | undefined,
  retryCount: number,
  { now = Date.now(), random = Math.random }: { now?: number; random?: () => number } = {},
): number {
  const requested = requestedDelay(headers, now);
  if (requested !== undefined && requested <= MAX_SERVER_DELAY_MS) return requested;
  const seconds = Math.min(INITIAL_RETRY_DELAY_SECONDS * 2 ** retryCount, MAX_RETRY_DELAY_SECONDS);
  // Jitter spreads out clients that failed together so they do not come back in lockstep.
  return seconds * (1 - random() * 0.25) * 1000;
}

function requestedDelay(headers: Headers | undefined, now: number): number | undefined {
  const millis = headers?.get('retry-after-ms');
  if (millis) {
    const value = Number.parseFloat(millis);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const retryAfter = headers?.get('retry-after')?.trim();
  if (!retryAfter) return undefined;
  if (/^\d+(\.\d+)?$/.test(retryAfter)) return Number.parseFloat(retryAfter) * 1000;
  const date = Date.parse(retryAfter);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Waits `ms`, rejecting with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
