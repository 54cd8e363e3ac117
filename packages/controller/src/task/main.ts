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
import { DynamoDbSessionReporter } from '../aws/dynamodb-session-reporter.js';
import { SessionTable } from '../aws/session-table.js';
import { TaskTable } from '../aws/task-table.js';
import {
  type ControllerBaseConfig,
  type ControllerConfig,
  loadControllerEnvironment,
  type SessionSettings,
} from './config.js';
import type { SessionReporter } from './session-reporter.js';
import { SessionNotPendingError, startController } from './standalone-controller.js';
import { runWarmPoolTask } from './warm-pool-task.js';

function tablesFor(store: NonNullable<ControllerBaseConfig['store']>, tasksTable?: string) {
  const client = new DynamoDBClient({ region: store.region, ...(store.endpoint ? { endpoint: store.endpoint } : {}) });
  const db = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return {
    sessions: new SessionTable({ db, tables: { sessions: store.sessionsTable, projects: store.projectsTable } }),
    tasks: tasksTable ? new TaskTable({ db, tables: { tasks: tasksTable, sessions: store.sessionsTable } }) : undefined,
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
  const stopRequested = new Promise<string>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => resolve(`The controller received ${signal}`));
    }
  });

  /** Waits in the warm pool, then serves whichever session claims this task. */
  const joinPool = async (): Promise<number> => {
    if (!base.pool || !base.store) return 0;
    const tables = tablesFor(base.store, base.pool.tasksTable);
    const outcome = await runWarmPoolTask({
      base: { ...base, pool: base.pool },
      tasks: tables.tasks as TaskTable,
      sessions: tables.sessions,
      logger,
      stopRequested,
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
  const reporter = config.store ? reporterFor(config.store, config.sessionId) : undefined;
  try {
    const controller = await startController(config, { logger, ...(reporter ? { reporter } : {}) });
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
