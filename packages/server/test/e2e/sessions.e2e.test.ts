/// <reference lib="dom" />

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { signConnectToken } from '@wallcrawler/contracts';
import { DEFAULT_MAX_RETRIES, NotFoundError, RateLimitError, Wallcrawler } from '@wallcrawler/sdk';
import { generateApiKey, newProject } from '@wallcrawler/server';
import { expectNothingLeft, processesUnder, waitFor } from '@wallcrawler/test-support';
import { usePageServer, useTestServer } from '@wallcrawler/test-support/test-server';
import { chromium } from 'playwright-core';
import puppeteer from 'puppeteer-core';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

const pages = usePageServer();
// The SDK's own retries, as a user has them.
const t = useTestServer({}, { sdk: { maxRetries: DEFAULT_MAX_RETRIES } });
afterEach(async () => {
  // Whatever a test left running is released, and then nothing may remain.
  for (const s of await t.client.sessions.list({ status: 'RUNNING' }))
    await t.client.sessions.update(s.id, { status: 'REQUEST_RELEASE' });
  await expectNothingLeft(t.dataDir);
});

/** The main Chromium process of a session: the group leader whose profile is the session's. */
function browserProcess(sessionId: string) {
  const profile = `--user-data-dir=${join(t.dataDir, 'sessions', sessionId, 'profile')}`;
  return processesUnder(t.dataDir).find(
    (p) => p.cmdline.includes(profile) && p.pid === p.pgid && p.comm.startsWith('chrom'),
  );
}

/** Waits until the session has left RUNNING, and returns it. */
function ended(sessionId: string) {
  return waitFor(
    async () => {
      const s = await t.client.sessions.retrieve(sessionId);
      return s.status !== 'RUNNING' && s;
    },
    { message: `session ${sessionId} to end` },
  );
}

/** The outcome of a raw WebSocket handshake: 101, or the HTTP status and error body. */
function handshake(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => {
      ws.close();
      resolve({ status: 101, body: {} });
    });
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    ws.once('error', reject);
  });
}

