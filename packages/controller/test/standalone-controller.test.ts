/// <reference lib="dom" />
import { randomBytes, randomUUID } from 'node:crypto';
import { signConnectToken } from '@wallcrawler/contracts';
import { expectNothingLeft, type PageServer, startPageServer, tempDir, waitFor } from '@wallcrawler/test-support';
import puppeteer from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type ControllerConfig, type RunningController, startController } from '../src/task/index.js';

const secret = randomBytes(32);
let pages: PageServer;
const dataDir = tempDir();
const running: RunningController[] = [];

beforeAll(async () => {
  pages = await startPageServer();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop()));
  await expectNothingLeft(dataDir.path);
});
afterAll(async () => {
  await pages.close();
  dataDir.remove();
});

async function start(overrides: Partial<ControllerConfig> = {}) {
  const config: ControllerConfig = {
    sessionId: randomUUID(),
    projectId: 'project-1',
    connectSecret: secret,
    expiresAt: new Date(Date.now() + 120_000),
    keepAlive: false,
    viewport: undefined,
    host: '127.0.0.1',
    port: 0,
    externalUrl: undefined,
    chromePath: undefined,
    dataDir: dataDir.path,
    disconnectGraceMs: 200,
    logLevel: 'silent',
    idleTimeoutMs: 300_000,
    store: undefined,
    ecsMetadataUri: undefined,
    advertise: 'private',
    launchTimeoutMs: 30_000,
    pool: undefined,
    ...overrides,
  };
  const controller = await startController(config);
  running.push(controller);
  const token = await signConnectToken(secret, {
    sessionId: config.sessionId,
    projectId: config.projectId,
    expiresAt: config.expiresAt,
  });
  return { controller, config, token, connectUrl: `${controller.url.replace('http', 'ws')}/?signingKey=${token}` };
}

/** Opens a raw WebSocket and reports how the handshake went: the HTTP status, or 101. */
function handshake(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => {
      ws.close();
      resolve({ status: 101, body: '' });
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('error', reject);
  });
}

