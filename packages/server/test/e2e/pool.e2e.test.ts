import { chmodSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listSessionDirs } from '@wallcrawler/controller';
import { expectNothingLeft, liveBrowsers, processesUnder, tempDir, waitFor } from '@wallcrawler/test-support';
import { type LogLine, memoryLogger, usePageServer, useTestServer } from '@wallcrawler/test-support/test-server';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onlyThePoolLeft, poolFigures, poolFilled } from '../support/pool.js';

/**
 * The warm pool on a real server: browsers started ahead of sessions, one session each, refilled in the
 * background, and out of the way when it cannot start browsers. Its storm within the host's limit is
 * pool-limit.e2e.test.ts, which runs alone.
 */

/** The browser behind a client's session, as Chromium itself reports its pid: its process, and its directory's name. */
async function servingBrowser(browser: Browser, dataDir: string) {
  const cdp = await browser.target().createCDPSession();
  const { processInfo } = (await cdp.send('SystemInfo.getProcessInfo')) as {
    processInfo: { type: string; id: number }[];
  };
  await cdp.detach();
  const pid = processInfo.find((p) => p.type === 'browser')?.id as number;
  const cmdline = processesUnder(dataDir).find((p) => p.pid === pid)?.cmdline ?? '';
  return { pid, dir: /\/sessions\/([^/\s]+)\//.exec(cmdline)?.[1] };
}

const pages = usePageServer();

describe('a server with a warm pool', () => {
  // Closing it ends the pool too: the fixture's close checks that nothing of it is left.
  const t = useTestServer({ WALLCRAWLER_POOL_SIZE: '2', WALLCRAWLER_MAX_SESSIONS: '4' });

  beforeAll(async () => {
    await poolFilled(t, 2);
  });

  it('serves a session from a pooled browser, which serves no other session, and refills', async () => {
    const before = listSessionDirs(t.dataDir).map((d) => d.sessionId);
    const first = await t.client.sessions.create();
    expect(first.status).toBe('RUNNING');
    // The session runs in one of the pool's browsers: no directory of its own was made.
    expect(existsSync(join(t.dataDir, 'sessions', first.id))).toBe(false);
    expect((await poolFigures(t)).hit).toBe(1);

    const browser = await puppeteer.connect({ browserWSEndpoint: first.connectUrl, defaultViewport: null });
    const [page] = await browser.pages();
    await page?.goto(`${pages.url}/title/Pooled`);
    expect(await page?.title()).toBe('Pooled');
    // What the page leaves behind would reach the next user of the browser, if there were one.
    await page?.evaluate(() => {
      localStorage.setItem('left', 'by the first session');
      document.cookie = 'left=first; max-age=3600';
    });
    // The pool's other browser still runs too: the one serving is the one Chromium names.
    const served = (await servingBrowser(browser, t.dataDir)).dir;
    expect(served).toMatch(/^pool-/);
    expect(before).toContain(served);

    await browser.disconnect();
    const released = await t.client.sessions.update(first.id, { status: 'REQUEST_RELEASE' });
    expect(released.status).toBe('COMPLETED');
    // The browser it used is killed and its directory deleted; it went back to no one.
    await waitFor(() => !liveBrowsers(t.dataDir).has(served as string), { message: 'the used browser to go' });
    await waitFor(() => !listSessionDirs(t.dataDir).some((d) => d.sessionId === served), {
      message: 'its directories to go',
    });
    // What a session keeps is read once its browser is gone, complete.
    expect((await t.client.sessions.logs.list(first.id)).length).toBeGreaterThan(0);
    const recording = await t.client.sessions.recording.retrieve(first.id);
    expect(JSON.stringify(recording)).toContain('Hello from Pooled');

    // The pool refilled in the background, with browsers that never served anyone.
    await poolFilled(t, 2);
    const second = await t.client.sessions.create();
    const next = await puppeteer.connect({ browserWSEndpoint: second.connectUrl, defaultViewport: null });
    const [fresh] = await next.pages();
    await fresh?.goto(`${pages.url}/title/Next`);
    expect(await fresh?.evaluate(() => [localStorage.getItem('left'), document.cookie])).toEqual([null, '']);
    await next.disconnect();
    await t.client.sessions.update(second.id, { status: 'REQUEST_RELEASE' });
    expect((await poolFigures(t)).hit).toBe(2);
    await poolFilled(t, 2);
    await onlyThePoolLeft(t.dataDir, 2);
  });

  it('starts a browser of its own for a viewport the pool does not hold, then keeps one of that viewport', async () => {
    const viewport = { width: 800, height: 600 };
    const sizes = async (connectUrl: string) => {
      const browser = await puppeteer.connect({ browserWSEndpoint: connectUrl, defaultViewport: null });
      const [page] = await browser.pages();
      const seen = await page?.evaluate(() => [window.innerWidth, window.innerHeight, screen.width, screen.height]);
      await browser.disconnect();
      return seen;
    };
    const session = await t.client.sessions.create({ browserSettings: { viewport } });
    expect(existsSync(join(t.dataDir, 'sessions', session.id))).toBe(true);
    expect(await poolFigures(t)).toMatchObject({ unfit: 0, viewport: 1 });
    expect(await sizes(session.connectUrl)).toEqual([800, 600, 800, 600]);
    await t.client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });

    // One idle browser made way for one of this viewport: the next session that wants it is served from the pool,
    // with the viewport and the screen it asked for.
    await poolFilled(t, 2);
    const again = await t.client.sessions.create({ browserSettings: { viewport } });
    expect(existsSync(join(t.dataDir, 'sessions', again.id))).toBe(false);
    expect(await poolFigures(t)).toMatchObject({ hit: 3, viewport: 1 });
    expect(await sizes(again.connectUrl)).toEqual([800, 600, 800, 600]);
    // The default viewport is still served too.
    const plain = await t.client.sessions.create();
    expect(existsSync(join(t.dataDir, 'sessions', plain.id))).toBe(false);
    expect(await poolFigures(t)).toMatchObject({ hit: 4, empty: 0 });
    expect(await sizes(plain.connectUrl)).toEqual([1024, 768, 1024, 768]);
    for (const s of [again, plain]) await t.client.sessions.update(s.id, { status: 'REQUEST_RELEASE' });
    await poolFilled(t, 2);
    await onlyThePoolLeft(t.dataDir, 2);
  });

  it('ends a pooled session whose browser is killed, like any other, and the pool carries on', async () => {
    const session = await t.client.sessions.create();
    const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
    const { pid, dir } = await servingBrowser(browser, t.dataDir);
    expect(dir).toMatch(/^pool-/);
    process.kill(pid, 'SIGKILL');
    await waitFor(async () => (await t.client.sessions.retrieve(session.id)).status === 'ERROR', {
      message: 'the session to end ERROR',
    });
    await browser.disconnect().catch(() => {});
    await poolFilled(t, 2);
    await onlyThePoolLeft(t.dataDir, 2);
  });
});