describe('a session through the SDK and a CDP client', () => {
  it('creates, drives with puppeteer-core, releases, and leaves nothing behind', async () => {
    const session = await t.client.sessions.create({ userMetadata: { suite: 'e2e' } });
    expect(session.status).toBe('RUNNING');
    expect(session.connectUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/\?signingKey=/);
    expect(browserProcess(session.id)).toBeDefined();

    const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
    const [page] = await browser.pages();
    await page?.goto(`${pages.url}/title/Quickstart`);
    expect(await page?.evaluate(() => document.querySelector('#greeting')?.textContent)).toBe('Hello from Quickstart');

    const released = await t.client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
    expect(released.status).toBe('COMPLETED');
    expect(released.endedAt).toBeDefined();
    // Release answers once the ending is recorded; the whole process tree and the directories go just after.
    await expectNothingLeft(t.dataDir, { timeout: 5_000 });
    await waitFor(() => !browser.connected, { message: 'puppeteer to see the disconnect' });
    expect((await t.client.sessions.retrieve(session.id)).status).toBe('COMPLETED');
    // Releasing again is a no-op that returns the same ended session.
    expect(await t.client.sessions.update(session.id, { status: 'REQUEST_RELEASE' })).toMatchObject({
      status: 'COMPLETED',
      endedAt: released.endedAt,
    });
  });

  it('serves playwright-core and puppeteer-core on one session at once', async () => {
    const session = await t.client.sessions.create({ keepAlive: true });
    const pw = await chromium.connectOverCDP(session.connectUrl);
    const pp = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
    const context = pw.contexts()[0];
    const pwPage = context?.pages()[0] ?? (await context?.newPage());
    await pwPage?.goto(`${pages.url}/title/Both`);
    await waitFor(
      async () => {
        const titles = await Promise.all((await pp.pages()).map((p) => p.title()));
        return titles.includes('Both');
      },
      { message: 'puppeteer to see the page playwright loaded' },
    );
    const ppPage = await pp.newPage();
    await ppPage.goto(`${pages.url}/title/Second`);
    await waitFor(
      () =>
        pw
          .contexts()[0]
          ?.pages()
          .some((p) => p.url().endsWith('/title/Second')),
      { message: 'playwright to see the page puppeteer opened' },
    );
    await pw.close();
    await pp.disconnect();
    await t.client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
  });

  it('accepts unknown and legacy Browserbase fields, and names the ones it ignores', async () => {
    const response = await fetch(`${t.url}/v1/sessions`, {
      method: 'POST',
      headers: { 'x-bb-api-key': t.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({
        projectId: t.projectId,
        region: 'eu-central-1',
        proxies: [{ type: 'none', domainPattern: '.*' }],
        proxySettings: { caCertificates: [] },
        fingerprint: { browsers: ['chrome'] },
        aFieldFromTheFuture: { nested: true },
        browserSettings: {
          advancedStealth: false,
          blockAds: true,
          solveCaptchas: false,
          recordSession: false,
          logSession: false,
          fingerprint: { devices: ['desktop'], locales: ['en-US'], screen: { maxWidth: 1920 } },
          viewport: { width: 800, height: 600 },
        },
      }),
    });
    expect(response.status).toBe(201);
    const session = (await response.json()) as { id: string; region: string; status: string };
    expect(session).toMatchObject({ region: 'eu-central-1', status: 'RUNNING' });
    expect(Object.keys(session)).not.toContain('aFieldFromTheFuture');
    expect(response.headers.get('x-wallcrawler-ignored-fields')).toBe(
      'proxySettings, browserSettings.blockAds, browserSettings.fingerprint, fingerprint, aFieldFromTheFuture',
    );
    await t.client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
  });

  it('applies browserSettings.viewport to every page', async () => {
    const session = await t.client.sessions.create({ browserSettings: { viewport: { width: 1288, height: 711 } } });
    const browser = await chromium.connectOverCDP(session.connectUrl);
    const first = browser.contexts()[0]?.pages()[0];
    expect(await first?.evaluate(() => [window.innerWidth, window.innerHeight])).toEqual([1288, 711]);
    const second = await browser.contexts()[0]?.newPage();
    expect(await second?.evaluate(() => [window.innerWidth, window.innerHeight])).toEqual([1288, 711]);
    await browser.close();
  });

  it('reports the real pages in debug, with DevTools URLs that open', async () => {
    const session = await t.client.sessions.create();
    const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
    const [page] = await browser.pages();
    await page?.goto(`${pages.url}/title/Debugged`);
    const debug = await t.client.sessions.debug(session.id);
    expect(debug.wsUrl).toMatch(/^ws:\/\//);
    const debugged = debug.pages.find((p) => p.title === 'Debugged');
    expect(debugged).toMatchObject({ url: `${pages.url}/title/Debugged` });
    expect(debug.debuggerUrl).toBe(debug.pages[0]?.debuggerUrl);
    // The DevTools frontend loads, and the WebSocket it is pointed at accepts its token.
    const frontend = await fetch(debugged?.debuggerUrl as string);
    expect(frontend.status).toBe(200);
    expect(await frontend.text()).toContain('<title>DevTools</title>');
    const ws = new URL(debugged?.debuggerUrl as string).searchParams.get('ws');
    expect((await handshake(`ws://${ws}`)).status).toBe(101);
    await browser.disconnect();
  });
});

describe('ending paths', () => {
  it('ends COMPLETED after the last client disconnects (no keepAlive)', async () => {
    const session = await t.client.sessions.create();
    const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl });
    await browser.disconnect();
    const ending = await ended(session.id);
    expect(ending.status).toBe('COMPLETED');
    expect(ending.connectUrl).toBeUndefined();
    await expectNothingLeft(t.dataDir);
  });

  it('keeps a keepAlive session through disconnects, and the client can reconnect', async () => {
    const session = await t.client.sessions.create({ keepAlive: true });
    const first = await puppeteer.connect({ browserWSEndpoint: session.connectUrl });
    const page = await first.newPage();
    await page.goto(`${pages.url}/title/Kept`);
    await first.disconnect();
    // Well past the disconnect grace (300 ms in tests).
    await new Promise((r) => setTimeout(r, 1_000));
    const again = await t.client.sessions.retrieve(session.id);
    expect(again.status).toBe('RUNNING');
    const second = await puppeteer.connect({ browserWSEndpoint: again.connectUrl as string });
    const titles = await Promise.all((await second.pages()).map((p) => p.title()));
    expect(titles).toContain('Kept');
    await second.disconnect();
    await t.client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
    await expectNothingLeft(t.dataDir);
  });

  it('ends ERROR when Chromium is killed with SIGKILL, and cleans up', async () => {
    const session = await t.client.sessions.create({ keepAlive: true });
    const ws = new WebSocket(session.connectUrl);
    await new Promise((r) => ws.once('open', r));
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    const main = browserProcess(session.id);
    expect(main).toBeDefined();
    process.kill(main?.pid as number, 'SIGKILL');
    const ending = await ended(session.id);
    expect(ending.status).toBe('ERROR');
    expect([1011, 1006]).toContain(await closed);
    await expectNothingLeft(t.dataDir);
  });

  it('ends COMPLETED when a client closes the browser (puppeteer browser.close())', async () => {
    const session = await t.client.sessions.create({ keepAlive: true });
    const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl });
    await browser.close();
    const ending = await ended(session.id);
    expect(ending.status).toBe('COMPLETED');
    await expectNothingLeft(t.dataDir);
  });
});

