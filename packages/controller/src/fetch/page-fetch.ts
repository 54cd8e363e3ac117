import { CdpClient, type CdpEvent } from '../cdp/cdp-client.js';

/** What `POST /v1/fetch` asks of a session's browser. */
export interface PageFetchRequest {
  url: string;
  /** Follow 3xx answers (true), or answer with the first 3xx itself (false). */
  allowRedirects: boolean;
  /** Accept a certificate Chromium does not trust (self-signed, expired, wrong name). */
  allowInsecureSsl: boolean;
  /**
   * Let an HTML document load and answer with its rendered DOM as well (for `markdown`). The body as fetched is
   * read only for other documents.
   */
  render: boolean;
  /** The most of a body (or of the rendered DOM) kept; the rest is cut. */
  maxBytes: number;
  /** The whole fetch's deadline. */
  timeoutMs: number;
}

export interface PageFetchResult {
  statusCode: number;
  /** The document's response headers as Chromium received them (repeated names joined with `, `). */
  headers: Record<string, string>;
  /** The body as fetched (empty for a 3xx not followed, and when the page was rendered instead). */
  body: Buffer;
  /** The rendered DOM (`outerHTML`), when `render` and the document is HTML. */
  html?: string;
  /** The body or the rendered DOM was longer than `maxBytes` and was cut. */
  truncated: boolean;
}

/**
 * The fetch got no answer: from the target (`reason` is Chromium's, `net::ERR_CONNECTION_REFUSED`), before the
 * deadline, or because the session's browser itself could not be reached.
 */
export class PageFetchError extends Error {
  constructor(
    readonly reason: string,
    readonly kind: 'target' | 'deadline' | 'browser' = 'target',
  ) {
    super(reason);
  }
}

interface PausedRequest {
  requestId: string;
  frameId: string;
  responseStatusCode?: number;
  responseErrorReason?: string;
  responseHeaders?: { name: string; value: string }[];
}

/** How much of a stream `IO.read` returns at a time. */
const READ_CHUNK_BYTES = 256 * 1024;

/**
 * Loads `url` in a new tab of the browser at `cdpUrl` (a session's connect URL) and reads the main document's
 * answer at the network level: CDP's Fetch domain pauses each of the document's responses, so a 3xx can be
 * answered as it is (no redirect followed) and the body is streamed as it arrived, up to `maxBytes`.
 * @throws PageFetchError when the target gives no answer (unreachable, a refused certificate) or the deadline passes
 */
export async function fetchThroughBrowser(cdpUrl: string, request: PageFetchRequest): Promise<PageFetchResult> {
  const deadline = Date.now() + request.timeoutMs;
  let client: CdpClient;
  try {
    client = await CdpClient.connect(cdpUrl, request.timeoutMs);
  } catch (error) {
    throw new PageFetchError(`The session's browser could not be reached: ${(error as Error).message}`, 'browser');
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new PageFetchError(`No answer from ${request.url} within ${request.timeoutMs} ms`, 'deadline')),
        Math.max(0, deadline - Date.now()),
      );
    });
    return await Promise.race([load(client, request), timeout]);
  } catch (error) {
    if (error instanceof PageFetchError) throw error;
    // A CDP command the browser refused: the browser's failure, not the target's.
    throw new PageFetchError(`The session's browser failed the fetch: ${(error as Error).message}`, 'browser');
  } finally {
    clearTimeout(timer);
    client.close();
  }
}

