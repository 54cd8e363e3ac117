import type { AddressInfo } from 'node:net';
import { listSessionDirs } from '@wallcrawler/controller';
import { type PageServer, startPageServer, waitFor } from '@wallcrawler/test-support';
import { startUpstreamProxy, type UpstreamProxy } from '@wallcrawler/test-support/http-proxy';
import { useTestServer } from '@wallcrawler/test-support/test-server';
import puppeteer from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';

/**
 * Sessions with proxies of the user's (`proxies: [{type: "external", ...}]`), against a real HTTP proxy on
 * loopback that alone knows where `*.wallcrawler.test` is: a page there loads only through it.
 */

let site: PageServer;
let proxy: UpstreamProxy;
let echo: WebSocketServer;
const USER = 'alice';
const PASSWORD = 's3cret-proxy-password';

beforeAll(async () => {
  site = await startPageServer();
  echo = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  echo.on('connection', (ws) => ws.on('message', (data) => ws.send(`echo: ${data}`)));
  await new Promise((r) => echo.once('listening', r));
  proxy = await startUpstreamProxy({
    username: USER,
    password: PASSWORD,
    hosts: {
      'site.wallcrawler.test': new URL(site.url).host,
      'echo.wallcrawler.test': `127.0.0.1:${(echo.address() as AddressInfo).port}`,
    },
  });
});
afterAll(async () => {
  await proxy?.close();
  await new Promise((r) => echo?.close(r));
  await site?.close();
});
// With a warm pool: a proxied session must not take one of its browsers (the proxy is a launch flag). Registered
// after the hooks above, it starts after the proxy and closes before it.
const t = useTestServer({ WALLCRAWLER_POOL_SIZE: '1' });

const proxied = (password = PASSWORD, extra: Record<string, unknown> = {}) => ({
  proxies: [{ type: 'external' as const, server: proxy.url, username: USER, password, ...extra }],
});