describe('connect authentication', () => {
  it('rejects tampered, expired, wrong-key and foreign tokens at the upgrade, and accepts the legacy apiKey form', async () => {
    const a = await t.client.sessions.create({ keepAlive: true });
    const b = await t.client.sessions.create({ keepAlive: true });
    const base = a.connectUrl.slice(0, a.connectUrl.indexOf('?'));
    const token = a.signingKey;
    const secret = Buffer.from(readFileSync(join(t.dataDir, 'connect-secret'), 'utf8').trim(), 'base64url');
    const expired = await signConnectToken(secret, {
      sessionId: a.id,
      projectId: t.projectId,
      expiresAt: new Date(Date.now() - 5_000),
    });
    const otherKey = await signConnectToken(new Uint8Array(32).fill(7), {
      sessionId: a.id,
      projectId: t.projectId,
      expiresAt: new Date(a.expiresAt),
    });
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: b.id })).toString('base64url')}.${signature}`;

    const cases: Array<[string, string, number, string]> = [
      ['no credential', base, 401, 'missing_token'],
      ['tampered signature', `${base}?signingKey=${token.slice(0, -3)}abc`, 401, 'invalid_token'],
      ['claims rewritten to another session', `${base}?signingKey=${forged}`, 401, 'invalid_token'],
      ['signed with another secret', `${base}?signingKey=${otherKey}`, 401, 'invalid_token'],
      ['expired', `${base}?signingKey=${expired}`, 401, 'token_expired'],
      ["A's token naming session B", `${base}?signingKey=${token}&sessionId=${b.id}`, 403, 'token_session_mismatch'],
      ['legacy form with a wrong key', `${base}?apiKey=nope&sessionId=${a.id}`, 401, 'invalid_api_key'],
      ['legacy form without a session', `${base}?apiKey=${t.apiKey}`, 400, 'missing_session_id'],
    ];
    for (const [name, url, status, code] of cases) {
      const result = await handshake(url);
      expect({ name, status: result.status, code: result.body.code }).toEqual({ name, status, code });
      expect(result.body).toMatchObject({
        statusCode: status,
        message: expect.any(String),
        requestId: expect.any(String),
      });
    }
    expect((await handshake(a.connectUrl)).status).toBe(101);
    expect((await handshake(`${base}?apiKey=${t.apiKey}&sessionId=${a.id}`)).status).toBe(101);

    // A token stays bound to its session: once the session has ended, it opens nothing.
    await t.client.sessions.update(b.id, { status: 'REQUEST_RELEASE' });
    const ended = await handshake(b.connectUrl);
    expect({ status: ended.status, code: ended.body.code }).toEqual({ status: 410, code: 'session_ended' });
  });

  it("gives another project's key 404s for this project's sessions", async () => {
    const other = newProject('other');
    await t.store.createProject(other);
    const { key, record } = generateApiKey('other', [other.id]);
    await t.store.createApiKey(record);
    const outsider = new Wallcrawler({ apiKey: key, baseURL: t.url, maxRetries: 0 });

    const session = await t.client.sessions.create();
    await expect(outsider.sessions.retrieve(session.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(outsider.sessions.update(session.id, { status: 'REQUEST_RELEASE' })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(outsider.sessions.debug(session.id)).rejects.toBeInstanceOf(NotFoundError);
    expect(await outsider.sessions.list()).toEqual([]);
    await expect(outsider.projects.retrieve(t.projectId)).rejects.toBeInstanceOf(NotFoundError);
    const legacy = await handshake(
      `${session.connectUrl.slice(0, session.connectUrl.indexOf('?'))}?apiKey=${key}&sessionId=${session.id}`,
    );
    expect(legacy.status).toBe(404);
    // The session is untouched.
    expect((await t.client.sessions.retrieve(session.id)).status).toBe('RUNNING');
  });
});

describe('admission', () => {
  it("answers 429 with Retry-After over the project's concurrency, and admits again after a release", async () => {
    const small = newProject('small', { concurrency: 1 });
    await t.store.createProject(small);
    const { key, record } = generateApiKey('small', [small.id]);
    await t.store.createApiKey(record);
    const sdk = new Wallcrawler({ apiKey: key, baseURL: t.url, maxRetries: 0 });
    const first = await sdk.sessions.create({ keepAlive: true });
    const error = await sdk.sessions.create().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).headers?.get('retry-after')).toMatch(/^\d+$/);
    expect((error as RateLimitError).error).toMatchObject({ code: 'concurrency_limit_exceeded', statusCode: 429 });
    expect((await sdk.sessions.list()).length).toBe(1);
    await sdk.sessions.update(first.id, { status: 'REQUEST_RELEASE' });
    const second = await sdk.sessions.create();
    await sdk.sessions.update(second.id, { status: 'REQUEST_RELEASE' });
  });
});
