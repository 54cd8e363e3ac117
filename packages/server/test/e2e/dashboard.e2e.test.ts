import { findChromium } from '@wallcrawler/controller';
import { tempDir, waitFor } from '@wallcrawler/test-support';
import { usePageServer, useTestServer } from '@wallcrawler/test-support/test-server';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const pages = usePageServer();
const t = useTestServer();
/** The person's browser. */
let person: Browser;
const profile = tempDir('wallcrawler-person-');

beforeAll(async () => {
  person = await puppeteer.launch({
    executablePath: findChromium(),
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', `--user-data-dir=${profile.path}`],
  });
});
afterAll(async () => {
  await person.close();
  profile.remove();
});

describe('the dashboard', () => {
  it('signs in with an API key (a cookie after that), lists sessions, and opens a live view and a replay', async () => {
    const session = await t.client.sessions.create({ keepAlive: true });
    const automation = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
    await (await automation.pages())[0]?.goto(`${pages.url}/title/Dashboard%20demo`);

    const tab = await person.newPage();
    const visited: string[] = [];
    tab.on('request', (r) => visited.push(r.url()));
    await tab.goto(t.url);
    // A wrong key: the form again, with the reason.
    await tab.type('#apiKey', 'wc_not_a_real_key_0000000000');
    await Promise.all([tab.waitForNavigation(), tab.click('input[type=submit]')]);
    expect(await tab.$eval('#error', (e) => e.textContent)).toMatch(/not valid/);

    await tab.type('#apiKey', t.apiKey);
    await Promise.all([tab.waitForNavigation(), tab.click('input[type=submit]')]);
    const row = await tab.$(`tr[data-session="${session.id}"]`);
    expect(row).not.toBeNull();
    expect(await row?.$eval('.status', (e) => e.textContent)).toBe('RUNNING');

    // The key never travels in a URL; the cookie is HttpOnly.
    expect(visited.some((u) => u.includes(t.apiKey))).toBe(false);
    const cookie = (await tab.cookies()).find((c) => c.name === 'wallcrawler_dashboard');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    expect(await tab.evaluate(() => document.cookie)).not.toContain('wallcrawler_dashboard');

    // The live view shows the session's page.
    const liveHref = await row?.$eval('a.live', (a) => (a as HTMLAnchorElement).href);
    const live = await person.newPage();
    await live.goto(liveHref ?? '');
    await waitFor(async () => Number(await live.$eval('body', (b) => b.dataset.frames ?? 0)) > 0);
    expect(live.url()).toContain(`/debug/${session.id}/live?ws=`);
    await live.close();

    // Logs open with the cookie alone.
    const logsHref = await row?.$eval('a.logs', (a) => (a as HTMLAnchorElement).href);
    const logs = await person.newPage();
    await logs.goto(logsHref ?? '');
    const entries = JSON.parse(await logs.$eval('body', (b) => b.innerText)) as { method: string }[];
    expect(entries.some((e) => e.method === 'Page.navigate')).toBe(true);
    await logs.close();

    // After the session, its replay plays.
    await automation.disconnect();
    await t.client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
    await tab.reload();
    const ended = await tab.$(`tr[data-session="${session.id}"]`);
    expect(await ended?.$eval('.status', (e) => e.textContent)).toBe('COMPLETED');
    expect(await ended?.$('a.live')).toBeNull();
    const replayHref = await ended?.$eval('a.replay', (a) => (a as HTMLAnchorElement).href);
    const replay = await person.newPage();
    await replay.goto(replayHref ?? '');
    await replay.waitForSelector('body[data-replay="ready"]', { timeout: 15_000 });
    const replayed = await waitFor(async () => {
      for (const frame of replay.frames()) {
        const text = await frame.evaluate(() => document.body?.innerText ?? '').catch(() => '');
        if (text.includes('Hello from Dashboard demo')) return true;
      }
      return false;
    });
    expect(replayed).toBe(true);
    await replay.close();

    // Signing out ends it: the dashboard's own routes then answer 401 with the error body.
    await Promise.all([tab.waitForNavigation(), tab.click('header button[type=submit]')]);
    expect(await tab.$('#apiKey')).not.toBeNull();
    const after = await fetch(`${t.url}/dashboard/sessions/${session.id}/logs`);
    expect(after.status).toBe(401);
    expect(await after.json()).toMatchObject({ code: 'not_signed_in' });
    await tab.close();
  });

  it('signs a person out when their key is revoked', async () => {
    const { generateApiKey } = await import('@wallcrawler/server');
    const { key, record } = generateApiKey('short-lived', [t.projectId]);
    await t.store.createApiKey(record);
    const tab = await person.newPage();
    await tab.goto(t.url);
    await tab.type('#apiKey', key);
    await Promise.all([tab.waitForNavigation(), tab.click('input[type=submit]')]);
    expect(await tab.$('header')).not.toBeNull();
    // Revoked by another process (as `wallcrawler keys revoke` does): the server's key cache lets it stand for at
    // most its TTL (2 s), then the next page load signs the person out.
    const revokedAt = Date.now();
    await t.store.revokeApiKey(record.id, new Date());
    await waitFor(
      async () => {
        await tab.reload();
        return (await tab.$('#apiKey')) !== null;
      },
      { timeout: 5_000, interval: 250, message: 'the revoked key to sign the person out' },
    );
    expect(Date.now() - revokedAt).toBeLessThan(4_000);
    await tab.close();
  });
});
