import { randomUUID } from 'node:crypto';
import { request as httpRequest, type IncomingMessage, type RequestOptions, type ServerResponse } from 'node:http';
import { DEVTOOLS_FRONTEND_PATH, LIVE_VIEW_PATH } from '@wallcrawler/contracts';
import type { SessionRoute } from './session-route.js';

/** How long the task gets to answer a relayed request. */
const UPSTREAM_TIMEOUT_MS = 15_000;
/** The most a DevTools discovery answer may hold (a list of a session's targets). */
const MAX_DISCOVERY_BYTES = 4 * 1024 * 1024;
/** The task's answer headers a client gets. */
const PASSED_HEADERS = ['content-type', 'cache-control', 'x-request-id'];

/** What a path of the edge's HTTP side asks for: DevTools discovery (a token), or a session's page (none). */
export type EdgeHttpPath =
  | { kind: 'health' }
  | { kind: 'discovery'; path: '/json/version' | '/json/list' | '/json' }
  | { kind: 'page'; sessionId: string }
  | { kind: 'none' };

/** Routes a request path; the Stagehand, files and pool paths of a task are the API's alone, never relayed. */
export function edgeHttpPath(pathname: string): EdgeHttpPath {
  if (pathname === '/health') return { kind: 'health' };
  const path = pathname.replace(/\/$/, '');
  if (path === '/json/version' || path === '/json/list' || path === '/json') return { kind: 'discovery', path };
  const page = LIVE_VIEW_PATH.exec(pathname) ?? DEVTOOLS_FRONTEND_PATH.exec(pathname);
  if (page && !pathname.split('/').includes('..')) return { kind: 'page', sessionId: page[1] as string };
  return { kind: 'none' };
}

/** The public base (`https://host`) a client reached the edge at, for the URLs discovery hands back. */
export function publicBaseOf(request: IncomingMessage, configured: string | undefined): string {
  if (configured) return configured;
  const proto = request.headers['x-forwarded-proto'];
  const secure = (Array.isArray(proto) ? proto[0] : proto)?.split(',')[0]?.trim() === 'https';
  return `${secure ? 'https' : 'http'}://${request.headers.host ?? '127.0.0.1'}`;
}

/**
 * Rewrites a discovery answer's WebSocket URLs from the task's address to the edge's public base (the task
 * writes its own), keeping their paths and credential.
 */
export function rewriteDiscovery(body: unknown, publicBase: string): unknown {
  const base = new URL(publicBase);
  const wsProtocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
  const rewrite = (entry: unknown) => {
    if (!entry || typeof entry !== 'object') return entry;
    const record = { ...(entry as Record<string, unknown>) };
    if (typeof record.webSocketDebuggerUrl === 'string') {
      const url = new URL(record.webSocketDebuggerUrl);
      record.webSocketDebuggerUrl = `${wsProtocol}//${base.host}${url.pathname}${url.search}`;
    }
    return record;
  };
  return Array.isArray(body) ? body.map(rewrite) : rewrite(body);
}

/** The GET of `request`'s path and query at the session's task, with the client's credentials only. */
function taskRequestOptions(request: IncomingMessage, route: SessionRoute): RequestOptions {
  return {
    host: route.endpoint.host,
    port: route.endpoint.port,
    method: 'GET',
    path: request.url ?? '/',
    headers: credentialHeaders(request),
    timeout: UPSTREAM_TIMEOUT_MS,
  };
}

/** Relays `request` to the session's task (the same path and query), its answer streamed back as it comes. */
export function relayRequest(
  request: IncomingMessage,
  response: ServerResponse,
  route: SessionRoute,
  onFailure: (status: number, code: string, message: string) => void,
): void {
  const upstream = httpRequest(taskRequestOptions(request, route), (answer) => {
    response.writeHead(answer.statusCode ?? 502, passedHeaders(answer));
    answer.pipe(response);
  });
  upstream.on('timeout', () => upstream.destroy(new Error('timed out')));
  upstream.on('error', () => {
    if (!response.headersSent) onFailure(502, 'browser_unavailable', "The session's browser could not be reached.");
    else response.destroy();
  });
  response.on('close', () => upstream.destroy());
  upstream.end();
}

/**
 * Asks the session's task for a discovery answer and gives it back with the edge's URLs in it. A refusal of the
 * task's (its one error body) is passed on as it is.
 */
export async function relayDiscovery(
  request: IncomingMessage,
  response: ServerResponse,
  route: SessionRoute,
  publicBase: string,
  onFailure: (status: number, code: string, message: string) => void,
): Promise<void> {
  let answer: { status: number; headers: Record<string, string>; body: Buffer };
  try {
    answer = await fetchFromTask(request, route);
  } catch {
    onFailure(502, 'browser_unavailable', "The session's browser could not be reached.");
    return;
  }
  if (answer.status !== 200) {
    response.writeHead(answer.status, answer.headers).end(answer.body);
    return;
  }
  let body: unknown;
  try {
    body = JSON.parse(answer.body.toString('utf8'));
  } catch {
    onFailure(502, 'browser_unavailable', "The session's browser gave an answer that is not JSON.");
    return;
  }
  response
    .writeHead(200, {
      'content-type': 'application/json',
      'x-request-id': answer.headers['x-request-id'] ?? randomUUID(),
    })
    .end(JSON.stringify(rewriteDiscovery(body, publicBase)));
}

function fetchFromTask(
  request: IncomingMessage,
  route: SessionRoute,
): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const upstream = httpRequest(taskRequestOptions(request, route), (answer) => {
      const chunks: Buffer[] = [];
      let size = 0;
      answer.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_DISCOVERY_BYTES) upstream.destroy(new Error('discovery answer too large'));
        else chunks.push(chunk);
      });
      answer.on('end', () =>
        resolve({ status: answer.statusCode ?? 502, headers: passedHeaders(answer), body: Buffer.concat(chunks) }),
      );
      answer.on('error', reject);
    });
    upstream.on('timeout', () => upstream.destroy(new Error('timed out')));
    upstream.on('error', reject);
    upstream.end();
  });
}

/** The credential headers a client may send instead of `?signingKey=`; the task checks the token again. */
export function credentialHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of ['x-wc-signing-key', 'x-bb-signing-key']) {
    const value = request.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  return headers;
}

function passedHeaders(answer: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of PASSED_HEADERS) {
    const value = answer.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  return headers;
}
