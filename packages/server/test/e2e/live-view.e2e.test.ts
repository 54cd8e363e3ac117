import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { findChromium } from '@wallcrawler/controller';
import { tempDir, waitFor } from '@wallcrawler/test-support';
import { useTestServer } from '@wallcrawler/test-support/test-server';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

/** A red page with a big button that turns it green when clicked. */
let site: Server;
let siteUrl: string;
const t = useTestServer();
let viewer: Browser;
const viewerProfile = tempDir('wallcrawler-viewer-');

beforeAll(async () => {
  site = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end(`<!doctype html><title>Live</title>
<style>html,body{margin:0;height:100%;background:rgb(220,0,0)} button{position:absolute;left:0;top:0;width:100%;height:100%;opacity:0}</style>
<button id="b" onclick="document.body.style.background='rgb(0,200,0)';window.clicked=(window.clicked||0)+1">go</button>`);
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  viewer = await puppeteer.launch({
    executablePath: findChromium(),
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', `--user-data-dir=${viewerProfile.path}`],
  });
});
afterAll(async () => {
  await viewer.close();
  viewerProfile.remove();
  site.closeAllConnections();
  await new Promise((resolve) => site.close(resolve));
});

/** The colour at the centre of the live view's latest frame. */
function centreColour(tab: Page): Promise<[number, number, number]> {
  return tab.$eval('#screen', (canvas) => {
    const c = canvas as HTMLCanvasElement;
    const [r, g, b] = c.getContext('2d')?.getImageData(c.width / 2, c.height / 2, 1, 1).data ?? [];
    return [r ?? 0, g ?? 0, b ?? 0] as [number, number, number];
  });
}

describe('live view', () => {
  it('shows the page in a second browser, and a click in the viewer reaches the page', async () => {
    const session = await t.client.sessions.create({ keepAlive: true });
    const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
    const [page] = await browser.pages();
    if (!page) throw new Error('no page');
    await page.goto(siteUrl);

    const debug = await t.client.sessions.debug(session.id, { expiresIn: 600 });
    const live = debug.pages.find((p) => p.title === 'Live');
    expect(live?.debuggerFullscreenUrl).toContain(`/debug/${session.id}/live?ws=`);
    expect(debug.debuggerFullscreenUrl).toBe(debug.pages[0]?.debuggerFullscreenUrl);

    // Embedded, as a dashboard would: an iframe on another origin.
    const tab = await viewer.newPage();
    await tab.setViewport({ width: 1100, height: 900 });
    await tab.setContent(
      `<iframe id="f" src="${live?.debuggerFullscreenUrl}" style="width:1050px;height:850px;border:0"></iframe>`,
    );
    const frame = await waitFor(async () => {
      const f = tab.frames().find((x) => x.url().includes('/live?ws='));
      return f && (await f.$eval('body', (b) => Number(b.dataset.frames ?? 0)).catch(() => 0)) > 0 && f;
    });
    const frameTab = frame as unknown as Page;
    // The screencast shows the session's page: red.
    const [r, g] = await centreColour(frameTab);
    expect(r).toBeGreaterThan(150);
    expect(g).toBeLessThan(80);

    // A click in the viewer reaches the page: the button turns it green, in the page and in the view.
    const canvas = await frame.$('#screen');
    await canvas?.click();
    await waitFor(async () => (await page.evaluate(() => (window as unknown as { clicked?: number }).clicked)) === 1);
    await waitFor(async () => {
      const [red, green] = await centreColour(frameTab);
      return green > 150 && red < 80;
    });

    // Keys reach the page too.
    await page.evaluate(() => {
      document.body.insertAdjacentHTML('beforeend', '<input id="typed" style="position:fixed;top:0;left:0;z-index:9">');
      document.getElementById('typed')?.focus();
    });
    await canvas?.focus();
    await tab.keyboard.type('hi!');
    await waitFor(async () => (await page.$eval('#typed', (e) => (e as HTMLInputElement).value)) === 'hi!');

    await tab.close();
    await browser.disconnect();
    await t.client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
  });

  it('refuses tampered and expired live view links', async () => {
    const session = await t.client.sessions.create({ keepAlive: true });
    const { pages } = await t.client.sessions.debug(session.id, { expiresIn: 1 });
    const ws = new URL(pages[0]?.debuggerFullscreenUrl ?? '').searchParams.get('ws') ?? '';
    const handshake = (url: string) =>
      new Promise<number>((resolve) => {
        const socket = new WebSocket(`ws://${url}`);
        socket.once('open', () => {
          socket.close();
          resolve(101);
        });
        socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        socket.once('error', () => resolve(0));
      });
    expect(await handshake(`${ws.slice(0, -4)}AAAA`)).toBe(401);
    // expiresIn: 1 second; the link stops working once it has passed.
    expect(await waitFor(async () => (await handshake(ws)) === 401, { timeout: 5_000 })).toBe(true);
    // The page itself is only served while the session runs.
    await t.client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
    expect((await fetch(pages[0]?.debuggerFullscreenUrl ?? '')).status).toBe(404);
  });
});
