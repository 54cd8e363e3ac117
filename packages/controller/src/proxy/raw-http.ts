import { randomUUID } from 'node:crypto';
import { type ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * The error body every Wallcrawler endpoint uses (`ErrorSchema` in the server's `schemas/error.ts`; see
 * docs/architecture.md, "The contract"), for the gateway's own answers.
 */
export interface ConnectErrorBody {
  statusCode: number;
  error: string;
  code: string;
  message: string;
  requestId: string;
}

export function errorBody(status: number, code: string, message: string, requestId: string): ConnectErrorBody {
  return { statusCode: status, error: STATUS_CODES[status] ?? 'Error', code, message, requestId };
}

/** Answers a plain HTTP request (DevTools discovery, frontend files) with the error body. */
export function sendError(
  response: ServerResponse,
  status: number,
  code: string,
  message: string,
  requestId = randomUUID(),
): void {
  response.writeHead(status, { 'content-type': 'application/json', 'x-request-id': requestId });
  response.end(JSON.stringify(errorBody(status, code, message, requestId)));
}

/**
 * Answers an upgrade request with an HTTP error and closes the socket. Used before any WebSocket exists, so
 * the client sees a real status line (401, 403, ...) rather than a dropped connection.
 */
export function rejectUpgrade(socket: Duplex, status: number, code: string, message: string, requestId: string): void {
  const json = JSON.stringify(errorBody(status, code, message, requestId));
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(json)}\r\n` +
      `x-request-id: ${requestId}\r\n` +
      'Connection: close\r\n\r\n' +
      json,
  );
}
