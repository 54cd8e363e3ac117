import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConnectAuthError, type Logger, SESSION_RELEASE_PATH } from '@wallcrawler/contracts';
import type { BrowserSession } from '../browser-session.js';
import { sendError } from '../proxy/raw-http.js';

export interface ReleaseEndpointOptions {
  /** Checks the bearer token (the session's connect token). @throws ConnectAuthError */
  authorize(token: string | undefined): Promise<void>;
  session: BrowserSession;
  logger: Logger;
}

/**
 * `POST /session/release`: the API's release of this task's session. The close path runs as for any other
 * ending (what the session keeps goes to the blob bucket first), and the answer, the recorded ending, comes once
 * it is recorded: so a read after the release sees all the session kept, and its reason is the release's.
 * @returns whether the request was this one (and is being answered)
 */
export function handleReleaseRequest(
  request: IncomingMessage,
  response: ServerResponse,
  { authorize, session, logger }: ReleaseEndpointOptions,
): boolean {
  if (new URL(request.url ?? '/', 'http://x').pathname !== SESSION_RELEASE_PATH) return false;
  request.resume();
  void (async () => {
    if (request.method !== 'POST') {
      return sendError(response, 405, 'method_not_allowed', `${SESSION_RELEASE_PATH} only answers POST.`);
    }
    await authorize(/^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1]);
    const ending = await session.release('COMPLETED', 'The session was released');
    const body = JSON.stringify({ ...ending, endedAt: ending.endedAt.toISOString() });
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
    response.end(body);
  })().catch((error: unknown) => {
    if (response.headersSent) return response.destroy();
    if (error instanceof ConnectAuthError) return sendError(response, error.status, error.code, error.message);
    logger.error({ err: error }, 'the release failed');
    sendError(response, 500, 'internal_error', 'The session could not be released.');
  });
  return true;
}