describe('a pool that cannot start browsers', () => {
  const lines: LogLine[] = [];
  const bin = tempDir('wallcrawler-pool-bin-');
  const wrapper = join(bin.path, 'chromium');
  const allow = join(bin.path, 'allow');

  beforeAll(async () => {
    // A Chromium that fails until `allow` exists: the pool's starts fail, later sessions' starts work.
    writeFileSync(
      wrapper,
      `#!/bin/sh\n[ -f '${allow}' ] || { echo 'this chromium is broken' >&2; exit 1; }\nexec /usr/lib/chromium/chromium "$@"\n`,
    );
    chmodSync(wrapper, 0o755);
  });
  afterAll(() => rmSync(bin.path, { recursive: true, force: true }));
  // After the hooks above: it starts once the wrapper is there, and closes before the wrapper goes.
  const t = useTestServer(
    { WALLCRAWLER_POOL_SIZE: '2', WALLCRAWLER_CHROME_PATH: wrapper },
    { logger: memoryLogger(lines) },
  );

  it('turns itself off with one clear log line, and sessions start their own browsers', async () => {
    const off = await waitFor(
      () => lines.find((l) => l.level === 'error' && /warm pool is off/.test(l.message ?? '')),
      {
        timeout: 30_000,
        message: 'the pool to turn itself off',
      },
    );
    expect(off.message).toMatch(/3 browser starts failed in a row/);
    expect(off.message).toMatch(/sessions start their own browsers/);
    expect(lines.filter((l) => /warm pool is off/.test(l.message ?? ''))).toHaveLength(1);
    expect(await poolFigures(t)).toMatchObject({ idle: 0, target: 0 });
    expect(listSessionDirs(t.dataDir)).toEqual([]);

    writeFileSync(allow, '');
    const session = await t.client.sessions.create();
    expect(session.status).toBe('RUNNING');
    expect(existsSync(join(t.dataDir, 'sessions', session.id))).toBe(true);
    await t.client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
    await expectNothingLeft(t.dataDir);
  });
});

