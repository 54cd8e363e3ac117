import { Readable } from 'node:stream';
import type { Context } from 'hono';

/**
 * A session's downloads zip, streamed as an attachment. Built with `c.body` so it carries the headers the
 * middleware prepared (`x-request-id`).
 */
export function zipResponse(c: Context, zip: Readable, sessionId: string): Response {
  return c.body(Readable.toWeb(zip) as ReadableStream, 200, {
    'content-type': 'application/zip',
    'content-disposition': zipDisposition(sessionId),
  });
}

/** The downloads zip's `content-disposition`: an attachment named after the session. */
export const zipDisposition = (sessionId: string): string => `attachment; filename="${sessionId}-downloads.zip"`;
