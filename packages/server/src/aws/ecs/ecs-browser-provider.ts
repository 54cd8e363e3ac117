import { type ECSClient, RunTaskCommand, type RunTaskCommandOutput, StopTaskCommand } from '@aws-sdk/client-ecs';
import { CONTROLLER_ENV as E, type Logger, silentLogger } from '@wallcrawler/contracts';
import { sealProxyRoutes } from '@wallcrawler/controller';
import type { PoolTask, SessionTable, TaskTable } from '@wallcrawler/controller/aws';
import {
  BrowserLaunchError,
  BrowserNotReadyError,
  ContextArchiveError,
  DependencyUnavailableError,
  InvalidUploadError,
  NotSupportedError,
  SessionNotRunningError,
} from '../../domain/errors.js';
import type { SessionRecord } from '../../domain/model.js';
import type {
  BrowserProvider,
  BrowserStartRequest,
  DevToolsTarget,
  LiveSessionFiles,
  SessionEnding,
} from '../../ports/browser-provider.js';
import type { ConnectTokenSigner } from '../../ports/connect-token-signer.js';
import type { Store } from '../../ports/store.js';
import { pushClaim } from './pool-claim-push.js';
import { TaskFiles } from './task-files.js';

export interface EcsBrowserProviderOptions {
  ecs: ECSClient;
  store: Store;
  signer: ConnectTokenSigner;
  cluster: string;
  /** The controller's task definition (family, `family:revision` or ARN). */
  taskDefinition: string;
  /** The controller's container name in the task definition. @default 'controller' */
  containerName?: string;
  subnets: string[];
  securityGroups: string[];
  /** ENABLED in the dev mode (public subnets, no NAT), so clients reach the task's public IP. */
  assignPublicIp: boolean;
  /**
   * How long a create waits for its browser to report RUNNING before giving up with a 503. Below the front
   * door's limit: CloudFront's origin response timeout (60 s in the stack). @default 55_000
   */
  readyTimeoutMs?: number;
  /** @default 250 */
  pollIntervalMs?: number;
  /** RunTask attempts on capacity and throttling errors, with exponential backoff. @default 4 */
  runTaskAttempts?: number;
  /** The first backoff; doubled each attempt, with jitter. @default 500 */
  runTaskBackoffMs?: number;
  /** Retry-After on a 503, in seconds. @default 5 */
  retryAfterSeconds?: number;
  /** The warm pool: a create claims an idle task from it first, and runs a task of its own only without one. */
  pool?: TaskTable;
  /**
   * Asks for a replacement of the task a create just claimed (the pool's service grows by one, within its
   * ceiling). Runs while the claimed task starts the session; its failure is logged, never the create's.
   */
  replenish?: (claimed: PoolTask) => Promise<unknown>;
  /**
   * The connect-token secret the tasks share, which seals a session's proxy routes on their way to its task
   * (see `sealProxyRoutes`), or how to read it when first needed. Without it, sessions cannot have proxies (501).
   */
  connectSecret?: Uint8Array | (() => Promise<Uint8Array>);
  /**
   * What the tasks can fetch from the blob bucket before the browser starts: contexts (a bucket and contexts'
   * key in the stack), extensions (a bucket). @default neither
   */
  keeping?: { contexts: boolean; extensions: boolean };
  /**
   * The tasks keep sessions' files (downloads, CDP log, recording) in the blob bucket, and serve them while the
   * session runs: set when the stack gives them the bucket.
   */
  files?: boolean;
  /**
   * The sessions table, where a release writes its reason for the task (a session that keeps something is
   * ended by its task, after the keeping). Without it such a release ends with the task's "SIGTERM" reason.
   */
  sessions?: SessionTable;
  /**
   * How long a release of a session that keeps something waits for its task to record the ending (the save's
   * outcome with it), below the front door's limit (CloudFront waits 60 s for the answer); past it the API
   * records the ending itself. The longer it waits, the rarer a release that gives the context's lock back while
   * its task still saves. @default 50_000
   */
  releaseWaitMs?: number;
  logger?: Logger;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Whether the session's task keeps something as it ends (so the release waits for the task to record it). */
function keepsSomething(session: SessionRecord): boolean {
  return session.contextPersist === true;
}

/** Why a session's task ended it before its browser was ready, in the domain's words. */
function startError(session: SessionRecord): Error {
  const reason = session.endReason ?? `The browser's task ended the session as ${session.status}.`;
  if (session.startFailure === 'context_unusable') return new ContextArchiveError(reason);
  if (session.startFailure === 'extension_unusable') return new InvalidUploadError(reason);
  return new BrowserLaunchError(reason);
}

/** Errors ECS answers when it cannot start a task now but may in a moment. */
function isRetryableRunTaskError(error: unknown): boolean {
  const name = (error as Error | undefined)?.name ?? '';
  return ['ThrottlingException', 'ServerException', 'LimitExceededException'].includes(name);
}

/** RunTask `failures` that mean no capacity right now (Fargate's own wording varies). */
function isCapacityFailure(reason: string | undefined): boolean {
  return /capacity|RESOURCE:|throttl|rate exceeded/i.test(reason ?? '');
}

/**
 * Runs each session's browser as an ECS Fargate task of the controller image. The task writes the session
 * RUNNING (with its address) to the store. A warm-pool task that a create claimed is told so directly (a push
 * to its controller, which answers once the session is RUNNING): the create then reads the store once. Else
 * (a task of its own, or a push that could not be delivered) `start` polls the store, with a deadline below the
 * front door's limit.
 */
export class EcsBrowserProvider implements BrowserProvider {
  /**
   * A task fills a context's profile and unpacks an extension from the blob bucket before its browser starts
   * (when the stack gave it the bucket and contexts' key). Proxies reach the task sealed, with the
   * connect-token secret.
   */
  readonly capabilities: { contexts: boolean; extensions: boolean; files: boolean; proxies: boolean };

