import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { ConnectAuthError, type Logger, silentLogger } from '@wallcrawler/contracts';
import { credentialsOf, targetPath } from '../gateway.js';
import { errorBody, rejectUpgrade, sendError } from '../proxy/raw-http.js';
import { edgeHttpPath, publicBaseOf, relayDiscovery, relayRequest } from './http-relay.js';
import type { SessionAddresses } from './session-addresses.js';
import { type ConnectTokenVerifier, EdgeRefusal, routeOf, routeTo } from './session-route.js';
import { WebSocketRelay } from './websocket-relay.js';

/** Longer than the load balancer's idle timeout (60 s by default), so that it, not the edge, closes idle sockets. */
const KEEP_ALIVE_MS = 65_000;
const WEBSOCKET_KEY = /^[+/0-9A-Za-z]{22}==$/;

export interface EdgeServerOptions {
  host: string;
  port: number;
  pingMs: number;
  /** The public base clients reach the edge at. @default the request's Host and X-Forwarded-Proto */
  publicUrl?: string | undefined;
  verify: ConnectTokenVerifier;
  addresses: SessionAddresses;
  logger?: Logger;
}

export interface EdgeServer {
  /** `http://host:port` it listens on. */
  url: string;
  /** WebSocket clients being relayed. */
  connections(): number;
  /** Stops accepting, closes every client with a close frame (1012), and resolves once the port is closed. */
  close(): Promise<void>;
}

/**
 * The connect edge: the gateway service behind CloudFront and the internal load balancer. It checks each
 * request's connect token (the CDP upgrades, DevTools discovery), finds the session's task in the sessions
 * table, and relays to it; it holds no browser. Every refusal is the one error body with a real status line.
 * Only a request path is ever logged, never a query string: the token travels in it.
 */
export async function startEdgeServer({
  host,
  port,
  pingMs,
  publicUrl,
  verify,
  addresses,
  logger = silentLogger,
}: EdgeServerOptions): Promise<EdgeServer> {
  const relay = new WebSocketRelay({ pingMs, logger });
  const refused = (error: unknown, requestId: string, path: string) => {
    if (error instanceof ConnectAuthError || error instanceof EdgeRefusal) {
      logger.info({ requestId, path, status: error.status, code: error.code }, 'connect refused');
      return { status: error.status, code: error.code, message: error.message };
    }
    logger.error({ requestId, path, err: (error as Error).message }, 'the sessions table could not be read');
    return { status: 503, code: 'store_unavailable', message: 'The session could not be looked up; try again.' };
  };

  const onUpgrade = async (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    // A client that resets mid-handshake must not crash the process.
    socket.on('error', () => socket.destroy());
    const requestId = randomUUID();
    let path = '/';
    try {
      const url = new URL(request.url ?? '/', 'http://edge');
      path = url.pathname;
      if (targetPath(url.pathname) === undefined) {
        rejectUpgrade(
          socket,
          404,
          'not_found',
          `No CDP endpoint at ${path}. Connect to the session's connectUrl.`,
          requestId,
        );
        return;
      }
      const key = request.headers['sec-websocket-key'];
      if (
        (request.headers.upgrade ?? '').toLowerCase() !== 'websocket' ||
        typeof key !== 'string' ||
        !WEBSOCKET_KEY.test(key) ||
        request.headers['sec-websocket-version'] !== '13'
      ) {
        rejectUpgrade(socket, 400, 'bad_upgrade', 'Expected a WebSocket upgrade request (version 13).', requestId);
        return;
      }
      const route = await routeOf(credentialsOf(url, request), verify, addresses);
      relay.relay(request, socket, head, route, requestId);
    } catch (error) {
      const { status, code, message } = refused(error, requestId, path);
      rejectUpgrade(socket, status, code, message, requestId);
    }
  };

  const onRequest = async (request: IncomingMessage, response: ServerResponse) => {
    const requestId = randomUUID();
    const url = new URL(request.url ?? '/', 'http://edge');
    const target = edgeHttpPath(url.pathname);
    const fail = (status: number, code: string, message: string) =>
      sendError(response, status, code, message, requestId);
    if (target.kind === 'none') return fail(404, 'not_found', `There is nothing at ${url.pathname}.`);
    if (request.method !== 'GET') return fail(405, 'method_not_allowed', `${url.pathname} only answers GET.`);
    if (target.kind === 'health') {
      response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      response.end(JSON.stringify({ status: 'ok', connections: relay.size }));
      return;
    }
    try {
      if (target.kind === 'discovery') {
        const route = await routeOf(credentialsOf(url, request), verify, addresses);
        await relayDiscovery(request, response, route, publicBaseOf(request, publicUrl), fail);
      } else {
        relayRequest(request, response, await routeTo(target.sessionId, addresses), fail);
      }
    } catch (error) {
      const { status, code, message } = refused(error, requestId, url.pathname);
      fail(status, code, message);
    }
  };

  const server = createServer({ keepAliveTimeout: KEEP_ALIVE_MS, headersTimeout: KEEP_ALIVE_MS + 1_000 });
  server.on('request', (request, response) => void onRequest(request, response));
  server.on('upgrade', (request, socket, head) => void onUpgrade(request, socket, head));
  // Garbage before the upgrade (not HTTP at all, headers too large): that client gets a 400 and is closed.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const requestId = randomUUID();
    logger.info({ requestId, status, code: error.code }, 'a client sent a malformed request');
    if (!socket.writable || (socket as Duplex & { bytesWritten?: number }).bytesWritten) {
      socket.destroy();
      return;
    }
    const json = JSON.stringify(errorBody(status, 'malformed_request', 'The request is not valid HTTP.', requestId));
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`,
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostPart}:${address.port}`,
    connections: () => relay.size,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await relay.closeAll();
        server.closeAllConnections();
        await closed;
      })();
      return closing;
    },
  };
}
