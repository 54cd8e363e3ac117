import { randomUUID } from 'node:crypto';
import { DEFAULT_VIEWPORT, type Logger, type SessionEnding, silentLogger } from '@wallcrawler/contracts';
import type { Census } from '../census.js';
import {
  BrowserLaunchError,
  CapacityExceededError,
  DomainError,
  ProjectNotFoundError,
  SessionNotFoundError,
} from '../domain/errors.js';
import { parseMetadataQuery } from '../domain/metadata-query.js';
import type { ProjectRecord, SessionRecord, SessionStatus } from '../domain/model.js';
import type { ServerMetrics } from '../metrics.js';
import type { BrowserProvider, BrowserStartRequest } from '../ports/browser-provider.js';
import type { SessionEvents } from '../ports/session-events.js';
import type { Store } from '../ports/store.js';
import type { BrowserStartPlanner, CreateSessionInput } from './browser-start-planner.js';
import type { HostAdmission, HostSlot } from './host-admission.js';

export interface SessionLifecycleOptions {
  store: Store;
  provider: BrowserProvider;
  /** What each browser starts with (context, extension, proxies, what it keeps). */
  planner: BrowserStartPlanner;
  logger?: Logger;
  /** Retry-After, in seconds, when a project is at its concurrency. @default 5 */
  retryAfterSeconds?: number;
  /** How many browsers this host runs at once, and the wait for a slot (local server). Without it, no host limit. */
  admission?: HostAdmission | undefined;
  /** Where create stages and endings are counted. */
  metrics?: ServerMetrics | undefined;
  /** Where the per-session maps are counted (the leak check). */
  census?: Census | undefined;
  /** Told of every session's creation, start and ending (webhooks). */
  events?: SessionEvents | undefined;
}

/**
 * A session's life: admission, launch, release, reconciling after a restart, and recording every ending
 * however it comes. Talks only to the ports, so it runs unchanged over SQLite + local Chromium or DynamoDB +
 * Fargate. What a client connects with is `SessionViews`; what a session kept is `SessionFiles`.
 */
export class SessionLifecycle {
  readonly #store: Store;
  readonly #provider: BrowserProvider;
  readonly #planner: BrowserStartPlanner;
  readonly #logger: Logger;
  readonly #retryAfterSeconds: number;
  readonly #admission: HostAdmission | undefined;
  readonly #metrics: ServerMetrics | undefined;
  readonly #events: SessionEvents | undefined;
  readonly #endListeners: ((sessionId: string) => void)[] = [];
  /** The host slot each admitted session holds until its browser is gone. */
  readonly #slots = new Map<string, HostSlot>();
  /**
   * Sessions whose ending is recorded but whose browser is still being killed and its files kept: reads of what
   * the session kept (downloads, log, recording) wait for this, so that they see all of it.
   */
  readonly #finishing = new Map<string, Deferred>();
  /** Browsers being started, by session: a release that comes meanwhile waits for the start, then ends it. */
  readonly #starting = new Map<string, Deferred>();

