import { randomUUID } from 'node:crypto';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { bodyLimit } from 'hono/body-limit';
import { ApiError } from '../http/api-error.js';
import type { AppEnv } from '../http/app-env.js';
import { errorResponse } from '../http/error-handler.js';
import { createMcpServer } from '../mcp/mcp-server.js';
import type { McpServices } from '../mcp/tool-context.js';
import { apiKeyAuth } from '../middleware/api-key-auth.js';
import type { Store } from '../ports/store.js';

/** MCP requests are JSON-RPC messages with small arguments. */
const MAX_MCP_BODY_BYTES = 1024 * 1024;

/**
 * `/mcp`: the Model Context Protocol over streamable HTTP, authenticated by API key like the REST API
 * (`x-bb-api-key`, `x-wc-api-key` or `Authorization: Bearer`). The transport is the SDK's stateless one, a fresh
 * server and transport per request answering in JSON, so any process (a Lambda instance too) can answer any
 * request. On `initialize` the endpoint hands out an `Mcp-Session-Id` that clients send back: it names the
 * connection whose defaults (the session it created last) `McpConnections` keeps.
 */
export function registerMcpRoute(
  app: OpenAPIHono<AppEnv>,
  { store, services, gatewayUrl }: { store: Store; services: McpServices; gatewayUrl: (url: string) => string },
) {
  app.use(
    '/mcp',
    bodyLimit({
      maxSize: MAX_MCP_BODY_BYTES,
      onError: () => {
        throw new ApiError(413, 'payload_too_large', 'The MCP message is too large (the limit is 1 MiB).', undefined, {
          connection: 'close',
        });
      },
    }),
  );
  app.use('/mcp', apiKeyAuth({ store }));

  // Server-initiated messages would need a stream held open between requests: none are sent, so no stream.
  app.get('/mcp', (c) =>
    errorResponse(
      c,
      new ApiError(
        405,
        'method_not_allowed',
        'This MCP endpoint sends no server-initiated messages; POST to it.',
        undefined,
        {
          allow: 'POST, DELETE',
        },
      ),
    ),
  );

  app.delete('/mcp', (c) => {
    const id = c.req.header('mcp-session-id');
    if (id) services.connections.forget(connectionKey(c.var.auth.keyId, id));
    return c.body(null, 204);
  });

  app.post('/mcp', async (c) => {
    let message: unknown;
    try {
      message = await c.req.json();
    } catch {
      throw new ApiError(400, 'invalid_json', 'The MCP message is not valid JSON.');
    }
    const initializing = isInitialize(message);
    const id = initializing ? `mcp_${randomUUID()}` : c.req.header('mcp-session-id');
    const server = createMcpServer(services, {
      projectId: c.var.auth.projectId,
      connection: id ? connectionKey(c.var.auth.keyId, id) : undefined,
      publicGatewayUrl: gatewayUrl(c.req.url),
      requestId: c.get('requestId'),
      logger: c.get('logger'),
    });
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    try {
      await server.connect(transport);
      const answer = await transport.handleRequest(c.req.raw, { parsedBody: message });
      if (!initializing || !id) return answer;
      const headers = new Headers(answer.headers);
      headers.set('mcp-session-id', id);
      return new Response(answer.body, { status: answer.status, headers });
    } finally {
      await server.close();
    }
  });
}

/** A connection belongs to the key that opened it: another key sending its id gets none of its defaults. */
function connectionKey(keyId: string, id: string): string {
  return `${keyId}:${id}`;
}

function isInitialize(message: unknown): boolean {
  const messages = Array.isArray(message) ? message : [message];
  return messages.some(
    (m) => typeof m === 'object' && m !== null && (m as { method?: unknown }).method === 'initialize',
  );
}
