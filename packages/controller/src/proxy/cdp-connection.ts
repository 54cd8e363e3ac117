import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { encodeCloseFrame, FrameBoundaryTracker } from './websocket-frames.js';
import type { WebSocketTap } from './websocket-tap.js';

/** Headers of the client's upgrade request that Chromium needs; everything else (Origin, cookies, auth) stays here. */
const FORWARDED_HEADERS = [
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-extensions',
  'sec-websocket-protocol',
];

/** How long a client gets to finish the closing handshake before its socket is destroyed. */
const CLOSE_LINGER_MS = 1000;

export interface CdpConnectionOptions {
  request: IncomingMessage;
  client: Duplex;
  /** Bytes the client sent after its upgrade request. */
  head: Buffer;
  /** Chromium's DevTools port on 127.0.0.1. */
  port: number;
  /** The DevTools path to connect to: `/devtools/browser/<id>` or `/devtools/page/<id>`. */
  path: string;
  /**
   * Called when Chromium ends the connection without a closing handshake (it exited, or the target went away).
   * The owner decides the close code and reason and calls {@link CdpConnection.close}.
   */
  onUpstreamEnd: (connection: CdpConnection) => void;
  /** Gets a copy of the traffic (the CDP log); it only reads, after the bytes were forwarded. */
  tap?: WebSocketTap;
}

/**
 * One CDP client piped to Chromium's DevTools socket.
 *
 * After the handshake the bytes are relayed as they are, with no parsing or re-framing: the proxy adds the
 * least latency a relay can. The only thing it watches is where frames end in Chromium's direction, so that it
 * can close the client with a real close frame (code and reason) without cutting a message in half.
 */
export class CdpConnection {
  readonly #client: Duplex;
  readonly #upstream: Socket;
  readonly #tracker = new FrameBoundaryTracker();
  /** The client's frames, counted only (they are piped to Chromium as they come). */
  readonly #fromClient = new FrameBoundaryTracker();
  readonly #onUpstreamEnd: (connection: CdpConnection) => void;
  #responseHead: Buffer | undefined = Buffer.alloc(0);
  #upgraded = false;
  #closing: { code: number; reason: string } | undefined;
  #upstreamGone = false;
  /** Resolves once the client's socket is closed. */
  readonly closed: Promise<void>;

  readonly #tap: WebSocketTap | undefined;

  constructor({ request, client, head, port, path, onUpstreamEnd, tap }: CdpConnectionOptions) {
    this.#client = client;
    this.#tap = tap;
    this.#onUpstreamEnd = onUpstreamEnd;
    this.closed = new Promise((resolve) => client.once('close', () => resolve()));
    client.on('error', () => client.destroy());
    if ('setNoDelay' in client && typeof client.setNoDelay === 'function') client.setNoDelay(true);

    const upstream = connect({ host: '127.0.0.1', port });
    this.#upstream = upstream;
    upstream.setNoDelay(true);
    upstream.on('error', () => upstream.destroy());
    // net.Socket queues writes until it is connected, so the handshake and the client's bytes go out in order.
    upstream.write(upgradeRequest(request, port, path));
    if (head.length > 0) upstream.write(head);
    client.pipe(upstream);
    if (head.length > 0) this.#fromClient.advance(head);
    client.on('data', (chunk: Buffer) => this.#fromClient.advance(chunk));
    if (tap) {
      if (head.length > 0) tap.clientBytes(head);
      // A second reader of the same chunks: the pipe forwards them first (it was attached first).
      client.on('data', (chunk: Buffer) => tap.clientBytes(chunk));
      client.once('close', () => tap.stop());
    }

    upstream.on('data', (chunk: Buffer) => this.#fromUpstream(chunk));
    upstream.once('close', () => this.#upstreamClosed());
    client.once('close', () => {
      upstream.destroy();
    });
  }

  /** CDP messages through this connection so far, each way. */
  get messages(): { fromClient: number; toClient: number } {
    return { fromClient: this.#fromClient.messages, toClient: this.#tracker.messages };
  }

  /** True once Chromium accepted the WebSocket handshake. */
  get upgraded(): boolean {
    return this.#upgraded;
  }

  /** Ends the connection with a close frame carrying `code` and `reason`. Resolves when the client is gone. */
  close(code: number, reason: string): Promise<void> {
    if (this.#closing) return this.closed;
    this.#closing = { code, reason };
    this.#client.unpipe(this.#upstream);
    if (!this.#upgraded || this.#tracker.sawClose) {
      this.#client.destroy();
    } else if (this.#tracker.atBoundary) {
      this.#finishClose();
    } else if (this.#upstreamGone) {
      // Chromium went away mid-message: there is no boundary to wait for.
      this.#client.destroy();
    } else {
      // Let the message in flight finish (#fromUpstream stops at its end), but not forever.
      setTimeout(() => this.#client.destroy(), CLOSE_LINGER_MS);
    }
    return this.closed;
  }

  #fromUpstream(chunk: Buffer): void {
    if (this.#responseHead) {
      const pending: Buffer = Buffer.concat([this.#responseHead, chunk]);
      const end = pending.indexOf('\r\n\r\n');
      if (end < 0) {
        this.#responseHead = pending.length > 16_384 ? undefined : pending;
        if (!this.#responseHead) this.#client.destroy();
        return;
      }
      this.#responseHead = undefined;
      this.#upgraded = pending.subarray(9, 12).toString() === '101';
      this.#client.write(pending.subarray(0, end + 4));
      if (this.#upgraded) this.#tap?.upgraded(pending.subarray(0, end).toString('latin1'));
      else this.#tap?.stop();
      chunk = pending.subarray(end + 4);
      if (chunk.length === 0) return;
    }
    if (this.#closing) {
      const n = this.#tracker.advance(chunk, 0, true);
      if (n > 0) this.#client.write(chunk.subarray(0, n));
      if (this.#tracker.atBoundary) this.#finishClose();
      return;
    }
    this.#tracker.advance(chunk);
    const flowing = this.#client.write(chunk);
    this.#tap?.browserBytes(chunk);
    if (!flowing) {
      this.#upstream.pause();
      this.#client.once('drain', () => this.#upstream.resume());
    }
  }

  #upstreamClosed(): void {
    this.#upstreamGone = true;
    if (this.#closing) {
      if (!this.#tracker.atBoundary) this.#client.destroy();
      return;
    }
    if (!this.#upgraded || this.#tracker.sawClose) {
      // A refused handshake, or a closing handshake Chromium already answered: mirror the TCP close.
      this.#client.end();
      return;
    }
    this.#onUpstreamEnd(this);
  }

  #finishClose(): void {
    const { code, reason } = this.#closing ?? { code: 1000, reason: '' };
    this.#upstream.destroy();
    if (this.#client.writable) this.#client.end(encodeCloseFrame(code, reason));
    // Keep reading (and dropping) what the client sends, so its answering close is seen. A paused socket is an
    // inactive handle: a process whose last client is paused would exit before its close path finished.
    this.#client.resume();
    // Not unref'd for the same reason: a client that never answers is cut off after the linger, not waited for.
    setTimeout(() => this.#client.destroy(), CLOSE_LINGER_MS);
  }
}

function upgradeRequest(request: IncomingMessage, port: number, path: string): string {
  let head = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`;
  for (const name of FORWARDED_HEADERS) {
    const value = request.headers[name];
    if (typeof value === 'string') head += `${name}: ${value}\r\n`;
  }
  return `${head}\r\n`;
}
