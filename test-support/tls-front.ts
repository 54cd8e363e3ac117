/**
 * The local stand-in for the stack's CloudFront distribution in front of the connect edge: one https origin on
 * 127.0.0.1, with a certificate of a throwaway CA. Like the distribution's behaviours, the connect paths
 * (`isConnectEdgePath` of `@wallcrawler/contracts`: CDP sockets, DevTools discovery, the DevTools frontend and live
 * view) go to the edge gateway, everything else to the API's front door. Like CloudFront, it keeps a WebSocket
 * only while something crosses it: one idle longer than `idleTimeoutMs` (CloudFront's 10 minutes) is dropped
 * without a close frame, so the edge's pings are what keeps a quiet session's socket.
 *
 * Requests are relayed as bytes after their head (the head gets `X-Forwarded-Proto: https` and
 * `X-Forwarded-For`), so status lines, bodies and close frames reach the client as the origin sent them.
 */

import { request as httpRequest, type IncomingMessage } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { isConnectEdgePath } from '@wallcrawler/contracts';

export interface TlsFrontOptions {
  cert: Buffer;
  key: Buffer;
  /** The API's front door (`http://127.0.0.1:<port>`); asked each time (it starts after the front). */
  api: () => string;
  /** The connect edge (`http://127.0.0.1:<port>`); asked each time, so that a restarted edge is reached. */
  edge: () => string;
  /** @default 0 (any free one) */
  port?: number;
  /** A WebSocket with nothing crossing it this long is dropped. @default 600_000 (CloudFront's) */
  idleTimeoutMs?: number;
  /** Headers added to every request for the API, replacing the client's (CloudFront's origin custom headers). */
  apiHeaders?: Record<string, string>;
}

export interface TlsFront {
  /** `https://127.0.0.1:<port>`. */
  url: string;
  /** Its certificate (PEM), for a client that trusts one key rather than the CA (a viewer Chromium). */
  certificate: Buffer;
  /** How many WebSockets were dropped for idleness. */
  idleDrops(): number;
  close(): Promise<void>;
}

/** An origin's URL; undefined while it has none (not started yet). */
const origin = (base: string): URL | undefined => (URL.canParse(base) ? new URL(base) : undefined);

function forwardedHeaders(
  request: IncomingMessage,
  added: Record<string, string> = {},
): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(request.headers)) if (value !== undefined) headers[name] = value;
  headers['x-forwarded-proto'] = 'https';
  headers['x-forwarded-for'] = request.socket.remoteAddress ?? '127.0.0.1';
  return { ...headers, ...added };
}

export async function startTlsFront({
  cert,
  key,
  api,
  edge,
  port = 0,
  idleTimeoutMs = 600_000,
  apiHeaders = {},
}: TlsFrontOptions): Promise<TlsFront> {
  let drops = 0;
  const upgraded = new Set<Duplex>();
  const target = (path: string) => origin(isConnectEdgePath(path) ? edge() : api());

  const server = createHttpsServer({ cert, key }, (request, response) => {
    const path = new URL(request.url ?? '/', 'https://front').pathname;
    const to = target(path);
    const added = isConnectEdgePath(path) ? {} : apiHeaders;
    if (!to) {
      response.writeHead(502, { 'content-type': 'text/html' }).end('<h1>502 Bad Gateway</h1>');
      return;
    }
    const upstream = httpRequest(
      {
        host: to.hostname,
        port: to.port,
        method: request.method,
        path: request.url,
        headers: forwardedHeaders(request, added),
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
        answer.pipe(response);
      },
    );
    upstream.on('error', () => {
      // CloudFront's own answer for an origin it cannot reach.
      if (!response.headersSent)
        response.writeHead(502, { 'content-type': 'text/html' }).end('<h1>502 Bad Gateway</h1>');
      else response.destroy();
    });
    response.on('close', () => upstream.destroy());
    request.pipe(upstream);
  });

  server.on('upgrade', (request: IncomingMessage, client: Duplex, head: Buffer) => {
    const path = new URL(request.url ?? '/', 'https://front').pathname;
    const to = target(path);
    if (!to) {
      client.destroy();
      return;
    }
    const upstream: Socket = connect(Number(to.port), to.hostname);
    upgraded.add(client);
    const cut = () => {
      upgraded.delete(client);
      client.destroy();
      upstream.destroy();
    };
    // One side gone: the other gets what was sent before (a close frame) and an end, then goes.
    const finish = () => {
      upgraded.delete(client);
      client.end();
      upstream.end();
      setTimeout(cut, 1_000).unref();
    };
    client.on('error', cut);
    upstream.on('error', cut);
    client.on('close', finish);
    upstream.on('close', finish);
    (client as Socket).setTimeout?.(idleTimeoutMs, () => {
      drops++;
      cut();
    });
    upstream.once('connect', () => {
      let head_ = `${request.method} ${request.url} HTTP/1.1\r\n`;
      for (const [name, value] of Object.entries(forwardedHeaders(request)))
        for (const v of Array.isArray(value) ? value : [value]) head_ += `${name}: ${v}\r\n`;
      upstream.write(`${head_}\r\n`);
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
  });
  // A client's garbage is the edge's to answer; a TLS handshake that fails is CloudFront's, and goes.
  server.on('tlsClientError', (_error, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${bound}`,
    certificate: cert,
    idleDrops: () => drops,
    async close() {
      for (const socket of upgraded) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
