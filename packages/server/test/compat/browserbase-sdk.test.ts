/// <reference lib="dom" />

import { createReadStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Browserbase, {
  AuthenticationError,
  BadRequestError,
  ConflictError,
  NotFoundError,
  RateLimitError,
  toFile,
} from '@browserbasehq/sdk';
import { expectNothingLeft, tempDir, waitFor } from '@wallcrawler/test-support';
import { usePageServer, useTestServer } from '@wallcrawler/test-support/test-server';
import { chromium } from 'playwright-core';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yazl from 'yazl';
import { generateApiKey } from '../../src/api-keys.js';
import { newProject } from '../../src/bootstrap.js';
import type { ProjectRecord } from '../../src/domain/model.js';

/**
 * The official `@browserbasehq/sdk` (2.21), pointed at Wallcrawler with only `apiKey` and `baseURL`, against a real
 * server and real Chromium. One browser is launched for the whole file, in a project whose concurrency is 1, so
 * the same session also proves the 429.
 */

const REGIONS = ['us-west-2', 'us-east-1', 'eu-central-1', 'ap-southeast-1'];
const STATUSES = ['PENDING', 'RUNNING', 'ERROR', 'TIMED_OUT', 'COMPLETED'];
const ISO_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

/** `Session` (reference/browserbase-api.md §2.1): the required fields and their types, the optional ones' types. */
const SESSION_REQUIRED = {
  id: 'string',
  createdAt: 'date',
  updatedAt: 'date',
  startedAt: 'date',
  expiresAt: 'date',
  keepAlive: 'boolean',
  projectId: 'string',
  proxyBytes: 'integer',
  region: 'region',
  status: 'status',
} as const;
const SESSION_OPTIONAL = { endedAt: 'date', contextId: 'string', userMetadata: 'object' } as const;
const CONNECT_FIELDS = { connectUrl: 'string', seleniumRemoteUrl: 'string', signingKey: 'string' } as const;
type Kind = 'string' | 'date' | 'boolean' | 'integer' | 'number' | 'region' | 'status' | 'object' | 'array';

function hasKind(value: unknown, kind: Kind): boolean {
  switch (kind) {
    case 'date':
      return typeof value === 'string' && ISO_DATE.test(value);
    case 'integer':
      return Number.isInteger(value);
    case 'region':
      return REGIONS.includes(value as string);
    case 'status':
      return STATUSES.includes(value as string);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    default:
      return typeof value === kind;
  }
}

/** Every required field present with its type, optional ones typed when present, and no other field. */
function expectShape(
  value: unknown,
  required: Record<string, Kind>,
  optional: Record<string, Kind> = {},
  what = 'body',
): void {
  expect(hasKind(value, 'object'), `${what} is an object`).toBe(true);
  const body = value as Record<string, unknown>;
  for (const [field, kind] of Object.entries(required)) {
    expect(field in body, `${what}.${field} is present`).toBe(true);
    expect(hasKind(body[field], kind), `${what}.${field} is ${kind}, got ${JSON.stringify(body[field])}`).toBe(true);
  }
  for (const [field, kind] of Object.entries(optional)) {
    if (field in body) {
      expect(hasKind(body[field], kind), `${what}.${field} is ${kind}, got ${JSON.stringify(body[field])}`).toBe(true);
    }
  }
  const known = new Set([...Object.keys(required), ...Object.keys(optional)]);
  expect(
    Object.keys(body).filter((k) => !known.has(k)),
    `${what} has only known fields`,
  ).toEqual([]);
}

const expectSession = (value: unknown, what = 'Session') =>
  expectShape(value, SESSION_REQUIRED, SESSION_OPTIONAL, what);
const expectCreateResponse = (value: unknown) =>
  expectShape(value, { ...SESSION_REQUIRED, ...CONNECT_FIELDS }, SESSION_OPTIONAL, 'SessionCreateResponse');
const expectRetrieveResponse = (value: unknown) =>
  expectShape(value, SESSION_REQUIRED, { ...SESSION_OPTIONAL, ...CONNECT_FIELDS }, 'SessionRetrieveResponse');
const expectProject = (value: unknown) =>
  expectShape(
    value,
    {
      id: 'string',
      name: 'string',
      ownerId: 'string',
      createdAt: 'date',
      updatedAt: 'date',
      defaultTimeout: 'number',
      concurrency: 'number',
    },
    {},
    'Project',
  );
function expectLiveUrls(value: unknown) {
  expectShape(
    value,
    { debuggerFullscreenUrl: 'string', debuggerUrl: 'string', wsUrl: 'string', pages: 'array' },
    {},
    'SessionLiveURLs',
  );
  for (const page of (value as { pages: unknown[] }).pages) {
    expectShape(
      page,
      {
        id: 'string',
        url: 'string',
        title: 'string',
        faviconUrl: 'string',
        debuggerUrl: 'string',
        debuggerFullscreenUrl: 'string',
      },
      {},
      'SessionLiveURLs.pages[]',
    );
  }
}

const pages = usePageServer();
const t = useTestServer();
let project: ProjectRecord;
let bb: Browserbase;

beforeAll(async () => {
  project = newProject('compat', { concurrency: 1 });
  await t.store.createProject(project);
  const { key, record } = generateApiKey('compat', [project.id]);
  await t.store.createApiKey(record);
  bb = new Browserbase({ apiKey: key, baseURL: t.url });
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

describe('@browserbasehq/sdk: contexts, extensions and session artifacts', () => {
  let client: Browserbase;
  let projectId: string;
  const scratch = tempDir('wallcrawler-compat-');
  afterAll(() => scratch.remove());

  beforeAll(async () => {
    const artifacts = newProject('compat-artifacts', { concurrency: 5 });
    await t.store.createProject(artifacts);
    const { key, record } = generateApiKey('compat-artifacts', [artifacts.id]);
    await t.store.createApiKey(record);
    projectId = artifacts.id;
    client = new Browserbase({ apiKey: key, baseURL: t.url });
  });

  it('creates, retrieves, updates and deletes contexts, and a persisted one carries a cookie to the next session', async () => {
    const created = await client.contexts.create({ projectId });
    expectShape(
      created,
      {
        id: 'string',
        cipherAlgorithm: 'string',
        initializationVectorSize: 'integer',
        publicKey: 'string',
        uploadUrl: 'string',
      },
      {},
      'ContextCreateResponse',
    );
    expectShape(
      await client.contexts.retrieve(created.id),
      { id: 'string', createdAt: 'date', updatedAt: 'date', projectId: 'string' },
      { name: 'string' },
      'Context',
    );
    expect((await client.contexts.update(created.id)).id).toBe(created.id);

    const first = await client.sessions.create({ browserSettings: { context: { id: created.id, persist: true } } });
    expect(first.contextId).toBe(created.id);
    const again = await client.sessions
      .create({ browserSettings: { context: { id: created.id, persist: true } } }, { maxRetries: 0 })
      .catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ConflictError);
    const b1 = await puppeteer.connect({ browserWSEndpoint: first.connectUrl, defaultViewport: null });
    const [p1] = await b1.pages();
    await p1?.goto(pages.url);
    await p1?.evaluate(() => {
      // biome-ignore lint/suspicious/noDocumentCookie: the page's own cookie is what a context must keep
      document.cookie = 'compat=kept; max-age=3600; path=/';
    });
    await b1.disconnect();
    await client.sessions.update(first.id, { status: 'REQUEST_RELEASE' });

    const second = await client.sessions.create({ browserSettings: { context: { id: created.id } } });
    const b2 = await puppeteer.connect({ browserWSEndpoint: second.connectUrl, defaultViewport: null });
    const [p2] = await b2.pages();
    await p2?.goto(pages.url);
    expect(await p2?.evaluate(() => document.cookie)).toBe('compat=kept');
    await b2.disconnect();
    await client.sessions.update(second.id, { status: 'REQUEST_RELEASE' });

    await client.contexts.delete(created.id);
    await expect(client.contexts.retrieve(created.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('uploads, retrieves and deletes an extension, and a session loads it', async () => {
    const zip = new yazl.ZipFile();
    zip.addBuffer(
      Buffer.from(JSON.stringify({ manifest_version: 3, name: 'compat', version: '1.0' })),
      'manifest.json',
    );
    zip.end();
    const chunks: Buffer[] = [];
    for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
    const path = join(scratch.path, 'compat-extension.zip');
    writeFileSync(path, Buffer.concat(chunks));

    const extension = await client.extensions.create({ file: createReadStream(path) });
    expectShape(
      extension,
      { id: 'string', createdAt: 'date', updatedAt: 'date', fileName: 'string', projectId: 'string' },
      {},
      'Extension',
    );
    expect(extension.fileName).toBe('compat-extension.zip');
    expect(await client.extensions.retrieve(extension.id)).toEqual(extension);
    const session = await client.sessions.create({ extensionId: extension.id });
    const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
    const cdp = await browser.target().createCDPSession();
    const listed = (await cdp.send('Extensions.getExtensions' as never)) as { extensions: { name: string }[] };
    expect(listed.extensions.map((e) => e.name)).toEqual(['compat']);
    await browser.disconnect();
    await client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
    await client.extensions.delete(extension.id);
    await expect(client.extensions.retrieve(extension.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('serves uploads, logs, the recording, replays, recording downloads and downloads in their shapes', async () => {
    const session = await client.sessions.create();
    const upload = await client.sessions.uploads.create(session.id, {
      file: await toFile(Buffer.from('compat upload'), 'compat.txt'),
    });
    expect(typeof upload.message).toBe('string');

    const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
    await (await browser.pages())[0]?.goto(`${pages.url}/title/Compat`);
    await waitFor(async () => (await client.sessions.recording.retrieve(session.id)).some((e) => e.type === 2));
    await browser.disconnect();
    await client.sessions.update(session.id, { status: 'REQUEST_RELEASE' });

    const logs = await client.sessions.logs.list(session.id);
    const navigate = logs.find((l) => l.method === 'Page.navigate');
    expect(navigate).toMatchObject({ pageId: expect.any(Number), sessionId: session.id });
    expect(typeof navigate?.request?.rawBody).toBe('string');
    expect(typeof navigate?.response?.rawBody).toBe('string');

    const recording = await client.sessions.recording.retrieve(session.id);
    for (const event of recording.slice(0, 5)) {
      expect(event).toMatchObject({ sessionId: session.id, timestamp: expect.any(Number), type: expect.any(Number) });
      expect(hasKind(event.data, 'object')).toBe(true);
    }

    const replays = await client.sessions.replays.retrieve(session.id);
    expect(replays.pageCount).toBe(replays.pages.length);
    expect(replays.pages[0]).toMatchObject({
      pageId: '0',
      startTimeMs: expect.any(Number),
      endTimeMs: expect.any(Number),
      url: expect.any(String),
    });
    const downloads = await client.sessions.recording.downloads.create(session.id);
    expect(downloads.downloads.every((d) => d.status === 'FAILED')).toBe(true);
    expect(await client.sessions.recording.downloads.list(session.id)).toEqual(downloads);

    const zip = await client.sessions.downloads.list(session.id);
    const bytes = Buffer.from(await zip.arrayBuffer());
    // A valid empty zip: just the end-of-central-directory record.
    expect(bytes.subarray(0, 4).toString('hex')).toBe('504b0506');
  });
});

describe('@browserbasehq/sdk configured by the environment, with Playwright on the connectUrl', () => {
  const saved = { ...process.env };
  let client: Browserbase;

  beforeAll(async () => {
    const envProject = newProject('compat-env', { concurrency: 2 });
    await t.store.createProject(envProject);
    const { key, record } = generateApiKey('compat-env', [envProject.id]);
    await t.store.createApiKey(record);
    process.env.BROWSERBASE_API_KEY = key;
    process.env.BROWSERBASE_BASE_URL = t.url;
    client = new Browserbase();
  });

  afterAll(() => {
    process.env = saved;
  });

  it('creates from BROWSERBASE_BASE_URL and BROWSERBASE_API_KEY alone; Playwright drives the session', async () => {
    const session = await client.sessions.create();
    expectCreateResponse(session);
    const browser = await chromium.connectOverCDP(session.connectUrl);
    const page = browser.contexts()[0]?.pages()[0] ?? (await browser.contexts()[0]?.newPage());
    await page?.goto(`${pages.url}/title/Playwright`);
    expect(await page?.title()).toBe('Playwright');
    const debug = await client.sessions.debug(session.id);
    expect(debug.pages.map((p) => p.title)).toContain('Playwright');
    await browser.close();
    // Not keepAlive: the last client leaving ends it.
    await waitFor(async () => (await client.sessions.retrieve(session.id)).status === 'COMPLETED', {
      message: 'the session to end when Playwright disconnects',
    });
  });

  it('answers replays.retrievePage (HLS video) with 501: there is no video', async () => {
    const [session] = await client.sessions.list({ status: 'COMPLETED' });
    const error = await client.sessions.replays
      .retrievePage(session?.id ?? '', '0', { maxRetries: 0 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Browserbase.APIError);
    expect((error as InstanceType<typeof Browserbase.APIError>).status).toBe(501);
  });
});
