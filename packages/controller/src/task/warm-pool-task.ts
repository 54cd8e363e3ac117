import { DEFAULT_VIEWPORT, type Logger, type SessionEnding, silentLogger } from '@wallcrawler/contracts';
import { DynamoDbSessionReporter } from '../aws/dynamodb-session-reporter.js';
import { findPublicAddress } from '../aws/public-address.js';
import type { SessionTable } from '../aws/session-table.js';
import { readTaskMetadata, type TaskMetadata } from '../aws/task-metadata.js';
import { protectTask } from '../aws/task-protection.js';
import type { TaskTable } from '../aws/task-table.js';
import { findChromium } from '../chromium/find-chromium.js';
import { type ChromiumProcess, launchChromium } from '../chromium/launch-chromium.js';
import { openProxyRoutes } from '../proxy/sealed-routes.js';
import { removeDirs, type SessionDirs, sessionDirs } from '../session-dirs.js';
import { type PushedClaim, startClaimListener } from './claim-listener.js';
import type { ControllerBaseConfig, SessionSettings } from './config.js';
import { needsPreparation, sessionNeedsOf, type TaskBlobs } from './session-keeping.js';
import { type RunningController, SessionNotPendingError, startController } from './standalone-controller.js';

export interface WarmPoolTaskOptions {
  base: ControllerBaseConfig & { pool: NonNullable<ControllerBaseConfig['pool']> };
  tasks: TaskTable;
  sessions: SessionTable;
  logger?: Logger;
  /** Resolves when the task is asked to stop (SIGTERM): an idle task retires at once, a serving one ends. */
  stopRequested: Promise<string>;
  /** The blob store, for sessions with a context or an extension. */
  blobs?: TaskBlobs;
  /** Told which session claimed the task, before it is served. */
  onClaimed?: (sessionId: string) => void;
}

export type WarmPoolOutcome =
  | { kind: 'retired'; reason: string }
  | { kind: 'served'; ending: SessionEnding }
  | { kind: 'claim-gone'; sessionId: string };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A session item's settings, checked: a claim must never start a browser with guessed settings. Its proxy
 * routes come sealed (the claim wrote them; see `proxy/sealed-routes.ts`).
 */
function settingsOf(sessionId: string, item: Record<string, unknown>, secret: Uint8Array): SessionSettings {
  const { projectId, expiresAt, keepAlive, viewport, proxies } = item as {
    projectId?: unknown;
    expiresAt?: unknown;
    keepAlive?: unknown;
    viewport?: { width?: unknown; height?: unknown };
    proxies?: unknown;
  };
  if (typeof projectId !== 'string' || typeof expiresAt !== 'number' || typeof keepAlive !== 'boolean') {
    throw new Error(`Session ${sessionId} lacks its projectId, expiresAt or keepAlive`);
  }
  const size =
    viewport && typeof viewport.width === 'number' && typeof viewport.height === 'number'
      ? { width: viewport.width, height: viewport.height }
      : undefined;
  return {
    sessionId,
    projectId,
    expiresAt: new Date(expiresAt),
    keepAlive,
    viewport: size,
    ...(typeof proxies === 'string' ? { proxies: openProxyRoutes(secret, sessionId, proxies) } : {}),
  };
}

/**
 * A warm-pool task's life: register IDLE in the tasks table, wait until a create claims it (the API's push says
 * so at once; polling its own item is the fallback) or it has waited `pool.idleTimeoutMs`, then serve the claimed session exactly as a task started
 * for it would, and leave the pool. Sessions that need a context or an extension get them at this point, not
 * at the task's start: the browser started while idle is closed, the profile filled and the extension
 * unpacked, and a browser started on them (never a RunTask of another task). A task serves one session, then exits: no state carries over.
 */
