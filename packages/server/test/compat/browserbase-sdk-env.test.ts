import Browserbase from '@browserbasehq/sdk';
import { waitFor } from '@wallcrawler/test-support';
import { usePageServer, useTestServer } from '@wallcrawler/test-support/test-server';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserbaseProject, expectCreateResponse } from '../support/browserbase.js';

/**
 * The official `@browserbasehq/sdk` configured by the environment alone (`BROWSERBASE_API_KEY`,
 * `BROWSERBASE_BASE_URL`), with Playwright on the connectUrl, against a real server and real Chromium.
 */

const pages = usePageServer();
const t = useTestServer();

describe('@browserbasehq/sdk configured by the environment, with Playwright on the connectUrl', () => {
  const saved = { ...process.env };
  let client: Browserbase;

  beforeAll(async () => {
    const { key } = await browserbaseProject(t, 'compat-env', 2);
    process.env.BROWSERBASE_API_KEY = key;
    process.env.BROWSERBASE_BASE_URL = t.url;
    client = new Browserbase();
  });

  afterAll(() => {
    process.env = saved;
  });

  it('creates from BROWSERBASE_BASE_URL and BROWSERBASE_API_KEY alone; Playwright drives the session', async () => {
    const session = await client.sessions.create();
    expectCreateResponse(session);
    const browser = await chromium.connectOverCDP(session.connectUrl);
    const page = browser.contexts()[0]?.pages()[0] ?? (await browser.contexts()[0]?.newPage());
    await page?.goto(`${pages.url}/title/Playwright`);
    expect(await page?.title()).toBe('Playwright');
    const debug = await client.sessions.debug(session.id);
    expect(debug.pages.map((p) => p.title)).toContain('Playwright');
    await browser.close();
    // Not keepAlive: the last client leaving ends it.
    await waitFor(async () => (await client.sessions.retrieve(session.id)).status === 'COMPLETED', {
      message: 'the session to end when Playwright disconnects',
    });
  });

  it('answers replays.retrievePage (HLS video) with 501: there is no video', async () => {
    const [session] = await client.sessions.list({ status: 'COMPLETED' });
    const error = await client.sessions.replays
      .retrievePage(session?.id ?? '', '0', { maxRetries: 0 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Browserbase.APIError);
    expect((error as InstanceType<typeof Browserbase.APIError>).status).toBe(501);
  });
});
