import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConflictError, DEFAULT_MAX_RETRIES, NotFoundError, Wallcrawler } from '@wallcrawler/sdk';
import { generateApiKey, newProject } from '@wallcrawler/server';
import { expectNothingLeft, processesUnder, tempDir, waitFor } from '@wallcrawler/test-support';
import { startTestServer, type TestServer, usePageServer, useTestServer } from '@wallcrawler/test-support/test-server';
import puppeteer, { type Browser } from 'puppeteer-core';
import { describe, expect, it } from 'vitest';

const pages = usePageServer();
// The SDK's own retries, as a user has them.
const t = useTestServer({}, { sdk: { maxRetries: DEFAULT_MAX_RETRIES } });

async function connect(connectUrl: string): Promise<Browser> {
  return puppeteer.connect({ browserWSEndpoint: connectUrl, defaultViewport: null });
}

/** Sets a persistent cookie and a localStorage value on the page server's origin. */
async function writeState(browser: Browser, value: string): Promise<void> {
  const [page] = await browser.pages();
  if (!page) throw new Error('the session has no page');
  await page.goto(pages.url);
  await page.evaluate((v) => {
    // biome-ignore lint/suspicious/noDocumentCookie: the page's own cookie is what a context must keep
    document.cookie = `wc_cookie=${v}; max-age=86400; path=/`;
    localStorage.setItem('wc_storage', v);
  }, value);
}

/** The cookie and the localStorage value a new session from the context sees. */
async function readState(api: Wallcrawler, contextId: string): Promise<{ cookie: string; storage: string | null }> {
  const session = await api.sessions.create({ browserSettings: { context: { id: contextId, persist: false } } });
  expect(session.contextId).toBe(contextId);
  const browser = await connect(session.connectUrl);
  try {
    const [page] = await browser.pages();
    if (!page) throw new Error('the session has no page');
    await page.goto(pages.url);
    return await page.evaluate(() => ({ cookie: document.cookie, storage: localStorage.getItem('wc_storage') }));
  } finally {
    await browser.disconnect();
    await api.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
  }
}

function ended(api: Wallcrawler, sessionId: string) {
  return waitFor(
    async () => {
      const s = await api.sessions.retrieve(sessionId);
      return s.status !== 'RUNNING' && s;
    },
    { message: `session ${sessionId} to end`, timeout: 30_000 },
  );
}