export async function runWarmPoolTask({
  base,
  tasks,
  sessions,
  logger = silentLogger,
  stopRequested,
  blobs,
  onClaimed,
}: WarmPoolTaskOptions): Promise<WarmPoolOutcome> {
  if (!base.ecsMetadataUri) throw new Error('A warm-pool task needs the ECS task metadata endpoint');
  const task: TaskMetadata = await readTaskMetadata(base.ecsMetadataUri);
  const host =
    base.advertise === 'public'
      ? await findPublicAddress(task, { region: base.store?.region ?? process.env.AWS_REGION ?? '' })
      : task.privateIp;
  const advertised = `${host.includes(':') ? `[${host}]` : host}:${base.port}`;
  const log = logger.child({ taskArn: task.taskArn });
  // Chromium is started while the task waits, at the default viewport: a claim for that viewport (the usual
  // case) then costs no browser start. It has no session's state: it was never served, and it serves one.
  const browser = await prelaunch(base, task, log);
  // Listening before it is claimable: the API that claims it says so at once (see `claim-listener.ts`).
  const listener = await startClaimListener({
    host: base.host ?? task.privateIp,
    port: base.port,
    taskArn: task.taskArn,
    tasks,
    connectSecret: base.connectSecret,
    readSession: (id) => sessions.get(id),
    logger: log,
  }).catch((error: unknown) => {
    log.warn({ err: error }, 'cannot take claim pushes; polling the item only');
    return undefined;
  });
  await tasks.register(task.taskArn, `ws://${advertised}`, task.serviceName ? { service: task.serviceName } : {});
  log.info({ endpoint: `ws://${advertised}` }, 'idle in the warm pool');

  let stop: string | undefined;
  void stopRequested.then((reason) => {
    stop = reason;
  });
  const deadline = Date.now() + base.pool.idleTimeoutMs;
  let sessionId: string | undefined;
  // A push (checked against the item) ends the wait at once; polling the item is the fallback.
  let pushed: PushedClaim | undefined;
  void listener?.pushed.then((claim) => {
    pushed = claim;
  });
  const wake = listener ? listener.pushed.then(() => {}) : new Promise<void>(() => {});
  for (;;) {
    if (pushed) {
      sessionId = pushed.sessionId;
      break;
    }
    // A push that arrives while the item is being read ends the wait at once, without waiting for the read.
    const reading = tasks.get(task.taskArn);
    const item = await Promise.race([reading, wake.then(() => undefined)]);
    if (pushed) {
      reading.catch(() => {}); // Its answer is no longer needed, nor its failure.
      continue;
    }
    if (item?.status === 'CLAIMED' && item.sessionId) {
      sessionId = item.sessionId;
      break;
    }
    if (stop || Date.now() >= deadline) {
      const reason = stop ?? `unclaimed for ${Math.round(base.pool.idleTimeoutMs / 1000)} s`;
      // Retiring is conditional on still being idle: a claim that raced it wins, and the task serves it.
      if (await tasks.retire(task.taskArn)) {
        await listener?.close();
        await browser?.discard();
        log.info({ reason }, 'left the warm pool');
        return { kind: 'retired', reason };
      }
      continue;
    }
    await Promise.race([sleep(base.pool.claimPollMs), wake]);
  }

  log.info({ sessionId, by: pushed ? 'push' : 'poll' }, 'claimed');
  onClaimed?.(sessionId);
  let adopted = false;
  let outcome: 'RUNNING' | 'ENDED' = 'ENDED';
  try {
    // A pushed claim's item was read while the push was checked.
    const item = await (pushed?.sessionId === sessionId ? pushed.session : sessions.get(sessionId));
    if (item?.status !== 'PENDING') return { kind: 'claim-gone', sessionId };
    const needs = sessionNeedsOf(item);
    let settings: SessionSettings;
    try {
      settings = settingsOf(sessionId, item, base.connectSecret);
    } catch (error) {
      // Nothing to start a browser with: its create fails at once with the reason, instead of at its deadline.
      const ending: SessionEnding = {
        status: 'ERROR',
        reason: `The session's settings could not be read: ${(error as Error).message}`,
        endedAt: new Date(),
      };
      log.error({ sessionId, err: error }, 'a claimed session has unreadable settings');
      await new DynamoDbSessionReporter(sessions, sessionId).ended(ending);
      return { kind: 'served', ending };
    }
    const viewport = settings.viewport ?? DEFAULT_VIEWPORT;
    // A proxy is a launch flag, and a context's profile and an extension must be in place before the browser
    // starts: a session with any of them needs a browser started for it (after its profile is filled).
    const usable =
      browser?.alive() &&
      !settings.proxies &&
      !needsPreparation(needs) &&
      viewport.width === DEFAULT_VIEWPORT.width &&
      viewport.height === DEFAULT_VIEWPORT.height;
    if (browser && !usable) await browser.discard();
    log.info(
      { prelaunched: Boolean(usable) },
      usable ? 'serving with the browser started while idle' : 'starting a browser for the session',
    );
    // From now on a scale-in of the pool's service must not stop this task (for as long as the session may last);
    // asked for while the session starts, not before it.
    const protecting = protectTask(process.env.ECS_AGENT_URI, {
      expiresInMinutes: Math.ceil((settings.expiresAt.getTime() - Date.now()) / 60_000) + 5,
    }).catch((error: unknown) => log.warn({ err: error }, 'task scale-in protection failed'));
    // The item just read answers the controller's first questions (is it pending, what it keeps).
    const reporter = new DynamoDbSessionReporter(sessions, sessionId, item);
    let controller: RunningController;
    try {
      controller = await startController(
        { ...base, ...settings, externalUrl: base.externalUrl ?? `http://${advertised}` },
        {
          logger,
          reporter,
          task,
          needs,
          ...(blobs ? { blobs } : {}),
          ...(usable && browser ? { prelaunched: browser.launched } : {}),
          ...(listener ? { listening: listener.server } : {}),
        },
      );
    } catch (error) {
      if (error instanceof SessionNotPendingError) return { kind: 'claim-gone', sessionId };
      throw error;
    } finally {
      await protecting;
    }
    // From here the session owns the browser: its close path ends it. The API's push gets its answer.
    adopted = Boolean(usable);
    outcome = 'RUNNING';
    listener?.settle(outcome, reporter.runningItem);
    void stopRequested.then((reason) => controller.stop(reason));
    return { kind: 'served', ending: await controller.ended };
  } finally {
    listener?.settle(outcome);
    if (!adopted) await browser?.discard();
    await listener?.close();
    await tasks.finish(task.taskArn);
  }
}

