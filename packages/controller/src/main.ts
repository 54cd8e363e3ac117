#!/usr/bin/env node
/**
 * The controller's process entry (the Fargate task's command): one session, configured from the environment,
 * served until it ends. In task mode (`WALLCRAWLER_SESSIONS_TABLE` set) it reports the session's status to
 * DynamoDB: RUNNING once Chromium and the proxy are up, and its ending before the process exits.
 *
 * Exits 0 when the session ends normally (or had already ended before the browser was ready), 1 when the
 * configuration is invalid, the session could not start, or it ended in ERROR.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import pino from 'pino';
import { DynamoDbSessionReporter } from './aws/dynamodb-session-reporter.js';
import { SessionTable } from './aws/session-table.js';
import { type ControllerConfig, loadControllerConfig } from './config.js';
import { CONTROLLER_ENV as E } from './env-names.js';
import type { SessionReporter } from './session-reporter.js';
import { SessionNotPendingError, startController } from './standalone-controller.js';

function reporterFor(store: NonNullable<ControllerConfig['store']>, sessionId: string): SessionReporter {
  const client = new DynamoDBClient({ region: store.region, ...(store.endpoint ? { endpoint: store.endpoint } : {}) });
  const table = new SessionTable({
    db: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
    tables: { sessions: store.sessionsTable, projects: store.projectsTable },
  });
  return new DynamoDbSessionReporter(table, sessionId);
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
  let config: ControllerConfig;
  try {
    config = loadControllerConfig();
  } catch (error) {
    const message = (error as Error).message;
    console.error(message);
    await reportInvalidConfig(message.replace(/\n\s*/g, ' ').trim());
    return 1;
  }
  const logger = pino({ level: config.logLevel, base: { service: 'wallcrawler-controller' } });
  const reporter = config.store ? reporterFor(config.store, config.sessionId) : undefined;
  let stopRequested: string | undefined;
  let stop: ((reason: string) => Promise<unknown>) | undefined;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      stopRequested = `The controller received ${signal}`;
      void stop?.(stopRequested);
    });
  }
  try {
    const controller = await startController(config, { logger, ...(reporter ? { reporter } : {}) });
    stop = (reason) => controller.stop(reason);
    if (stopRequested) void stop(stopRequested);
    const ending = await controller.ended;
    logger.info({ status: ending.status, reason: ending.reason }, 'controller exiting');
    return ending.status === 'ERROR' ? 1 : 0;
  } catch (error) {
    if (error instanceof SessionNotPendingError) {
      logger.info({ sessionId: config.sessionId }, error.message);
      return 0;
    }
    logger.error({ err: error }, 'the session could not start');
    await reporter
      ?.ended({
        status: 'ERROR',
        reason: `The browser could not be started: ${(error as Error).message}`,
        endedAt: new Date(),
      })
      .catch((e: unknown) => logger.error({ err: e }, 'recording the failure failed'));
    return 1;
  }
}

process.exitCode = await main();
