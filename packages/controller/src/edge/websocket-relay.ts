import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type Logger, silentLogger } from '@wallcrawler/contracts';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { rejectUpgrade } from '../proxy/raw-http.js';
import { credentialHeaders } from './http-relay.js';
import type { SessionRoute } from './session-route.js';

/** The largest CDP message relayed (a full-page screenshot, a big DOM snapshot). */
const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;
/** Bytes queued towards one side before the other side's reading is paused. */
const HIGH_WATER_BYTES = 4 * 1024 * 1024;
/** How long the task gets to answer the upgrade. */
const UPSTREAM_HANDSHAKE_MS = 10_000;
/** How long clients get to answer a close frame at shutdown before their sockets are cut. */
const SHUTDOWN_LINGER_MS = 2_000;

/** The close frame a client gets when the edge loses its task's side (RFC 6455 1011: an unexpected condition). */
export const UPSTREAM_LOST = { code: 1011, reason: "The connection to the session's browser was lost." } as const;
/** The close frame every client gets when the edge stops (1012: service restart; reconnecting works). */
export const EDGE_RESTARTING = { code: 1012, reason: 'The connect gateway is restarting; reconnect.' } as const;

/** One client's socket relayed to its session's task. */
interface Pair {
  sessionId: string;
  client: WebSocket;
  upstream: WebSocket;
  /** Whether the client answered the last ping (or sent anything since). */
  alive: boolean;
  closed: Promise<void>;
}

export interface WebSocketRelayOptions {
  /** How often each client is pinged: CloudFront (and the load balancer) drop an idle WebSocket. */
  pingMs: number;
  logger?: Logger;
}

/**
 * The edge's WebSocket relay. It ends each client's WebSocket itself and opens one to the session's task, and
 * relays messages as they are: so that it can ping the client through CloudFront's idle timeout, close it with
 * a real close frame (1011 and a reason) when the task's side is lost, and close every client at a restart. A
 * client that breaks the protocol after its upgrade is closed (1002) alone.
 */
