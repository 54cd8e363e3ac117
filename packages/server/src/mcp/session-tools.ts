import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { SESSION_STATUSES } from '../domain/model.js';
import { ApiError } from '../http/api-error.js';
import { reviewCreateFields } from '../http/create-fields.js';
import { sessionBody } from '../http/session-body.js';
import { createInputFrom } from '../http/session-create-input.js';
import { guarded, type McpCall, type McpServices, targetSession } from './tool-context.js';
import { jsonResult } from './tool-result.js';

/** The part of Browserbase's create body an agent sets; checked by the REST API's own schema. */
const createShape = {
  timeout: z.number().int().optional().describe('Seconds before the session ends by itself (at least 60).'),
  keepAlive: z
    .boolean()
    .optional()
    .describe(
      'Whether the session outlives its clients. Default true here: each tool call connects and disconnects, ' +
        'and a session without keepAlive ends once its last client has gone.',
    ),
  region: z.string().optional().describe('Browserbase region name (recorded; this server runs browsers here).'),
  userMetadata: z.record(z.string(), z.unknown()).optional().describe('Your own JSON metadata for the session.'),
  viewport: z.object({ width: z.number().int(), height: z.number().int() }).optional().describe('Browser viewport.'),
  contextId: z.string().optional().describe('A context to start from (cookies, storage).'),
  persistContext: z.boolean().optional().describe("Save the session's state back into contextId when it ends."),
  proxies: z.boolean().optional().describe("Route the browser's traffic through the project's proxies."),
};

/** `session_create`, `session_list` and `session_release`: the REST API's session calls as tools. */
export function registerSessionTools(server: McpServer, services: McpServices, call: McpCall): void {
  server.registerTool(
    'session_create',
    {
      title: 'Create a browser session',
      description:
        'Starts a browser session in your project. The browser tools act on the session this connection ' +
        'created last unless given a sessionId. Release it with session_release when done.',
      inputSchema: createShape,
    },
    guarded(call, async (args) => {
      const settings = {
        ...(args.viewport ? { viewport: args.viewport } : {}),
        ...(args.contextId ? { context: { id: args.contextId, persist: args.persistContext ?? false } } : {}),
      };
      const body = {
        keepAlive: args.keepAlive ?? true,
        ...(args.timeout !== undefined ? { timeout: args.timeout } : {}),
        ...(args.region !== undefined ? { region: args.region } : {}),
        ...(args.userMetadata !== undefined ? { userMetadata: args.userMetadata } : {}),
        ...(args.proxies !== undefined ? { proxies: args.proxies } : {}),
        ...(Object.keys(settings).length > 0 ? { browserSettings: settings } : {}),
      };
      const parsed = services.createParams.safeParse(body);
      if (!parsed.success) {
        const details = parsed.error.issues.map((issue) => ({
          path: ['arguments', ...issue.path.map(String)].join('.'),
          message: issue.message,
        }));
        const summary = details.map((d) => `${d.path}: ${d.message}`).join('; ');
        throw new ApiError(400, 'validation_failed', `Invalid arguments: ${summary}`, details);
      }
      reviewCreateFields(parsed.data, services.unsupportedFields);
      const created = await services.lifecycle.create(call.projectId, createInputFrom(parsed.data));
      services.connections.rememberCreated(call.connection, created.id);
      const view = await services.views.of(created, call.publicGatewayUrl);
      return jsonResult({ ...sessionBody(view.session), ...view.connect });
    }),
  );

  server.registerTool(
    'session_list',
    {
      title: 'List browser sessions',
      description: "Lists your project's sessions, newest first; optionally only those with one status.",
      inputSchema: { status: z.enum(SESSION_STATUSES).optional() },
      annotations: { readOnlyHint: true },
    },
    guarded(call, async ({ status }) => {
      const sessions = await services.lifecycle.list(call.projectId, { status });
      return jsonResult(sessions.map(sessionBody));
    }),
  );

  server.registerTool(
    'session_release',
    {
      title: 'Release a browser session',
      description: 'Ends a session (by default the one this connection created last) and its browser.',
      inputSchema: { sessionId: z.string().optional() },
      annotations: { destructiveHint: true, idempotentHint: true },
    },
    guarded(call, async ({ sessionId }) => {
      const id = targetSession(services, call, sessionId);
      return jsonResult(sessionBody(await services.lifecycle.release(call.projectId, id)));
    }),
  );
}
