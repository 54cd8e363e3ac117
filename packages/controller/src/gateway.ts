import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  BROWSER_SOCKET_PATH,
  ConnectAuthError,
  DEVTOOLS_FRONTEND_PATH,
  type DevToolsTarget,
  LIVE_VIEW_PATH,
  type Logger,
  PAGE_SOCKET_PATH,
  pageSocketPath,
  SIGNING_KEY_PARAM,
  silentLogger,
} from '@wallcrawler/contracts';
import type { BrowserSession } from './browser-session.js';
import { LIVE_VIEW_HTML } from './live/live-view-page.js';
import { rejectUpgrade, sendError } from './proxy/raw-http.js';

/** The credentials a CDP client can present, from the query string or headers. */
export interface ConnectCredentials {
  /** The session's connect token (`?signingKey=`, or the `x-wc-signing-key` / `x-bb-signing-key` header). */
  signingKey?: string;
  /** The legacy Browserbase form `?apiKey=<key>&sessionId=<id>`. */
  apiKey?: string;
  /** A session id given alongside the credential; it must match the one the credential is for. */
  sessionId?: string;
}

/**
 * Decides which session a request may reach.
 * @returns the session id
 * @throws ConnectAuthError (401 bad credential, 403 credential for another session, 404 unknown session)
 */
export type ConnectAuthenticator = (credentials: ConnectCredentials) => Promise<string>;

export interface CdpGatewayOptions {
  authenticate: ConnectAuthenticator;
  /**
   * The base URL clients reach this gateway at (`http://host:port`), used to rewrite the URLs in `/json/*`
   * answers. Defaults to the `Host` the request came in on.
   */
  externalUrl?: () => string | undefined;
  /** Told each accepted CDP connection's byte counts when it closes (metrics). */
  onConnectionClosed?: (counts: {
    fromClient: number;
    toClient: number;
    /** CDP messages each way. */
    messages: { fromClient: number; toClient: number };
  }) => void;
  logger?: Logger;
}

/**
 * The connect gateway: routes CDP WebSocket upgrades and DevTools discovery requests (`/json/version`,
 * `/json/list`) to the right session's Chromium, after authenticating them once.
 *
 * Locally it serves every session on the API server's own port; in a Fargate task it serves the task's one
 * session. The routing rule is the same: the credential names the session.
 */
export class CdpGateway {
  readonly #sessions = new Map<string, BrowserSession>();
  readonly #authenticate: ConnectAuthenticator;
  readonly #externalUrl: () => string | undefined;
  readonly #onConnectionClosed: CdpGatewayOptions['onConnectionClosed'];
  readonly #logger: Logger;

  constructor({
    authenticate,
    externalUrl = () => undefined,
    onConnectionClosed,
    logger = silentLogger,
  }: CdpGatewayOptions) {
    this.#authenticate = authenticate;
    this.#externalUrl = externalUrl;
    this.#onConnectionClosed = onConnectionClosed;
    this.#logger = logger;
  }

