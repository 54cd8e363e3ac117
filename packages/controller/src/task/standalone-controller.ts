import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ConnectAuthError,
  type Logger,
  type SessionEnding,
  silentLogger,
  verifyConnectToken,
} from '@wallcrawler/contracts';
import { findPublicAddress } from '../aws/public-address.js';
import { readTaskMetadata, type TaskMetadata } from '../aws/task-metadata.js';
import { BrowserSession } from '../browser-session.js';
import type { BrowserSessionOptions } from '../browser-session-options.js';
import { findChromium } from '../chromium/find-chromium.js';
import { ProfileArchiveError } from '../context/profile-archive.js';
import { CdpGateway } from '../gateway.js';
import { ExtensionArchiveError } from '../keeping/extension-archive.js';
import { sendError } from '../proxy/raw-http.js';
import { handleStagehandRequest } from '../stagehand/stagehand-endpoint.js';
import { StagehandRunner } from '../stagehand/stagehand-runner.js';
import type { ControllerConfig } from './config.js';
import { fileKeeping } from './file-keeping.js';
import { handleSessionFilesRequest } from './files-endpoint.js';
import { keepingHooks, type SessionNeeds, type TaskBlobs } from './session-keeping.js';
import type { SessionReporter } from './session-reporter.js';

/** The most a file uploaded into the session (through the API, which has its own lower limit) may hold. */
const TASK_UPLOAD_MAX_BYTES = 256 * 1024 * 1024;

/** A controller serving its one session. */
export interface RunningController {
  session: BrowserSession;
  /** `http://host:port` the proxy listens on. */
  url: string;
  /** `ws://host:port`: where clients reach the proxy (the task's address in ECS). */
  connectEndpoint: string;
  /** Resolves once the session has ended and the listener is closed. */
  ended: Promise<SessionEnding>;
  /** Ends the session (if still running) and stops listening. */
  stop(reason?: string): Promise<SessionEnding>;
}

export interface StartControllerOptions {
  logger?: Logger;
  /** Where the session's status goes (task mode). Without one, the controller only logs. */
  reporter?: SessionReporter;
  /** The task's metadata, when the caller has read it already (a warm-pool task). */
  task?: TaskMetadata;
  /** A Chromium the caller started already, with the session's viewport (a warm-pool task's). */
  prelaunched?: BrowserSessionOptions['prelaunched'];
  /** What the session needs from the blob store (its context, its extension), read from its item. */
  needs?: SessionNeeds;
  /** The task's blob store, for those needs. */
  blobs?: TaskBlobs;
  /**
   * A server already listening on the controller's port (a warm-pool task's, while it waited): the controller
   * takes it over instead of binding the port again. @default a new one
   */
  listening?: Server;
}

/** The session ended, or never was PENDING, before its browser was ready: there is nothing to serve. */
export class SessionNotPendingError extends Error {
  constructor(sessionId: string) {
    super(`Session ${sessionId} is no longer waiting for a browser (it ended before this controller was ready).`);
    this.name = 'SessionNotPendingError';
  }
}

/**
 * Runs one session the way a Fargate task does: launch Chromium, serve its authenticated CDP proxy on
 * `host:port`, and only then report the session RUNNING with the address clients reach it at; serve until the
 * session ends (release, timeout, the last client leaving, no client ever coming, Chromium dying, SIGTERM),
 * recording the ending before the process exits. Tokens for any other session are refused with 403.
 *
 * A session whose browser could not be started is recorded as ERROR with the reason, so its create fails at
 * once with it.
 *
 * @throws SessionNotPendingError when the reporter says the session no longer waits for a browser
 */
export async function startController(
  config: ControllerConfig,
  options: StartControllerOptions = {},
): Promise<RunningController> {
  try {
    return await serve(config, options);
  } catch (error) {
    if (options.reporter && !(error instanceof SessionNotPendingError)) {
      await options.reporter
        .ended({ status: 'ERROR', endedAt: new Date(), ...startFailureOf(error, options.needs) })
        .catch((e: unknown) => (options.logger ?? silentLogger).error({ err: e }, 'recording the failure failed'));
    }
    throw error;
  }
}

/**
 * Why the start failed, as the session's ending says it. A context or an extension that cannot be used is the
 * session's own doing, and says so (`startFailure`), so that its create answers as locally (422, 400).
 */
