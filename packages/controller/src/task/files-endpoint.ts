import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ConnectAuthError, type DownloadListing, type Logger, SESSION_FILES_PATH } from '@wallcrawler/contracts';
import type { BrowserSession } from '../browser-session.js';
import { finishedDownloads } from '../keeping/downloads.js';
import { sendError } from '../proxy/raw-http.js';
import { writeSessionUpload } from '../uploads/session-upload.js';

export interface SessionFilesEndpointOptions {
  /**
   * Checks the request's bearer token: the session's connect token, which the API sends.
   * @throws ConnectAuthError for a missing, invalid or foreign token, or a session that is ending
   */
  authorize(token: string | undefined): Promise<void>;
  session: BrowserSession;
  /** The most an uploaded file may hold. */
  uploadMaxBytes: number;
  logger: Logger;
}

/**
 * A task's running session's files, for the API function, which cannot reach the task's disk (see
 * `sessionFilesPath`): the downloads (listed, and each finished file), the CDP log and the recording so far, and
 * uploads into the session's uploads directory. Once the session is ending this answers 410: what it kept is
 * then on its way to the blob store, which the API reads once the ending is recorded.
 * @returns whether the request was one of them (and is being answered)
 */
export function handleSessionFilesRequest(
  request: IncomingMessage,
  response: ServerResponse,
  options: SessionFilesEndpointOptions,
): boolean {
  const match = SESSION_FILES_PATH.exec(new URL(request.url ?? '/', 'http://x').pathname);
  if (!match) return false;
  const [, resource, encodedName] = match as unknown as [string, string, string | undefined];
  void answer(request, response, options, resource, encodedName).catch((error: unknown) => {
    if (response.headersSent) return response.destroy();
    if (error instanceof ConnectAuthError) return sendError(response, error.status, error.code, error.message);
    if (error instanceof UploadTooLargeError) return sendError(response, 413, 'payload_too_large', error.message);
    options.logger.error({ err: error, resource }, 'serving a session file failed');
    sendError(response, 500, 'internal_error', 'The session file could not be served.');
  });
  return true;
}

async function answer(
  request: IncomingMessage,
  response: ServerResponse,
  { authorize, session, uploadMaxBytes }: SessionFilesEndpointOptions,
  resource: string,
  encodedName: string | undefined,
): Promise<void> {
  const method = resource === 'uploads' ? 'POST' : 'GET';
  if (request.method !== method || (encodedName !== undefined && resource !== 'downloads')) {
    request.resume();
    return sendError(response, 405, 'method_not_allowed', `${request.url} only answers ${method}.`);
  }
  await authorize(/^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1]);
  const dir = session.dirs.downloads;
  switch (resource) {
    case 'downloads': {
      const names = await finishedDownloads(dir);
      if (encodedName === undefined) {
        const files: DownloadListing['files'] = [];
        for (const name of names) {
          const size = (await stat(join(dir, name)).catch(() => undefined))?.size;
          if (size !== undefined) files.push({ name, size });
        }
        return sendJson(response, { files, failures: [...session.downloadFailures] } satisfies DownloadListing);
      }
      const name = Buffer.from(encodedName, 'base64url').toString();
      // Only a finished file of the session's own directory, never a path.
      if (!names.includes(name)) return sendError(response, 404, 'not_found', 'No such finished download.');
      const { size } = await stat(join(dir, name));
      response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size) });
      await pipeline(createReadStream(join(dir, name)), response);
      return;
    }
    case 'logs':
      return sendJson(response, session.logs ?? null);
    case 'recording':
      return sendJson(response, session.recording ?? null);
    default: {
      const fileName = new URL(request.url ?? '/', 'http://x').searchParams.get('name');
      if (!fileName) {
        request.resume();
        return sendError(response, 400, 'missing_name', 'Name the file: POST /files/uploads?name=<file name>.');
      }
      const bytes = await readBody(request, uploadMaxBytes);
      return sendJson(response, { path: await writeSessionUpload(session.dirs.uploads, fileName, bytes) });
    }
  }
}

class UploadTooLargeError extends Error {
  constructor() {
    super('The uploaded file is too large.');
  }
}

function sendJson(response: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  response.end(text);
}

async function readBody(request: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new UploadTooLargeError();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
