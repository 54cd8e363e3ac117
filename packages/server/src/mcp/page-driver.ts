import type { Browser, Page } from 'playwright-core';
import { NotSupportedError } from '../domain/errors.js';
import { ApiError } from '../http/api-error.js';

/** How long one action (a click, a navigation, a snapshot) may take before the tool answers an error. */
const ACTION_TIMEOUT_MS = 15_000;
/** How long connecting to the session's browser may take. */
const CONNECT_TIMEOUT_MS = 20_000;

/**
 * Connects to a session's browser over CDP (its `connectUrl`, with its connect token, like any client), runs
 * `act` on its first page, and disconnects, whatever happened: no connection outlives a tool call. Playwright is
 * loaded on first use, so the API starts without it.
 * @throws ApiError 502 `browser_unreachable` when the browser cannot be reached
 */
export async function withSessionPage<T>(connectUrl: string, act: (page: Page) => Promise<T>): Promise<T> {
  const { chromium } = await import('playwright-core').catch(() => {
    // The AWS API function is bundled without Playwright (see tsup.config.ts).
    throw new NotSupportedError('The browser tools need playwright-core, which this deployment does not include.');
  });
  let browser: Browser;
  try {
    browser = await chromium.connectOverCDP(connectUrl, { timeout: CONNECT_TIMEOUT_MS });
  } catch (error) {
    throw new ApiError(502, 'browser_unreachable', `Could not connect to the session's browser: ${firstLine(error)}`);
  }
  try {
    const context = browser.contexts()[0] ?? (await browser.newContext());
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(ACTION_TIMEOUT_MS);
    page.setDefaultNavigationTimeout(ACTION_TIMEOUT_MS);
    return await act(page);
  } catch (error) {
    if (error instanceof ApiError) throw error;
    // A page that refuses what was asked (an unreachable URL, an element that is not a select) is the caller's
    // to fix, not a server fault.
    throw new ApiError(422, 'browser_action_failed', firstLine(error));
  } finally {
    // Disconnects this client only: for a browser reached over CDP, close() leaves the browser and its pages.
    await browser.close().catch(() => {});
  }
}

/** Playwright's messages carry a call log after the first line; the first says what went wrong. */
function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}

/** The page's accessibility tree in Playwright's AI mode: YAML with `[ref=eN]` on the elements one can act on. */
export async function ariaSnapshot(page: Page): Promise<string> {
  return page.ariaSnapshot({ mode: 'ai' });
}

/** Each ref of a snapshot with its element as the snapshot shows it (`- button "Save"`), states left out. */
export function refsOf(snapshot: string): Map<string, string> {
  const refs = new Map<string, string>();
  for (const line of snapshot.split('\n')) {
    const ref = /\[ref=([^\]\s]+)\]/.exec(line)?.[1];
    if (ref) refs.set(ref, (line.split(' [')[0] ?? line).trim());
  }
  return refs;
}
