import { findChromium } from '@wallcrawler/controller';
import { NotFoundError } from '@wallcrawler/sdk';
import { expectNothingLeft, tempDir, waitFor } from '@wallcrawler/test-support';
import { usePageServer, useTestServer } from '@wallcrawler/test-support/test-server';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const pages = usePageServer();
const t = useTestServer();
/** A second, plain headless Chromium: the person who opens the replay page. */
let viewer: Browser;
const viewerProfile = tempDir('wallcrawler-viewer-');

beforeAll(async () => {
  viewer = await puppeteer.launch({
    executablePath: findChromium(),
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', `--user-data-dir=${viewerProfile.path}`],
  });
});
afterAll(async () => {
  await viewer.close();
  viewerProfile.remove();
});

describe('recording', () => {
  it('records every page with rrweb, lists replays, and the replay page plays it in a browser', async () => {
    const session = await t.client.sessions.create();
    const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
    const [first] = await browser.pages();
    await first?.goto(`${pages.url}/title/First%20page`);
    const second = await browser.newPage();
    await second.goto(`${pages.url}/title/Second%20page`);
    await second.evaluate(() => {
      document.body.insertAdjacentHTML('beforeend', '<input id="secret" type="password" value="hunter2-recorded">');
    });

    // Live: both pages have a full snapshot (type 2) and a meta event (type 4).
    const live = await waitFor(async () => {
      const events = await t.client.sessions.recording.retrieve(session.id);
      const full = (page: string) => events.some((e) => e.pageId === page && e.type === 2);
      return full('0') && full('1') && events;
    });
    expect(live[0]).toMatchObject({ sessionId: session.id, timestamp: expect.any(Number), type: expect.any(Number) });
    expect(JSON.stringify(live)).toContain('Hello from First page');
    expect(JSON.stringify(live)).not.toContain('hunter2-recorded');
    // The recorder is invisible to the page.
    expect(await second.evaluate(() => typeof (window as unknown as { rrweb?: unknown }).rrweb)).toBe('undefined');

    await browser.disconnect();
    await t.client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
    const kept = await t.client.sessions.recording.retrieve(session.id);
    expect(kept.length).toBeGreaterThanOrEqual(live.length);

    const replays = await t.client.sessions.replays.retrieve(session.id);
    expect(replays.pageCount).toBe(2);
    expect(replays.pages.map((p) => p.pageId)).toEqual(['0', '1']);
    const [page0] = replays.pages;
    expect(page0?.endTimeMs).toBeGreaterThanOrEqual(page0?.startTimeMs ?? Number.POSITIVE_INFINITY);

    // A person opens the replay URL: the player rebuilds the recorded page.
    const tab = await viewer.newPage();
    const problems: string[] = [];
    tab.on('console', (m) => problems.push(`console ${m.type()}: ${m.text()}`));
    tab.on('pageerror', (e) => problems.push(`pageerror: ${(e as Error).message}`));
    await tab.goto(page0?.url ?? '');
    await tab.waitForSelector('body[data-replay]', { timeout: 15_000 });
    expect({
      state: await tab.$eval('body', (b) => b.dataset.replay),
      status: await tab.$eval('#status', (e) => e.textContent),
      problems,
    }).toMatchObject({ state: 'ready', problems: [] });
    await tab.waitForSelector('body[data-replay="ready"]', { timeout: 15_000 });
    const replayed = await waitFor(async () => {
      for (const frame of tab.frames()) {
        const text = await frame.evaluate(() => document.body?.innerText ?? '').catch(() => '');
        if (text.includes('Hello from First page')) return text;
      }
      return undefined;
    });
    expect(replayed).toContain('Hello from First page');
    await tab.close();

    // Browserbase's video downloads: honestly not produced.
    const downloads = await t.client.sessions.recording.downloads.create(session.id);
    expect(downloads.downloads).toEqual([
      { pageId: '0', status: 'FAILED' },
      { pageId: '1', status: 'FAILED' },
    ]);
    expect(await t.client.sessions.recording.downloads.list(session.id)).toEqual(downloads);
    await expectNothingLeft(t.dataDir);
  });

  it("records a page without adding anything to the page's DOM", async () => {
    const session = await t.client.sessions.create();
    const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
    const [page] = await browser.pages();
    // The page's own view of its DOM, from its first moment: every element added to it.
    await page?.evaluateOnNewDocument(() => {
      const added: string[] = [];
      (window as unknown as { __added: string[] }).__added = added;
      new MutationObserver((records) => {
        for (const r of records) {
          for (let i = 0; i < r.addedNodes.length; i++) {
            const n = r.addedNodes[i];
            if (n instanceof Element) added.push(n.tagName);
          }
        }
      }).observe(document, { childList: true, subtree: true });
    });
    await page?.goto(`${pages.url}/title/Untouched`);
    await waitFor(async () =>
      (await t.client.sessions.recording.retrieve(session.id)).some((e) => e.type === 2 && e.pageId === '0'),
    );
    // The parser's elements only: the recorder added no element of its own (rrweb used to add a hidden iframe).
    const added = (await page?.evaluate(() => (window as unknown as { __added: string[] }).__added)) ?? [];
    expect(added).not.toContain('IFRAME');
    expect(added.filter((tag) => !['HTML', 'HEAD', 'TITLE', 'BODY', 'H1', 'UL', 'LI', 'META'].includes(tag))).toEqual(
      [],
    );
    await browser.disconnect();
    await t.client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
  });

  it('records a page without throwing in it', async () => {
    const session = await t.client.sessions.create();
    const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
    const [page] = await browser.pages();
    if (!page) throw new Error('no page');
    // A debugger that stops at every exception, caught ones too, and notes where it was thrown. rrweb used to throw
    // and catch one TypeError per element (it asked the isolated world's missing custom element registry).
    const cdp = await page.createCDPSession();
    const thrown: string[] = [];
    cdp.on('Debugger.paused', (event) => {
      if (event.reason === 'exception') thrown.push(String((event.data as { description?: string })?.description));
      void cdp.send('Debugger.resume').catch(() => {});
    });
    await cdp.send('Debugger.enable');
    await cdp.send('Debugger.setPauseOnExceptions', { state: 'all' });
    await page.goto(`${pages.url}/title/Quiet`);
    await waitFor(async () =>
      (await t.client.sessions.recording.retrieve(session.id)).some((e) => e.type === 2 && e.pageId === '0'),
    );
    expect(thrown).toEqual([]);
    await cdp.send('Debugger.disable');
    await browser.disconnect();
    await t.client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
  });

  it('refuses replay links that are tampered with, expired, for another session, or CDP tokens', async () => {
    const session = await t.client.sessions.create();
    const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
    await (await browser.pages())[0]?.goto(pages.url);
    await browser.disconnect();
    await t.client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
    const other = await t.client.sessions.create();
    await t.client.sessions.update(other.id, { status: 'REQUEST_RELEASE' });

    const replays = await waitFor(async () => {
      const r = await t.client.sessions.replays.retrieve(session.id);
      return r.pageCount > 0 && r;
    });
    const url = new URL(replays.pages[0]?.url ?? '');
    const token = url.searchParams.get('token') ?? '';
    const attempt = async (path: string, query: string) => {
      const response = await fetch(`${t.url}${path}?${query}`);
      return { status: response.status, body: (await response.json()) as { code: string; message: string } };
    };
    expect((await fetch(url)).status).toBe(200);
    expect(await attempt(`/replay/${session.id}`, `token=${token.slice(0, -4)}AAAA`)).toMatchObject({
      status: 401,
      body: { code: 'invalid_token' },
    });
    expect(await attempt(`/replay/${session.id}`, '')).toMatchObject({ status: 401, body: { code: 'missing_token' } });
    expect(await attempt(`/replay/${other.id}/events`, `token=${token}`)).toMatchObject({
      status: 403,
      body: { code: 'token_session_mismatch' },
    });
    // A session's connect token (it drives the browser) is not a view token, and the reverse.
    expect(await attempt(`/replay/${session.id}`, `token=${session.signingKey}`)).toMatchObject({ status: 401 });
    // expiresIn is at least 60 s, so an expired link is made by the signer itself, one second in the past.
    const { FileTokenSigner } = await import('../../src/adapters/local/file-token-signer.js');
    const signer = FileTokenSigner.load(`${t.dataDir}/connect-secret`);
    const expired = await signer.sign(
      { sessionId: session.id, projectId: t.projectId, expiresAt: new Date(Date.now() - 1000) },
      new Date(Date.now() - 60_000),
      'view',
    );
    expect(await attempt(`/replay/${session.id}`, `token=${expired}`)).toMatchObject({
      status: 401,
      body: { code: 'token_expired', message: expect.stringMatching(/expired/) },
    });
  });

  it('records nothing with recordSession: false; HLS pages are a clear 501; another project gets 404', async () => {
    const session = await t.client.sessions.create({ browserSettings: { recordSession: false } });
    const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
    await (await browser.pages())[0]?.goto(pages.url);
    expect(await t.client.sessions.recording.retrieve(session.id)).toEqual([]);
    await browser.disconnect();
    await t.client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
    expect(await t.client.sessions.replays.retrieve(session.id)).toEqual({ pageCount: 0, pages: [] });
    const hls = await fetch(`${t.url}/v1/sessions/${session.id}/replays/0`, { headers: { 'x-wc-api-key': t.apiKey } });
    expect(hls.status).toBe(501);
    expect(await hls.json()).toMatchObject({ code: 'not_supported', message: expect.stringMatching(/replays/) });
    await expect(t.client.sessions.replays.retrievePage(session.id, '0')).rejects.toMatchObject({ status: 501 });
    await expect(t.client.sessions.recording.retrieve('no-such-session')).rejects.toBeInstanceOf(NotFoundError);
  });
});
