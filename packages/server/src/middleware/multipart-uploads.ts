import type { MiddlewareHandler } from 'hono';
import { ApiError } from '../http/api-error.js';
import type { AppEnv } from '../http/app-env.js';

/** The routes that take a file (multipart `file`), as Browserbase's do. */
const UPLOAD_ROUTES = [/^\/v1\/extensions\/?$/, /^\/v1\/sessions\/[^/]+\/uploads\/?$/];

export function isUpload(method: string, path: string): boolean {
  return method === 'POST' && UPLOAD_ROUTES.some((route) => route.test(path));
}

/**
 * Upload routes take `multipart/form-data` only: anything else is a 415 that says how to send the file, rather
 * than the form validator's terse complaint about the content type.
 */
export function multipartUploads(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!isUpload(c.req.method, c.req.path)) return next();
    const type = c.req.header('content-type') ?? '';
    if (!/^multipart\/form-data\s*;/i.test(type)) {
      throw new ApiError(
        415,
        'unsupported_media_type',
        'Send the file as multipart/form-data, in a part named `file` (curl -F file=@extension.zip).',
      );
    }
    return next();
  };
}
