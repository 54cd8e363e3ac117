import { type ClientOptions, type Fetch, Wallcrawler } from '../src/index.js';

/** One request as the injected `fetch` saw it. */
export interface RecordedRequest {
  url: string;
  method: string;
  headers: Headers;
  body: string | undefined;
  signal: AbortSignal | undefined;
}

/** What the fake answers: a response, a network failure, or a function of the request. */
export type Reply = Response | Error | ((request: RecordedRequest) => Response | Promise<Response>);

/**
 * A `fetch` that records every call and answers with `replies` in order, repeating the last one. Responses are
 * cloned, so a repeated reply can be read again.
 */
export function fakeFetch(...replies: Reply[]): { fetch: Fetch; requests: RecordedRequest[] } {
  const requests: RecordedRequest[] = [];
  const fetch: Fetch = async (url, init) => {
    const request: RecordedRequest = {
      url,
      method: init.method ?? 'GET',
      headers: new Headers(init.headers),
      body:
        typeof init.body === 'string'
          ? init.body
          : init.body instanceof ArrayBuffer
            ? new TextDecoder().decode(init.body)
            : undefined,
      signal: init.signal ?? undefined,
    };
    requests.push(request);
    const reply = replies[Math.min(requests.length, replies.length) - 1];
    if (reply === undefined) throw new Error('fakeFetch: no reply configured');
    if (reply instanceof Error) throw reply;
    if (reply instanceof Response) return reply.clone();
    return reply(request);
  };
  return { fetch, requests };
}

/** A JSON response. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

/** An `Error` body as the server sends it. */
export function errorBody(statusCode: number, message: string, code = 'some_code') {
  return { statusCode, error: 'Reason', code, message, requestId: 'req_123' };
}

/** A fetch reply that never settles until its signal aborts, then rejects like `fetch` does. */
export function hang(request: RecordedRequest): Promise<Response> {
  return new Promise((_, reject) => {
    request.signal?.addEventListener('abort', () => reject(request.signal?.reason), { once: true });
  });
}

/** A client whose waits between retries are recorded and skipped. */
export class TestWallcrawler extends Wallcrawler {
  readonly sleeps: number[] = [];

  protected override sleep(ms: number, signal: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    return signal.aborted ? Promise.reject(signal.reason) : Promise.resolve();
  }
}

/** A test client against `http://wallcrawler.test`, with key `wc_test`. */
export function testClient(fetch: Fetch, options: ClientOptions = {}): TestWallcrawler {
  return new TestWallcrawler({ apiKey: 'wc_test', baseURL: 'http://wallcrawler.test', fetch, ...options });
}

export const session = {
  id: 'sess_1',
  createdAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-01-01T00:00:00.000Z',
  startedAt: '2025-01-01T00:00:00.000Z',
  expiresAt: '2025-01-01T01:00:00.000Z',
  keepAlive: false,
  projectId: 'proj_1',
  proxyBytes: 0,
  region: 'us-west-2',
  status: 'RUNNING',
} as const;
