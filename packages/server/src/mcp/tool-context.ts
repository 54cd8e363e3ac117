import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '@wallcrawler/contracts';
import { SessionNotRunningError } from '../domain/errors.js';
import { ApiError } from '../http/api-error.js';
import type { UnsupportedFieldsMode } from '../http/create-fields.js';
import type { SessionCreateParamsZod } from '../schemas/session.js';
import type { SessionLifecycle } from '../services/session-lifecycle.js';
import type { SessionViews } from '../services/session-views.js';
import type { McpConnections } from './connections.js';
import { errorResult } from './tool-result.js';

/** The server's services the MCP tools act through, as the REST routes do. */
export interface McpServices {
  lifecycle: SessionLifecycle;
  views: SessionViews;
  connections: McpConnections;
  /** The loopback base of this process's connect gateway, which the tools reach local browsers through. */
  internalGatewayUrl: () => string | undefined;
  createParams: SessionCreateParamsZod;
  unsupportedFields: UnsupportedFieldsMode;
}

/** Who is calling, over which connection: one HTTP request's worth of MCP. */
export interface McpCall {
  projectId: string;
  /** The connection's key in `McpConnections` (the API key's id and the `Mcp-Session-Id`), if it has one. */
  connection: string | undefined;
  /** The base URL clients reach this server at, for the `connectUrl`s the session tools hand out. */
  publicGatewayUrl: string;
  requestId: string;
  logger: Logger;
}

/** A tool's body, whose failures become tool errors with the REST API's error body. */
export function guarded<A>(call: McpCall, run: (args: A) => Promise<CallToolResult>) {
  return async (args: A): Promise<CallToolResult> => {
    try {
      return await run(args);
    } catch (error) {
      return errorResult(error, call.requestId, call.logger);
    }
  };
}

/**
 * The session a browser tool acts on: `sessionId`, else the one this connection created last.
 * @throws ApiError 400 `no_session` when there is neither
 */
export function targetSession(services: McpServices, call: McpCall, sessionId: string | undefined): string {
  const id = sessionId ?? services.connections.lastSession(call.connection);
  if (!id) {
    throw new ApiError(
      400,
      'no_session',
      'No session to act on: this MCP connection has not created one (or it has ended). Call session_create ' +
        'first, or pass sessionId.',
    );
  }
  return id;
}

/**
 * The `connectUrl` the tools reach a running session's browser at: through this process's own gateway on
 * loopback for a local browser, at its task's address for one in a task of its own.
 * @throws SessionNotFoundError (another project's session too); SessionNotRunningError
 */
export async function connectUrlOf(services: McpServices, call: McpCall, sessionId: string): Promise<string> {
  const base = services.internalGatewayUrl() ?? call.publicGatewayUrl;
  const view = await services.views.retrieve(call.projectId, sessionId, base);
  if (view.session.status !== 'RUNNING' || !view.connect) {
    throw new SessionNotRunningError(sessionId, view.session.status);
  }
  return view.connect.connectUrl;
}
