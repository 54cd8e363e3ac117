import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import type { z } from '@hono/zod-openapi';
import {
  checkProxy,
  DEFAULT_VIEWPORT,
  type DownloadFailure,
  type Logger,
  type ProxyRoute,
  type RecordedEvent,
  type SessionEnding,
  type SessionLogEntry,
  silentLogger,
  UpstreamProxyError,
} from '@wallcrawler/controller';
import type { Census } from '../census.js';
import {
  BrowserLaunchError,
  CapacityExceededError,
  DomainError,
  InvalidUploadError,
  NotSupportedError,
  ProjectNotFoundError,
  ProxyAuthError,
  ProxyUnreachableError,
  SessionNotFoundError,
  SessionNotRunningError,
} from '../domain/errors.js';
import type { ProjectRecord, Region, SessionRecord, SessionStatus, Viewport } from '../domain/model.js';
import type { ServerMetrics } from '../metrics.js';
import type { BrowserProvider, BrowserStartRequest } from '../ports/browser-provider.js';
import type { ConnectTokenSigner } from '../ports/connect-token-signer.js';
import type { Store } from '../ports/store.js';
import type { SessionLiveURLsSchema } from '../schemas/session.js';
import type { ContextService } from './context-service.js';
import type { DownloadService } from './download-service.js';
import type { ExtensionService } from './extension-service.js';
import type { HostAdmission, HostSlot } from './host-admission.js';
import { parseMetadataQuery } from './metadata-query.js';
import type { SessionArtifactService } from './session-artifact-service.js';

/** What `POST /v1/sessions` may set (already validated). */
export interface CreateSessionInput {
  timeout?: number | undefined;
  keepAlive?: boolean | undefined;
  region?: Region | undefined;
  userMetadata?: Record<string, unknown> | undefined;
  viewport?: Partial<Viewport> | undefined;
  /** Start from this context; with `persist`, save the profile back into it when the session ends. */
  context?: { id: string; persist?: boolean | undefined } | undefined;
  /** Load this uploaded extension. */
  extensionId?: string | undefined;
  /** Log the session's CDP traffic. @default true */
  logSession?: boolean | undefined;
  /** Record the session's pages with rrweb. @default true */
  recordSession?: boolean | undefined;
  /** Where the session's traffic goes: proxies of the user's (checked before anything starts). */
  proxies?: readonly ProxyRoute[] | undefined;
}

/** Browserbase's `SessionRecording`, plus the page the event is from. */
export interface SessionRecordingEvent {
  data: unknown;
  sessionId: string;
  timestamp: number;
  type: number;
  pageId: string;
}

/** Browserbase's replay listing: one entry per recorded page, with a URL that plays it. */
export interface ReplayListing {
  pageCount: number;
  pages: { pageId: string; startTimeMs: number; endTimeMs: number; url: string }[];
}

/** A session with the URLs a client connects with (present while it runs). */
export interface SessionView {
  session: SessionRecord;
  connect?: { connectUrl: string; signingKey: string; seleniumRemoteUrl: string };
}

/** The live DevTools URLs of a session: the contract's `SessionLiveURLs`. */
export type LiveUrls = z.infer<typeof SessionLiveURLsSchema>;

export interface SessionServiceOptions {
  store: Store;
  /** Sessions with a context need it; without it they are refused. */
  contexts?: ContextService | undefined;
  /** Sessions with an extension need it; without it they are refused. */
  extensions?: ExtensionService | undefined;
  /** Keeps and serves sessions' downloads; without it, downloads are not collected. */
  downloads?: DownloadService | undefined;
  /** The most one session's downloads may add up to. @default 512 MiB */
  sessionDownloadsMaxBytes?: number;
  /** Keeps and serves CDP logs; without it, sessions are not logged. */
  artifacts?: SessionArtifactService | undefined;
  /** The most one session's CDP log keeps. @default 16 MiB */
  sessionLogMaxBytes?: number;
  /** The most one session's recording keeps. @default 64 MiB */
  sessionRecordingMaxBytes?: number;
  provider: BrowserProvider;
  signer: ConnectTokenSigner;
  logger?: Logger;
  /** Retry-After, in seconds, when a project is at its concurrency. @default 5 */
  retryAfterSeconds?: number;
  /** How many browsers this host runs at once, and the wait for a slot (local server). Without it, no host limit. */
  admission?: HostAdmission | undefined;
  /** Where create stages and endings are counted. */
  metrics?: ServerMetrics | undefined;
  /** Where the service's per-session maps are counted (the leak check). */
  census?: Census | undefined;
}

