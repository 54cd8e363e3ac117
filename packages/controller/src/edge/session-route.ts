import { ConnectAuthError, type ConnectTokenClaims } from '@wallcrawler/contracts';
import type { ConnectCredentials } from '../gateway.js';
import type { SessionAddresses } from './session-addresses.js';

/** Why the edge refuses a request itself, as an HTTP status and a stable code (the one error body's). */
export class EdgeRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'EdgeRefusal';
  }
}

/** Where a request is relayed to: its session's task. */
export interface SessionRoute {
  sessionId: string;
  endpoint: { host: string; port: number };
}

/** Checks a connect token's signature, audience and expiry (`verifyConnectToken` with the connect secret). */
export type ConnectTokenVerifier = (token: string | undefined) => Promise<ConnectTokenClaims>;

/**
 * The task a credential may reach: its token checked first (a tampered, expired or foreign token is a 401
 * before anything is read), then its session's item. Unknown and ended sessions are answered here, without
 * touching a task.
 * @throws ConnectAuthError (401, 403) or EdgeRefusal (404, 409, 410)
 */
export async function routeOf(
  credentials: ConnectCredentials,
  verify: ConnectTokenVerifier,
  addresses: SessionAddresses,
): Promise<SessionRoute> {
  if (!credentials.signingKey && credentials.apiKey) {
    throw new ConnectAuthError(
      401,
      'missing_token',
      "The connect edge accepts only a session's connect token: connect to its connectUrl (?signingKey=).",
    );
  }
  const claims = await verify(credentials.signingKey);
  if (credentials.sessionId && credentials.sessionId !== claims.sessionId) {
    throw new ConnectAuthError(403, 'token_session_mismatch', 'This connect token belongs to another session.');
  }
  return routeTo(claims.sessionId, addresses, claims.projectId);
}

/**
 * The task serving `sessionId`, for the paths that name their session and need no token (the live view page
 * and the DevTools frontend's files: they hold no secret; their WebSocket does).
 * @throws EdgeRefusal (404, 409, 410)
 */
export async function routeTo(
  sessionId: string,
  addresses: SessionAddresses,
  projectId?: string,
): Promise<SessionRoute> {
  const address = await addresses.lookup(sessionId);
  switch (address.kind) {
    case 'running':
      // A token of another project for this id cannot be ours; say no more than for an unknown session.
      if (projectId && address.projectId && address.projectId !== projectId) break;
      return { sessionId, endpoint: address.endpoint };
    case 'ended':
      throw new EdgeRefusal(
        410,
        'session_ended',
        `Session ${sessionId} has ended (${address.status}); create a new session.`,
      );
    case 'starting':
      throw new EdgeRefusal(409, 'session_starting', `Session ${sessionId} is still starting; try again shortly.`);
    case 'unknown':
      break;
  }
  throw new EdgeRefusal(404, 'session_not_found', `No session ${sessionId}.`);
}
