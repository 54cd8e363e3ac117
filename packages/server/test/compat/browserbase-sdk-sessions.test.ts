/// <reference lib="dom" />

import Browserbase, { AuthenticationError, BadRequestError, NotFoundError, RateLimitError } from '@browserbasehq/sdk';
import { expectNothingLeft, waitFor } from '@wallcrawler/test-support';
import { usePageServer, useTestServer } from '@wallcrawler/test-support/test-server';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProjectRecord } from '../../src/domain/model.js';
import {
  browserbaseProject,
  expectCreateResponse,
  expectLiveUrls,
  expectProject,
  expectRetrieveResponse,
  expectSession,
  expectShape,
} from '../support/browserbase.js';

/**
 * The official `@browserbasehq/sdk` (2.21), pointed at Wallcrawler with only `apiKey` and `baseURL`, against a real
 * server and real Chromium: sessions, projects and the SDK's error classes. One browser is launched for the whole
 * file, in a project whose concurrency is 1, so the same session also proves the 429. The other resources are in
 * `browserbase-sdk-contexts.test.ts`, `browserbase-sdk-artifacts.test.ts` and `browserbase-sdk-env.test.ts`.
 */

const pages = usePageServer();
const t = useTestServer();
let project: ProjectRecord;
let bb: Browserbase;

beforeAll(async () => {
  ({ project, client: bb } = await browserbaseProject(t, 'compat', 1));
});

