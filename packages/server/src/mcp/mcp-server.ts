import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { VERSION } from '../version.js';
import { registerBrowserTools } from './browser-tools.js';
import { registerSessionTools } from './session-tools.js';
import type { McpCall, McpServices } from './tool-context.js';

const INSTRUCTIONS =
  'Wallcrawler browser sessions. Call session_create first; the browser tools (browser_navigate, ' +
  'browser_snapshot, browser_click, ...) then act on that session unless given a sessionId. Use refs from the ' +
  'latest snapshot. Call session_release when done.';

/** An MCP server with Wallcrawler's tools, bound to one request's caller (a fresh one per request). */
export function createMcpServer(services: McpServices, call: McpCall): McpServer {
  const server = new McpServer(
    { name: 'wallcrawler', version: VERSION },
    { capabilities: { tools: {} }, instructions: INSTRUCTIONS },
  );
  registerSessionTools(server, services, call);
  registerBrowserTools(server, services, call);
  return server;
}
