import type { z } from '@hono/zod-openapi';
import { browserSocketUrl, EDGE_BROWSER_SOCKET_PATH, pageViewUrls, replayPageUrl } from '@wallcrawler/contracts';
import type { Census } from '../census.js';
import { SessionNotRunningError } from '../domain/errors.js';
import type { SessionRecord } from '../domain/model.js';
import type { BrowserProvider } from '../ports/browser-provider.js';
import type { ConnectTokenSigner } from '../ports/connect-token-signer.js';
import type { SessionLiveURLsSchema } from '../schemas/session.js';
import type { SessionFiles } from './session-files.js';
import type { SessionLifecycle } from './session-lifecycle.js';

/** A session with the URLs a client connects with (present while it runs). */
export interface SessionView {
  session: SessionRecord;
  connect?: { connectUrl: string; signingKey: string; seleniumRemoteUrl: string };
}

/** The live DevTools URLs of a session: the contract's `SessionLiveURLs`. */
export type LiveUrls = z.infer<typeof SessionLiveURLsSchema>;

/** Browserbase's replay listing: one entry per recorded page, with a URL that plays it. */
export interface ReplayListing {
  pageCount: number;
  pages: { pageId: string; startTimeMs: number; endTimeMs: number; url: string }[];
}

export interface SessionViewsOptions {
  lifecycle: SessionLifecycle;
  provider: BrowserProvider;
  signer: ConnectTokenSigner;
  /** The recorded pages the replay URLs are for. */
  files: SessionFiles;
  /** Where the signed tokens are counted (the leak check). */
  census?: Census | undefined;
  /**
   * The connect edge's public base (`https://host`, AWS's `WALLCRAWLER_CONNECT_BASE_URL`): sessions are handed
   * out on it (`wss://`, `https://`) instead of their task's address. @default each session's own address
   */
  connectBaseUrl?: string | undefined;
}

/** Connect tokens kept signed, at most (running sessions, so a few per project). */
const MAX_CACHED_TOKENS = 10_000;

/**
 * What a client is handed to reach a session: its `connectUrl` and `signingKey`, the live view and DevTools
 * URLs, and the replay pages' URLs, each with a token bound to the session. The URLs' paths come from
 * `@wallcrawler/contracts`' session paths, which the connect gateway routes by.
 */
export class SessionViews {
  readonly #lifecycle: SessionLifecycle;
  readonly #provider: BrowserProvider;
  readonly #signer: ConnectTokenSigner;
  readonly #files: SessionFiles;
  /** The connect edge's base (`https://host`), when sessions are handed out through it. */
  readonly #connectBase: string | undefined;
  /**
   * Each running session's connect token, signed once: its claims (session, project, expiry, issue time) never
   * change, so neither does the token, and signing it on every read was a third of a retrieve's cost.
   */
  readonly #tokens = new Map<string, Promise<string>>();

