import { expectNothingLeft, waitFor } from '@wallcrawler/test-support';
import { startFormPageServer } from '@wallcrawler/test-support/form-page';
import { useTestServer } from '@wallcrawler/test-support/test-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_TOOLS, type StdioTool, startStdioTool, textOf } from '../support/agent-tools.js';

/**
 * The MCP servers agents already run, unmodified (pinned in compat/agent-tools, installed by `npm test`'s pretest),
 * each spawned as a real stdio MCP server with the configuration docs/mcp.md gives, driven by the MCP SDK's client
 * against a real server and real Chromium.
 */

const t = useTestServer();
let page: Awaited<ReturnType<typeof startFormPageServer>>;

beforeAll(async () => {
  page = await startFormPageServer();
});

afterAll(async () => {
  await page?.close();
});

/** Runs `use` with the tool started, and always closes it. */
async function withTool(tool: Promise<StdioTool>, use: (tool: StdioTool) => Promise<void>): Promise<void> {
  const started = await tool;
  try {
    await use(started);
  } finally {
    await started.close();
  }
}

describe('agents’ MCP servers against Wallcrawler', () => {
  it('@playwright/mcp --cdp-endpoint <connectUrl> navigates and snapshots a session', { timeout: 90_000 }, async () => {
    const session = await t.client.sessions.create({ keepAlive: true });
    try {
      await withTool(
        startStdioTool(AGENT_TOOLS.playwright, ['--cdp-endpoint', session.connectUrl, '--output-dir', t.dataDir]),
        async (tool) => {
          const navigated = textOf(await tool.call('browser_navigate', { url: page.url }));
          expect(navigated).toContain('Order form');
          const snapshot = textOf(await tool.call('browser_snapshot'));
          const ref = /button "Show details" \[ref=([^\]]+)\]/.exec(snapshot)?.[1];
          expect(ref).toBeDefined();
          // 0.0.86 names the ref `target` (older versions: `ref`).
          await tool.call('browser_click', { element: 'Show details button', target: ref });
          expect(textOf(await tool.call('browser_snapshot'))).toContain('Details shown');
        },
      );
      // It drove the session's own browser: the page is still there for the next client.
      expect((await t.client.sessions.debug(session.id)).pages.map((p) => p.title)).toContain('Order form');
    } finally {
      await t.client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
    }
  });

  it('chrome-devtools-mcp --wsEndpoint <connectUrl> navigates and snapshots a session', {
    timeout: 90_000,
  }, async () => {
    const session = await t.client.sessions.create({ keepAlive: true });
    try {
      await withTool(
        startStdioTool(AGENT_TOOLS.chromeDevtools, ['--wsEndpoint', session.connectUrl, '--no-usage-statistics']),
        async (tool) => {
          const pages = textOf(await tool.call('list_pages'));
          const pageId = Number(/(\d+):/.exec(pages)?.[1]);
          expect(pageId, pages).toBeGreaterThanOrEqual(0);
          await tool.call('navigate_page', { pageId, type: 'url', url: page.url });
          const snapshot = textOf(await tool.call('take_snapshot', { pageId }));
          expect(snapshot).toContain('Order form');
          expect(snapshot).toContain('Show details');
        },
      );
      expect((await t.client.sessions.debug(session.id)).pages.map((p) => p.title)).toContain('Order form');
    } finally {
      await t.client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
    }
  });

  it('@browserbasehq/mcp-server-browserbase with BROWSERBASE_BASE_URL and STAGEHAND_API_URL creates, navigates and closes', {
    timeout: 120_000,
  }, async () => {
    const before = new Set((await t.client.sessions.list()).map((s) => s.id));
    await withTool(
      startStdioTool(AGENT_TOOLS.browserbase, [], {
        BROWSERBASE_API_KEY: t.apiKey,
        BROWSERBASE_PROJECT_ID: t.projectId,
        BROWSERBASE_BASE_URL: t.url,
        STAGEHAND_API_URL: t.url,
      }),
      async (tool) => {
        await tool.call('browserbase_session_create');
        await tool.call('browserbase_stagehand_navigate', { url: page.url });
        expect(textOf(await tool.call('browserbase_stagehand_get_url'))).toContain(page.url);
        const shot = await tool.call('browserbase_screenshot');
        expect(shot.content.some((c) => c.type === 'image')).toBe(true);
        await tool.call('browserbase_session_close');
      },
    );
    const created = (await t.client.sessions.list()).filter((s) => !before.has(s.id));
    expect(created).toHaveLength(1);
    expect(created[0]?.userMetadata).toMatchObject({ mcp: 'true' });
    await waitFor(async () => (await t.client.sessions.retrieve(created[0]?.id ?? '')).status === 'COMPLETED');
  });

  it('leaves no process or directory behind', async () => {
    await expectNothingLeft(t.dataDir);
  });
});
