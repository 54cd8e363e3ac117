import { Wallcrawler } from '@wallcrawler/sdk';
import { expectNothingLeft, startPageServer, waitFor } from '@wallcrawler/test-support';
import { useTestServer } from '@wallcrawler/test-support/test-server';
import puppeteer from 'puppeteer-core';
import { afterAll, expect, it } from 'vitest';
import WebSocket from 'ws';

// The API's shortest timeout is 60 s (as Browserbase's): this server takes shorter ones, so that these tests wait
// seconds, not a minute. 20 s leaves a starved host the time to start the browser and write the context first.
const TIMEOUT_S = 20;
const t = useTestServer({}, { minSessionTimeoutSeconds: 1 });
afterAll(async () => {
  // Before the server closes: the timeouts alone ended the sessions and left nothing.
  await expectNothingLeft(t.dataDir);
});

it.concurrent('ends a session TIMED_OUT at its timeout, closing clients with the reason', {
  timeout: 120_000,
}, async () => {
  const sdk = new Wallcrawler({ apiKey: t.apiKey, baseURL: t.url });
  const session = await sdk.sessions.create({ timeout: TIMEOUT_S, keepAlive: true });
  expect(new Date(session.expiresAt).getTime() - new Date(session.createdAt).getTime()).toBe(TIMEOUT_S * 1000);
  const ws = new WebSocket(session.connectUrl);
  await new Promise((r) => ws.once('open', r));
  const closed = await new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  expect(closed).toEqual({ code: 1000, reason: 'The session reached its timeout' });
  const ended = await sdk.sessions.retrieve(session.id);
  expect(ended.status).toBe('TIMED_OUT');
  expect(new Date(ended.endedAt as string).getTime()).toBeGreaterThanOrEqual(new Date(session.expiresAt).getTime());
});

it.concurrent('saves a persisted context when its session times out', { timeout: 120_000 }, async () => {
  const pages = await startPageServer();
  try {
    const sdk = new Wallcrawler({ apiKey: t.apiKey, baseURL: t.url });
    const { id } = await sdk.contexts.create();
    const s1 = await sdk.sessions.create({
      timeout: TIMEOUT_S,
      keepAlive: true,
      browserSettings: { context: { id, persist: true } },
    });
    const browser = await puppeteer.connect({ browserWSEndpoint: s1.connectUrl, defaultViewport: null });
    const [page] = await browser.pages();
    await page?.goto(pages.url);
    await page?.evaluate(() => {
      // biome-ignore lint/suspicious/noDocumentCookie: the page's own cookie is what a context must keep
      document.cookie = 'wc_cookie=timed-out; max-age=86400; path=/';
      localStorage.setItem('wc_storage', 'timed-out');
    });
    await browser.disconnect();
    await waitFor(async () => (await sdk.sessions.retrieve(s1.id)).status === 'TIMED_OUT', {
      timeout: (TIMEOUT_S + 30) * 1000,
    });

    const s2 = await sdk.sessions.create({ browserSettings: { context: { id } } });
    const reader = await puppeteer.connect({ browserWSEndpoint: s2.connectUrl, defaultViewport: null });
    const [page2] = await reader.pages();
    await page2?.goto(pages.url);
    const state = await page2?.evaluate(() => ({
      cookie: document.cookie,
      storage: localStorage.getItem('wc_storage'),
    }));
    expect(state).toEqual({ cookie: 'wc_cookie=timed-out', storage: 'timed-out' });
    await reader.disconnect();
    await sdk.sessions.update(s2.id, { status: 'REQUEST_RELEASE' });
  } finally {
    await pages.close();
  }
});

it.concurrent("refuses a timeout under the server's minimum, as it refuses 59 s at the default one", async () => {
  const response = await fetch(`${t.url}/v1/sessions`, {
    method: 'POST',
    headers: { 'x-bb-api-key': t.apiKey, 'content-type': 'application/json' },
    body: JSON.stringify({ timeout: 0 }),
  });
  expect(response.status).toBe(400);
  expect(await response.json()).toMatchObject({
    code: 'validation_failed',
    details: [{ path: 'body.timeout', message: expect.stringMatching(/>=1/) }],
  });
});
