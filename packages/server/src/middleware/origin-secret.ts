import { createHash, timingSafeEqual } from 'node:crypto';
import { ORIGIN_SECRET_HEADER } from '@wallcrawler/contracts';
import type { MiddlewareHandler } from 'hono';
import { ApiError } from '../http/api-error.js';
import type { AppEnv } from '../http/app-env.js';

export { ORIGIN_SECRET_HEADER };

/** The answer to a request that did not come through CloudFront. */
export class DirectAccessRefusedError extends ApiError {
  constructor() {
    super(403, 'direct_access_refused', 'This API is reached only through its CloudFront distribution.');
    this.name = 'DirectAccessRefusedError';
  }
}

/** Compares in constant time; hashing first makes the lengths equal, so the length leaks nothing either. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * Refuses (403, the one error body) every request whose origin-secret header is not `secret()`: on AWS the API
 * is then reached only through CloudFront, never at its own `execute-api` endpoint, so CloudFront's WAF cannot
 * be bypassed. `secret` is read on first use (from Secrets Manager on AWS), so it costs a cold start nothing;
 * a failure to read it is thrown (a 503 of ours) and retried by the next request. The header and the secret are
 * never logged, and the secret never appears in an answer.
 */
export function originSecretCheck(secret: () => Promise<string>): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const given = c.req.header(ORIGIN_SECRET_HEADER);
    const expected = await secret();
    // A deployment mistake, not the caller's: a 500 that says nothing, logged.
    if (expected.length === 0) throw new Error('The origin secret is empty');
    if (given === undefined || !sameSecret(given, expected)) throw new DirectAccessRefusedError();
    await next();
  };
}
