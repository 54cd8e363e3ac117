import { NotFoundError, type SessionLog, Wallcrawler } from '@wallcrawler/sdk';
import { generateApiKey, newProject } from '@wallcrawler/server';
import { expectNothingLeft, waitFor } from '@wallcrawler/test-support';
import { usePageServer, useTestServer } from '@wallcrawler/test-support/test-server';
import puppeteer from 'puppeteer-core';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';

const pages = usePageServer();
const t = useTestServer({ WALLCRAWLER_SESSION_LOG_MAX_MB: '1' });

/** A raw CDP client over `ws`, with permessage-deflate on every message (threshold 0) when asked. */
async function rawClient(url: string, deflate: boolean) {
  const ws = new WebSocket(url, { perMessageDeflate: deflate ? { threshold: 0 } : false });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let id = 0;
  const answers = new Map<number, (m: Record<string, unknown>) => void>();
  ws.on('message', (data) => {
    const message = JSON.parse(String(data)) as { id?: number };
    if (message.id !== undefined) answers.get(message.id)?.(message);
  });
  return {
    ws,
    /** Sends a command, in `fragments` WebSocket frames. */
    send(method: string, params: Record<string, unknown>, sessionId?: string, fragments = 1) {
      const n = ++id;
      const text = JSON.stringify({ id: n, method, params, ...(sessionId ? { sessionId } : {}) });
      const answered = new Promise<Record<string, unknown>>((resolve) => answers.set(n, resolve));
      const size = Math.ceil(text.length / fragments);
      for (let i = 0; i < fragments; i++) {
        ws.send(text.slice(i * size, (i + 1) * size), { fin: i === fragments - 1 });
      }
      return answered;
    },
  };
}

const find = (logs: SessionLog[], method: string) => logs.filter((l) => l.method === method);

