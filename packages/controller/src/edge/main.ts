#!/usr/bin/env node
/**
 * The connect edge's process entry: the stack's gateway service runs the controller's image with its command
 * overridden to `node dist/edge/main.js`. It serves until SIGTERM or SIGINT; then every client gets a close frame
 * (1012, reconnect) and the process exits 0. Exits 1 when its configuration is invalid or its port is taken.
 */
import { verifyConnectToken } from '@wallcrawler/contracts';
import pino from 'pino';
import { type EdgeConfig, loadEdgeConfig } from './config.js';
import { startEdgeServer } from './edge-server.js';
import { SessionAddresses } from './session-addresses.js';
import { sessionsReader } from './sessions-reader.js';

async function main(): Promise<number> {
  let config: EdgeConfig;
  try {
    config = loadEdgeConfig();
  } catch (error) {
    console.error((error as Error).message);
    return 1;
  }
  const logger = pino({ level: config.logLevel, base: { service: 'wallcrawler-edge' } });
  const signalled = new Promise<string>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve(signal));
  });
  const sessions = sessionsReader({
    region: config.region,
    endpoint: config.dynamodbEndpoint,
    table: config.sessionsTable,
  });
  const secret = config.connectSecret;
  let server: Awaited<ReturnType<typeof startEdgeServer>>;
  try {
    server = await startEdgeServer({
      host: config.host,
      port: config.port,
      pingMs: config.pingMs,
      publicUrl: config.publicUrl,
      verify: (token) => verifyConnectToken(secret, token),
      addresses: new SessionAddresses({ read: sessions.read }),
      logger,
    });
  } catch (error) {
    logger.fatal({ err: (error as Error).message }, `cannot listen on ${config.host}:${config.port}`);
    sessions.destroy();
    return 1;
  }
  logger.info({ url: server.url, pingMs: config.pingMs }, 'connect edge ready');
  const signal = await signalled;
  logger.info({ signal, connections: server.connections() }, 'connect edge stopping');
  await server.close();
  sessions.destroy();
  logger.info('connect edge stopped');
  return 0;
}

process.exitCode = await main();
// Whatever a peer still holds open (a task slow to answer its close frame), the stop never hangs.
setTimeout(() => process.exit(), 1_000).unref();