export class WebSocketRelay {
  readonly #server = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: MAX_MESSAGE_BYTES,
  });
  readonly #pairs = new Set<Pair>();
  readonly #logger: Logger;
  readonly #pinger: NodeJS.Timeout;
  #stopping = false;

  constructor({ pingMs, logger = silentLogger }: WebSocketRelayOptions) {
    this.#logger = logger;
    this.#pinger = setInterval(() => this.#pingAll(), pingMs);
    this.#pinger.unref();
  }

  /** Clients being relayed. */
  get size(): number {
    return this.#pairs.size;
  }

  /**
   * Opens the task's side first, and only then completes the client's upgrade: a task that refuses (its own
   * check of the token, a session that just ended) is answered with its status line and body.
   */
  relay(request: IncomingMessage, socket: Duplex, head: Buffer, route: SessionRoute, requestId: string): void {
    if (this.#stopping) {
      rejectUpgrade(socket, 503, 'edge_stopping', 'The connect gateway is restarting; reconnect.', requestId);
      return;
    }
    const { host, port } = route.endpoint;
    const hostPart = host.includes(':') ? `[${host}]` : host;
    const upstream = new WebSocket(`ws://${hostPart}:${port}${request.url ?? '/'}`, {
      headers: credentialHeaders(request),
      perMessageDeflate: false,
      maxPayload: MAX_MESSAGE_BYTES,
      handshakeTimeout: UPSTREAM_HANDSHAKE_MS,
    });
    let upstreamSocket: Socket | undefined;
    upstream.once('upgrade', (response) => {
      upstreamSocket = response.socket as Socket;
    });
    const log = this.#logger.child({ requestId, sessionId: route.sessionId });
    const abandon = () => upstream.terminate();
    // The client gave up while the task's side opened.
    socket.once('close', abandon);
    upstream.once('unexpected-response', (_req, response) => {
      socket.off('close', abandon);
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const refusal = errorOf(Buffer.concat(chunks).toString('utf8'));
        log.info({ status: response.statusCode, code: refusal?.code }, 'the task refused the connection');
        if (refusal && response.statusCode && response.statusCode >= 400)
          rejectUpgrade(socket, response.statusCode, refusal.code, refusal.message, requestId);
        else
          rejectUpgrade(socket, 502, 'browser_unavailable', "The session's browser refused the connection.", requestId);
        upstream.terminate();
      });
    });
    let opened = false;
    upstream.once('error', (error) => {
      if (opened) return;
      socket.off('close', abandon);
      log.warn({ err: error.message }, "the session's task could not be reached");
      rejectUpgrade(socket, 502, 'browser_unavailable', "The session's browser could not be reached.", requestId);
    });
    upstream.once('open', () => {
      opened = true;
      socket.off('close', abandon);
      if (!socket.writable || this.#stopping) {
        upstream.close(1001, 'The client left');
        socket.destroy();
        return;
      }
      this.#server.handleUpgrade(request, socket, head, (client) => {
        this.#pair(route.sessionId, client, socket as Socket, upstream, upstreamSocket, log);
      });
    });
  }

  /** Closes every client with a close frame (1012) and its task's side, then waits for them (bounded). */
  async closeAll(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#pinger);
    const pairs = [...this.#pairs];
    for (const pair of pairs) {
      pair.client.close(EDGE_RESTARTING.code, EDGE_RESTARTING.reason);
      pair.upstream.close(1001, 'The connect gateway is restarting');
    }
    let linger: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(pairs.map((p) => p.closed)),
      new Promise<void>((resolve) => {
        linger = setTimeout(resolve, SHUTDOWN_LINGER_MS);
      }),
    ]);
    clearTimeout(linger);
    // The close frames are sent: nothing waits on a peer that never answers them.
    for (const pair of pairs) {
      pair.client.terminate();
      pair.upstream.terminate();
    }
    this.#server.close();
  }

  #pair(
    sessionId: string,
    client: WebSocket,
    clientSocket: Socket,
    upstream: WebSocket,
    upstreamSocket: Socket | undefined,
    log: Logger,
  ): void {
    let resolveClosed!: () => void;
    const pair: Pair = {
      sessionId,
      client,
      upstream,
      alive: true,
      closed: new Promise<void>((resolve) => {
        resolveClosed = resolve;
      }),
    };
    this.#pairs.add(pair);
    log.info({ connections: this.#pairs.size }, 'client connected');
    const forward =
      (to: WebSocket, toSocket: Socket | undefined, fromSocket: Socket | undefined) =>
      (data: RawData, isBinary: boolean) => {
        if (to.readyState !== WebSocket.OPEN) return;
        to.send(data, { binary: isBinary });
        // A slow side holds the other's reading, so that neither queue grows without bound.
        if (toSocket && fromSocket && toSocket.writableLength > HIGH_WATER_BYTES && !fromSocket.isPaused()) {
          fromSocket.pause();
          toSocket.once('drain', () => fromSocket.resume());
        }
      };
    client.on('message', (data, isBinary) => {
      pair.alive = true;
      forward(upstream, upstreamSocket, clientSocket)(data, isBinary);
    });
    upstream.on('message', forward(client, clientSocket, upstreamSocket));
    client.on('pong', () => {
      pair.alive = true;
    });
    client.on('error', (error) => {
      // Garbage after the upgrade (a bad frame, an unmasked frame, an oversized message): ws closes it (1002,
      // 1009); only this client goes.
      log.info({ err: error.message }, 'the client broke the WebSocket protocol');
    });
    upstream.on('error', (error) => {
      log.warn({ err: error.message }, "the session's task connection failed");
    });
    client.once('close', (code, reason) => {
      this.#pairs.delete(pair);
      log.info({ code, connections: this.#pairs.size }, 'client disconnected');
      if (upstream.readyState === WebSocket.OPEN)
        upstream.close(isSendable(code) ? code : 1000, truncate(reason.toString('utf8')));
      else upstream.terminate();
      resolveClosed();
    });
    upstream.once('close', (code, reason) => {
      if (client.readyState !== WebSocket.OPEN) return;
      if (!isSendable(code)) {
        // Its task's side ended without a close frame: the task died, or the network between them broke.
        log.warn({ code }, "lost the session's task connection");
        client.close(UPSTREAM_LOST.code, UPSTREAM_LOST.reason);
      } else client.close(code, truncate(reason.toString('utf8')));
    });
  }

  #pingAll(): void {
    for (const pair of this.#pairs) {
      if (!pair.alive) {
        // No pong for a whole interval: the client is gone without a close (its network dropped).
        pair.client.terminate();
        continue;
      }
      pair.alive = false;
      pair.client.ping();
    }
  }
}

/** Whether a close code may be sent (1005, 1006 and 1015 are only ever reported). */
function isSendable(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/** A close reason fits in 123 bytes. */
function truncate(reason: string): string {
  let text = reason;
  while (Buffer.byteLength(text) > 123) text = text.slice(0, -1);
  return text;
}

/** The one error body's code and message in a task's refusal, if it is one. */
function errorOf(body: string): { code: string; message: string } | undefined {
  try {
    const parsed = JSON.parse(body) as { code?: unknown; message?: unknown };
    if (typeof parsed.code === 'string' && typeof parsed.message === 'string')
      return { code: parsed.code, message: parsed.message };
  } catch {
    // Not the one error body: answered as a 502.
  }
  return undefined;
}