function startFailureOf(
  error: unknown,
  needs: SessionNeeds | undefined,
): Pick<SessionEnding, 'reason' | 'startFailure'> {
  const message = (error as Error).message;
  if (error instanceof ProfileArchiveError && needs?.context) {
    return { reason: `Context ${needs.context.id} cannot be used: ${message}`, startFailure: 'context_unusable' };
  }
  if (error instanceof ExtensionArchiveError && needs?.extensionId) {
    return {
      reason: `Extension ${needs.extensionId} cannot be loaded: ${message}`,
      startFailure: 'extension_unusable',
    };
  }
  return { reason: `The browser could not be started: ${message}` };
}

/** Both close-path collects, one after the other (the files first: they are quick), their notes joined. */
function combinedCollect(
  ...collects: (BrowserSessionOptions['collect'] | undefined)[]
): Pick<BrowserSessionOptions, 'collect'> {
  const present = collects.filter((c) => c !== undefined);
  if (present.length === 0) return {};
  return {
    collect: async (...args) => {
      const notes: string[] = [];
      for (const collect of present) {
        const note = await collect(...args);
        if (note) notes.push(note);
      }
      return notes.length > 0 ? notes.join('; ') : undefined;
    },
  };
}

async function serve(
  config: ControllerConfig,
  {
    logger = silentLogger,
    reporter,
    task: knownTask,
    prelaunched,
    needs = {},
    blobs,
    listening,
  }: StartControllerOptions,
): Promise<RunningController> {
  const log = logger.child({ sessionId: config.sessionId });
  if (reporter && !(await reporter.isPending())) throw new SessionNotPendingError(config.sessionId);
  const task: TaskMetadata | undefined =
    knownTask ?? (config.ecsMetadataUri ? await readTaskMetadata(config.ecsMetadataUri) : undefined);
  const host = config.host ?? task?.privateIp ?? '127.0.0.1';
  // Looked up while Chromium starts; a task told to advertise its public address cannot serve without it.
  const publicAddress =
    task && config.advertise === 'public' && !config.externalUrl
      ? findPublicAddress(task, { region: config.store?.region ?? process.env.AWS_REGION ?? '' })
      : undefined;
  publicAddress?.catch(() => {});

  // Set once the session is reported running: only a session this task served may save its context.
  let served = !reporter;
  const needed = keepingHooks(needs, blobs, { served: () => served, logger: log });
  if (prelaunched && (needed.prepare || needed.collect)) {
    throw new Error('A browser started ahead cannot take a context or an extension: start one for the session.');
  }
  // With the blob bucket, the session also keeps its files there (its item says which), and serves them meanwhile.
  const files = blobs
    ? fileKeeping({
        blobs: blobs.store,
        limits: blobs.fileLimits,
        sessionId: config.sessionId,
        keeps: (await reporter?.keeps?.()) ?? { logs: true, recording: true },
        logger: log,
      })
    : {};
  const keeping = { ...files, ...needed, ...combinedCollect(files.collect, needed.collect) };
  const session = await BrowserSession.start({
    ...keeping,
    id: config.sessionId,
    executablePath: findChromium(config.chromePath),
    dataDir: config.dataDir,
    expiresAt: config.expiresAt,
    keepAlive: config.keepAlive,
    disconnectGraceMs: config.disconnectGraceMs,
    idleTimeoutMs: config.idleTimeoutMs,
    launchTimeoutMs: config.launchTimeoutMs,
    logger: log,
    ...(config.viewport ? { viewport: config.viewport } : {}),
    ...(config.proxies ? { proxy: { routes: config.proxies } } : {}),
    ...(prelaunched ? { prelaunched } : {}),
    ...(reporter ? { onEnd: (ending: SessionEnding) => reporter.ended(ending) } : {}),
  });
  let external: string | undefined = config.externalUrl;
  const gateway = new CdpGateway({
    logger: log,
    externalUrl: () => external,
    authenticate: async ({ signingKey, sessionId }) => {
      const claims = await verifyConnectToken(config.connectSecret, signingKey);
      if (claims.sessionId !== config.sessionId || (sessionId && sessionId !== config.sessionId)) {
        throw new ConnectAuthError(403, 'token_session_mismatch', 'This connect token belongs to another session.');
      }
      return claims.sessionId;
    },
  });
  gateway.add(session);

  /** The API's calls (Stagehand's, the session's files) carry the session's connect token as a bearer token. */
  const authorize = async (token: string | undefined) => {
    if (!token) throw new ConnectAuthError(401, 'missing_token', "Send the session's connect token as a bearer token.");
    const claims = await verifyConnectToken(config.connectSecret, token);
    if (claims.sessionId !== config.sessionId) {
      throw new ConnectAuthError(403, 'token_session_mismatch', 'This connect token belongs to another session.');
    }
    if (!session.isRunning) throw new ConnectAuthError(410, 'session_ended', 'The session has ended.');
  };

  // Stagehand's hosted API for this session (the API function forwards it here), attached on first use through
  // this controller's own gateway with the caller's connect token.
  let url = '';
  let runner: StagehandRunner | undefined;
  const stagehand = {
    logger: log,
    runnerFor: async (token: string | undefined) => {
      await authorize(token);
      runner ??= new StagehandRunner({
        sessionId: config.sessionId,
        cdpUrl: async () => `${url.replace(/^http/, 'ws')}/?signingKey=${token}`,
        logger: log,
      });
      return runner;
    },
  };
  const filesEndpoint = { authorize, session, uploadMaxBytes: TASK_UPLOAD_MAX_BYTES, logger: log };

  const handle = (request: IncomingMessage, response: ServerResponse) => {
    if (handleStagehandRequest(request, response, stagehand)) return;
    if (blobs && handleSessionFilesRequest(request, response, filesEndpoint)) return;
    if (gateway.handleRequest(request, response)) return;
    if (request.url !== '/health') return sendError(response, 404, 'not_found', `There is nothing at ${request.url}.`);
    const healthy = session.isRunning;
    response.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ status: healthy ? 'ok' : 'ending', sessionId: config.sessionId }));
  };
  const server = listening ?? createServer();
  // A server taken over answers the session's requests from now on (a push in flight keeps its own handler).
  server.removeAllListeners('request');
  server.removeAllListeners('upgrade');
  server.on('request', handle);
  server.on('upgrade', (request, socket, head) => void gateway.handleUpgrade(request, socket, head));
  try {
    if (!listening) {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, host, resolve);
      });
    }
  } catch (error) {
    await session.close(
      'ERROR',
      `The controller could not listen on ${host}:${config.port}: ${(error as Error).message}`,
    );
    throw error;
  }
  const address = server.address() as AddressInfo;
  const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  url = `http://${hostPart}:${address.port}`;
  if (publicAddress && !external) {
    try {
      external = `http://${await publicAddress}:${address.port}`;
    } catch (error) {
      await session.close('ERROR', (error as Error).message);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      throw error;
    }
  }
  external ??= url;
  const connectEndpoint = external.replace(/^http/, 'ws').replace(/\/$/, '');

  // A proxied session's bytes so far, where the API reads them (the task's own count is not reachable there).
  let reportedBytes = 0;
  const bytesTimer =
    config.proxies && reporter?.proxyBytes
      ? setInterval(() => {
          const bytes = session.proxyBytes;
          if (bytes <= reportedBytes) return;
          reportedBytes = bytes;
          reporter.proxyBytes?.(bytes).catch((error: unknown) => log.debug({ err: error }, 'proxyBytes not recorded'));
        }, config.proxyBytesIntervalMs ?? 5_000)
      : undefined;
  bytesTimer?.unref();

  const ended = session.ended.then(async (ending) => {
    clearInterval(bytesTimer);
    // Closing every connection drops Stagehand's CDP socket too, so its close does not wait on a dead peer.
    server.closeAllConnections();
    void runner?.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return ending;
  });
  const stop = async (reason = 'The controller was stopped') => {
    await session.close('COMPLETED', reason);
    return ended;
  };

  if (reporter) {
    let reported: boolean;
    try {
      reported = await reporter.running({ connectEndpoint, ...(task ? { taskArn: task.taskArn } : {}) });
    } catch (error) {
      await session.close('ERROR', `The controller could not report the session running: ${(error as Error).message}`);
      await ended;
      throw error;
    }
    served = reported;
    if (!reported) {
      // It ended while the browser started (its create gave up, or it was released): serve nothing.
      await session.close('COMPLETED', 'The session ended before its browser was ready');
      await ended;
      throw new SessionNotPendingError(config.sessionId);
    }
  }
  log.info({ url, connectEndpoint, pid: session.pid, taskArn: task?.taskArn }, 'session ready');
  return { session, url, connectEndpoint, ended, stop };
}