  /** The running session's files, read from its task over HTTP. */
  files(session: SessionRecord): LiveSessionFiles | undefined {
    if (!this.capabilities.files || !this.isRunning(session)) return undefined;
    return this.#taskFiles(session);
  }

  /** Puts the file in the session's task's uploads directory (through its controller). */
  async upload(session: SessionRecord, fileName: string, bytes: Uint8Array): Promise<string> {
    if (!this.capabilities.files) throw new NotSupportedError('This deployment does not take uploads yet.');
    if (!this.isRunning(session)) throw new SessionNotRunningError(session.id, session.status);
    return this.#taskFiles(session).upload(fileName, bytes);
  }

  #taskFiles(session: SessionRecord): TaskFiles {
    return new TaskFiles({
      session: session as SessionRecord & { connectEndpoint: string },
      token: () => this.#shortToken(session),
    });
  }

  /** A connect token for calling the session's task, valid a minute (at most the session's life). */
  #shortToken(session: SessionRecord): Promise<string> {
    return this.#o.signer.sign({
      sessionId: session.id,
      projectId: session.projectId,
      expiresAt: new Date(Math.min(session.expiresAt.getTime(), Date.now() + 60_000)),
    });
  }

  readonly #o: Required<
    Omit<
      EcsBrowserProviderOptions,
      'logger' | 'pool' | 'replenish' | 'connectSecret' | 'keeping' | 'sessions' | 'files'
    >
  > & {
    logger: Logger;
    pool?: TaskTable;
    replenish?: (claimed: PoolTask) => Promise<unknown>;
    connectSecret?: Uint8Array | (() => Promise<Uint8Array>);
    sessions?: SessionTable;
  };

  constructor(options: EcsBrowserProviderOptions) {
    this.capabilities = {
      contexts: options.keeping?.contexts ?? false,
      extensions: options.keeping?.extensions ?? false,
      files: options.files === true,
      proxies: Boolean(options.connectSecret),
    };
    this.#o = {
      containerName: 'controller',
      readyTimeoutMs: 55_000,
      pollIntervalMs: 250,
      runTaskAttempts: 4,
      runTaskBackoffMs: 500,
      retryAfterSeconds: 5,
      releaseWaitMs: 50_000,
      logger: silentLogger,
      ...options,
    };
  }

  async start({ session, proxies }: BrowserStartRequest): Promise<SessionRecord> {
    const deadline = Date.now() + this.#o.readyTimeoutMs;
    const secret = this.#o.connectSecret;
    const sealed =
      proxies && secret
        ? sealProxyRoutes(typeof secret === 'function' ? await secret() : secret, session.id, proxies)
        : undefined;
    // An idle task of the warm pool, handed the session in one transaction; else a task of its own (cold).
    const claimed = await this.#o.pool?.claim(session.id, { proxies: sealed });
    const taskArn = claimed?.taskArn ?? (await this.#runTask(session, deadline, sealed));
    const log = this.#o.logger.child({ sessionId: session.id, taskArn });
    log.info({ from: claimed ? 'warm pool' : 'RunTask' }, 'task assigned; waiting for the browser');
    const replenishing = claimed && this.#o.replenish ? this.#replenish(claimed, log) : undefined;
    try {
      // The claimed task, told at once, answers once the session is RUNNING (or failed): one read then. A push that
      // cannot be delivered (the task unreachable, an old task) leaves the store poll below to find it.
      const running = claimed
        ? await pushClaim({ sessionId: session.id, claimed, token: await this.#shortToken(session), deadline, log })
        : undefined;
      return running ?? (await this.#waitRunning(session, taskArn, deadline));
    } finally {
      await replenishing;
    }
  }

  async #replenish(claimed: PoolTask, log: Logger): Promise<void> {
    try {
      await this.#o.replenish?.(claimed);
    } catch (error) {
      log.warn({ err: error }, "the warm pool's replacement was not asked for; its schedule will");
    }
  }

  async #waitRunning(session: SessionRecord, taskArn: string, deadline: number): Promise<SessionRecord> {
    for (;;) {
      const current = await this.#o.store.getSession(session.id);
      if (!current) throw new BrowserLaunchError(`Session ${session.id} disappeared while its browser started.`);
      if (current.status === 'RUNNING') return current;
      if (current.status !== 'PENDING') throw startError(current);
      if (Date.now() >= deadline) break;
      await sleep(this.#o.pollIntervalMs);
    }
    // Give up before the front door's limit, with a clear answer. With a warm pool the task is left to start:
    // its controller finds the session ended and joins the pool, so the start is not wasted. Without one it is
    // stopped, so it costs nothing.
    const seconds = Math.round(this.#o.readyTimeoutMs / 1000);
    if (!this.#o.pool) await this.#stopTask(taskArn, `Session ${session.id}: no browser was ready within ${seconds} s`);
    throw new BrowserNotReadyError(
      `No browser was ready within ${seconds} s (Fargate capacity or image pull is slow right now). Retry the request.`,
      this.#o.retryAfterSeconds,
    );
  }

  async release(session: SessionRecord, reason: string): Promise<SessionEnding | undefined> {
    if (session.status !== 'PENDING' && session.status !== 'RUNNING') return undefined;
    let why = reason;
    // A session whose task keeps its files (or saves its context) is ended by the task, after the keeping.
    if (session.taskArn && (keepsSomething(session) || (this.capabilities.files && session.status === 'RUNNING'))) {
      const ended = await this.#releaseThroughTask(session, session.taskArn, reason);
      if (ended) return ended;
      why = `${reason}; its task did not confirm what it kept within ${Math.round(this.#o.releaseWaitMs / 1000)} s`;
    }
    // The ending is recorded first, so the task's own ending on SIGTERM (which comes second) changes nothing.
    const ending: SessionEnding = { status: 'COMPLETED', reason: why, endedAt: new Date() };
    await this.#o.store.endSession(session.id, { status: ending.status, endedAt: ending.endedAt, endReason: why });
    if (session.taskArn) await this.#stopTask(session.taskArn, why);
    return ending;
  }

  /**
   * Stops the task and waits for it to record the ending, after its close path kept what the session keeps
   * (the profile of a context it persists): the release then answers with the save's outcome, as locally.
   * @returns the recorded ending, or undefined when the task did not record one within `releaseWaitMs` (the
   *   caller then records it; the task's save, if still running, completes or fails unseen)
   */
  async #releaseThroughTask(
    session: SessionRecord,
    taskArn: string,
    reason: string,
  ): Promise<SessionEnding | undefined> {
    const deadline = Date.now() + this.#o.releaseWaitMs;
    await this.#o.sessions?.requestEnd(session.id, reason);
    await this.#stopTask(taskArn, reason);
    for (;;) {
      const current = await this.#o.store.getSession(session.id);
      if (!current) return undefined;
      if (current.status !== 'PENDING' && current.status !== 'RUNNING') {
        return { status: current.status, reason: current.endReason ?? reason, endedAt: current.endedAt ?? new Date() };
      }
      if (Date.now() >= deadline) {
        this.#o.logger.warn({ sessionId: session.id, taskArn }, 'the task did not record its ending in time');
        return undefined;
      }
      await sleep(this.#o.pollIntervalMs);
    }
  }

  isRunning(session: SessionRecord): boolean {
    return session.status === 'RUNNING' && session.connectEndpoint !== undefined;
  }

  async targets(session: SessionRecord): Promise<DevToolsTarget[]> {
    if (!session.connectEndpoint || session.status !== 'RUNNING') return [];
    const token = await this.#shortToken(session);
    const base = session.connectEndpoint.replace(/^ws/, 'http');
    const response = await fetch(`${base}/json/list?signingKey=${encodeURIComponent(token)}`, {
      signal: AbortSignal.timeout(5_000),
    });
    if (!response.ok) throw new Error(`The session's controller answered /json/list with ${response.status}`);
    return (await response.json()) as DevToolsTarget[];
  }

  /** In AWS, sessions whose task died are ended by the task-state handler; the API has nothing to reap. */
  async reconcile(): Promise<string[]> {
    return [];
  }

  /** The API holds no browsers: each task ends its own session. */
  async shutdown(): Promise<void> {}

  async #runTask(session: SessionRecord, deadline: number, proxies: string | undefined): Promise<string> {
    const environment = [
      { name: E.sessionId, value: session.id },
      { name: E.projectId, value: session.projectId },
      { name: E.expiresAt, value: session.expiresAt.toISOString() },
      { name: E.keepAlive, value: String(session.keepAlive) },
      ...(session.viewport
        ? [{ name: E.viewport, value: `${session.viewport.width}x${session.viewport.height}` }]
        : []),
      // Sealed: a task's environment is readable by anyone who may describe it.
      ...(proxies ? [{ name: E.proxies, value: proxies }] : []),
    ];
    let lastProblem = '';
    for (let attempt = 1; ; attempt++) {
      let output: RunTaskCommandOutput | undefined;
      try {
        output = await this.#o.ecs.send(
          new RunTaskCommand({
            cluster: this.#o.cluster,
            taskDefinition: this.#o.taskDefinition,
            launchType: 'FARGATE',
            count: 1,
            startedBy: `wallcrawler:${session.id}`.slice(0, 128),
            networkConfiguration: {
              awsvpcConfiguration: {
                subnets: this.#o.subnets,
                securityGroups: this.#o.securityGroups,
                assignPublicIp: this.#o.assignPublicIp ? 'ENABLED' : 'DISABLED',
              },
            },
            overrides: { containerOverrides: [{ name: this.#o.containerName, environment }] },
          }),
        );
      } catch (error) {
        if (error instanceof DependencyUnavailableError) throw error;
        if (!isRetryableRunTaskError(error)) {
          throw new BrowserLaunchError(`ECS refused to start the browser's task: ${(error as Error).message}`);
        }
        lastProblem = `${(error as Error).name}: ${(error as Error).message}`;
      }
      const taskArn = output?.tasks?.[0]?.taskArn;
      if (taskArn) return taskArn;
      if (output) {
        const reason = output.failures?.map((f) => f.reason ?? 'unknown').join('; ') || 'no task and no failure';
        if (!isCapacityFailure(reason))
          throw new BrowserLaunchError(`ECS could not start the browser's task: ${reason}`);
        lastProblem = reason;
      }
      const backoff = this.#o.runTaskBackoffMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
      if (attempt >= this.#o.runTaskAttempts || Date.now() + backoff >= deadline) {
        throw new BrowserNotReadyError(
          `ECS has no capacity for a browser right now (${lastProblem}). Retry the request.`,
          this.#o.retryAfterSeconds,
        );
      }
      this.#o.logger.warn({ sessionId: session.id, attempt, problem: lastProblem }, 'RunTask failed; retrying');
      await sleep(backoff);
    }
  }

  async #stopTask(taskArn: string, reason: string): Promise<void> {
    try {
      await this.#o.ecs.send(
        new StopTaskCommand({ cluster: this.#o.cluster, task: taskArn, reason: reason.slice(0, 255) }),
      );
    } catch (error) {
      // A task that is already gone needs no stopping.
      this.#o.logger.warn({ taskArn, err: error }, 'StopTask failed');
    }
  }
}
