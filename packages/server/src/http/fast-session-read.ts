import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@wallcrawler/contracts';
import { authenticate } from '../middleware/api-key-auth.js';
import { requestIdOf } from '../middleware/request-context.js';
import type { Store } from '../ports/store.js';
import type { SessionViews } from '../services/session-views.js';
import { sessionViewJson } from './session-body.js';

/** `GET /v1/sessions/{id}`, for ids that need no decoding (session ids are UUIDs); the query string is ignored. */
const RETRIEVE = /^\/v1\/sessions\/([A-Za-z0-9_-]{1,128})(\?|$)/;
/** A `Host` header that is a plain host name or address, with an optional port. */
const PLAIN_HOST = /^[A-Za-z0-9.:[\]-]{1,255}$/;

export interface FastSessionReadDeps {
  /** The app's store, with its API-key cache (so revocations apply here as they do in the app). */
  store: Store;
  views: SessionViews;
  /** The app's `publicUrl`, if it has one; else connect URLs use the request's origin, as the app's do. */
  publicUrl: string | undefined;
  logger: Logger;
}

/**
 * Serves a request, or says it did not.
 * @returns `false` at once for a request it does not serve; otherwise a promise of whether it served it
 */
export type FastRoute = (request: IncomingMessage, response: ServerResponse) => false | Promise<boolean>;

/**
 * `GET /v1/sessions/{id}` without the Hono app in the way, on the Node runtime. Clients poll this route (the
 * Browserbase SDK's `retrieve`, and Stagehand waiting for a session to run), and through the app the framework's
 * own work (a `Request` and a `Response` object, the middleware chain, the schema checks) was three quarters of
 * the read's time: it served a third of the requests per second of `/health`.
 *
 * It serves only the success case, with what the app's route answers: the same authentication, the same
 * `views.retrieve`, the same body, `x-request-id` and request log line. Anything else (a missing or bad key,
 * an unknown session, a malformed host) it leaves to the app, which answers it with the one error body, so
 * those cases exist in one place only.
 */
export function fastSessionRead({ store, views, publicUrl, logger }: FastSessionReadDeps): FastRoute {
  const header =
    (request: IncomingMessage) =>
    (name: string): string | undefined => {
      const value = request.headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    };

  const originOf = (request: IncomingMessage): string | undefined => {
    if (publicUrl !== undefined) return publicUrl;
    const host = request.headers.host;
    if (!host || !PLAIN_HOST.test(host)) return undefined;
    const scheme = (request.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
    return new URL(`${scheme}://${host}`).origin;
  };

  const serve = async (request: IncomingMessage, response: ServerResponse, id: string, path: string) => {
    const started = performance.now();
    const gatewayUrl = originOf(request);
    if (!gatewayUrl) return false;
    const headerOf = header(request);
    const auth = await authenticate(store, headerOf);
    const view = await views.retrieve(auth.projectId, id, gatewayUrl);
    const body = sessionViewJson(view);
    const requestId = requestIdOf(headerOf('x-request-id'));
    if (response.headersSent || response.destroyed) return true;
    response.writeHead(200, {
      'content-type': 'application/json',
      'x-request-id': requestId,
      'content-length': Buffer.byteLength(body),
    });
    response.end(body);
    logger.info(
      { requestId, method: 'GET', path, status: 200, ms: Math.round((performance.now() - started) * 10) / 10 },
      'request',
    );
    return true;
  };

  return (request, response) => {
    if (request.method !== 'GET') return false;
    const url = request.url ?? '';
    const match = RETRIEVE.exec(url);
    if (!match?.[1]) return false;
    const id = match[1];
    const path = match[2] === '?' ? url.slice(0, url.indexOf('?')) : url;
    // Any failure is the app's to answer: nothing has been written yet.
    return serve(request, response, id, path).catch(() => false);
  };
}
