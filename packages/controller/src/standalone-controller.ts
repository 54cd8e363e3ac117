import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BrowserSession, type SessionEnding } from './browser-session.js';
import { findChromium } from './chromium/find-chromium.js';
import type { ControllerConfig } from './config.js';
import { ConnectAuthError, verifyConnectToken } from './connect-token.js';
import { CdpGateway } from './gateway.js';
import { type Logger, silentLogger } from './logger.js';
import { sendError } from './proxy/raw-http.js';

/** A controller serving its one session. */
export interface RunningController {
  session: BrowserSession;
  /** `http://host:port` the proxy listens on. */
  url: string;
  /** Resolves once the session has ended and the listener is closed. */
  ended: Promise<SessionEnding>;
  /** Ends the session (if still running) and stops listening. */
  stop(reason?: string): Promise<SessionEnding>;
}

/**
 * Runs one session the way a Fargate task does: launch Chromium, then serve its authenticated CDP proxy on
 * `host:port` until the session ends. Tokens for any other session are refused with 403.
 */
export async function startController(
  config: ControllerConfig,
  logger: Logger = silentLogger,
): Promise<RunningController> {
  const log = logger.child({ sessionId: config.sessionId });
  const session = await BrowserSession.start({
    id: config.sessionId,
    executablePath: findChromium(config.chromePath),
    dataDir: config.dataDir,
    expiresAt: config.expiresAt,
    keepAlive: config.keepAlive,
    disconnectGraceMs: config.disconnectGraceMs,
    logger: log,
    ...(config.viewport ? { viewport: config.viewport } : {}),
  });
  const gateway = new CdpGateway({
    logger: log,
    externalUrl: () => config.externalUrl,
    authenticate: async ({ signingKey, sessionId }) => {
      const claims = await verifyConnectToken(config.connectSecret, signingKey);
      if (claims.sessionId !== config.sessionId || (sessionId && sessionId !== config.sessionId)) {
        throw new ConnectAuthError(403, 'token_session_mismatch', 'This connect token belongs to another session.');
      }
      return claims.sessionId;
    },
  });
  gateway.add(session);

  const server = createServer((request, response) => {
    if (gateway.handleRequest(request, response)) return;
    if (request.url !== '/health') return sendError(response, 404, 'not_found', `There is nothing at ${request.url}.`);
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ status: 'ok', sessionId: config.sessionId }));
  });
  server.on('upgrade', (request, socket, head) => void gateway.handleUpgrade(request, socket, head));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, resolve);
    });
  } catch (error) {
    await session.close('ERROR', 'The controller could not listen');
    throw error;
  }
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  log.info({ url, pid: session.pid }, 'session ready');

  const ended = session.ended.then(async (ending) => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return ending;
  });
  return {
    session,
    url,
    ended,
    async stop(reason = 'The controller was stopped') {
      await session.close('COMPLETED', reason);
      return ended;
    },
  };
}