describe('contexts through the SDK', () => {
  it('creates, retrieves, updates and deletes, with Browserbase fields and unique names', async () => {
    const created = await t.client.contexts.create({ name: '  Shop login  ' });
    expect(created).toMatchObject({ cipherAlgorithm: 'AES-256-CBC', initializationVectorSize: 16 });
    expect(typeof created.uploadUrl).toBe('string');
    const context = await t.client.contexts.retrieve(created.id);
    expect(context).toMatchObject({ id: created.id, projectId: t.projectId, name: 'Shop login' });
    await expect(t.client.contexts.create({ name: 'shop LOGIN' })).rejects.toMatchObject({
      status: 409,
      error: { code: 'context_name_taken' },
    });
    const updated = await t.client.contexts.update(created.id);
    expect(updated.id).toBe(created.id);
    expect((await t.client.contexts.retrieve(created.id)).updatedAt >= context.updatedAt).toBe(true);

    // Another project's key sees a 404, as for a missing one.
    const other = newProject('other');
    await t.store.createProject(other);
    const { key, record } = generateApiKey('other', [other.id]);
    await t.store.createApiKey(record);
    const otherClient = new Wallcrawler({ apiKey: key, baseURL: t.url, maxRetries: 0 });
    await expect(otherClient.contexts.retrieve(created.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(otherClient.contexts.delete(created.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      otherClient.sessions.create({ browserSettings: { context: { id: created.id } } }),
    ).rejects.toMatchObject({ status: 404, error: { code: 'context_not_found' } });

    await t.client.contexts.delete(created.id);
    await expect(t.client.contexts.retrieve(created.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(t.client.sessions.create({ browserSettings: { context: { id: created.id } } })).rejects.toMatchObject({
      status: 404,
    });
    expect(await t.client.sessions.list({ status: 'RUNNING' })).toEqual([]);
  });

  it('lets one running session at a time persist a context, and deletes its blobs with it', async () => {
    const { id } = await t.client.contexts.create();
    const writer = await t.client.sessions.create({ browserSettings: { context: { id, persist: true } } });
    const maxRetries0 = new Wallcrawler({ apiKey: t.apiKey, baseURL: t.url, maxRetries: 0 });
    const refused = await maxRetries0.sessions
      .create({ browserSettings: { context: { id, persist: true } } })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConflictError);
    expect(refused).toMatchObject({
      error: { code: 'context_in_use', message: expect.stringMatching(/persist: false/) },
    });
    // A reader is fine beside the writer.
    const reader = await t.client.sessions.create({ browserSettings: { context: { id } } });
    await t.client.sessions.update(reader.id, { status: 'REQUEST_RELEASE' });
    await t.client.sessions.update(writer.id, { status: 'REQUEST_RELEASE' });

    const blobs = join(t.dataDir, 'blobs', 'objects', 'contexts', id);
    expect(readdirSync(blobs)).toEqual(['profile.tar.gz.enc']);
    await t.client.contexts.delete(id);
    expect(() => readdirSync(blobs)).toThrow();
    await expectNothingLeft(t.dataDir);
  });
});

describe.concurrent('a context persisted by session 1 is there in session 2, whichever way session 1 ended', () => {
  it('released', async () => {
    const { id } = await t.client.contexts.create();
    const s1 = await t.client.sessions.create({ browserSettings: { context: { id, persist: true } } });
    const browser = await connect(s1.connectUrl);
    await writeState(browser, 'released');
    await t.client.sessions.update(s1.id, { status: 'REQUEST_RELEASE' });
    await browser.disconnect();
    expect(await readState(t.client, id)).toEqual({ cookie: 'wc_cookie=released', storage: 'released' });
  });

  it('disconnected (the last client left)', async () => {
    const { id } = await t.client.contexts.create();
    const s1 = await t.client.sessions.create({ browserSettings: { context: { id, persist: true } } });
    const browser = await connect(s1.connectUrl);
    await writeState(browser, 'disconnected');
    await browser.disconnect();
    expect((await ended(t.client, s1.id)).status).toBe('COMPLETED');
    expect(await readState(t.client, id)).toEqual({ cookie: 'wc_cookie=disconnected', storage: 'disconnected' });
  });

  it('crashed (Chromium killed with SIGKILL): what Chromium had written to disk is kept', {
    timeout: 90_000,
  }, async () => {
    const { id } = await t.client.contexts.create();
    const s1 = await t.client.sessions.create({ browserSettings: { context: { id, persist: true } } });
    const browser = await connect(s1.connectUrl);
    await writeState(browser, 'crashed');
    const profile = join(t.dataDir, 'sessions', s1.id, 'profile', 'Default');
    // A crash loses what Chromium had not written yet: it commits cookies every 30 s, or once 512 changes are
    // pending, and storage within seconds. The page makes a thousand changes to a cookie of another path (one
    // that the next session's page does not see), so the commit comes at once instead of in 30 s.
    await (await browser.pages())[0]?.evaluate(() => {
      for (let i = 0; i < 500; i++) {
        // biome-ignore lint/suspicious/noDocumentCookie: cookie changes are what make Chromium commit
        document.cookie = `wc_batch=${i}; max-age=86400; path=/batch`;
      }
    });
    // Wait until both are on disk, as they would be in a session that ran a while.
    await waitFor(
      () => {
        const cookies = readFileSync(join(profile, 'Cookies')).includes('wc_cookie');
        const dir = join(profile, 'Local Storage', 'leveldb');
        const storage = readdirSync(dir).some((f) => readFileSync(join(dir, f)).includes('wc_storage'));
        return cookies && storage;
      },
      { timeout: 60_000, interval: 500, message: 'Chromium to write the cookie and the storage to disk' },
    );
    const marker = `--user-data-dir=${join(t.dataDir, 'sessions', s1.id, 'profile')}`;
    const main = processesUnder(t.dataDir).find((p) => p.cmdline.includes(marker) && p.pid === p.pgid);
    if (!main) throw new Error('no Chromium process for the session');
    process.kill(main.pid, 'SIGKILL');
    expect((await ended(t.client, s1.id)).status).toBe('ERROR');
    await browser.disconnect();
    expect(await readState(t.client, id)).toEqual({ cookie: 'wc_cookie=crashed', storage: 'crashed' });
  });
});

it('keeps the context of a session the server shut down, for the next start', { timeout: 60_000 }, async () => {
  const dir = tempDir('wallcrawler-ctx-restart-');
  let first: TestServer | undefined;
  let second: TestServer | undefined;
  try {
    first = await startTestServer({ WALLCRAWLER_DATA_DIR: dir.path, WALLCRAWLER_API_KEY: t.apiKey });
    const api1 = new Wallcrawler({ apiKey: t.apiKey, baseURL: first.url });
    const { id } = await api1.contexts.create();
    const s1 = await api1.sessions.create({ browserSettings: { context: { id, persist: true } } });
    const browser = await connect(s1.connectUrl);
    await writeState(browser, 'shutdown');
    await first.server.close();
    await browser.disconnect();

    second = await startTestServer({ WALLCRAWLER_DATA_DIR: dir.path, WALLCRAWLER_API_KEY: t.apiKey });
    const api2 = new Wallcrawler({ apiKey: t.apiKey, baseURL: second.url });
    expect((await api2.sessions.retrieve(s1.id)).status).toBe('COMPLETED');
    expect(await readState(api2, id)).toEqual({ cookie: 'wc_cookie=shutdown', storage: 'shutdown' });
    await expectNothingLeft(dir.path);
  } finally {
    await second?.close();
    await first?.close();
    dir.remove();
  }
});