describe('standalone controller', () => {
  it('serves a browser target to puppeteer and ends when the last client disconnects', async () => {
    const { controller, connectUrl } = await start();
    const browser = await puppeteer.connect({ browserWSEndpoint: connectUrl, defaultViewport: null });
    const [page] = await browser.pages();
    expect(page).toBeDefined();
    await page?.goto(`${pages.url}/title/Hello`);
    expect(await page?.evaluate(() => document.title)).toBe('Hello');
    expect(await page?.evaluate(() => [window.innerWidth, window.innerHeight])).toEqual([1024, 768]);
    await browser.disconnect();
    const ending = await controller.ended;
    expect(ending.status).toBe('COMPLETED');
    expect(ending.reason).toMatch(/last client disconnected/);
  });

  it('rejects missing, tampered, expired and foreign tokens at the upgrade', async () => {
    const { controller, config, token } = await start();
    const base = controller.url.replace('http', 'ws');
    const tampered = `${token.slice(0, -4)}${token.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    const expired = await signConnectToken(secret, {
      sessionId: config.sessionId,
      projectId: 'project-1',
      expiresAt: new Date(Date.now() - 1000),
    });
    const foreign = await signConnectToken(secret, {
      sessionId: randomUUID(),
      projectId: 'project-1',
      expiresAt: config.expiresAt,
    });
    const wrongKey = await signConnectToken(randomBytes(32), {
      sessionId: config.sessionId,
      projectId: 'project-1',
      expiresAt: config.expiresAt,
    });

    const cases: Array<[string, number, string]> = [
      [`${base}/`, 401, 'missing_token'],
      [`${base}/?signingKey=${tampered}`, 401, 'invalid_token'],
      [`${base}/?signingKey=${wrongKey}`, 401, 'invalid_token'],
      [`${base}/?signingKey=${expired}`, 401, 'token_expired'],
      [`${base}/?signingKey=${foreign}`, 403, 'token_session_mismatch'],
      [`${base}/?signingKey=${token}&sessionId=${randomUUID()}`, 403, 'token_session_mismatch'],
      [`${base}/not-a-cdp-path?signingKey=${token}`, 404, 'not_found'],
    ];
    for (const [url, status, code] of cases) {
      const result = await handshake(url);
      expect({ url, status: result.status }).toEqual({ url, status });
      const body = JSON.parse(result.body);
      expect(body).toMatchObject({ statusCode: status, code });
      expect(typeof body.message).toBe('string');
      expect(typeof body.requestId).toBe('string');
    }
    expect((await handshake(`${base}/?signingKey=${token}`)).status).toBe(101);
  });

  it('answers /json/version and /json/list with URLs that lead back through the proxy', async () => {
    const { controller, token } = await start({ keepAlive: true });
    const version = (await (await fetch(`${controller.url}/json/version?signingKey=${token}`)).json()) as Record<
      string,
      string
    >;
    expect(version.Browser).toMatch(/Chrome/);
    expect(version.webSocketDebuggerUrl as string).toMatch(
      new RegExp(`^${controller.url.replace('http', 'ws')}/devtools/browser/[^?]+\\?signingKey=`),
    );
    const browser = await puppeteer.connect({ browserWSEndpoint: version.webSocketDebuggerUrl as string });
    expect((await browser.version()).length).toBeGreaterThan(0);
    await browser.disconnect();

    const list = (await (await fetch(`${controller.url}/json/list?signingKey=${token}`)).json()) as Array<
      Record<string, string>
    >;
    const page = list.find((t) => t.type === 'page') as Record<string, string>;
    expect(page.webSocketDebuggerUrl).toBe(
      `${controller.url.replace('http', 'ws')}/devtools/page/${page.id}?signingKey=${token}`,
    );
    expect(JSON.stringify(list)).not.toMatch(/127\.0\.0\.1:(?!\d+\/devtools\/page)/);
    expect((await handshake(page.webSocketDebuggerUrl as string)).status).toBe(101);

    expect((await fetch(`${controller.url}/json/version`)).status).toBe(401);
  });

  it('does not end a session when a refused handshake (a stale page id) goes away', async () => {
    const { controller, token } = await start();
    const base = controller.url.replace('http', 'ws');
    const refused = await handshake(`${base}/devtools/page/0000000000000000000000000000DEAD?signingKey=${token}`);
    expect(refused.status).not.toBe(101); // Chromium refuses an unknown target (500)
    await new Promise((r) => setTimeout(r, 600)); // longer than the disconnect grace
    expect(controller.session.isRunning).toBe(true);
    expect((await handshake(`${base}/?signingKey=${token}`)).status).toBe(101);
  });

  it('lets several clients share the session, and a keepAlive session survives disconnects', async () => {
    const { controller, connectUrl } = await start({ keepAlive: true });
    const a = await puppeteer.connect({ browserWSEndpoint: connectUrl });
    const b = await puppeteer.connect({ browserWSEndpoint: connectUrl });
    const page = await a.newPage();
    await page.goto(`${pages.url}/title/Shared`);
    await waitFor(async () => (await Promise.all((await b.pages()).map((p) => p.title()))).includes('Shared'));
    await a.disconnect();
    await b.disconnect();
    await new Promise((r) => setTimeout(r, 500)); // longer than the disconnect grace: keepAlive must keep it
    expect(controller.session.isRunning).toBe(true);
    const again = await puppeteer.connect({ browserWSEndpoint: connectUrl });
    expect((await again.pages()).length).toBeGreaterThanOrEqual(2);
    await again.disconnect();
  });

  it('sends connected clients a close frame with the reason when the session times out', async () => {
    const { controller, connectUrl } = await start({ expiresAt: new Date(Date.now() + 3_000), keepAlive: true });
    const ws = new WebSocket(connectUrl);
    await new Promise((r) => ws.once('open', r));
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    expect(await closed).toEqual({ code: 1000, reason: 'The session reached its timeout' });
    expect((await controller.ended).status).toBe('TIMED_OUT');
  });

  it('ends with ERROR when Chromium is killed', async () => {
    const { controller, connectUrl } = await start({ keepAlive: true });
    const ws = new WebSocket(connectUrl);
    await new Promise((r) => ws.once('open', r));
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    process.kill(controller.session.pid, 'SIGKILL');
    const ending = await controller.ended;
    expect(ending.status).toBe('ERROR');
    expect(ending.reason).toMatch(/exited unexpectedly/);
    expect([1011, 1006]).toContain(await closed);
  });

  it('ends with COMPLETED when a client closes the browser', async () => {
    const { controller, connectUrl } = await start({ keepAlive: true });
    const browser = await puppeteer.connect({ browserWSEndpoint: connectUrl });
    await browser.close();
    const ending = await controller.ended;
    expect(ending).toMatchObject({ status: 'COMPLETED', reason: 'The browser was closed by a client' });
  });
});

describe("the controller's Stagehand endpoint (what the API function forwards to on AWS)", () => {
  const post = (url: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('refuses a missing or foreign token and a malformed body, in the one error body with success: false', async () => {
    const { controller, token } = await start({ keepAlive: true });
    const missing = await post(controller.url, '/stagehand/act', { input: 'x' });
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ success: false, code: 'missing_token' });
    const foreign = await signConnectToken(secret, {
      sessionId: randomUUID(),
      projectId: 'project-1',
      expiresAt: new Date(Date.now() + 60_000),
    });
    const other = await post(controller.url, '/stagehand/act', { input: 'x' }, { authorization: `Bearer ${foreign}` });
    expect(other.status).toBe(403);
    expect(await other.json()).toMatchObject({ success: false, code: 'token_session_mismatch' });
    const malformed = await post(controller.url, '/stagehand/act', '{input:', { authorization: `Bearer ${token}` });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({
      success: false,
      code: 'invalid_json',
      requestId: expect.any(String),
    });
  });

  it('attaches Stagehand on start, navigates over server-sent events, replays the call, and detaches on end', async () => {
    const { controller, token } = await start({ keepAlive: true });
    const auth = { authorization: `Bearer ${token}` };
    expect(
      await (await post(controller.url, '/stagehand/start', { modelName: 'openai/gpt-4.1-mini' }, auth)).json(),
    ).toEqual({
      success: true,
    });
    const navigate = await post(
      controller.url,
      '/stagehand/navigate',
      { url: `${pages.url}/title/Stagehand` },
      {
        ...auth,
        'x-stream-response': 'true',
      },
    );
    expect(navigate.headers.get('content-type')).toBe('text/event-stream');
    const events = (await navigate.text())
      .split('\n\n')
      .filter(Boolean)
      .map((block) => JSON.parse(block.replace(/^data: /, '')) as { data: { status: string; result?: unknown } });
    expect(events.at(-1)?.data).toMatchObject({ status: 'finished', result: { response: { status: 200 } } });
    const replay = (await (await post(controller.url, '/stagehand/replay', {}, auth)).json()) as {
      data: { pages: { url: string; actions: { method: string }[] }[] };
    };
    expect(replay.data.pages[0]?.actions.map((a) => a.method)).toEqual(['navigate']);
    expect(await (await post(controller.url, '/stagehand/end', {}, auth)).json()).toEqual({ success: true });
    // The session itself runs on (keepAlive) until it is stopped.
    expect(controller.session.isRunning).toBe(true);
  });
});
