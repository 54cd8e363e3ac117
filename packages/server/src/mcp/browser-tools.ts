import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Locator, Page } from 'playwright-core';
import { z } from 'zod';
import { ApiError } from '../http/api-error.js';
import { ariaSnapshot, refsOf, withSessionPage } from './page-driver.js';
import { connectUrlOf, guarded, type McpCall, type McpServices, targetSession } from './tool-context.js';
import { textResult } from './tool-result.js';

// Names, arguments and descriptions follow @playwright/mcp's tools, so that agents' prompts carry over; each adds
// `sessionId`, because one endpoint serves every session of the project.
const sessionId = z
  .string()
  .optional()
  .describe('The session to act on. Default: the session this MCP connection created last (session_create).');
const element = z
  .string()
  .optional()
  .describe('Human-readable element description used to obtain permission to interact with the element');
const ref = z.string().optional().describe('Exact target element reference from the page snapshot');
/** @playwright/mcp's newer name for `ref` (0.0.80 on), which also takes a selector; give one of the two. */
const target = z
  .string()
  .optional()
  .describe('Exact target element reference from the page snapshot, or a unique element selector');
const REF = /^(f\d+)?e\d+$/;

/** The browser tools: each connects to the session's browser for the call only (see `withSessionPage`). */
export function registerBrowserTools(server: McpServer, services: McpServices, call: McpCall): void {
  /**
   * Runs `act` on the target session's page, then answers with the page's state and a fresh snapshot. The
   * snapshot is taken over a connection of its own when `act` took one already (to resolve a ref): Playwright
   * numbers refs per connection, in page order on its first snapshot and onwards from there on later ones, so
   * only a first snapshot has the refs the next call's connection will see.
   */
  const onPage = async (
    id: string | undefined,
    act: (page: Page, session: string) => Promise<string | undefined>,
    { actSnapshots = false } = {},
  ): Promise<CallToolResult> => {
    const session = targetSession(services, call, id);
    const connectUrl = await connectUrlOf(services, call, session);
    if (!actSnapshots) {
      return withSessionPage(connectUrl, async (page) => {
        const done = await act(page, session);
        return textResult([...(done ? [done] : []), await pageState(page, session)].join('\n'));
      });
    }
    const done = await withSessionPage(connectUrl, (page) => act(page, session));
    const state = await withSessionPage(connectUrl, (page) => pageState(page, session));
    return textResult([...(done ? [done] : []), state].join('\n'));
  };

  const onSession = async (
    id: string | undefined,
    run: (page: Page, session: string) => Promise<CallToolResult>,
  ): Promise<CallToolResult> => {
    const session = targetSession(services, call, id);
    const connectUrl = await connectUrlOf(services, call, session);
    return withSessionPage(connectUrl, (page) => run(page, session));
  };

  /** The page's URL, title and snapshot, whose refs the next calls use. */
  const pageState = async (page: Page, session: string): Promise<string> => {
    const snapshot = await ariaSnapshot(page);
    services.connections.rememberSnapshot(call.connection, session, refsOf(snapshot));
    return [
      `- Page URL: ${page.url()}`,
      `- Page Title: ${await page.title()}`,
      '- Page Snapshot:',
      '```yaml',
      snapshot,
      '```',
    ].join('\n');
  };

  /**
   * The element a ref (or a selector) names. This call's connection is new, so the page is snapshotted again to give its refs
   * meaning here; a ref whose element is no longer what the connection's latest snapshot showed is refused
   * rather than acted on.
   * @throws ApiError 400 `ref_not_found`; 409 `stale_ref`
   */
  const byRef = async (page: Page, session: string, wanted: string): Promise<Locator> => {
    if (!REF.test(wanted)) return bySelector(page, wanted);
    const now = refsOf(await ariaSnapshot(page)).get(wanted);
    if (now === undefined) {
      throw new ApiError(
        400,
        'ref_not_found',
        `Ref ${wanted} is not in the current page snapshot. Take a new snapshot (browser_snapshot) and use its refs.`,
      );
    }
    const seen = services.connections.refLine(call.connection, session, wanted);
    if (seen !== undefined && seen !== now) {
      throw new ApiError(
        409,
        'stale_ref',
        `Ref ${wanted} was \`${seen}\` in the latest snapshot but the page has changed (it is now \`${now}\`). ` +
          'Take a new snapshot (browser_snapshot).',
      );
    }
    return page.locator(`aria-ref=${wanted}`);
  };

  /** A `target` that is a selector (`#name`, `text=Save`): it must match exactly one element. */
  const bySelector = async (page: Page, selector: string): Promise<Locator> => {
    const matches = await page.locator(selector).count();
    if (matches !== 1) {
      throw new ApiError(
        400,
        'selector_not_unique',
        `The selector ${selector} matches ${matches} elements; give a ref from the snapshot, or a selector that matches one.`,
      );
    }
    return page.locator(selector);
  };

  server.registerTool(
    'browser_navigate',
    {
      title: 'Navigate to a URL',
      description: 'Navigate to a URL',
      inputSchema: { url: z.string().describe('The URL to navigate to'), sessionId },
    },
    guarded(call, ({ url, sessionId: id }) =>
      onPage(id, async (page) => {
        await page.goto(url);
        return undefined;
      }),
    ),
  );

  server.registerTool(
    'browser_snapshot',
    {
      title: 'Page snapshot',
      description: 'Capture accessibility snapshot of the current page, this is better than screenshot',
      inputSchema: { sessionId },
      annotations: { readOnlyHint: true },
    },
    guarded(call, ({ sessionId: id }) => onPage(id, async () => undefined)),
  );

  server.registerTool(
    'browser_click',
    {
      title: 'Click',
      description: 'Perform click on a web page',
      inputSchema: {
        element,
        ref,
        target,
        doubleClick: z.boolean().optional().describe('Whether to perform a double click instead of a single click'),
        button: z.enum(['left', 'right', 'middle']).optional().describe('Button to click, defaults to left'),
        sessionId,
      },
    },
    guarded(call, ({ ref: r, target: t, doubleClick, button, sessionId: id }) =>
      onPage(
        id,
        async (page, session) => {
          const wanted = required(r ?? t);
          const element = await byRef(page, session, wanted);
          if (doubleClick) await element.dblclick({ ...(button ? { button } : {}) });
          else await element.click({ ...(button ? { button } : {}) });
          return `Clicked ${wanted}.`;
        },
        { actSnapshots: true },
      ),
    ),
  );

  server.registerTool(
    'browser_type',
    {
      title: 'Type text',
      description: 'Type text into editable element',
      inputSchema: {
        element,
        ref,
        target,
        text: z.string().describe('Text to type into the element'),
        submit: z.boolean().optional().describe('Whether to submit entered text (press Enter after)'),
        slowly: z
          .boolean()
          .optional()
          .describe('Whether to type one character at a time. By default entire text is filled in at once.'),
        sessionId,
      },
    },
    guarded(call, ({ ref: r, target: t, text, submit, slowly, sessionId: id }) =>
      onPage(
        id,
        async (page, session) => {
          const wanted = required(r ?? t);
          const element = await byRef(page, session, wanted);
          if (slowly) await element.pressSequentially(text);
          else await element.fill(text);
          if (submit) await element.press('Enter');
          return `Typed into ${wanted}.`;
        },
        { actSnapshots: true },
      ),
    ),
  );

  server.registerTool(
    'browser_select_option',
    {
      title: 'Select option',
      description: 'Select an option in a dropdown',
      inputSchema: {
        element,
        ref,
        target,
        values: z
          .array(z.string())
          .describe('Array of values to select in the dropdown. This can be a single value or multiple values.'),
        sessionId,
      },
    },
    guarded(call, ({ ref: r, target: t, values, sessionId: id }) =>
      onPage(
        id,
        async (page, session) => {
          const wanted = required(r ?? t);
          const element = await byRef(page, session, wanted);
          const selected = await element.selectOption(values);
          return `Selected ${selected.join(', ')} in ${wanted}.`;
        },
        { actSnapshots: true },
      ),
    ),
  );

  server.registerTool(
    'browser_take_screenshot',
    {
      title: 'Take a screenshot',
      description:
        "Take a screenshot of the current page. You can't perform actions based on the screenshot, use " +
        'browser_snapshot for actions.',
      inputSchema: {
        type: z.enum(['png', 'jpeg']).optional().describe('Image format for the screenshot. Default is png.'),
        element: element.describe('Human-readable element description; with ref, screenshots that element'),
        ref,
        target,
        fullPage: z.boolean().optional().describe('When true, takes a screenshot of the full scrollable page'),
        sessionId,
      },
      annotations: { readOnlyHint: true },
    },
    guarded(call, ({ type = 'png', ref: r, target: t, fullPage, sessionId: id }) =>
      onSession(id, async (page, session) => {
        const wanted = r ?? t;
        const options = { type, ...(type === 'jpeg' ? { quality: 90 } : {}) } as const;
        const image = wanted
          ? await (await byRef(page, session, wanted)).screenshot(options)
          : await page.screenshot({ ...options, fullPage: fullPage ?? false });
        return {
          content: [
            { type: 'text', text: `Screenshot of ${wanted ?? (fullPage ? 'the full page' : 'the viewport')}.` },
            { type: 'image', data: image.toString('base64'), mimeType: `image/${type}` },
          ],
        };
      }),
    ),
  );
}

/** The element argument, under either name. @throws ApiError 400 `validation_failed` without one */
function required(wanted: string | undefined): string {
  if (wanted) return wanted;
  throw new ApiError(400, 'validation_failed', 'Invalid arguments: give ref (or target), from the latest snapshot.', [
    { path: 'arguments.ref', message: 'Required' },
  ]);
}