describe('@browserbasehq/sdk against Wallcrawler', () => {
  let session: Browserbase.Sessions.SessionCreateResponse;
  let browser: Browser | undefined;

  afterAll(async () => {
    await browser?.disconnect().catch(() => {});
  });

  it('creates a session with viewport, metadata, keepAlive, region and api_timeout', async () => {
    session = await bb.sessions.create({
      projectId: project.id,
      api_timeout: 600,
      keepAlive: true,
      region: 'eu-central-1',
      userMetadata: { suite: 'compat', nested: { run: '1' } },
      browserSettings: { viewport: { width: 1024, height: 700 } },
    });
    expectCreateResponse(session);
    expect(session).not.toHaveProperty('success');
    expect(session).not.toHaveProperty('data');
    expect(session).toMatchObject({
      projectId: project.id,
      status: 'RUNNING',
      keepAlive: true,
      region: 'eu-central-1',
      proxyBytes: 0,
      userMetadata: { suite: 'compat', nested: { run: '1' } },
    });
    // `api_timeout` travels as the body's `timeout`, in seconds.
    expect(Date.parse(session.expiresAt) - Date.parse(session.startedAt)).toBe(600_000);
    expect(session.connectUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/\?signingKey=/);
    expect(session.seleniumRemoteUrl).toMatch(/^http:\/\//);
    expect(session.signingKey.length).toBeGreaterThan(0);
  });

  it('answers a create over the concurrency with RateLimitError, without starting anything', async () => {
    const error = await bb.sessions.create({}, { maxRetries: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    const rateLimit = error as RateLimitError;
    expect(rateLimit.status).toBe(429);
    expect(Number(rateLimit.headers?.['retry-after'])).toBeGreaterThan(0);
    expect(rateLimit.error).toMatchObject({ statusCode: 429, code: 'concurrency_limit_exceeded' });
    expect(rateLimit.message).toMatch(/^429 .*concurrency limit of 1/);
    expect((await t.store.listSessions(project.id)).map((s) => s.id)).toEqual([session.id]);
  });

  it('lists sessions as a bare array, filtered by status and q', async () => {
    const running = await bb.sessions.list({ status: 'RUNNING' });
    expect(Array.isArray(running)).toBe(true);
    expect(running.map((s) => s.id)).toEqual([session.id]);
    for (const s of running) expectSession(s);

    expect((await bb.sessions.list({ q: "user_metadata['suite']:'compat'" })).map((s) => s.id)).toEqual([session.id]);
    expect(
      (await bb.sessions.list({ status: 'RUNNING', q: "user_metadata['nested']['run']:'1'" })).map((s) => s.id),
    ).toEqual([session.id]);
    expect(await bb.sessions.list({ q: "user_metadata['suite']:'other'" })).toEqual([]);
    expect(await bb.sessions.list({ status: 'COMPLETED' })).toEqual([]);
  });

  it('retrieves the running session with its connect URLs', async () => {
    const retrieved = await bb.sessions.retrieve(session.id);
    expectRetrieveResponse(retrieved);
    expect(retrieved).toMatchObject({ id: session.id, status: 'RUNNING', connectUrl: expect.any(String) });
  });

  it('debugs: the live URLs list the page puppeteer navigated, with its url and title', async () => {
    browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
    const page = (await browser.pages())[0] ?? (await browser.newPage());
    const url = `${pages.url}/title/Compat%20Page`;
    await page.goto(url);
    expect(await page.evaluate(() => [window.innerWidth, window.innerHeight])).toEqual([1024, 700]);

    const live = await waitFor(
      async () => {
        const urls = await bb.sessions.debug(session.id);
        return urls.pages.some((p) => p.url === url && p.title === 'Compat Page') ? urls : undefined;
      },
      { message: 'the navigated page in the live URLs' },
    );
    expectLiveUrls(live);
    const listed = live.pages.find((p) => p.url === url);
    expect(listed?.debuggerUrl).toMatch(/^http:\/\//);
    expect(listed?.debuggerFullscreenUrl).toMatch(/^http:\/\//);
    expect(live.debuggerUrl.length).toBeGreaterThan(0);
    expect(live.debuggerFullscreenUrl.length).toBeGreaterThan(0);
    expect(live.wsUrl).toMatch(/^ws:\/\//);

    expectLiveUrls(await bb.sessions.debug(session.id, { expiresIn: 120 }));
    await browser.disconnect();
    browser = undefined;
  });

  it('releases with REQUEST_RELEASE, idempotently', async () => {
    const first = await bb.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
    expectSession(first);
    expect(first).toMatchObject({ id: session.id, status: 'COMPLETED', endedAt: expect.any(String) });

    const second = await bb.sessions.update(session.id, { status: 'REQUEST_RELEASE', projectId: project.id });
    expectSession(second);
    expect(second).toEqual(first);

    const retrieved = await bb.sessions.retrieve(session.id);
    expectRetrieveResponse(retrieved);
    expect(retrieved.status).toBe('COMPLETED');
    expect(retrieved.connectUrl).toBeUndefined();
    expect((await bb.sessions.list({ status: 'COMPLETED' })).map((s) => s.id)).toEqual([session.id]);
    await expectNothingLeft(t.dataDir);
  });

  it('lists, retrieves and reports usage of projects', async () => {
    const list = await bb.projects.list();
    expect(Array.isArray(list)).toBe(true);
    expect(list.map((p) => p.id)).toEqual([project.id]);
    for (const p of list) expectProject(p);

    const retrieved = await bb.projects.retrieve(project.id);
    expectProject(retrieved);
    expect(retrieved).toMatchObject({ id: project.id, name: 'compat', concurrency: 1, defaultTimeout: 300 });

    const usage = await bb.projects.usage(project.id);
    expectShape(usage, { browserMinutes: 'number', proxyBytes: 'number' }, {}, 'ProjectUsage');
    expect(usage.browserMinutes).toBeGreaterThanOrEqual(1);
    expect(usage.proxyBytes).toBe(0);
  });

  it('maps 404, 401 and 400 to the SDK error classes, with the message at the top level', async () => {
    const missing = await bb.sessions.retrieve('no-such-session').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect((missing as NotFoundError).status).toBe(404);
    expect((missing as NotFoundError).message).toBe('404 Session no-such-session was not found.');
    expect((missing as NotFoundError).error).toMatchObject({ code: 'session_not_found' });

    // A project the key does not cover is indistinguishable from a missing one.
    expect(await bb.projects.retrieve(t.projectId).catch((e: unknown) => e)).toBeInstanceOf(NotFoundError);

    const stranger = new Browserbase({ apiKey: 'wc_not_a_key', baseURL: t.url, maxRetries: 0 });
    expect(await stranger.sessions.list().catch((e: unknown) => e)).toBeInstanceOf(AuthenticationError);

    const invalid = await bb.sessions.create({ api_timeout: 30 }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(BadRequestError);
    expect((invalid as BadRequestError).message).toMatch(/^400 .*body\.timeout/);
  });

  it('leaves no session running and no process behind', async () => {
    expect(await bb.sessions.list({ status: 'RUNNING' })).toEqual([]);
    expect((await t.store.listSessions(project.id)).length).toBe(1);
    await expectNothingLeft(t.dataDir);
  });
});
