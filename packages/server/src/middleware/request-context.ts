import { randomUUID } from 'node:crypto';
import type { Logger } from '@wallcrawler/contracts';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../http/app-env.js';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** A request's id: the caller's `x-request-id` when it is sane, else a new UUID. */
export function requestIdOf(incoming: string | undefined): string {
  return incoming && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * Gives each request an id (the caller's `x-request-id` if it is sane), a logger bound to it, and one log line
 * when it completes. Only method, path (never the query string, which can carry tokens), status and duration
 * are logged; never headers or bodies, which carry keys.
 */
export function requestContext({ logger }: { logger: Logger }): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const requestId = requestIdOf(c.req.header('x-request-id'));
    const log = logger.child({ requestId });
    c.set('requestId', requestId);
    c.set('logger', log);
    const started = performance.now();
    // Set before the handler runs, so the response it builds carries it: setting a header on a finished response
    // makes the Node adapter rebuild it as a streamed Response, which cost a third of a small request's time.
    c.header('x-request-id', requestId);
    await next();
    const line = {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round((performance.now() - started) * 10) / 10,
    };
    if (c.req.path === '/health') log.debug(line, 'request');
    else log.info(line, 'request');
  };
}