  /** Serves `session` until it ends. */
  add(session: BrowserSession): void {
    this.#sessions.set(session.id, session);
    void session.ended.then(() => {
      if (this.#sessions.get(session.id) === session) this.#sessions.delete(session.id);
    });
  }

  get(sessionId: string): BrowserSession | undefined {
    return this.#sessions.get(sessionId);
  }

  /** The sessions being served. */
  sessions(): BrowserSession[] {
    return [...this.#sessions.values()];
  }

  /** Handles an HTTP `upgrade` event. Never throws: every failure is answered on the socket. */
  async handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    // A client that resets mid-handshake must not crash the process.
    socket.on('error', () => socket.destroy());
    const requestId = randomUUID();
    try {
      const url = new URL(request.url ?? '/', 'http://gateway');
      const target = targetPath(url.pathname);
      if (target === undefined) {
        rejectUpgrade(
          socket,
          404,
          'not_found',
          `No CDP endpoint at ${url.pathname}. Connect to the session's connectUrl.`,
          requestId,
        );
        return;
      }
      if ((request.headers.upgrade ?? '').toLowerCase() !== 'websocket' || !request.headers['sec-websocket-key']) {
        rejectUpgrade(socket, 400, 'bad_upgrade', 'Expected a WebSocket upgrade request.', requestId);
        return;
      }
      const session = await this.#resolve(credentialsOf(url, request));
      const connection = session.connect(request, socket, head, target === 'browser' ? session.browserPath : target);
      const counted = socket as Duplex & { bytesRead?: number; bytesWritten?: number };
      const onClosed = this.#onConnectionClosed;
      if (onClosed) {
        socket.once('close', () =>
          onClosed({
            fromClient: counted.bytesRead ?? 0,
            toClient: counted.bytesWritten ?? 0,
            messages: connection.messages,
          }),
        );
      }
    } catch (error) {
      if (error instanceof ConnectAuthError) {
        this.#logger.info({ requestId, status: error.status, code: error.code }, 'connect refused');
        rejectUpgrade(socket, error.status, error.code, error.message, requestId);
      } else {
        this.#logger.error({ requestId, err: error }, 'connect failed');
        rejectUpgrade(socket, 500, 'internal_error', 'The connection could not be set up.', requestId);
      }
    }
  }

  /**
   * Serves DevTools discovery (`/json/version`, `/json/list`, `/json`) with URLs rewritten to point back at
   * this gateway. Returns false, without touching `response`, for any other path.
   */
  handleRequest(request: IncomingMessage, response: ServerResponse): boolean {
    const url = new URL(request.url ?? '/', 'http://gateway');
    const frontend = DEVTOOLS_FRONTEND_PATH.exec(url.pathname);
    if (frontend) {
      void this.#frontendAsset(response, frontend[1] as string, frontend[2] as string);
      return true;
    }
    const live = LIVE_VIEW_PATH.exec(url.pathname);
    if (live) {
      const session = this.#sessions.get(live[1] as string);
      if (session?.isRunning) {
        // No X-Frame-Options: the live view is meant to be embedded. It holds no secret; its WebSocket does.
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        response.end(LIVE_VIEW_HTML);
      } else sendError(response, 404, 'session_not_running', 'No such running session.');
      return true;
    }
    const path = url.pathname.replace(/\/$/, '');
    if (path !== '/json/version' && path !== '/json/list' && path !== '/json') return false;
    void this.#discovery(request, response, url, path);
    return true;
  }

  async #discovery(request: IncomingMessage, response: ServerResponse, url: URL, path: string): Promise<void> {
    const requestId = randomUUID();
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json', 'x-request-id': requestId });
      response.end(JSON.stringify(body));
    };
    try {
      if (request.method !== 'GET') {
        sendError(response, 405, 'method_not_allowed', `${path} only answers GET.`, requestId);
        return;
      }
      const credentials = credentialsOf(url, request);
      const session = await this.#resolve(credentials);
      const base = this.#externalBase(request);
      const query = connectQuery(credentials);
      if (path === '/json/version') {
        const version = await session.version();
        send(200, { ...version, webSocketDebuggerUrl: `${wsBase(base)}${session.browserPath}${query}` });
      } else {
        const targets = await session.targets();
        send(
          200,
          targets.map((t) => rewriteTarget(t, base, query)),
        );
      }
    } catch (error) {
      if (error instanceof ConnectAuthError) {
        sendError(response, error.status, error.code, error.message, requestId);
      } else {
        this.#logger.error({ requestId, err: error }, 'devtools discovery failed');
        sendError(response, 502, 'browser_unavailable', 'The browser did not answer.', requestId);
      }
    }
  }

  /**
   * Serves a file of Chromium's DevTools frontend, for the `/debug` URLs. The files are Chromium's public
   * bundle, so they need no credential; the WebSocket the frontend then opens is authenticated like any other.
   */
  async #frontendAsset(response: ServerResponse, sessionId: string, asset: string): Promise<void> {
    const session = this.#sessions.get(sessionId);
    if (!session?.isRunning || asset.split('/').includes('..')) {
      sendError(response, 404, 'not_found', 'No such session or file.');
      return;
    }
    try {
      const upstream = await fetch(`http://127.0.0.1:${session.port}/devtools/${asset}`);
      response.writeHead(upstream.status, {
        'content-type': upstream.headers.get('content-type') ?? 'application/octet-stream',
        'cache-control': 'public, max-age=3600',
      });
      response.end(Buffer.from(await upstream.arrayBuffer()));
    } catch {
      response.writeHead(502).end();
    }
  }

  async #resolve(credentials: ConnectCredentials): Promise<BrowserSession> {
    const sessionId = await this.#authenticate(credentials);
    const session = this.#sessions.get(sessionId);
    if (!session?.isRunning) {
      throw new ConnectAuthError(410, 'session_ended', `Session ${sessionId} is not running; create a new session.`);
    }
    return session;
  }

  #externalBase(request: IncomingMessage): string {
    return (this.#externalUrl() ?? `http://${request.headers.host ?? '127.0.0.1'}`).replace(/\/$/, '');
  }
}

/** The DevTools socket a CDP upgrade's path asks for: the browser's, a page's (its path), or none. */
export function targetPath(pathname: string): 'browser' | string | undefined {
  if (pathname === '/' || pathname === '' || BROWSER_SOCKET_PATH.test(pathname)) return 'browser';
  const page = PAGE_SOCKET_PATH.exec(pathname)?.[1];
  return page ? pageSocketPath(page) : undefined;
}

/** The credential a request carries, from its query string or headers. */
export function credentialsOf(url: URL, request: IncomingMessage): ConnectCredentials {
  const header = (name: string) => {
    const value = request.headers[name];
    return typeof value === 'string' && value ? value : undefined;
  };
  const param = (name: string) => url.searchParams.get(name) || undefined;
  const credentials: ConnectCredentials = {};
  const signingKey = param(SIGNING_KEY_PARAM) ?? header('x-wc-signing-key') ?? header('x-bb-signing-key');
  const apiKey = param('apiKey');
  const sessionId = param('sessionId');
  if (signingKey) credentials.signingKey = signingKey;
  if (apiKey) credentials.apiKey = apiKey;
  if (sessionId) credentials.sessionId = sessionId;
  return credentials;
}

/** The query string that carries the same credential on rewritten URLs. */
function connectQuery(credentials: ConnectCredentials): string {
  const params = new URLSearchParams();
  if (credentials.signingKey) params.set(SIGNING_KEY_PARAM, credentials.signingKey);
  else {
    if (credentials.apiKey) params.set('apiKey', credentials.apiKey);
    if (credentials.sessionId) params.set('sessionId', credentials.sessionId);
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

function wsBase(httpBase: string): string {
  return httpBase.replace(/^http/, 'ws');
}

function rewriteTarget(target: DevToolsTarget, base: string, query: string): DevToolsTarget {
  const rewritten: DevToolsTarget = { ...target };
  if (target.webSocketDebuggerUrl)
    rewritten.webSocketDebuggerUrl = `${wsBase(base)}${pageSocketPath(target.id)}${query}`;
  delete rewritten.devtoolsFrontendUrl;
  return rewritten;
}