describe('the CDP log', () => {
  it("records the clients' commands with their answers, in Browserbase's shape, live and after the end", async () => {
    const session = await t.client.sessions.create();
    const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
    const [page] = await browser.pages();
    await page?.goto(`${pages.url}/title/Logged`);
    expect(await page?.evaluate(() => document.title)).toBe('Logged');

    const live = await t.client.sessions.logs.list(session.id);
    const [navigate] = find(live, 'Page.navigate');
    expect(navigate).toMatchObject({
      sessionId: session.id,
      pageId: 0,
      frameId: expect.any(String),
      loaderId: expect.any(String),
      request: { params: { url: `${pages.url}/title/Logged` }, rawBody: expect.stringContaining('Page.navigate') },
      response: { result: { frameId: expect.any(String) }, rawBody: expect.any(String) },
    });
    expect(navigate?.response?.timestamp).toBeGreaterThanOrEqual(
      navigate?.request?.timestamp ?? Number.POSITIVE_INFINITY,
    );
    expect(find(live, 'Target.setDiscoverTargets').length + find(live, 'Target.setAutoAttach').length).toBeGreaterThan(
      0,
    );

    await browser.disconnect();
    await t.client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
    const kept = await t.client.sessions.logs.list(session.id);
    expect(kept.length).toBeGreaterThanOrEqual(live.length);
    expect(find(kept, 'Page.navigate')).toHaveLength(1);
    await expectNothingLeft(t.dataDir);
  });

  it('never keeps credentials, cookie values or typed text', async () => {
    const session = await t.client.sessions.create();
    const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
    const [page] = await browser.pages();
    if (!page) throw new Error('no page');
    await page.setExtraHTTPHeaders({ Authorization: 'Bearer SECRET-HEADER-123' });
    await page.goto(pages.url);
    await browser.setCookie({ name: 'sid', value: 'SECRET-COOKIE-456', domain: '127.0.0.1', path: '/' });
    await page.evaluate(() => {
      document.body.innerHTML = '<input id="pw" type="password">';
    });
    await page.type('#pw', 'hunter2-typed');
    const cookies = await browser.cookies();
    expect(cookies.find((c) => c.name === 'sid')?.value).toBe('SECRET-COOKIE-456');

    const text = JSON.stringify(await t.client.sessions.logs.list(session.id));
    expect(text).toContain('Network.setExtraHTTPHeaders');
    expect(text).toContain('[redacted]');
    for (const secret of ['SECRET-HEADER-123', 'SECRET-COOKIE-456', 'hunter2']) expect(text).not.toContain(secret);
    // What was typed did reach the page. (Reading it back is page data, which the log keeps.)
    expect(await page.$eval('#pw', (e) => (e as HTMLInputElement).value)).toBe('hunter2-typed');
    await browser.disconnect();
    await t.client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
  });

  it('decodes compressed (permessage-deflate) and fragmented messages', async () => {
    const session = await t.client.sessions.create();
    const cdp = await rawClient(session.connectUrl, true);
    expect(cdp.ws.extensions).toContain('permessage-deflate');
    const { result } = (await cdp.send('Target.getTargets', {})) as {
      result: { targetInfos: { targetId: string; type: string }[] };
    };
    const target = result.targetInfos.find((t) => t.type === 'page');
    const attached = (await cdp.send('Target.attachToTarget', { targetId: target?.targetId, flatten: true })) as {
      result: { sessionId: string };
    };
    const marker = `fragmented-${'x'.repeat(20_000)}`;
    const answer = (await cdp.send(
      'Runtime.evaluate',
      { expression: `${JSON.stringify(marker)}.length`, returnByValue: true },
      attached.result.sessionId,
      5,
    )) as { result: { result: { value: number } } };
    expect(answer.result.result.value).toBe(marker.length);

    const logs = await waitFor(async () => {
      const l = await t.client.sessions.logs.list(session.id);
      return find(l, 'Runtime.evaluate').length > 0 && l;
    });
    const [evaluate] = find(logs, 'Runtime.evaluate');
    expect(evaluate?.request?.params).toMatchObject({ expression: expect.stringContaining('fragmented-') });
    expect(evaluate?.response?.result).toMatchObject({ result: { type: 'number', value: marker.length } });
    // Commands on the attached page's session are that page's.
    expect(evaluate?.pageId).toBe(0);
    cdp.ws.close();
    await t.client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
  });

  it('survives a compressed client that drops its connection while a message is still being inflated', async () => {
    const session = await t.client.sessions.create({ keepAlive: true });
    for (let i = 0; i < 5; i++) {
      const cdp = await rawClient(session.connectUrl, true);
      // A large, very compressible message, then the socket is cut at once: the tap stops mid-inflate.
      cdp.ws.send(
        JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression: `"${'z'.repeat(4_000_000)}"` } }),
      );
      cdp.ws.terminate();
    }
    // The server is still there, and the session with it (an uncaught error would also fail the run).
    expect((await t.client.sessions.retrieve(session.id)).status).toBe('RUNNING');
    const again = await rawClient(session.connectUrl, true);
    expect(await again.send('Browser.getVersion', {})).toMatchObject({ result: { product: expect.any(String) } });
    again.ws.close();
    await t.client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
  });

  it('is bounded: each body to 64 KiB, the whole log to WALLCRAWLER_SESSION_LOG_MAX_MB, oldest first', async () => {
    const session = await t.client.sessions.create();
    const cdp = await rawClient(session.connectUrl, false);
    const { result } = (await cdp.send('Target.getTargets', {})) as {
      result: { targetInfos: { targetId: string; type: string }[] };
    };
    const target = result.targetInfos.find((t) => t.type === 'page');
    const attached = (await cdp.send('Target.attachToTarget', { targetId: target?.targetId, flatten: true })) as {
      result: { sessionId: string };
    };
    for (let i = 0; i < 24; i++) {
      await cdp.send(
        'Runtime.evaluate',
        { expression: `"${i}:" + "y".repeat(100000)`, returnByValue: true },
        attached.result.sessionId,
      );
    }
    const logs = await t.client.sessions.logs.list(session.id);
    const evaluates = find(logs, 'Runtime.evaluate');
    for (const entry of evaluates) {
      expect(entry.response?.rawBody.length).toBeLessThan(64 * 1024 + 100);
      expect(entry.response?.result).toMatchObject({ truncated: true });
    }
    const total = logs.reduce((n, l) => n + (l.request?.rawBody.length ?? 0) + (l.response?.rawBody.length ?? 0), 0);
    expect(total).toBeLessThanOrEqual(1024 * 1024);
    expect(evaluates.length).toBeLessThan(24);
    // The newest is kept.
    expect(evaluates.at(-1)?.request?.rawBody).toContain('23:');
    cdp.ws.close();
    await t.client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
  });

  it('is empty with logSession: false, and a 404 for another project', async () => {
    const session = await t.client.sessions.create({ browserSettings: { logSession: false } });
    const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
    await (await browser.pages())[0]?.goto(pages.url);
    expect(await t.client.sessions.logs.list(session.id)).toEqual([]);
    await browser.disconnect();

    const other = newProject('other-logs');
    await t.store.createProject(other);
    const { key, record } = generateApiKey('other', [other.id]);
    await t.store.createApiKey(record);
    const otherClient = new Wallcrawler({ apiKey: key, baseURL: t.url, maxRetries: 0 });
    await expect(otherClient.sessions.logs.list(session.id)).rejects.toBeInstanceOf(NotFoundError);
    await t.client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
    expect(await t.client.sessions.logs.list(session.id)).toEqual([]);
  });
});