/** Connect tokens kept signed, at most (running sessions, so a few per project). */
const MAX_CACHED_TOKENS = 10_000;

/**
 * The session lifecycle: admission, launch, views, release, and recording every ending. Talks only to the
 * ports, so it runs unchanged over SQLite + local Chromium or DynamoDB + Fargate.
 */
export class SessionService {
  readonly #store: Store;
  readonly #contexts: ContextService | undefined;
  readonly #extensions: ExtensionService | undefined;
  readonly #downloads: DownloadService | undefined;
  readonly #sessionDownloadsMaxBytes: number;
  readonly #artifacts: SessionArtifactService | undefined;
  readonly #sessionLogMaxBytes: number;
  readonly #sessionRecordingMaxBytes: number;
  readonly #provider: BrowserProvider;
  readonly #signer: ConnectTokenSigner;
  readonly #logger: Logger;
  readonly #retryAfterSeconds: number;
  readonly #endListeners: ((sessionId: string) => void)[] = [];
  readonly #admission: HostAdmission | undefined;
  readonly #metrics: ServerMetrics | undefined;
  /** The host slot each admitted session holds until its browser is gone. */
  readonly #slots = new Map<string, HostSlot>();
  /**
   * Sessions whose ending is recorded but whose browser is still being killed and its files kept: reads of what
   * the session kept (downloads, log, recording) wait for this, so that they see all of it.
   */
  readonly #finishing = new Map<string, Deferred>();
  /** Browsers being started, by session: a release that comes meanwhile waits for the start, then ends it. */
  readonly #starting = new Map<string, Deferred>();
  /**
   * Each running session's connect token, signed once: its claims (session, project, expiry, issue time) never
   * change, so neither does the token, and signing it on every read was a third of a retrieve's cost.
   */
  readonly #tokens = new Map<string, Promise<string>>();

