#!/usr/bin/env node
/**
 * The controller's process entry (the Fargate task's command): one session, served until it ends.
 *
 * - With a session in its environment (a task started for a create), it serves that one. In task mode
 *   (`WALLCRAWLER_SESSIONS_TABLE` set) it reports the session's status to DynamoDB: RUNNING once Chromium and
 *   the proxy are up, and its ending before the process exits.
 * - Without one but with `WALLCRAWLER_TASKS_TABLE` (a warm-pool task), it waits idle for a create to claim it,
 *   then serves that session. A task started for a create that gave up joins the pool the same way.
 *
 * Exits 0 when the session ends normally (or the task retired idle), 1 when the configuration is invalid, the
 * session could not start, or it ended in ERROR.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CONTROLLER_ENV as E } from '@wallcrawler/contracts';
import pino from 'pino';
import { ContextItems } from '../aws/context-items.js';
import { DynamoDbSessionReporter } from '../aws/dynamodb-session-reporter.js';
import { S3BlobStore } from '../aws/s3-blob-store.js';
import { createS3Client } from '../aws/s3-client.js';
import { SessionTable } from '../aws/session-table.js';
import { TaskTable } from '../aws/task-table.js';
import {
  type ControllerBaseConfig,
  type ControllerConfig,
  loadControllerEnvironment,
  type SessionSettings,
} from './config.js';
import { sessionNeedsOf, type TaskBlobs } from './session-keeping.js';
import type { SessionReporter } from './session-reporter.js';
import { SessionNotPendingError, startController } from './standalone-controller.js';
import { runWarmPoolTask } from './warm-pool-task.js';

function tablesFor(store: NonNullable<ControllerBaseConfig['store']>, tasksTable?: string) {
  const client = new DynamoDBClient({ region: store.region, ...(store.endpoint ? { endpoint: store.endpoint } : {}) });
  const db = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const tables = { sessions: store.sessionsTable, projects: store.projectsTable, resources: store.resourcesTable };
  return {
    sessions: new SessionTable({ db, tables }),
    tasks: tasksTable ? new TaskTable({ db, tables: { tasks: tasksTable, sessions: store.sessionsTable } }) : undefined,
    contexts: store.resourcesTable ? new ContextItems(db, store.resourcesTable) : undefined,
  };
}

/** The bucket sessions keep their blobs in, when the stack gave the task one. */
function blobsFor(base: ControllerBaseConfig, contexts: ContextItems | undefined): TaskBlobs | undefined {
  if (!base.blobs) return undefined;
  const region = base.store?.region ?? process.env[E.awsRegion] ?? '';
  return {
    store: new S3BlobStore({
      client: createS3Client({ region, endpoint: base.blobs.endpoint }),
      bucket: base.blobs.bucket,
    }),
    contextKey: base.blobs.contextKey,
    contextMaxBytes: base.blobs.contextMaxBytes,
    fileLimits: base.blobs.fileLimits,
    contexts,
  };
}

function reporterFor(store: NonNullable<ControllerBaseConfig['store']>, sessionId: string): SessionReporter {
  return new DynamoDbSessionReporter(tablesFor(store).sessions, sessionId);
}

/**
 * With an invalid configuration there is no full config, but if the environment still says which session and
 * which tables, the session is ended as ERROR with the problems, so its create fails with them at once instead
 * of waiting out its deadline.
 */
async function reportInvalidConfig(problems: string): Promise<void> {
  const env = process.env;
  const [sessionId, sessionsTable, projectsTable, region] = [
    env[E.sessionId],
    env[E.sessionsTable],
    env[E.projectsTable],
    env[E.awsRegion],
  ];
  if (!sessionId || !sessionsTable || !projectsTable || !region) return;
  const endpoint = env[E.dynamodbEndpoint];
  try {
    await reporterFor({ sessionsTable, projectsTable, region, endpoint }, sessionId).ended({
      status: 'ERROR',
      reason: `The browser's controller could not start: ${problems}`,
      endedAt: new Date(),
    });
  } catch (error) {
    console.error(`Could not record the failure on session ${sessionId}: ${(error as Error).message}`);
  }
}

async function main(): Promise<number> {
  let base: ControllerBaseConfig;
  let session: SessionSettings | undefined;
  try {
    ({ base, session } = loadControllerEnvironment());
  } catch (error) {
    const message = (error as Error).message;
    console.error(message);
    await reportInvalidConfig(message.replace(/\n\s*/g, ' ').trim());
    return 1;
  }
  const logger = pino({ level: base.logLevel, base: { service: 'wallcrawler-controller' } });
  // Whenever it comes (while starting, idle in the pool, or serving), a stop reaches whatever runs then.
  const signalled = new Promise<string>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => resolve(`The controller received ${signal}`));
    }
  });
  const tables = base.store ? tablesFor(base.store, base.pool?.tasksTable) : undefined;
  const blobs = blobsFor(base, tables?.contexts);
  // A release stops the task (StopTask, then SIGTERM) after writing its reason on the session's item: the
  // ending then says "released", not "SIGTERM". A scale-in or a Spot stop writes none.
  let servingSession: string | undefined;
  const stopRequested = signalled.then(async (signal) => {
    if (!servingSession || !tables) return signal;
    // A slow or unreachable table must not hold up the stop: after a second, the signal's reason.
    const item = await Promise.race([
      tables.sessions.get(servingSession).catch(() => undefined),
      new Promise<undefined>((resolve) => {
        setTimeout(resolve, 1_000);
      }),
    ]);
    return typeof item?.endRequested === 'string' && item.endRequested ? item.endRequested : signal;
  });

  /** Waits in the warm pool, then serves whichever session claims this task. */
  const joinPool = async (): Promise<number> => {
    if (!base.pool || !tables?.tasks) return 0;
    servingSession = undefined;
    const outcome = await runWarmPoolTask({
      base: { ...base, pool: base.pool },
      tasks: tables.tasks,
      sessions: tables.sessions,
      logger,
      stopRequested,
      ...(blobs ? { blobs } : {}),
      onClaimed: (sessionId) => {
        servingSession = sessionId;
      },
    });
    if (outcome.kind === 'served') {
      logger.info({ status: outcome.ending.status, reason: outcome.ending.reason }, 'controller exiting');
      return outcome.ending.status === 'ERROR' ? 1 : 0;
    }
    logger.info({ outcome }, 'controller exiting');
    return 0;
  };

  if (!session) return joinPool();
  const config: ControllerConfig = { ...base, ...session };
  servingSession = config.sessionId;
  const reporter = tables ? new DynamoDbSessionReporter(tables.sessions, config.sessionId) : undefined;
  try {
    // What the session needs comes from its item, as for a warm-pool task that a create claimed.
    const item = tables ? await tables.sessions.get(config.sessionId) : undefined;
    const needs = item ? sessionNeedsOf(item) : {};
    const controller = await startController(config, {
      logger,
      needs,
      ...(blobs ? { blobs } : {}),
      ...(reporter ? { reporter } : {}),
    });
    void stopRequested.then((reason) => controller.stop(reason));
    const ending = await controller.ended;
    logger.info({ status: ending.status, reason: ending.reason }, 'controller exiting');
    return ending.status === 'ERROR' ? 1 : 0;
  } catch (error) {
    if (error instanceof SessionNotPendingError) {
      // Its create gave up before this task was ready: rather than waste the start, wait for the next one.
      logger.info({ sessionId: config.sessionId }, error.message);
      return joinPool();
    }
    // startController recorded the failure on the session.
    logger.error({ err: error }, 'the session could not start');
    return 1;
  }
}

process.exitCode = await main();