interface Prelaunched {
  launched: { chromium: ChromiumProcess; dirs: SessionDirs };
  alive(): boolean;
  /** Kills it and deletes its directories. */
  discard(): Promise<void>;
}

/** Starts Chromium for the next session; a failure only means the claim will start one itself. */
async function prelaunch(
  base: ControllerBaseConfig,
  task: TaskMetadata,
  log: Logger,
): Promise<Prelaunched | undefined> {
  const dirs = sessionDirs(base.dataDir, `pool-${task.taskArn.split('/').pop()?.slice(0, 12) ?? 'task'}`);
  try {
    const chromium = await launchChromium({
      executablePath: findChromium(base.chromePath),
      userDataDir: dirs.profile,
      tmpDir: dirs.tmp,
      viewport: DEFAULT_VIEWPORT,
      launchTimeoutMs: base.launchTimeoutMs,
      logger: log,
    });
    let exited = false;
    void chromium.exited.then(() => {
      exited = true;
    });
    return {
      launched: { chromium, dirs },
      alive: () => !exited,
      async discard() {
        await chromium.kill();
        await removeDirs(dirs.root, dirs.tmp);
      },
    };
  } catch (error) {
    await removeDirs(dirs.root, dirs.tmp);
    log.warn({ err: error }, 'could not start a browser ahead of a claim');
    return undefined;
  }
}