  constructor({
    store,
    contexts,
    extensions,
    downloads,
    sessionDownloadsMaxBytes = 512 * 1024 * 1024,
    artifacts,
    sessionLogMaxBytes = 16 * 1024 * 1024,
    sessionRecordingMaxBytes = 64 * 1024 * 1024,
    provider,
    signer,
    logger = silentLogger,
    retryAfterSeconds = 5,
    admission,
    metrics,
    census,
  }: SessionServiceOptions) {
    census?.add('hostSlots', () => this.#slots.size);
    census?.add('sessionsFinishing', () => this.#finishing.size);
    census?.add('connectTokens', () => this.#tokens.size);
    census?.add('startingBrowsers', () => this.#starting.size);
    census?.add('endListeners', () => this.#endListeners.length);
    this.#admission = admission;
    this.#metrics = metrics;
    this.#store = store;
    this.#contexts = contexts;
    this.#extensions = extensions;
    this.#downloads = downloads;
    this.#sessionDownloadsMaxBytes = sessionDownloadsMaxBytes;
    this.#artifacts = artifacts;
    this.#sessionLogMaxBytes = sessionLogMaxBytes;
    this.#sessionRecordingMaxBytes = sessionRecordingMaxBytes;
    this.#provider = provider;
    this.#signer = signer;
    this.#logger = logger;
    this.#retryAfterSeconds = retryAfterSeconds;
  }

  /**
   * Admits, launches and returns a RUNNING session.
   * @throws CapacityExceededError at the project's concurrency; BrowserLaunchError if the browser did not start.
   */
  async create(projectId: string, input: CreateSessionInput, gatewayUrl: string): Promise<SessionView> {
    const project = await this.#project(projectId);
    const now = new Date();
    const timeoutSeconds = input.timeout ?? project.defaultTimeout;
    const profile = input.context ? await this.#profileHooks(projectId, input.context) : undefined;
    const extension = input.extensionId ? await this.#extension(projectId, input.extensionId) : undefined;
    // Before a slot is taken or anything stored: a proxy that refuses the credentials fails the create at once.
    if (input.proxies) await this.#checkProxies(input.proxies);
    const session: SessionRecord = {
      id: randomUUID(),
      projectId,
      status: 'PENDING',
      region: input.region ?? 'us-west-2',
      keepAlive: input.keepAlive ?? false,
      timeoutSeconds,
      viewport: { ...DEFAULT_VIEWPORT, ...input.viewport },
      proxyBytes: 0,
      createdAt: now,
      updatedAt: now,
      startedAt: now,
      expiresAt: new Date(now.getTime() + timeoutSeconds * 1000),
      ...(input.userMetadata !== undefined ? { userMetadata: input.userMetadata } : {}),
      ...(input.context ? { contextId: input.context.id, contextPersist: input.context.persist === true } : {}),
      ...(input.extensionId ? { extensionId: input.extensionId } : {}),
    };
    // A slot on this host first (possibly after a wait in the project's queue), then the project's concurrency:
    // a create refused by either stores nothing.
    const waitStarted = performance.now();
    const slot = await this.#admission?.acquire(projectId);
    this.#metrics?.createSeconds.observe({ stage: 'admission' }, (performance.now() - waitStarted) / 1000);
    try {
      if (!(await this.#store.insertSessionWithinLimit(session, project.concurrency))) {
        throw new CapacityExceededError(project.concurrency, this.#retryAfterSeconds);
      }
    } catch (error) {
      slot?.release();
      throw error;
    }
    // Held until the browser is gone, whichever way the session ends (even before start returns).
    if (slot) this.#slots.set(session.id, slot);
    const log = this.#logger.child({ sessionId: session.id, projectId });
    const launchStarted = performance.now();
    const starting = deferred();
    this.#starting.set(session.id, starting);
    let running: SessionRecord | undefined;
    try {
      running = await this.#launch(
        session,
        {
          ...(profile ? { profile } : {}),
          ...(extension ? { extensions: [extension] } : {}),
          ...(input.proxies ? { proxies: input.proxies } : {}),
          ...this.#artifactHooks(session.id, input),
        },
        log,
      );
    } finally {
      this.#starting.delete(session.id);
      starting.resolve();
    }
    if (!running) throw new SessionNotFoundError(session.id);
    this.#metrics?.createSeconds.observe({ stage: 'launch' }, (performance.now() - launchStarted) / 1000);
    this.#metrics?.createSeconds.observe({ stage: 'total' }, (performance.now() - waitStarted) / 1000);
    log.info({ timeoutSeconds, keepAlive: session.keepAlive }, 'session created');
    return this.#view(running, gatewayUrl);
  }

  /**
   * Starts the stored session's browser and marks the session RUNNING.
   * @returns the session as stored afterwards
   * @throws the provider's domain errors, or BrowserLaunchError; the session is then ended as ERROR
   */
  async #launch(
    session: SessionRecord,
    what: Omit<BrowserStartRequest, 'session' | 'onEnd' | 'onGone'>,
    log: Logger,
  ): Promise<SessionRecord | undefined> {
    let started: SessionRecord | undefined;
    try {
      started = await this.#provider.start({
        session,
        onEnd: (ending) => {
          this.#startFinishing(session.id);
          return this.#recordEnding(session.id, ending, { browserGone: false });
        },
        onGone: () => this.#gone(session.id),
        ...what,
      });
    } catch (error) {
      // Domain errors (the provider's, a context that cannot be used) already say what happened; anything else
      // is wrapped.
      const known = error instanceof DomainError;
      const reason = known ? error.message : `The browser could not be launched: ${(error as Error).message}`;
      log.error({ err: error }, 'browser launch failed');
      try {
        await this.#store.endSession(session.id, { status: 'ERROR', endedAt: new Date(), endReason: reason });
      } finally {
        this.#gone(session.id);
      }
      this.#metrics?.sessionsEnded.inc({ status: 'ERROR' });
      throw known ? error : new BrowserLaunchError(reason);
    }
    // A remote browser marked it RUNNING itself (and the provider read it so). Otherwise mark it here; if the
    // browser already ended (it crashed at once), the ending is recorded and marking is a no-op.
    return (
      started ??
      (await this.#store.markSessionRunning(session.id, new Date())) ??
      (await this.#store.getSession(session.id))
    );
  }

  /** @throws SessionNotFoundError when the session is not in this project. */
  async retrieve(projectId: string, sessionId: string, gatewayUrl: string): Promise<SessionView> {
    return this.#view(await this.#session(projectId, sessionId), gatewayUrl);
  }

  /** @throws InvalidQueryError for a malformed `q`; an empty one is no filter. */
  async list(
    projectId: string,
    { status, q }: { status?: SessionStatus | undefined; q?: string | undefined },
  ): Promise<SessionRecord[]> {
    // `q=` with nothing in it (what the Browserbase SDK sends for `q: null`) filters nothing.
    const metadata = q === undefined || q.trim() === '' ? undefined : parseMetadataQuery(q);
    return this.#store.listSessions(projectId, { ...(status ? { status } : {}), ...(metadata ? { metadata } : {}) });
  }

  /**
   * Ends the session and returns it with its final status. Idempotent: an ended session is returned as it is.
   */
  async release(projectId: string, sessionId: string): Promise<SessionRecord> {
    let session = await this.#session(projectId, sessionId);
    const starting = this.#starting.get(sessionId);
    if (session.status === 'PENDING' && starting) {
      // Its browser is starting in this process: ending the record now would leave that browser running with
      // no session. Wait for the start (at most two launch timeouts), then end it through its close path.
      await starting.promise;
      session = await this.#session(projectId, sessionId);
    }
    if (session.status !== 'PENDING' && session.status !== 'RUNNING') return session;
    const ending = await this.#provider.release(session, 'The session was released');
    if (!ending) {
      // The store says it runs but no browser does (it died with a previous server): end it here.
      await this.#recordEnding(sessionId, {
        status: 'COMPLETED',
        reason: 'The session was released',
        endedAt: new Date(),
      });
    }
    return this.#session(projectId, sessionId);
  }

  /** The live DevTools URLs of a running session, valid for `expiresIn` seconds (at most the session's life). */
  async debug(projectId: string, sessionId: string, gatewayUrl: string, expiresIn?: number): Promise<LiveUrls> {
    const session = await this.#session(projectId, sessionId);
    if (session.status !== 'RUNNING' || !this.#provider.isRunning(session)) {
      throw new SessionNotRunningError(sessionId, session.status);
    }
    const expiresAt = new Date(Math.min(session.expiresAt.getTime(), Date.now() + (expiresIn ?? 21_600) * 1000));
    const token = await this.#signer.sign({ sessionId, projectId, expiresAt });
    // A browser in a task of its own serves its DevTools frontend itself.
    const base = session.connectEndpoint?.replace(/^ws/, 'http') ?? gatewayUrl.replace(/\/$/, '');
    const host = new URL(base).host;
    const wsBase = base.replace(/^http/, 'ws');
    const pageSocket = (pageId: string) => encodeURIComponent(`${host}/devtools/page/${pageId}?signingKey=${token}`);
    // Chromium's DevTools frontend, for developers; and the screencast live view, to watch or take over.
    const inspector = (pageId: string) => `${base}/debug/${sessionId}/devtools/inspector.html?ws=${pageSocket(pageId)}`;
    const liveView = (pageId: string) => `${base}/debug/${sessionId}/live?ws=${pageSocket(pageId)}`;
    const pages = (await this.#provider.targets(session))
      .filter((t) => t.type === 'page')
      .map((t) => ({
        id: t.id,
        url: t.url,
        title: t.title,
        faviconUrl: t.faviconUrl ?? '',
        debuggerUrl: inspector(t.id),
        debuggerFullscreenUrl: liveView(t.id),
      }));
    const first = pages[0];
    return {
      debuggerUrl: first?.debuggerUrl ?? '',
      debuggerFullscreenUrl: first?.debuggerFullscreenUrl ?? '',
      wsUrl: `${wsBase}/?signingKey=${token}`,
      pages,
    };
  }

  /**
   * The session's downloads as a zip: live while it runs, kept after it ended (until the retention limits).
   * @throws SessionNotFoundError; NotSupportedError where downloads are not collected
   */
  async downloadsZip(projectId: string, sessionId: string): Promise<Readable> {
    const session = await this.#settled(projectId, sessionId);
    if (!this.#downloads) throw new NotSupportedError('This deployment does not collect downloads yet.');
    const files = this.#provider.files(session);
    return this.#downloads.zip(
      sessionId,
      files ? { dir: files.downloadsDir, failures: files.downloadFailures } : undefined,
    );
  }

  /**
   * The session's CDP log (Browserbase's `SessionLog`s): live while it runs, kept after it ended.
   * @throws SessionNotFoundError; NotSupportedError where sessions are not logged
   */
  async logs(projectId: string, sessionId: string): Promise<readonly SessionLogEntry[]> {
    const session = await this.#settled(projectId, sessionId);
    if (!this.#artifacts || !this.#provider.capabilities.files) {
      throw new NotSupportedError('This deployment does not log sessions yet.');
    }
    return this.#artifacts.logs(sessionId, this.#provider.files(session)?.logs());
  }

  /**
   * The session's rrweb events, every page's, in order (Browserbase's `SessionRecording`s).
   * @throws SessionNotFoundError; NotSupportedError where sessions are not recorded
   */
  async recording(projectId: string, sessionId: string): Promise<SessionRecordingEvent[]> {
    const session = await this.#settled(projectId, sessionId);
    if (!this.#artifacts || !this.#provider.capabilities.files) {
      throw new NotSupportedError('This deployment does not record sessions yet.');
    }
    const events = await this.#artifacts.recording(sessionId, this.#provider.files(session)?.recording());
    return events.map((e) => ({ data: e.data, sessionId, timestamp: e.timestamp, type: e.type, pageId: e.pageId }));
  }

  /**
   * The recorded pages, each with the URL of a page that replays it in a browser (valid for `expiresIn`
   * seconds, default a day). Wallcrawler serves no HLS video: the URLs are rrweb replay pages.
   */
  async replays(projectId: string, sessionId: string, gatewayUrl: string, expiresIn = 86_400): Promise<ReplayListing> {
    const recorded = await this.recordedPages(projectId, sessionId);
    const token = await this.viewToken(projectId, sessionId, expiresIn);
    const base = gatewayUrl.replace(/\/$/, '');
    const pages = recorded.map((page) => ({
      ...page,
      url: `${base}/replay/${encodeURIComponent(sessionId)}?page=${encodeURIComponent(page.pageId)}&token=${token}`,
    }));
    return { pageCount: pages.length, pages };
  }

  /** The recorded pages, in page order, each with the time span of its events. */
  async recordedPages(
    projectId: string,
    sessionId: string,
  ): Promise<{ pageId: string; startTimeMs: number; endTimeMs: number }[]> {
    const byPage = new Map<string, { start: number; end: number }>();
    for (const e of await this.recording(projectId, sessionId)) {
      const span = byPage.get(e.pageId);
      if (span) {
        span.start = Math.min(span.start, e.timestamp);
        span.end = Math.max(span.end, e.timestamp);
      } else byPage.set(e.pageId, { start: e.timestamp, end: e.timestamp });
    }
    return [...byPage.entries()]
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([pageId, span]) => ({ pageId, startTimeMs: span.start, endTimeMs: span.end }));
  }

  /** A token that lets its holder watch the session's replay (never drive it), for `expiresIn` seconds. */
  async viewToken(projectId: string, sessionId: string, expiresIn = 86_400): Promise<string> {
    return this.#signer.sign(
      { sessionId, projectId, expiresAt: new Date(Date.now() + expiresIn * 1000) },
      undefined,
      'view',
    );
  }

  /**
   * Stores an uploaded file where the session's browser can read it (for a file input: CDP
   * `DOM.setFileInputFiles` with the returned path).
   * @returns the file's path on the browser's machine
   * @throws SessionNotRunningError; InvalidUploadError for an empty file
   */
  async upload(projectId: string, sessionId: string, fileName: string, bytes: Uint8Array): Promise<string> {
    const session = await this.#session(projectId, sessionId);
    if (!this.#provider.capabilities.files) throw new NotSupportedError('This deployment does not take uploads yet.');
    const files = session.status === 'RUNNING' ? this.#provider.files(session) : undefined;
    if (!files) throw new SessionNotRunningError(sessionId, session.status);
    if (bytes.length === 0) throw new InvalidUploadError('The file is empty.');
    const path = join(files.uploadsDir, safeFileName(fileName));
    await mkdir(files.uploadsDir, { recursive: true });
    await writeFile(path, bytes);
    this.#logger.info({ sessionId, bytes: bytes.length }, 'file uploaded');
    return path;
  }

  /** Ends every session the store thinks is active but whose browser is gone (after a restart). */
  async reconcile(): Promise<number> {
    const active = await this.#store.listActiveSessions();
    const gone = await this.#provider.reconcile(active);
    for (const id of gone) {
      await this.#recordEnding(id, {
        status: 'ERROR',
        reason: 'The server stopped while the session was running',
        endedAt: new Date(),
      });
    }
    return gone.length;
  }

  /**
   * Asks each proxy of the session for a tunnel before the session starts, with the credentials given.
   * @throws NotSupportedError where sessions cannot use proxies; ProxyAuthError (407); ProxyUnreachableError
   */
  async #checkProxies(routes: readonly ProxyRoute[]): Promise<void> {
    if (!this.#provider.capabilities.proxies) {
      throw new NotSupportedError(
        'This deployment cannot route sessions through proxies (its browser provider cannot hand them to its browsers). Create the session without proxies.',
      );
    }
    const external = routes.filter((r) => r.kind === 'external');
    await Promise.all(
      external.map(async (route) => {
        try {
          await checkProxy(route);
        } catch (error) {
          if (error instanceof UpstreamProxyError && error.status === 407) throw new ProxyAuthError(error.message);
          throw new ProxyUnreachableError((error as Error).message);
        }
      }),
    );
  }