const createRaw = (body: unknown) =>
  fetch(`${t.url}/v1/sessions`, {
    method: 'POST',
    headers: { 'x-bb-api-key': t.apiKey, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

/** The session directories that are not the pool's idle browsers'. */
const sessionDirsOutsidePool = () =>
  listSessionDirs(t.dataDir).filter((d) => d.path.includes('/sessions/') && !d.sessionId.startsWith('pool-'));

describe('a session with a proxy of its own', () => {
  it("sends its pages and WebSockets through the proxy with the session's credentials, and reports proxyBytes", async () => {
    const session = await t.client.sessions.create(proxied());
    expect(session.status).toBe('RUNNING');
    // Its own browser, started with the proxy: not a pooled one.
    expect(sessionDirsOutsidePool().map((d) => d.sessionId)).toContain(session.id);

    const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
    const [page] = await browser.pages();
    const response = await page?.goto('http://site.wallcrawler.test/title/Through%20the%20proxy');
    expect(response?.status()).toBe(200);
    expect(await page?.title()).toBe('Through the proxy');
    // A WebSocket goes through a tunnel (CONNECT).
    const reply = await page?.evaluate(
      () =>
        new Promise<string>((resolve, reject) => {
          const ws = new WebSocket(`ws://echo.wallcrawler.test/`);
          ws.onopen = () => ws.send('ping');
          ws.onmessage = (event) => resolve(String(event.data));
          ws.onerror = () => reject(new Error('the WebSocket failed'));
        }),
    );
    expect(reply).toBe('echo: ping');
    const seen = proxy.requests.filter((r) => r.target.includes('wallcrawler.test'));
    expect(seen.some((r) => r.method === 'GET' && r.target.startsWith('http://site.wallcrawler.test/'))).toBe(true);
    expect(seen.some((r) => r.method === 'CONNECT' && r.target.startsWith('echo.wallcrawler.test:'))).toBe(true);
    // Every request carried the credentials; the browser itself never saw them.
    expect(seen.every((r) => r.credentials === `${USER}:${PASSWORD}`)).toBe(true);

    // Live while it runs, final once it ended, and in the project's usage.
    const live = await t.client.sessions.retrieve(session.id);
    expect(live.proxyBytes).toBeGreaterThan(1000);
    await browser.disconnect();
    const released = await t.client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
    expect(released.proxyBytes).toBeGreaterThanOrEqual(live.proxyBytes);
    const usage = await t.client.projects.usage(t.projectId);
    expect(usage.proxyBytes).toBeGreaterThanOrEqual(released.proxyBytes);
    await waitFor(() => sessionDirsOutsidePool().length === 0, { message: 'the session to be cleaned up' });
  });

  it('sends only the hosts its domainPattern matches through the proxy', async () => {
    const session = await t.client.sessions.create(proxied(PASSWORD, { domainPattern: 'site\\.wallcrawler\\.test' }));
    const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
    const [page] = await browser.pages();
    await page?.goto('http://site.wallcrawler.test/title/Matched');
    expect(await page?.title()).toBe('Matched');
    // echo.wallcrawler.test does not match: it goes straight out, where no one knows that name (the session's
    // proxy answers 502 with the reason at once).
    const before = proxy.requests.length;
    const direct = await page?.goto('http://echo.wallcrawler.test/', { timeout: 15_000 });
    expect(direct?.status()).toBe(502);
    expect(await page?.evaluate(() => document.body.innerText)).toMatch(/ENOTFOUND|EAI_AGAIN/);
    expect(proxy.requests.slice(before).filter((r) => r.target.includes('echo.'))).toEqual([]);
    await browser.disconnect();
    await t.client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
  });

  it('refuses a create whose proxy rejects the credentials with a clear 400, and starts and stores nothing', async () => {
    await waitFor(() => sessionDirsOutsidePool().length === 0, { message: 'earlier sessions to be cleaned up' });
    const before = (await t.client.sessions.list()).length;
    const response = await createRaw(proxied('not-the-password'));
    expect(response.status).toBe(400);
    const body = (await response.json()) as { code: string; message: string };
    expect(body.code).toBe('proxy_auth_failed');
    expect(body.message).toMatch(/refused the credentials \(407 Proxy Authentication Required\)/);
    expect(body.message).toContain(proxy.url);
    // Secrets stay out of answers.
    expect(JSON.stringify(body)).not.toContain('not-the-password');
    expect((await t.client.sessions.list()).length).toBe(before);
    expect(sessionDirsOutsidePool()).toEqual([]);
  });

  it('refuses a create whose proxy cannot be reached with a 502', async () => {
    const response = await createRaw({ proxies: [{ type: 'external', server: 'http://127.0.0.1:9' }] });
    expect(response.status).toBe(502);
    const body = (await response.json()) as { code: string; message: string };
    expect(body.code).toBe('proxy_unreachable');
    expect(body.message).toMatch(/could not be reached/);
  });

  it('fails pages at once with the reason, not a hang, when the proxy starts refusing mid-session', async () => {
    const session = await t.client.sessions.create(proxied());
    const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
    const [page] = await browser.pages();
    proxy.setCredentials(USER, 'rotated');
    try {
      const response = await page?.goto('http://site.wallcrawler.test/title/After', { timeout: 15_000 });
      expect(response?.status()).toBe(502);
      expect(await page?.evaluate(() => document.body.innerText)).toMatch(/refused the credentials/);
    } finally {
      proxy.setCredentials(USER, PASSWORD);
    }
    await browser.disconnect();
    await t.client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
  });

  it('answers proxies it cannot use with a 400 naming each entry', async () => {
    const response = await createRaw({
      proxies: [
        { type: 'external', server: 'socks5://127.0.0.1:1080' },
        { type: 'external' },
        { type: 'external', server: proxy.url, domainPattern: '(unclosed' },
      ],
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { code: string; details: { path: string; message: string }[] };
    expect(body.code).toBe('validation_failed');
    expect(body.details.map((d) => d.path)).toEqual([
      'body.proxies.0.server',
      'body.proxies.1.server',
      'body.proxies.2.domainPattern',
    ]);
    expect(body.details[0]?.message).toMatch(/only HTTP proxies/);
  });
});
