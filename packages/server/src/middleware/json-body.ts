import type { MiddlewareHandler } from 'hono';
import { ApiError } from '../http/api-error.js';
import type { AppEnv } from '../http/app-env.js';

const JSON_TYPE = /^application\/([a-z.+-]*\+)?json\s*(;|$)/i;

/**
 * Reads a JSON request body once, before route validation. Browserbase's SDK sends some bodies empty with a
 * JSON content type, and `sessions.create()` without arguments sends `{}`: an empty body counts as `{}`.
 * Malformed JSON is a 400 that says where it broke, in our error body rather than Hono's.
 */
export function jsonBody(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const type = c.req.header('content-type');
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || !type || !JSON_TYPE.test(type)) return next();
    const text = await c.req.text();
    if (text.trim() !== '') {
      try {
        JSON.parse(text);
      } catch (error) {
        throw new ApiError(400, 'invalid_json', `The request body is not valid JSON: ${(error as Error).message}`);
      }
    }
    // Hono's validators call `c.req.json()`, which parses the cached body text: an empty body is cached as `{}`.
    // (Hono types the cache as `Body` methods; at run time it holds promises of the bodies.)
    if (text.trim() === '') (c.req.bodyCache as Record<string, unknown>).text = Promise.resolve('{}');
    return next();
  };
}