  async #profileHooks(projectId: string, context: { id: string; persist?: boolean | undefined }) {
    if (!this.#provider.capabilities.contexts) {
      throw new NotSupportedError(
        'This deployment cannot start sessions from contexts yet (its browsers run elsewhere and start with a clean profile). Create the session without browserSettings.context.',
      );
    }
    if (!this.#contexts) throw new NotSupportedError('This deployment has no blob store, so it cannot keep contexts.');
    return this.#contexts.profileHooks(projectId, context.id, context.persist === true);
  }

  /** What the session keeps of itself: its downloads, CDP log and recording, where this deployment can. */
  #artifactHooks(
    sessionId: string,
    input: CreateSessionInput,
  ): Pick<BrowserStartRequest, 'downloads' | 'logs' | 'recording'> {
    const downloads = this.#downloads;
    const artifacts = this.#artifacts;
    if (!this.#provider.capabilities.files) return {};
    return {
      ...(downloads
        ? {
            downloads: {
              maxBytes: this.#sessionDownloadsMaxBytes,
              keep: (dir: string, failures: readonly DownloadFailure[]) => downloads.keep(sessionId, dir, failures),
            },
          }
        : {}),
      ...(artifacts && input.logSession !== false
        ? {
            logs: {
              maxBytes: this.#sessionLogMaxBytes,
              keep: (entries: readonly SessionLogEntry[]) => artifacts.keepLogs(sessionId, entries),
            },
          }
        : {}),
      ...(artifacts && input.recordSession !== false
        ? {
            recording: {
              maxBytes: this.#sessionRecordingMaxBytes,
              keep: (events: readonly RecordedEvent[]) => artifacts.keepRecording(sessionId, events),
            },
          }
        : {}),
    };
  }

  async #extension(projectId: string, extensionId: string) {
    if (!this.#provider.capabilities.extensions) {
      throw new NotSupportedError(
        'This deployment cannot load extensions into sessions yet (its browsers run elsewhere). Create the session without extensionId.',
      );
    }
    if (!this.#extensions)
      throw new NotSupportedError('This deployment has no blob store, so it cannot keep extensions.');
    return this.#extensions.source(projectId, extensionId);
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

  #startFinishing(sessionId: string): void {
    if (!this.#finishing.has(sessionId)) this.#finishing.set(sessionId, deferred());
  }

  /** The session's browser is gone: its host slot is free, and what it kept can be read. */
  #gone(sessionId: string): void {
    this.#slots.get(sessionId)?.release();
    this.#slots.delete(sessionId);
    this.#finishing.get(sessionId)?.resolve();
    this.#finishing.delete(sessionId);
  }

  /** The session, once what it kept is complete (a session that ended a moment ago may still be keeping it). */
  async #settled(projectId: string, sessionId: string): Promise<SessionRecord> {
    const finishing = this.#finishing.get(sessionId)?.promise;
    if (!finishing) return this.#session(projectId, sessionId);
    const session = await this.#session(projectId, sessionId);
    await finishing;
    return session;
  }

  /** Calls `listener` with the id of every session whose ending is recorded, whichever way it ended. */
  onEnded(listener: (sessionId: string) => void): void {
    this.#endListeners.push(listener);
  }

  /**
   * Stores the ending. `browserGone: false` when the provider's close path is still killing the browser: its
   * `onGone` then frees the slot.
   */
  async #recordEnding(sessionId: string, ending: SessionEnding, { browserGone = true } = {}): Promise<void> {
    await this.#store.endSession(sessionId, {
      status: ending.status,
      endedAt: ending.endedAt,
      endReason: ending.reason,
      ...(ending.proxyBytes !== undefined ? { proxyBytes: ending.proxyBytes } : {}),
    });
    this.#logger.info({ sessionId, status: ending.status, reason: ending.reason }, 'session ended');
    this.#tokens.delete(sessionId);
    if (browserGone) this.#gone(sessionId);
    this.#metrics?.sessionsEnded.inc({ status: ending.status });
    for (const listener of this.#endListeners) listener(sessionId);
  }

  async #project(projectId: string): Promise<ProjectRecord> {
    const project = await this.#store.getProject(projectId);
    if (!project) throw new ProjectNotFoundError(projectId);
    return project;
  }

  async #session(projectId: string, sessionId: string): Promise<SessionRecord> {
    const session = await this.#store.getSession(sessionId);
    // Another project's session is indistinguishable from a missing one.
    if (!session || session.projectId !== projectId) throw new SessionNotFoundError(sessionId);
    return session;
  }

  async #view(stored: SessionRecord, gatewayUrl: string): Promise<SessionView> {
    if (stored.status !== 'RUNNING' && stored.status !== 'PENDING') return { session: stored };
    // A running session's proxy bytes so far (the store has them once it ended).
    const proxyBytes = this.#provider.proxyBytes?.(stored);
    const session = proxyBytes ? { ...stored, proxyBytes } : stored;
    const signingKey = await this.#connectToken(session);
    const base = gatewayUrl.replace(/\/$/, '');
    // A browser in a task of its own is reached at that task's controller; a local one through this gateway.
    const connectBase = session.connectEndpoint ?? base.replace(/^http/, 'ws');
    return {
      session,
      connect: {
        connectUrl: `${connectBase}/?signingKey=${signingKey}`,
        signingKey,
        seleniumRemoteUrl: `${base}/webdriver`,
      },
    };
  }
}

/** A promise and the function that settles it. */
interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

function deferred(): Deferred {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** An uploaded file's name, reduced to a safe base name (no directories, no leading dots, no control characters). */
export function safeFileName(name: string): string {
  const base = basename(name.replaceAll('\\', '/'))
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .replace(/^\.+/, '')
    .trim()
    .slice(0, 200);
  return base || 'upload';
}
