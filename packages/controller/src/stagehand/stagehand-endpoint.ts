import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { ConnectAuthError, type Logger, STAGEHAND_PATH, type StagehandMethod } from '@wallcrawler/contracts';
import { errorBody } from '../proxy/raw-http.js';
import { asCallError, type StagehandRunner } from './stagehand-runner.js';

const MAX_BODY_BYTES = 1024 * 1024;

export interface StagehandEndpointOptions {
  /**
   * Checks the request's bearer token (the session's connect token, which the API forwards) and returns the
   * session's runner, attaching through the controller's own gateway with that token.
   * @throws ConnectAuthError for a missing, invalid or foreign token
   */
  runnerFor(token: string | undefined): Promise<StagehandRunner>;
  logger: Logger;
}

/**
 * The Stagehand calls of an AWS task's session, served by its controller (`POST /stagehand/{start|act|extract|
 * observe|navigate|end}`, `GET /stagehand/replay`): the API function forwards Stagehand's hosted-API requests
 * here, to the one process that lives as long as the session and holds its browser.
 * @returns whether the request was one of them (and is being answered)
 */
export function handleStagehandRequest(
  request: IncomingMessage,
  response: ServerResponse,
  { runnerFor, logger }: StagehandEndpointOptions,
): boolean {
  const operation = STAGEHAND_PATH.exec(new URL(request.url ?? '/', 'http://x').pathname)?.[1];
  if (!operation) return false;
  void (async () => {
    const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    const runner = await runnerFor(token);
    const body = await readJson(request);
    const header = (name: string) => {
      const value = request.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    switch (operation) {
      case 'start':
        runner.attach(body as never, header('x-model-api-key'));
        return sendJson(response, 200, { success: true });
      case 'end':
        await runner.close();
        return sendJson(response, 200, { success: true });
      case 'replay':
        return sendJson(response, 200, { success: true, data: runner.replay() });
      default: {
        // STAGEHAND_PATH admits only the operations above and STAGEHAND_METHODS.
        const answer = await runner.respond(operation as StagehandMethod, body, {
          modelApiKey: header('x-model-api-key'),
          streamResponse: header('x-stream-response'),
          language: header('x-language'),
          sdkVersion: header('x-sdk-version'),
        });
        const headers: Record<string, string> = {};
        answer.headers.forEach((value, name) => {
          headers[name] = value;
        });
        response.writeHead(answer.status, headers);
        if (!answer.body) return response.end();
        Readable.fromWeb(answer.body as never).pipe(response);
      }
    }
  })().catch((error: unknown) => {
    const failure =
      error instanceof ConnectAuthError
        ? { status: error.status, code: error.code, message: error.message }
        : asCallError(error);
    if (!(error instanceof ConnectAuthError) && failure.status >= 500)
      logger.error({ err: error }, 'stagehand call failed');
    if (response.headersSent) return response.destroy();
    const requestId = randomUUID();
    sendJson(response, failure.status, {
      success: false,
      ...errorBody(failure.status, failure.code, failure.message, requestId),
    });
  });
  return true;
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ConnectAuthError(400, 'payload_too_large', 'The request body is over 1 MiB.');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // Answered below.
  }
  throw new ConnectAuthError(400, 'invalid_json', 'The request body is not a JSON object.');
}
