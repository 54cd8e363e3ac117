import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ConnectAuthError, type Logger, POOL_CLAIM_PATH, verifyConnectToken } from '@wallcrawler/contracts';
import type { TaskTable } from '../aws/task-table.js';
import { sendError } from '../proxy/raw-http.js';

/** How a claimed session's start ended, as the push's answer says it. */
export type ClaimOutcome = 'RUNNING' | 'ENDED';

export interface ClaimListener {
  /** The listening server, handed on to the session's controller (same port, no second bind). */
  server: Server;
  /** Resolves with the first push whose claim the tasks table confirms: its session, and that session's item. */
  pushed: Promise<PushedClaim>;
  /**
   * Answers every push waiting (and any that comes later) with how the session's start ended, and the session's
   * item as the RUNNING report left it, so that the API need not read it again.
   */
  settle(outcome: ClaimOutcome, session?: Record<string, unknown>): void;
  /** How many pushes were taken (for the log). */
  pushes(): number;
  /** Stops listening (a task leaving the pool unclaimed). */
  close(): Promise<void>;
}

/** A claim the API pushed, confirmed by the task's own item. */
export interface PushedClaim {
  sessionId: string;
  /** The session's item, read while the claim was being checked (the task needs it next). */
  session: Promise<Record<string, unknown> | undefined>;
}

export interface ClaimListenerOptions {
  host: string;
  port: number;
  taskArn: string;
  tasks: TaskTable;
  connectSecret: Uint8Array;
  /** Reads a session's item: started beside the claim's check, which it does not depend on. */
  readSession: (sessionId: string) => Promise<Record<string, unknown> | undefined>;
  logger: Logger;
}

/**
 * What an idle warm-pool task listens on while it waits: `POST /pool/claim` (see `POOL_CLAIM_PATH`), by which the
 * API that just claimed it says so at once, and `/health` (the container's health check). A push counts only
 * when the task's own item says it is CLAIMED by the token's session: a connect token is also its client's, and
 * must not let a client take an idle task. The push is answered once the session is RUNNING or has failed.
 */
export async function startClaimListener({
  host,
  port,
  taskArn,
  tasks,
  connectSecret,
  readSession,
  logger,
}: ClaimListenerOptions): Promise<ClaimListener> {
  let onPushed: (claim: PushedClaim) => void = () => {};
  const pushed = new Promise<PushedClaim>((resolve) => {
    onPushed = resolve;
  });
  let outcome: ClaimOutcome | undefined;
  let settledItem: Record<string, unknown> | undefined;
  const waiting: ((o: ClaimOutcome) => void)[] = [];
  let count = 0;

  const take = async (request: IncomingMessage, response: ServerResponse) => {
    request.resume();
    const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (!token) throw new ConnectAuthError(401, 'missing_token', "Send the session's connect token as a bearer token.");
    const { sessionId } = await verifyConnectToken(connectSecret, token);
    // Reading the session's item is harmless before the check; only acting on it needs the claim confirmed.
    const session = readSession(sessionId);
    session.catch(() => {}); // An unconfirmed push's read is dropped; a confirmed one's failure is seen where used.
    const item = await tasks.get(taskArn);
    if (item?.status !== 'CLAIMED' || item.sessionId !== sessionId) {
      return sendError(response, 409, 'not_claimed', 'This task is not claimed by that session.');
    }
    count++;
    onPushed({ sessionId, session });
    const settled = outcome ?? (await new Promise<ClaimOutcome>((resolve) => waiting.push(resolve)));
    response.writeHead(200, { 'content-type': 'application/json' });
    // The sealed proxy routes stay out of the answer: the API wrote them, and has no use for them back.
    const { proxies: _sealed, ...answered } = settledItem ?? {};
    response.end(JSON.stringify({ sessionId, status: settled, ...(settledItem ? { session: answered } : {}) }));
  };

  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    if (path === '/health') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ status: 'idle' }));
      return;
    }
    if (path !== POOL_CLAIM_PATH) return sendError(response, 404, 'not_found', `There is nothing at ${path}.`);
    if (request.method !== 'POST') {
      request.resume();
      return sendError(response, 405, 'method_not_allowed', `${POOL_CLAIM_PATH} only answers POST.`);
    }
    take(request, response).catch((error: unknown) => {
      if (response.headersSent) return response.destroy();
      if (error instanceof ConnectAuthError) return sendError(response, error.status, error.code, error.message);
      logger.warn({ err: error }, 'a claim push could not be checked');
      sendError(response, 503, 'claim_unchecked', 'The claim could not be checked; the task will find it itself.');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    pushed,
    pushes: () => count,
    settle(o, session) {
      if (outcome === undefined) settledItem = session;
      outcome ??= o;
      for (const answer of waiting.splice(0)) answer(outcome);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
