import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/** Where scripts/prepare-tests.mjs installs the agents' MCP servers, pinned (`compat/agent-tools`). */
const COMPAT = fileURLToPath(new URL('../../../../compat/agent-tools/', import.meta.url));

/** The installed MCP servers' entry points, run with this Node (20): each supports it. */
export const AGENT_TOOLS = {
  playwright: `${COMPAT}node_modules/@playwright/mcp/cli.js`,
  chromeDevtools: `${COMPAT}node_modules/chrome-devtools-mcp/build/src/bin/chrome-devtools-mcp.js`,
  browserbase: `${COMPAT}node_modules/@browserbasehq/mcp-server-browserbase/cli.js`,
} as const;

export interface StdioTool {
  client: Client;
  /** Calls a tool and returns its text; a tool error fails with that text. */
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  /** What the server wrote to stderr so far, to explain a failure. */
  stderr(): string;
  /** Closes the client, which ends the server process (its stdin closes), and waits for it to exit. */
  close(): Promise<void>;
}

/** Spawns an MCP server as a real stdio process (as an agent's host does) and connects the SDK's client. */
export async function startStdioTool(
  entry: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<StdioTool> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [entry, ...args],
    cwd: COMPAT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? COMPAT, ...env },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const client = new Client({ name: 'wallcrawler-compat', version: '1.0.0' });
  try {
    await client.connect(transport);
  } catch (error) {
    await transport.close().catch(() => {});
    throw new Error(`${entry} did not start: ${error}\n${stderr}`);
  }
  const pid = transport.pid;
  return {
    client,
    async call(name, callArgs = {}) {
      const result = (await client.callTool({ name, arguments: callArgs })) as CallToolResult;
      if (result.isError) throw new Error(`${name} failed: ${textOf(result)}\n${stderr}`);
      return result;
    },
    stderr: () => stderr,
    async close() {
      await client.close();
      if (pid) await exited(pid);
    },
  };
}

export const textOf = (result: CallToolResult) =>
  result.content.flatMap((c) => (c.type === 'text' ? [c.text] : [])).join('\n');

/** Waits (up to 20 s) for the process to be gone. */
async function exited(pid: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  process.kill(pid, 'SIGKILL');
}
