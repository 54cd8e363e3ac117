import { describe, expect, it } from 'vitest';
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  BadRequestError,
  InternalServerError,
  RateLimitError,
  Wallcrawler,
} from '../src/index.js';
import { retryDelay, shouldRetry, sleep } from '../src/retry.js';
import { errorBody, fakeFetch, hang, json, session, testClient } from './fake-fetch.js';

const ok = () => json([session]);
const failing = (status: number, headers: Record<string, string> = {}) =>
  json(errorBody(status, 'failed'), status, headers);

describe('which failures are retried', () => {
  it.each([408, 409, 429, 500, 502, 503, 504])('retries %i up to maxRetries, then throws', async (status) => {
    const { fetch, requests } = fakeFetch(failing(status));
    const client = testClient(fetch);
    const error = await client.sessions.list().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(status);
    expect(requests).toHaveLength(3);
    expect(requests.map((request) => request.headers.get('x-wc-retry-count'))).toEqual(['0', '1', '2']);
    expect(client.sleeps).toHaveLength(2);
  });

  it.each([400, 401, 403, 404, 413, 415, 422])('does not retry %i', async (status) => {
    const { fetch, requests } = fakeFetch(failing(status));
    const client = testClient(fetch);
    await expect(client.sessions.list()).rejects.toBeInstanceOf(APIError);
    expect(requests).toHaveLength(1);
    expect(client.sleeps).toHaveLength(0);
  });

  it('resolves with the first success', async () => {
    const { fetch, requests } = fakeFetch(failing(503), failing(429), ok());
    expect(await testClient(fetch).sessions.list()).toEqual([session]);
    expect(requests).toHaveLength(3);
  });

  it('obeys x-should-retry over the status', async () => {
    const forced = fakeFetch(failing(400, { 'x-should-retry': 'true' }), ok());
    expect(await testClient(forced.fetch).sessions.list()).toEqual([session]);
    expect(forced.requests).toHaveLength(2);

    const vetoed = fakeFetch(failing(503, { 'x-should-retry': 'false' }), ok());
    await expect(testClient(vetoed.fetch).sessions.list()).rejects.toBeInstanceOf(InternalServerError);
    expect(vetoed.requests).toHaveLength(1);
  });

  it('takes maxRetries from the client, then from the call', async () => {
    const none = fakeFetch(failing(500));
    await expect(testClient(none.fetch, { maxRetries: 0 }).sessions.list()).rejects.toBeInstanceOf(APIError);
    expect(none.requests).toHaveLength(1);

    const more = fakeFetch(failing(500));
    await expect(testClient(more.fetch).sessions.list({}, { maxRetries: 4 })).rejects.toBeInstanceOf(APIError);
    expect(more.requests).toHaveLength(5);
  });

  it('sends the same request on every attempt', async () => {
    const { fetch, requests } = fakeFetch(failing(502), json({ ...session, connectUrl: 'ws://x' }, 201));
    await testClient(fetch).sessions.create({ timeout: 600, userMetadata: { a: 'b' } });
    expect(requests).toHaveLength(2);
    expect(requests[1]?.body).toBe(requests[0]?.body);
    expect(requests[1]?.url).toBe(requests[0]?.url);
    expect(requests[1]?.method).toBe('POST');
    expect(requests[1]?.headers.get('content-type')).toBe('application/json');
  });

  it('retries connection errors, then throws APIConnectionError with the cause', async () => {
    const cause = new TypeError('fetch failed');
    const recovered = fakeFetch(cause, ok());
    expect(await testClient(recovered.fetch).sessions.list()).toEqual([session]);
    expect(recovered.requests).toHaveLength(2);

    const { fetch, requests } = fakeFetch(cause);
    const error = await testClient(fetch)
      .sessions.list()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(APIConnectionError);
    expect((error as APIConnectionError).cause).toBe(cause);
    expect((error as Error).message).toBe('Connection error: fetch failed');
    expect(requests).toHaveLength(3);
  });
});

