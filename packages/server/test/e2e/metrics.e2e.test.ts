import { expectNothingLeft, waitFor } from '@wallcrawler/test-support';
import { metricSample as sample, usePageServer, useTestServer } from '@wallcrawler/test-support/test-server';
import puppeteer from 'puppeteer-core';
import { expect, it } from 'vitest';

/** `GET /metrics` on a real server, after a real session: what Prometheus would scrape. */
const t = useTestServer({ WALLCRAWLER_MAX_SESSIONS: '5' });
const pages = usePageServer();

const scrape = async () => {
  const response = await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${t.apiKey}` } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  return response.text();
};

it('is protected like the API', async () => {
  expect((await fetch(`${t.url}/metrics`)).status).toBe(401);
  expect((await fetch(`${t.url}/metrics`, { headers: { authorization: 'Bearer wc_nope' } })).status).toBe(401);
});

it('reports sessions by status, create stages, host slots, CDP bytes, endings and rejections', async () => {
  const headers = { 'x-bb-api-key': t.apiKey, 'content-type': 'application/json' };
  const bad = await fetch(`${t.url}/v1/sessions`, { method: 'POST', headers, body: '{"timeout":1}' });
  expect(bad.status).toBe(400);
  const session = (await (await fetch(`${t.url}/v1/sessions`, { method: 'POST', headers, body: '{}' })).json()) as {
    id: string;
    connectUrl: string;
  };
  const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
  const [page] = await browser.pages();
  await page?.goto(`${pages.url}/title/Metrics`);

  const running = await scrape();
  expect(sample(running, 'wallcrawler_sessions{status="RUNNING"}')).toBe(1);
  expect(sample(running, 'wallcrawler_host_browsers')).toBe(1);
  expect(sample(running, 'wallcrawler_host_browsers_max')).toBe(5);
  expect(sample(running, 'wallcrawler_create_queue_depth')).toBe(0);
  for (const stage of ['admission', 'launch', 'total']) {
    expect(sample(running, `wallcrawler_session_create_seconds_count{stage="${stage}"}`), stage).toBe(1);
  }
  expect(sample(running, 'wallcrawler_rejections_total{code="validation_failed"}')).toBe(1);
  expect(running).toContain('wallcrawler_process_resident_memory_bytes');

  await browser.disconnect();
  await waitFor(async () => sample(await scrape(), 'wallcrawler_sessions_ended_total{status="COMPLETED"}') === 1, {
    message: 'the disconnect to end the session',
  });
  // The ending is recorded first; the browser's slot is free once it is gone, a moment later.
  const ended = await waitFor(
    async () => {
      const text = await scrape();
      return sample(text, 'wallcrawler_host_browsers') === 0 && text;
    },
    { message: "the session's browser slot to be free" },
  );
  expect(sample(ended, 'wallcrawler_sessions{status="RUNNING"}')).toBe(0);
  expect(sample(ended, 'wallcrawler_cdp_connections_total')).toBeGreaterThanOrEqual(1);
  expect(sample(ended, 'wallcrawler_cdp_bytes_total{direction="to_client"}')).toBeGreaterThan(1000);
  expect(sample(ended, 'wallcrawler_cdp_bytes_total{direction="from_client"}')).toBeGreaterThan(100);
  // Puppeteer's commands, and Chromium's answers and events (at least one answer per command).
  const sent = sample(ended, 'wallcrawler_cdp_messages_total{direction="from_client"}') ?? 0;
  expect(sent).toBeGreaterThan(5);
  expect(sample(ended, 'wallcrawler_cdp_messages_total{direction="to_client"}')).toBeGreaterThan(sent);
  await expectNothingLeft(t.dataDir);
});