describe('a Chromium that dies while starting', () => {
  const lines: LogLine[] = [];
  const bin = tempDir('wallcrawler-flaky-bin-');
  const wrapper = join(bin.path, 'chromium');
  const crashed = join(bin.path, 'crashed-once');
  const broken = join(bin.path, 'broken');

  beforeAll(async () => {
    // Dies at its first start (and at every start while `broken` exists), as a crash at start would.
    writeFileSync(
      wrapper,
      `#!/bin/sh\nif [ -f '${broken}' ] || [ ! -f '${crashed}' ]; then touch '${crashed}'; echo 'crashed at start' >&2; exit 1; fi\nexec /usr/lib/chromium/chromium "$@"\n`,
    );
    chmodSync(wrapper, 0o755);
  });
  afterAll(() => rmSync(bin.path, { recursive: true, force: true }));
  const t = useTestServer({ WALLCRAWLER_CHROME_PATH: wrapper }, { logger: memoryLogger(lines) });

  it('is started once more, and the create succeeds', async () => {
    const session = await t.client.sessions.create();
    expect(session.status).toBe('RUNNING');
    const retried = lines.filter((l) => /Chromium exited while starting; starting it once more/.test(l.message ?? ''));
    expect(retried).toHaveLength(1);
    expect(retried[0]?.level).toBe('warn');
    await t.client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
    await expectNothingLeft(t.dataDir);
  });

  it('fails the create with a clear 500 when it dies at the second start too, and leaves nothing', async () => {
    writeFileSync(broken, '');
    const response = await fetch(`${t.url}/v1/sessions`, {
      method: 'POST',
      headers: { 'x-bb-api-key': t.apiKey, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).toBe(500);
    const body = (await response.json()) as { code: string; message: string };
    expect(body.code).toBe('browser_launch_failed');
    expect(body.message).toMatch(/Chromium exited before it was ready \(code 1\)/);
    expect(body.message).toMatch(/crashed at start/);
    expect(await t.store.listActiveSessions()).toEqual([]);
    await expectNothingLeft(t.dataDir);
  });
});

describe('a Chromium too slow to start (a starved host)', () => {
  const lines: LogLine[] = [];
  const bin = tempDir('wallcrawler-slow-bin-');
  const wrapper = join(bin.path, 'chromium');
  const slowOnce = join(bin.path, 'slow-once');
  const slowAlways = join(bin.path, 'slow-always');
  const retried = () =>
    lines.filter((l) => /Chromium did not start in time; starting it once more/.test(l.message ?? ''));

  beforeAll(async () => {
    // Never opens its DevTools port while `slow-always` exists, nor once after `slow-once` was made (it removes
    // it): it hangs with Chromium's arguments on its command line, so the leak check sees it. Else it is Chromium.
    writeFileSync(
      wrapper,
      `#!/bin/sh\nif [ -f '${slowAlways}' ] || rm '${slowOnce}' 2>/dev/null; then exec perl -e 'sleep 600' -- "$@"; fi\nexec /usr/lib/chromium/chromium "$@"\n`,
    );
    chmodSync(wrapper, 0o755);
  });
  afterAll(() => rmSync(bin.path, { recursive: true, force: true }));

  describe('on a host that starts it on the second try', () => {
    // The second start is a real Chromium's: the timeout leaves a starved host the time for it.
    const t = useTestServer(
      { WALLCRAWLER_CHROME_PATH: wrapper, WALLCRAWLER_LAUNCH_TIMEOUT_MS: '6000' },
      { logger: memoryLogger(lines) },
    );

    it('is started once more when its first start timed out, and the create succeeds', async () => {
      writeFileSync(slowOnce, '');
      const session = await t.client.sessions.create();
      expect(session.status).toBe('RUNNING');
      expect(existsSync(slowOnce)).toBe(false);
      expect(retried()).toHaveLength(1);
      expect(retried()[0]?.level).toBe('warn');
      const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
      const [page] = await browser.pages();
      await page?.goto(`${pages.url}/title/Retried`);
      expect(await page?.title()).toBe('Retried');
      await browser.disconnect();
      await t.client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
      await expectNothingLeft(t.dataDir);
    });
  });

  describe('on a host that never starts it', () => {
    // Neither start is a real Chromium's: a short timeout proves the same as a long one.
    const t = useTestServer(
      { WALLCRAWLER_CHROME_PATH: wrapper, WALLCRAWLER_LAUNCH_TIMEOUT_MS: '2000' },
      { logger: memoryLogger(lines) },
    );

    it('answers 503 browser_not_ready with Retry-After when the second start times out too, and leaves nothing', async () => {
      writeFileSync(slowAlways, '');
      const before = retried().length;
      const response = await fetch(`${t.url}/v1/sessions`, {
        method: 'POST',
        headers: { 'x-bb-api-key': t.apiKey, 'content-type': 'application/json' },
        body: JSON.stringify({ userMetadata: { starved: 'yes' } }),
      });
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('5');
      const body = (await response.json()) as Record<string, unknown>;
      expect(body).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        code: 'browser_not_ready',
        message: expect.stringMatching(
          /could not start a browser in time .*within \d+ ms.*overloaded\. Retry after 5 s\./,
        ),
        requestId: expect.any(String),
      });
      expect(retried()).toHaveLength(before + 1);
      // The session that was stored for the create ended as ERROR, with the same reason; its host slot is free.
      const [stored] = await t.store.listSessions(t.projectId, { metadata: [{ path: ['starved'], value: 'yes' }] });
      expect(stored).toMatchObject({ status: 'ERROR', endReason: body.message });
      expect(await t.store.listActiveSessions()).toEqual([]);
      expect(t.server.census()).toMatchObject({ hostSlots: 0, hostBrowsers: 0, startingBrowsers: 0 });
      await expectNothingLeft(t.dataDir);
    });
  });
});
