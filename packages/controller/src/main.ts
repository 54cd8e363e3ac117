#!/usr/bin/env node
/**
 * The controller's process entry (the Fargate task's command): one session, configured from the environment,
 * served until it ends. Exits 0 when the session ends normally, 1 when it could not start or ended in ERROR.
 */
import pino from 'pino';
import { loadControllerConfig } from './config.js';
import { startController } from './standalone-controller.js';

async function main(): Promise<number> {
  let config: ReturnType<typeof loadControllerConfig>;
  try {
    config = loadControllerConfig();
  } catch (error) {
    console.error((error as Error).message);
    return 1;
  }
  const logger = pino({ level: config.logLevel, base: { service: 'wallcrawler-controller' } });
  try {
    const controller = await startController(config, logger);
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => void controller.stop(`The controller received ${signal}`));
    }
    const ending = await controller.ended;
    logger.info({ status: ending.status, reason: ending.reason }, 'controller exiting');
    return ending.status === 'ERROR' ? 1 : 0;
  } catch (error) {
    logger.error({ err: error }, 'the session could not start');
    return 1;
  }
}

process.exitCode = await main();
