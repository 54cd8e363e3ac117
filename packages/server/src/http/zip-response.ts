import { Readable } from 'node:stream';

/** A session's downloads zip, streamed as an attachment. */
export function zipResponse(zip: Readable, sessionId: string): Response {
  return new Response(Readable.toWeb(zip) as ReadableStream, {
    status: 200,
    headers: {
      'content-type': 'application/zip',
      'content-disposition': `attachment; filename="${sessionId}-downloads.zip"`,
    },
  });
}
