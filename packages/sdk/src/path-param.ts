import { WallcrawlerError } from './errors.js';

/**
 * An id checked for use as a path segment. openapi-fetch percent-encodes it, but an empty id, `.` or `..` would
 * still resolve to a different endpoint (`/v1/sessions/..` is `/v1/`), so those are refused here.
 */
export function pathParam(name: string, value: string): string {
  if (typeof value !== 'string' || value === '' || value === '.' || value === '..') {
    throw new WallcrawlerError(
      `${name} must be a non-empty string other than "." and ".."; got ${JSON.stringify(value)}.`,
    );
  }
  return value;
}
