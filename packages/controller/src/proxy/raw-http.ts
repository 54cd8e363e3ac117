import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/** The error body every Wallcrawler endpoint uses, here for responses written on a raw upgrade socket. */
export interface ConnectErrorBody {
  statusCode: number;
  error: string;
  code: string;
  message: string;
  requestId: string;
}

/**
 * Answers an upgrade request with an HTTP error and closes the socket. Used before any WebSocket exists, so
 * the client sees a real status line (401, 403, ...) rather than a dropped connection.
 */
export function rejectUpgrade(socket: Duplex, status: number, code: string, message: string, requestId: string): void {
  const body: ConnectErrorBody = {
    statusCode: status,
    error: STATUS_CODES[status] ?? 'Error',
    code,
    message,
    requestId,
  };
  const json = JSON.stringify(body);
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