describe('how long it waits', () => {
  it('honours retry-after-ms', async () => {
    const { fetch } = fakeFetch(failing(429, { 'retry-after-ms': '250' }));
    const client = testClient(fetch);
    await expect(client.sessions.create()).rejects.toBeInstanceOf(RateLimitError);
    expect(client.sleeps).toEqual([250, 250]);
  });

  it('honours retry-after in seconds', async () => {
    const { fetch } = fakeFetch(failing(429, { 'retry-after': '2' }), ok());
    const client = testClient(fetch);
    await client.sessions.list();
    expect(client.sleeps).toEqual([2000]);
  });

  it('honours retry-after as an HTTP date', async () => {
    const at = new Date(Date.now() + 30_000).toUTCString();
    const { fetch } = fakeFetch(failing(503, { 'retry-after': at }), ok());
    const client = testClient(fetch);
    await client.sessions.list();
    // HTTP dates have whole seconds, and some time passes between building the header and reading it.
    expect(client.sleeps[0]).toBeGreaterThan(25_000);
    expect(client.sleeps[0]).toBeLessThanOrEqual(30_000);
  });

  it('prefers retry-after-ms to retry-after', async () => {
    const { fetch } = fakeFetch(failing(429, { 'retry-after-ms': '10', 'retry-after': '5' }), ok());
    const client = testClient(fetch);
    await client.sessions.list();
    expect(client.sleeps).toEqual([10]);
  });

  it('backs off exponentially with jitter without those headers', async () => {
    const { fetch } = fakeFetch(failing(500));
    const client = testClient(fetch, { maxRetries: 5 });
    await expect(client.sessions.list()).rejects.toBeInstanceOf(APIError);
    const ceilings = [500, 1000, 2000, 4000, 8000];
    expect(client.sleeps).toHaveLength(5);
    client.sleeps.forEach((ms, i) => {
      const ceiling = ceilings[i] ?? 0;
      expect(ms).toBeGreaterThanOrEqual(ceiling * 0.75);
      expect(ms).toBeLessThanOrEqual(ceiling);
    });
  });

  it('computes retryDelay from headers, time and jitter', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    const headers = (init: Record<string, string>) => new Headers(init);
    expect(retryDelay(headers({ 'retry-after-ms': '1500' }), 0, { now })).toBe(1500);
    expect(retryDelay(headers({ 'retry-after-ms': '0' }), 3, { now })).toBe(0);
    expect(retryDelay(headers({ 'retry-after': '1.5' }), 0, { now })).toBe(1500);
    expect(retryDelay(headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:07 GMT' }), 0, { now })).toBe(7000);
    // A date already past means "now".
    expect(retryDelay(headers({ 'retry-after': 'Tue, 31 Dec 2024 23:59:00 GMT' }), 0, { now })).toBe(0);
    // Unparseable or over a minute: fall back to backoff.
    const noJitter = { now, random: () => 0 };
    expect(retryDelay(headers({ 'retry-after': 'soon' }), 0, noJitter)).toBe(500);
    expect(retryDelay(headers({ 'retry-after-ms': 'x' }), 1, noJitter)).toBe(1000);
    expect(retryDelay(headers({ 'retry-after': '3600' }), 0, noJitter)).toBe(500);
    expect([0, 1, 2, 3, 4, 5, 10].map((n) => retryDelay(undefined, n, noJitter))).toEqual([
      500, 1000, 2000, 4000, 8000, 8000, 8000,
    ]);
    // Jitter takes off at most 25 %.
    expect(retryDelay(undefined, 2, { random: () => 1 })).toBe(1500);
  });

  it('decides shouldRetry from x-should-retry, then status', () => {
    const response = (status: number, headers: Record<string, string> = {}) => ({
      status,
      headers: new Headers(headers),
    });
    expect([408, 409, 429, 500, 599].every((status) => shouldRetry(response(status)))).toBe(true);
    expect([400, 401, 403, 404, 413, 422].some((status) => shouldRetry(response(status)))).toBe(false);
    expect(shouldRetry(response(404, { 'x-should-retry': 'true' }))).toBe(true);
    expect(shouldRetry(response(500, { 'x-should-retry': 'false' }))).toBe(false);
  });
});

describe('timeouts', () => {
  it('abandons each attempt after `timeout`, retries, then throws APIConnectionTimeoutError', async () => {
    const { fetch, requests } = fakeFetch(hang);
    const client = testClient(fetch, { timeout: 20 });
    const error = await client.sessions.list().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(APIConnectionTimeoutError);
    expect((error as Error).message).toBe('Request timed out after 20 ms.');
    expect(requests).toHaveLength(3);
    expect(requests.every((request) => request.signal?.aborted)).toBe(true);
  });

  it('recovers when a retry answers in time', async () => {
    const { fetch, requests } = fakeFetch(hang, ok());
    expect(await testClient(fetch, { timeout: 20 }).sessions.list()).toEqual([session]);
    expect(requests).toHaveLength(2);
  });

  it('takes the timeout from the call', async () => {
    const { fetch } = fakeFetch(hang);
    const client = testClient(fetch);
    await expect(client.sessions.list({}, { timeout: 10, maxRetries: 0 })).rejects.toBeInstanceOf(
      APIConnectionTimeoutError,
    );
  });

  it('bounds a fetch that ignores its signal', async () => {
    const { fetch } = fakeFetch(() => new Promise<Response>(() => {}));
    await expect(testClient(fetch, { timeout: 10, maxRetries: 1 }).projects.list()).rejects.toBeInstanceOf(
      APIConnectionTimeoutError,
    );
  }, 5_000);

  it('covers a body that stalls after the headers', async () => {
    const stalled = () =>
      new Response(new ReadableStream({ start: (controller) => controller.enqueue(new TextEncoder().encode('[')) }), {
        status: 200,
      });
    const { fetch, requests } = fakeFetch(stalled);
    await expect(testClient(fetch, { timeout: 20 }).projects.list()).rejects.toBeInstanceOf(APIConnectionTimeoutError);
    expect(requests).toHaveLength(3);
  }, 5_000);
});

describe('caller abort', () => {
  it('does not send when the signal is already aborted', async () => {
    const { fetch, requests } = fakeFetch(ok());
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    const error = await testClient(fetch)
      .sessions.list({}, { signal: controller.signal })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(APIUserAbortError);
    expect((error as Error).cause).toEqual(new Error('stop'));
    expect(requests).toHaveLength(0);
  });

  it('aborts the request in flight and does not retry', async () => {
    const controller = new AbortController();
    const { fetch, requests } = fakeFetch((request) => {
      queueMicrotask(() => controller.abort());
      return hang(request);
    });
    const client = testClient(fetch);
    const error = await client.sessions.list({}, { signal: controller.signal }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(APIUserAbortError);
    expect((error as Error).cause).toBeInstanceOf(DOMException);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.signal?.aborted).toBe(true);
    expect(client.sleeps).toHaveLength(0);
  });

  it('aborts while waiting to retry', async () => {
    // A wait that only an abort can end: if the signal did not reach it, this test would hang (and time out).
    class WaitsForAbort extends Wallcrawler {
      protected override sleep(_ms: number, signal: AbortSignal): Promise<void> {
        return new Promise((_, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
        );
      }
    }
    const controller = new AbortController();
    const { fetch, requests } = fakeFetch(() => {
      setTimeout(() => controller.abort(), 5);
      return failing(503);
    });
    const client = new WaitsForAbort({ apiKey: 'k', baseURL: 'http://wallcrawler.test', fetch });
    await expect(client.sessions.list({}, { signal: controller.signal })).rejects.toBeInstanceOf(APIUserAbortError);
    expect(requests).toHaveLength(1);
  }, 5_000);

  it('honours the signal given to the raw client', async () => {
    const controller = new AbortController();
    controller.abort();
    const { fetch, requests } = fakeFetch(ok());
    await expect(testClient(fetch).raw.GET('/v1/sessions', { signal: controller.signal })).rejects.toBeInstanceOf(
      APIUserAbortError,
    );
    expect(requests).toHaveLength(0);
  });

  it('does not turn a user abort into a timeout or connection error', async () => {
    const controller = new AbortController();
    const { fetch } = fakeFetch((request) => {
      setTimeout(() => controller.abort(), 5);
      return hang(request);
    });
    const error = await testClient(fetch, { timeout: 1_000 })
      .projects.list({ signal: controller.signal })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(APIUserAbortError);
    expect(error).not.toBeInstanceOf(APIConnectionError);
  });
});

describe('sleep', () => {
  it('resolves after the delay and rejects with the reason on abort', async () => {
    await expect(sleep(1)).resolves.toBeUndefined();
    const controller = new AbortController();
    const waiting = sleep(60_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    await expect(sleep(1, controller.signal)).rejects.toThrow('stop');
  });

  it('leaves 4xx other than 408/409/429 to the caller at once', async () => {
    const { fetch } = fakeFetch(failing(400));
    await expect(testClient(fetch).sessions.list()).rejects.toBeInstanceOf(BadRequestError);
  });
});
