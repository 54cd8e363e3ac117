import { STAGEHAND_METHODS, type StagehandMethod } from './stagehand-methods.js';

/**
 * The paths a session is reached at, on the connect gateway (the local server's port, or a task's controller
 * on 9223): CDP, DevTools discovery, the DevTools frontend and the live view. The API's views build their URLs
 * with these functions, and the gateway routes with the patterns beside them, so the two cannot drift.
 *
 * Ids are the characters Chromium's target ids and our session ids use.
 */
const ID = '[A-Za-z0-9._-]+';

/** The query parameter a session's connect token travels in (Browserbase's name for it). */
export const SIGNING_KEY_PARAM = 'signingKey';

/** A page target's CDP socket: `/devtools/page/<targetId>`. */
export const pageSocketPath = (targetId: string): string => `/devtools/page/${targetId}`;
export const PAGE_SOCKET_PATH = new RegExp(`^/devtools/page/(${ID})$`);

/** The browser target's CDP socket: `/`, `/devtools/browser` or `/devtools/browser/<id>`. */
export const BROWSER_SOCKET_PATH = /^\/devtools\/browser(\/[A-Za-z0-9._-]*)?$/;

/** Chromium's bundled DevTools frontend, served per session: `/debug/<sessionId>/devtools/<asset>`. */
export const devtoolsFrontendPath = (sessionId: string, asset: string): string =>
  `/debug/${sessionId}/devtools/${asset}`;
export const DEVTOOLS_FRONTEND_PATH = new RegExp(`^/debug/(${ID})/devtools/([A-Za-z0-9._/-]+)$`);

/** The screencast live view of one page: `/debug/<sessionId>/live` (its `ws` parameter names the page). */
export const liveViewPath = (sessionId: string): string => `/debug/${sessionId}/live`;
export const LIVE_VIEW_PATH = new RegExp(`^/debug/(${ID})/live/?$`);

/** A URL's `?signingKey=<token>`. */
export const signingKeyQuery = (token: string): string => `?${SIGNING_KEY_PARAM}=${token}`;

/**
 * The URLs that open a page of a running session in a browser, given the gateway's base (`http(s)://host`):
 * Chromium's DevTools frontend (for developers) and the screencast live view (to watch or take over). Both
 * carry the page's CDP socket, authenticated by `token`, in their `ws` parameter (host and path, no scheme: the
 * frontend's convention).
 */
export function pageViewUrls(
  gatewayBase: string,
  sessionId: string,
  targetId: string,
  token: string,
): { debuggerUrl: string; debuggerFullscreenUrl: string } {
  const base = gatewayBase.replace(/\/$/, '');
  const socket = encodeURIComponent(`${new URL(base).host}${pageSocketPath(targetId)}${signingKeyQuery(token)}`);
  // The DevTools frontend opens `wss://` for its `wss` parameter, `ws://` for `ws`; the live view page follows its
  // own page's scheme.
  const frontendParam = base.startsWith('https:') ? 'wss' : 'ws';
  return {
    debuggerUrl: `${base}${devtoolsFrontendPath(sessionId, 'inspector.html')}?${frontendParam}=${socket}`,
    debuggerFullscreenUrl: `${base}${liveViewPath(sessionId)}?ws=${socket}`,
  };
}

/**
 * The browser target's CDP URL (a session's `connectUrl`), given the gateway's WebSocket base (`ws(s)://host`).
 * Through the connect edge it is on `/devtools/browser` (`EDGE_BROWSER_SOCKET_PATH`), so that CloudFront can tell
 * it from the API's paths; `/` elsewhere, as Browserbase's.
 */
export const browserSocketUrl = (wsBase: string, token: string, path = '/'): string =>
  `${wsBase.replace(/\/$/, '')}${path}${signingKeyQuery(token)}`;

/** The browser socket's path in URLs handed out through the connect edge. */
export const EDGE_BROWSER_SOCKET_PATH = '/devtools/browser';

/**
 * The paths the connect edge serves, as CloudFront path patterns (everything else goes to the API): the CDP
 * sockets, DevTools discovery, and the DevTools frontend and live view pages. `isConnectEdgePath` is the same
 * rule for one path (the local TLS front routes by it).
 */
export const CONNECT_EDGE_PATH_PATTERNS = ['/devtools/*', '/json', '/json/*', '/debug/*'] as const;
export const isConnectEdgePath = (pathname: string): boolean =>
  pathname.startsWith('/devtools/') ||
  pathname === '/json' ||
  pathname.startsWith('/json/') ||
  pathname.startsWith('/debug/');

/** A recorded page's replay, served by the API: `/replay/<sessionId>?page=<pageId>&token=<view token>`. */
export const replayPageUrl = (apiBase: string, sessionId: string, pageId: string, viewToken: string): string =>
  `${apiBase.replace(/\/$/, '')}/replay/${encodeURIComponent(sessionId)}?page=${encodeURIComponent(pageId)}&token=${viewToken}`;

/** What a task's controller serves of Stagehand's hosted API, for the API function to forward to. */
export type StagehandOperation = 'start' | 'end' | 'replay' | StagehandMethod;
export const stagehandPath = (operation: StagehandOperation): string => `/stagehand/${operation}`;
export const STAGEHAND_PATH = new RegExp(`^/stagehand/(start|end|replay|${STAGEHAND_METHODS.join('|')})$`);

/**
 * What a task's controller serves of its running session's files, for the API function to read and write (the
 * API cannot reach a task's disk): `GET /files/downloads` (the listing), `GET /files/downloads/<encoded name>`
 * (one finished file), `GET /files/logs`, `GET /files/recording`, `POST /files/uploads?name=<file name>`.
 * Authenticated like the Stagehand calls: the session's connect token as a bearer token.
 */
export type SessionFilesResource = 'downloads' | 'logs' | 'recording' | 'uploads';
export const sessionFilesPath = (resource: SessionFilesResource, fileName?: string): string =>
  `/files/${resource}${fileName === undefined ? '' : `/${Buffer.from(fileName).toString('base64url')}`}`;
export const SESSION_FILES_PATH = /^\/files\/(downloads|logs|recording|uploads)(?:\/([A-Za-z0-9_-]+))?$/;

/**
 * Where an idle warm-pool task takes the API's word that a create claimed it (`POST`, the claimed session's
 * connect token as a bearer token), instead of waiting for its next poll of its item. The task answers once the
 * session is RUNNING or has failed; the API then reads the session's item once, instead of polling it.
 */
export const POOL_CLAIM_PATH = '/pool/claim';