  constructor({
    store,
    provider,
    planner,
    logger = silentLogger,
    retryAfterSeconds = 5,
    admission,
    metrics,
    census,
    events,
  }: SessionLifecycleOptions) {
    census?.add('hostSlots', () => this.#slots.size);
    census?.add('sessionsFinishing', () => this.#finishing.size);
    census?.add('startingBrowsers', () => this.#starting.size);
    census?.add('endListeners', () => this.#endListeners.length);
    this.#store = store;
    this.#provider = provider;
    this.#planner = planner;
    this.#logger = logger;
    this.#retryAfterSeconds = retryAfterSeconds;
    this.#admission = admission;
    this.#metrics = metrics;
    this.#events = events;
  }

  /**
   * Admits, launches and returns a RUNNING session.
   * @throws CapacityExceededError at the project's concurrency; BrowserLaunchError if the browser did not start
   */
  async create(projectId: string, input: CreateSessionInput): Promise<SessionRecord> {
    const project = await this.#project(projectId);
    const now = new Date();
    const timeoutSeconds = input.timeout ?? project.defaultTimeout;
    // Before a slot is taken or anything stored: a context, an extension or a proxy that cannot be used fails
    // the create at once.
    const prerequisites = await this.#planner.prerequisites(projectId, input);
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
      // Stored for a browser that reads its settings from the record (a task on AWS); absent means on.
      ...(input.logSession === false ? { logSession: false } : {}),
      ...(input.recordSession === false ? { recordSession: false } : {}),
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
    this.#events?.publish({ type: 'session.created', session, at: now });
    const log = this.#logger.child({ sessionId: session.id, projectId });
    const launchStarted = performance.now();
    const starting = deferred();
    this.#starting.set(session.id, starting);
    let running: SessionRecord | undefined;
    try {
      running = await this.#launch(session, { ...prerequisites, ...this.#planner.keeping(session.id, input) }, log);
    } finally {
      this.#starting.delete(session.id);
      starting.resolve();
    }
    if (!running) throw new SessionNotFoundError(session.id);
    if (running.status === 'RUNNING')
      this.#events?.publish({ type: 'session.running', session: running, at: new Date() });
    this.#metrics?.createSeconds.observe({ stage: 'launch' }, (performance.now() - launchStarted) / 1000);
    this.#metrics?.createSeconds.observe({ stage: 'total' }, (performance.now() - waitStarted) / 1000);
    log.info({ timeoutSeconds, keepAlive: session.keepAlive }, 'session created');
    return running;
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
        const endedAt = new Date();
        this.#publishEnded(
          await this.#store.endSession(session.id, { status: 'ERROR', endedAt, endReason: reason }),
          endedAt,
        );
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

  /**
   * The project's session, as stored.
   * @throws SessionNotFoundError when the session is not in this project (another project's is indistinguishable
   *   from a missing one)
   */
  async get(projectId: string, sessionId: string): Promise<SessionRecord> {
    const session = await this.#store.getSession(sessionId);
    if (!session || session.projectId !== projectId) throw new SessionNotFoundError(sessionId);
    return session;
  }

  /** The session, once what it kept is complete (a session that ended a moment ago may still be keeping it). */
  async settled(projectId: string, sessionId: string): Promise<SessionRecord> {
    const finishing = this.#finishing.get(sessionId)?.promise;
    const session = await this.get(projectId, sessionId);
    if (finishing) await finishing;
    return session;
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
    let session = await this.get(projectId, sessionId);
    const starting = this.#starting.get(sessionId);
    if (session.status === 'PENDING' && starting) {
      // Its browser is starting in this process: ending the record now would leave that browser running with
      // no session. Wait for the start (at most two launch timeouts), then end it through its close path.
      await starting.promise;
      session = await this.get(projectId, sessionId);
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
    return this.get(projectId, sessionId);
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

  /** Calls `listener` with the id of every session whose ending is recorded, whichever way it ended. */
  onEnded(listener: (sessionId: string) => void): void {
    this.#endListeners.push(listener);
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

  /**
   * Stores the ending. `browserGone: false` when the provider's close path is still killing the browser: its
   * `onGone` then frees the slot.
   */
  async #recordEnding(sessionId: string, ending: SessionEnding, { browserGone = true } = {}): Promise<void> {
    const ended = await this.#store.endSession(sessionId, {
      status: ending.status,
      endedAt: ending.endedAt,
      endReason: ending.reason,
      ...(ending.proxyBytes !== undefined ? { proxyBytes: ending.proxyBytes } : {}),
    });
    this.#publishEnded(ended, ending.endedAt);
    this.#logger.info({ sessionId, status: ending.status, reason: ending.reason }, 'session ended');
    if (browserGone) this.#gone(sessionId);
    this.#metrics?.sessionsEnded.inc({ status: ending.status });
    for (const listener of this.#endListeners) listener(sessionId);
  }

  /** Publishes `session.ended` if this ending is the one recorded (the first ending wins; later ones change nothing). */
  #publishEnded(session: SessionRecord | undefined, endedAt: Date): void {
    if (session?.endedAt?.getTime() !== endedAt.getTime()) return;
    this.#events?.publish({ type: 'session.ended', session, at: endedAt });
  }

  async #project(projectId: string): Promise<ProjectRecord> {
    const project = await this.#store.getProject(projectId);
    if (!project) throw new ProjectNotFoundError(projectId);
    return project;
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
