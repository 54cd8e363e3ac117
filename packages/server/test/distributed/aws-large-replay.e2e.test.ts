/**
 * The replay page of a recorded page larger than the front door carries (over 4 MiB of events), opened in a second
 * real Chromium: its events request is redirected to a presigned URL of a stored copy, which the browser follows
 * under the bucket's CORS rule (the stack's, which the topology gives s3rver).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Browserbase from '@browserbasehq/sdk';
import { findChromium } from '@wallcrawler/controller';
import { tempDir, waitFor } from '@wallcrawler/test-support';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { expectNothingLeft } from '../support/aws-checks.js';
import { type AwsTopology, startAwsTopology } from '../support/aws-topology.js';

/** A page of about 6 MB of text, which its recording's first full snapshot holds whole. */
const BIG_TEXT = Array.from({ length: 6 * 1024 }, (_, i) => `${i.toString(36)} ${'lorem ipsum '.repeat(85)}`).join(
  '\n',
);
let site: Server;
let siteUrl: string;
let aws: AwsTopology;
let bb: Browserbase;
let viewer: Browser;
const viewerProfile = tempDir('wallcrawler-aws-replay-viewer-');

beforeAll(async () => {
  site = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end(`<!doctype html><title>Big</title><pre>${BIG_TEXT}</pre>`);
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  // Direct: the subject is the bucket's redirect; the edge's own https path is aws-edge*.e2e's.
  aws = await startAwsTopology({ concurrency: 2, connect: 'direct' });
  bb = new Browserbase({ apiKey: aws.apiKey, baseURL: aws.url, maxRetries: 0 });
  viewer = await puppeteer.launch({
    executablePath: findChromium(),
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', `--user-data-dir=${viewerProfile.path}`],
  });
});
afterAll(async () => {
  await viewer?.close();
  viewerProfile.remove();
  await aws?.close();
  site?.closeAllConnections();
  await new Promise((resolve) => site?.close(resolve));
});
afterEach(() => expectNothingLeft(aws, bb));

it('replays a page whose events pass the front door, from a presigned copy the browser may fetch', async () => {
  const session = await bb.sessions.create({ projectId: aws.projectId });
  const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
  const [page] = await browser.pages();
  await page?.goto(siteUrl);
  await waitFor(async () => (await bb.sessions.recording.retrieve(session.id)).some((e) => e.type === 2), {
    timeout: 20_000,
    message: "the page's full snapshot to be recorded",
  });
  await browser.disconnect();
  await bb.sessions.update(session.id, { status: 'REQUEST_RELEASE', projectId: aws.projectId });

  const listing = (await (
    await fetch(`${aws.url}/v1/sessions/${session.id}/replays`, { headers: { 'x-bb-api-key': aws.apiKey } })
  ).json()) as { pages: { url: string }[] };
  const replay = listing.pages.at(-1);
  const url = new URL(replay?.url ?? '');
  url.protocol = new URL(aws.url).protocol;
  // The events request itself: a redirect, to the bucket, not the events through the front door.
  const events = new URL(`${url.pathname}/events${url.search}`, url);
  const redirected = await fetch(events, { redirect: 'manual' });
  expect(redirected.status).toBe(307);
  expect(redirected.headers.get('location')).toContain(new URL(aws.s3.endpoint).host);

  const tab = await viewer.newPage();
  await tab.goto(url.href);
  await waitFor(async () => (await tab.evaluate(() => document.body.dataset.replay)) !== undefined, {
    timeout: 30_000,
    message: 'the replay to load',
  });
  expect(await tab.evaluate(() => document.body.dataset.replay)).toBe('ready');
  expect(await tab.$eval('#status', (e) => e.textContent)).toMatch(/\d+ events/);
  await tab.close();
});