async function load(client: CdpClient, request: PageFetchRequest): Promise<PageFetchResult> {
  const { targetId } = (await client.send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
  const { sessionId } = (await client.send('Target.attachToTarget', { targetId, flatten: true })) as {
    sessionId: string;
  };
  const send = (method: string, params: Record<string, unknown> = {}) => client.send(method, params, sessionId);
  if (request.allowInsecureSsl) await send('Security.setIgnoreCertificateErrors', { ignore: true });
  await send('Page.enable');
  // Only documents pause, each at its response (headers received, body not yet read).
  await send('Fetch.enable', { patterns: [{ urlPattern: '*', resourceType: 'Document', requestStage: 'Response' }] });

  return new Promise<PageFetchResult>((resolve, reject) => {
    let settled = false;
    const finish = (outcome: () => Promise<PageFetchResult>) => {
      if (settled) return;
      settled = true;
      client.off('event', onEvent);
      outcome().then(resolve, reject);
    };
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      client.off('event', onEvent);
      reject(error);
    };
    const onEvent = (event: CdpEvent) => {
      if (event.sessionId !== sessionId || event.method !== 'Fetch.requestPaused') return;
      const paused = event.params as unknown as PausedRequest;
      // A frame's document is not the answer: let it load.
      if (paused.frameId !== targetId || settled) {
        send('Fetch.continueRequest', { requestId: paused.requestId }).catch(() => {});
        return;
      }
      if (paused.responseErrorReason) {
        // Its reason here is coarse (`Failed` for a refused certificate): let it fail, and Page.navigate answers
        // with Chromium's own (`net::ERR_CERT_AUTHORITY_INVALID`).
        send('Fetch.continueRequest', { requestId: paused.requestId }).catch(fail);
        return;
      }
      const statusCode = paused.responseStatusCode ?? 0;
      const headers = joinHeaders(paused.responseHeaders ?? []);
      const isRedirect = statusCode >= 300 && statusCode < 400 && hasHeader(headers, 'location');
      if (isRedirect && request.allowRedirects) {
        send('Fetch.continueRequest', { requestId: paused.requestId }).catch(fail);
        return;
      }
      if (isRedirect) {
        // Chromium keeps no body of a redirect; the 3xx's status and headers are the answer.
        finish(async () => {
          await send('Fetch.failRequest', { requestId: paused.requestId, errorReason: 'Aborted' }).catch(() => {});
          return { statusCode, headers, body: Buffer.alloc(0), truncated: false };
        });
        return;
      }
      if (request.render && /html/i.test(headerValue(headers, 'content-type') ?? 'text/html')) {
        finish(() => rendered(client, sessionId, paused.requestId, statusCode, headers, request.maxBytes));
        return;
      }
      finish(async () => {
        const { body, truncated } = await readBody(send, paused.requestId, request.maxBytes);
        await send('Fetch.failRequest', { requestId: paused.requestId, errorReason: 'Aborted' }).catch(() => {});
        return { statusCode, headers, body, truncated };
      });
    };
    client.on('event', onEvent);
    client.once('close', () => fail(new PageFetchError('The browser connection closed during the fetch', 'browser')));
    send('Page.navigate', { url: request.url }).then((result) => {
      const errorText = (result as { errorText?: string }).errorText;
      if (errorText) fail(new PageFetchError(errorText));
    }, fail);
  });
}

/** Continues the document, waits for its load event, and reads its DOM (cut at `maxBytes`). */
async function rendered(
  client: CdpClient,
  sessionId: string,
  requestId: string,
  statusCode: number,
  headers: Record<string, string>,
  maxBytes: number,
): Promise<PageFetchResult> {
  const loaded = new Promise<void>((resolve) => {
    const onEvent = (event: CdpEvent) => {
      if (event.sessionId === sessionId && event.method === 'Page.loadEventFired') {
        client.off('event', onEvent);
        resolve();
      }
    };
    client.on('event', onEvent);
  });
  await client.send('Fetch.continueRequest', { requestId }, sessionId);
  await loaded;
  const { result } = (await client.send(
    'Runtime.evaluate',
    { expression: 'document.documentElement.outerHTML', returnByValue: true },
    sessionId,
  )) as { result: { value?: string } };
  const dom = Buffer.from(result.value ?? '', 'utf8');
  const truncated = dom.length > maxBytes;
  return {
    statusCode,
    headers,
    body: Buffer.alloc(0),
    html: (truncated ? dom.subarray(0, maxBytes) : dom).toString('utf8'),
    truncated,
  };
}

/** Streams the paused response's body, stopping at `maxBytes`. A response with no body (204, 304) is empty. */
async function readBody(
  send: (method: string, params?: Record<string, unknown>) => Promise<Record<string, unknown>>,
  requestId: string,
  maxBytes: number,
): Promise<{ body: Buffer; truncated: boolean }> {
  let stream: string;
  try {
    ({ stream } = (await send('Fetch.takeResponseBodyAsStream', { requestId })) as { stream: string });
  } catch {
    return { body: Buffer.alloc(0), truncated: false };
  }
  const chunks: Buffer[] = [];
  let length = 0;
  let truncated = false;
  try {
    for (;;) {
      const { data, base64Encoded, eof } = (await send('IO.read', { handle: stream, size: READ_CHUNK_BYTES })) as {
        data: string;
        base64Encoded?: boolean;
        eof: boolean;
      };
      const chunk = Buffer.from(data, base64Encoded ? 'base64' : 'utf8');
      chunks.push(chunk);
      length += chunk.length;
      if (length > maxBytes) {
        truncated = true;
        break;
      }
      if (eof) break;
    }
  } finally {
    await send('IO.close', { handle: stream }).catch(() => {});
  }
  const body = Buffer.concat(chunks);
  return { body: truncated ? body.subarray(0, maxBytes) : body, truncated };
}

function joinHeaders(list: { name: string; value: string }[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const { name, value } of list) headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  return headers;
}

/** A header's value, its name matched without case. */
export function headerValue(headers: Record<string, string>, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return headerValue(headers, name) !== undefined;
}
