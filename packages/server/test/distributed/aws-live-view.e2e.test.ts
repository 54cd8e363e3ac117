/**
 * The live view, the DevTools frontend and the replay page on the AWS topology, opened in a second real Chromium
 * as a person would: the live view and the frontend over https through the connect edge (which relays them from
 * the session's task's controller; their sockets over wss), the replay page by the API, from the recording the task
 * kept in S3. The viewer trusts exactly the TLS front's key (as a browser trusts CloudFront's certificate).
 */
import { createHash, X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Browserbase from '@browserbasehq/sdk';
import { findChromium } from '@wallcrawler/controller';
import { tempDir, waitFor } from '@wallcrawler/test-support';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { expectNothingLeft, taskOfSession } from '../support/aws-checks.js';
import { type AwsTopology, startAwsTopology } from '../support/aws-topology.js';

/** A red page with a big button that turns it green when clicked. */
let site: Server;
let siteUrl: string;
let aws: AwsTopology;
let bb: Browserbase;
let viewer: Browser;
const viewerProfile = tempDir('wallcrawler-aws-viewer-');

beforeAll(async () => {
  site = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end(`<!doctype html><title>Live</title>
<style>html,body{margin:0;height:100%;background:rgb(220,0,0)} button{position:absolute;left:0;top:0;width:100%;height:100%;opacity:0}</style>
<button id="b" onclick="document.body.style.background='rgb(0,200,0)';window.clicked=(window.clicked||0)+1">go</button>`);
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  aws = await startAwsTopology({ concurrency: 2 });
  bb = new Browserbase({ apiKey: aws.apiKey, baseURL: aws.url, maxRetries: 0 });
  const frontKey = new X509Certificate(aws.edge?.front.certificate ?? '').publicKey.export({
    type: 'spki',
    format: 'der',
  });
  viewer = await puppeteer.launch({
    executablePath: findChromium(),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-dev-shm-usage',
      `--user-data-dir=${viewerProfile.path}`,
      `--ignore-certificate-errors-spki-list=${createHash('sha256').update(frontKey).digest('base64')}`,
    ],
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

/** The colour at the centre of the live view's latest frame. */
function centreColour(tab: Page): Promise<[number, number, number]> {
  return tab.$eval('#screen', (canvas) => {
    const c = canvas as HTMLCanvasElement;
    const [r, g, b] = c.getContext('2d')?.getImageData(c.width / 2, c.height / 2, 1, 1).data ?? [];
    return [r ?? 0, g ?? 0, b ?? 0] as [number, number, number];
  });
}

const taskOf = (sessionId: string) => taskOfSession(aws, sessionId);

describe('the live view on ECS tasks', () => {
  it("is relayed by the edge from the session's task: frames arrive in a second browser, and a click there takes over", async () => {
    const session = await bb.sessions.create({ projectId: aws.projectId, keepAlive: true });
    const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
    const [page] = await browser.pages();
    if (!page) throw new Error('no page');
    await page.goto(siteUrl);

    const debug = await bb.sessions.debug(session.id);
    const live = debug.pages.find((p) => p.title === 'Live');
    const task = taskOf(session.id);
    expect(live?.debuggerFullscreenUrl).toMatch(new RegExp(`^${aws.url}/debug/${session.id}/live\\?ws=`));
    expect(live?.debuggerFullscreenUrl).not.toContain(task.ip);

    // Embedded, as a dashboard would: an iframe on another origin.
    const tab = await viewer.newPage();
    await tab.setViewport({ width: 1100, height: 900 });
    await tab.setContent(
      `<iframe id="f" src="${live?.debuggerFullscreenUrl}" style="width:1050px;height:850px;border:0"></iframe>`,
    );
    const frame = await waitFor(
      async () => {
        const f = tab.frames().find((x) => x.url().includes('/live?ws='));
        return f && (await f.$eval('body', (b) => Number(b.dataset.frames ?? 0)).catch(() => 0)) > 0 && f;
      },
      { timeout: 30_000, message: 'screencast frames in the viewer' },
    );
    const frameTab = frame as unknown as Page;
    const [r, g] = await centreColour(frameTab);
    expect(r).toBeGreaterThan(150);
    expect(g).toBeLessThan(80);

    const canvas = await frame.$('#screen');
    await canvas?.click();
    await waitFor(async () => (await page.evaluate(() => (window as unknown as { clicked?: number }).clicked)) === 1);
    await waitFor(async () => {
      const [red, green] = await centreColour(frameTab);
      return green > 150 && red < 80;
    });
    await tab.close();

    // The DevTools frontend comes from the task too (Chromium's bundled one), and its socket is the page's, over
    // wss (the frontend's `wss` parameter).
    const devtools = await fetch(live?.debuggerUrl ?? '');
    expect(devtools.status).toBe(200);
    expect(devtools.headers.get('content-type')).toMatch(/html/);
    const socket = new URL(live?.debuggerUrl ?? '').searchParams.get('wss') ?? '';
    const opened = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`wss://${socket}`);
      ws.once('open', () => {
        ws.close();
        resolve(101);
      });
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('error', () => resolve(0));
    });
    expect(opened).toBe(101);

    await browser.disconnect();
    await bb.sessions.update(session.id, { status: 'REQUEST_RELEASE', projectId: aws.projectId });
    // The page is served only while the session runs (its task is gone now).
    expect(
      await fetch(live?.debuggerFullscreenUrl ?? '').then(
        (r) => r.status,
        () => 0,
      ),
    ).not.toBe(200);
  });

  it('replays an ended session in a browser, from the recording its task kept in S3', async () => {
    const session = await bb.sessions.create({ projectId: aws.projectId });
    const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
    const [page] = await browser.pages();
    await page?.goto(siteUrl);
    await page?.click('#b');
    await waitFor(async () => (await bb.sessions.recording.retrieve(session.id)).some((e) => e.type === 3));
    await browser.disconnect();
    await bb.sessions.update(session.id, { status: 'REQUEST_RELEASE', projectId: aws.projectId });

    const listing = (await (
      await fetch(`${aws.url}/v1/sessions/${session.id}/replays`, { headers: { 'x-bb-api-key': aws.apiKey } })
    ).json()) as { pageCount: number; pages: { pageId: string; url: string }[] };
    expect(listing.pageCount).toBeGreaterThan(0);
    const replay = listing.pages[0];
    // On the API's origin: the one https origin of the TLS front (CloudFront's).
    const url = new URL(replay?.url ?? '');
    expect(`${url.host}${url.pathname}`).toBe(`${new URL(aws.url).host}/replay/${session.id}`);
    url.protocol = new URL(aws.url).protocol;
    const tab = await viewer.newPage();
    await tab.goto(url.href);
    await waitFor(async () => (await tab.evaluate(() => document.body.dataset.replay)) === 'ready', {
      timeout: 20_000,
      message: 'the replay to load',
    });
    expect(await tab.$eval('#status', (e) => e.textContent)).toMatch(/\d+ events/);
    await tab.close();
  });
});