  constructor({ lifecycle, provider, signer, files, census, connectBaseUrl }: SessionViewsOptions) {
    this.#connectBase = connectBaseUrl?.replace(/\/$/, '');
    this.#lifecycle = lifecycle;
    this.#provider = provider;
    this.#signer = signer;
    this.#files = files;
    census?.add('connectTokens', () => this.#tokens.size);
    lifecycle.onEnded((sessionId) => this.#tokens.delete(sessionId));
  }

  /** The project's session with its connect URLs. @throws SessionNotFoundError */
  async retrieve(projectId: string, sessionId: string, gatewayUrl: string): Promise<SessionView> {
    return this.of(await this.#lifecycle.get(projectId, sessionId), gatewayUrl);
  }

  /** `stored` with the URLs a client connects with, while it is PENDING or RUNNING. */
  async of(stored: SessionRecord, gatewayUrl: string): Promise<SessionView> {
    if (stored.status !== 'RUNNING' && stored.status !== 'PENDING') return { session: stored };
    // A running session's proxy bytes so far (the store has them once it ended).
    const proxyBytes = this.#provider.proxyBytes?.(stored);
    const session = proxyBytes ? { ...stored, proxyBytes } : stored;
    const signingKey = await this.#connectToken(session);
    const base = gatewayUrl.replace(/\/$/, '');
    // Through the connect edge when there is one; else a browser in a task of its own is reached at that task's
    // controller, and a local one through this gateway.
    const connectBase = (this.#connectBase ?? session.connectEndpoint ?? base).replace(/^http/, 'ws');
    return {
      session,
      connect: {
        connectUrl: browserSocketUrl(connectBase, signingKey, this.#connectBase ? EDGE_BROWSER_SOCKET_PATH : '/'),
        signingKey,
        seleniumRemoteUrl: `${base}/webdriver`,
      },
    };
  }

  /**
   * The live DevTools URLs of a running session, valid for `expiresIn` seconds (at most the session's life).
   * @throws SessionNotFoundError; SessionNotRunningError
   */
  async liveUrls(projectId: string, sessionId: string, gatewayUrl: string, expiresIn = 21_600): Promise<LiveUrls> {
    const session = await this.#lifecycle.get(projectId, sessionId);
    if (session.status !== 'RUNNING' || !this.#provider.isRunning(session)) {
      throw new SessionNotRunningError(sessionId, session.status);
    }
    const expiresAt = new Date(Math.min(session.expiresAt.getTime(), Date.now() + expiresIn * 1000));
    const token = await this.#signer.sign({ sessionId, projectId, expiresAt });
    // The edge relays a task's DevTools frontend; without one, a browser in a task of its own serves it itself.
    const base = this.#connectBase ?? session.connectEndpoint?.replace(/^ws/, 'http') ?? gatewayUrl.replace(/\/$/, '');
    const pages = (await this.#provider.targets(session))
      .filter((t) => t.type === 'page')
      .map((t) => ({
        id: t.id,
        url: t.url,
        title: t.title,
        faviconUrl: t.faviconUrl ?? '',
        ...pageViewUrls(base, sessionId, t.id, token),
      }));
    const first = pages[0];
    return {
      debuggerUrl: first?.debuggerUrl ?? '',
      debuggerFullscreenUrl: first?.debuggerFullscreenUrl ?? '',
      wsUrl: browserSocketUrl(base.replace(/^http/, 'ws'), token, this.#connectBase ? EDGE_BROWSER_SOCKET_PATH : '/'),
      pages,
    };
  }

  /**
   * The recorded pages, each with the URL of a page that replays it in a browser (valid for `expiresIn`
   * seconds, default a day). Wallcrawler serves no HLS video: the URLs are rrweb replay pages.
   */
  async replays(projectId: string, sessionId: string, gatewayUrl: string, expiresIn = 86_400): Promise<ReplayListing> {
    const recorded = await this.#files.recordedPages(projectId, sessionId);
    const token = await this.viewToken(projectId, sessionId, expiresIn);
    const pages = recorded.map((page) => ({ ...page, url: replayPageUrl(gatewayUrl, sessionId, page.pageId, token) }));
    return { pageCount: pages.length, pages };
  }

  /** A token that lets its holder watch the session's replay (never drive it), for `expiresIn` seconds. */
  async viewToken(projectId: string, sessionId: string, expiresIn = 86_400): Promise<string> {
    return this.#signer.sign(
      { sessionId, projectId, expiresAt: new Date(Date.now() + expiresIn * 1000) },
      undefined,
      'view',
    );
  }

  #connectToken(session: SessionRecord): Promise<string> {
    let token = this.#tokens.get(session.id);
    if (!token) {
      token = this.#signer.sign(
        { sessionId: session.id, projectId: session.projectId, expiresAt: session.expiresAt },
        session.createdAt,
      );
      token.catch(() => this.#tokens.delete(session.id));
      // Endings remove their session's token; the bound only guards against endings this process never saw.
      if (this.#tokens.size >= MAX_CACHED_TOKENS) this.#tokens.delete(this.#tokens.keys().next().value as string);
      this.#tokens.set(session.id, token);
    }
    return token;
  }
}
