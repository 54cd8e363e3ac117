import { readFileSync } from 'node:fs';
import Browserbase, { BadRequestError, toFile } from '@browserbasehq/sdk';
import type { SessionCreateParams } from '@browserbasehq/sdk/resources/sessions/sessions';
import { expectNothingLeft, type PageServer, startPageServer } from '@wallcrawler/test-support';
import { startUpstreamProxy, type UpstreamProxy } from '@wallcrawler/test-support/http-proxy';
import { useTestServer } from '@wallcrawler/test-support/test-server';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yazl from 'yazl';
import { CREATE_FIELDS, IGNORED_FIELDS_HEADER } from '../../src/http/create-fields.js';

/**
 * Browserbase's own "all optional params" create body (every field the SDK's types allow, each set to a value that
 * asks for the feature) against a real server: each field gets the treatment `docs/compatibility.md` gives it.
 */

async function extensionZip(): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  zip.addBuffer(
    Buffer.from(JSON.stringify({ manifest_version: 3, name: 'all-params', version: '1.0' })),
    'manifest.json',
  );
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The SDK's `SessionCreateParams` with every field set: `Required<>` makes the compiler name any field we miss. */
function allOptionalParams(projectId: string, contextId: string, extensionId: string, proxyUrl: string) {
  const browserSettings = {
    advancedStealth: true,
    allowedDomains: ['example.com'],
    blockAds: true,
    captchaImageSelector: '#captcha-image',
    captchaInputSelector: '#captcha-input',
    context: { id: contextId, persist: false },
    extensionId,
    ignoreCertificateErrors: true,
    logSession: false,
    os: 'linux',
    recordSession: false,
    solveCaptchas: true,
    verified: true,
    viewport: { width: 1024, height: 700 },
  } satisfies Required<SessionCreateParams.BrowserSettings>;
  const params = {
    browserSettings,
    extensionId,
    keepAlive: true,
    projectId,
    proxies: [
      { type: 'browserbase', domainPattern: '.*', geolocation: { country: 'US', city: 'New York', state: 'NY' } },
      { type: 'external', server: proxyUrl, domainPattern: '.*\\.wallcrawler\\.test', username: 'u', password: 'p' },
      { type: 'none', domainPattern: 'localhost' },
    ],
    proxySettings: { caCertificates: ['cert_1'] },
    region: 'eu-central-1',
    api_timeout: 600,
    userMetadata: { run: 'all-params', nested: { n: 1 } },
  } satisfies Required<SessionCreateParams>;
  return params;
}

/** Refused outright, or for some values (`proxies: true`, entries of type `browserbase`). */
const REFUSED = CREATE_FIELDS.filter((f) => f.treatment === 'refused' || f.treatment === 'partly').map((f) => f.path);
const IGNORED = CREATE_FIELDS.filter((f) => f.treatment === 'ignored').map((f) => f.path);
/** `fingerprint` is the one legacy field: no longer in the SDK's types, still sent by Stagehand 3. */
const IGNORED_IN_SDK_BODY = IGNORED.filter((p) => p !== 'browserSettings.fingerprint');

const headerList = (value: string | null) => (value ? value.split(', ').sort() : []);

describe('the create fields of Browserbase, each with its documented treatment', () => {
  const refusing = useTestServer();
  const ignoring = useTestServer({ WALLCRAWLER_UNSUPPORTED_FIELDS: 'ignore' });
  const clients = {} as { refusing: Browserbase; ignoring: Browserbase };
  const setup = {} as Record<'refusing' | 'ignoring', { contextId: string; extensionId: string }>;

  let proxy: UpstreamProxy;
  let site: PageServer;

  beforeAll(async () => {
    site = await startPageServer();
    // The sessions' proxy of their own: it alone knows where site.wallcrawler.test is.
    proxy = await startUpstreamProxy({
      username: 'u',
      password: 'p',
      hosts: { 'site.wallcrawler.test': new URL(site.url).host },
    });
    const zip = await extensionZip();
    for (const [name, server] of [
      ['refusing', refusing],
      ['ignoring', ignoring],
    ] as const) {
      const client = new Browserbase({ apiKey: server.apiKey, baseURL: server.url });
      clients[name] = client;
      const context = await client.contexts.create({ projectId: server.projectId });
      const extension = await client.extensions.create({ file: await toFile(zip, 'all-params.zip') });
      setup[name] = { contextId: context.id, extensionId: extension.id };
    }
  });

  afterAll(async () => {
    await proxy?.close();
    await site?.close();
  });

  it('refuses the whole body with one 400 that names every refused field and its alternative, and starts nothing', async () => {
    const { contextId, extensionId } = setup.refusing;
    const error = await clients.refusing.sessions
      .create(allOptionalParams(refusing.projectId, contextId, extensionId, proxy.url))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    const body = (error as BadRequestError).error as {
      code: string;
      details: { path: string; message: string }[];
      message: string;
    };
    expect(body.code).toBe('unsupported_field');
    expect(body.details.map((d) => d.path.replace(/^body\./, '')).sort()).toEqual([...REFUSED].sort());
    expect(body.message).toMatch(/proxies is not supported: .*managed proxies .*type": "external"/);
    expect(body.message).toMatch(
      /browserSettings\.ignoreCertificateErrors is not supported: .*Security\.setIgnoreCertificateErrors/,
    );
    expect(body.message).toContain('WALLCRAWLER_UNSUPPORTED_FIELDS=ignore');
    expect(await clients.refusing.sessions.list()).toEqual([]);
  });

  it('refuses each refused field on its own, and accepts its harmless values', async () => {
    const cases: [Record<string, unknown>, boolean][] = [
      [{ proxies: true }, false],
      [{ proxies: [{ type: 'browserbase' }] }, false],
      [{ proxies: [{ type: 'external', server: proxy.url, username: 'u', password: 'p' }] }, true],
      [{ proxies: false }, true],
      [{ proxies: [{ type: 'none' }] }, true],
      [{ browserSettings: { allowedDomains: ['example.com'] } }, false],
      [{ browserSettings: { allowedDomains: [] } }, true],
      [{ browserSettings: { ignoreCertificateErrors: true } }, false],
      [{ browserSettings: { ignoreCertificateErrors: false } }, true],
    ];
    for (const [body, accepted] of cases) {
      const response = await fetch(`${refusing.url}/v1/sessions`, {
        method: 'POST',
        headers: { 'x-bb-api-key': refusing.apiKey, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status, JSON.stringify(body)).toBe(accepted ? 201 : 400);
      const json = (await response.json()) as { id: string; code?: string };
      if (accepted) {
        expect(response.headers.get(IGNORED_FIELDS_HEADER), JSON.stringify(body)).toBeNull();
        await clients.refusing.sessions.update(json.id, { status: 'REQUEST_RELEASE' });
      } else {
        expect(json.code).toBe('unsupported_field');
      }
    }
  });

  it('accepts the body without the refused fields: supported ones take effect, ignored ones are named in the header', async () => {
    const { contextId, extensionId } = setup.refusing;
    const params = allOptionalParams(refusing.projectId, contextId, extensionId, proxy.url);
    const { data: session, response } = await clients.refusing.sessions
      .create({
        ...params,
        // Without the `browserbase` entry: the `external` one takes this session's traffic to *.wallcrawler.test.
        proxies: params.proxies.filter((p) => p.type !== 'browserbase'),
        browserSettings: { ...params.browserSettings, allowedDomains: [], ignoreCertificateErrors: false },
      })
      .withResponse();
    expect(response.status).toBe(201);
    expect(headerList(response.headers.get(IGNORED_FIELDS_HEADER))).toEqual([...IGNORED_IN_SDK_BODY].sort());

    // The supported fields, each doing what Browserbase documents.
    expect(session).toMatchObject({
      projectId: refusing.projectId,
      keepAlive: true,
      region: 'eu-central-1',
      contextId,
      userMetadata: { run: 'all-params', nested: { n: 1 } },
      status: 'RUNNING',
    });
    expect(Date.parse(session.expiresAt) - Date.parse(session.startedAt)).toBeGreaterThanOrEqual(599_000);
    expect(Date.parse(session.expiresAt) - Date.parse(session.startedAt)).toBeLessThanOrEqual(601_000);
    const browser = await chromium.connectOverCDP(session.connectUrl);
    const cdp = await browser.newBrowserCDPSession();
    const { extensions } = (await cdp.send('Extensions.getExtensions' as never)) as { extensions: { name: string }[] };
    expect(extensions.map((e) => e.name)).toEqual(['all-params']);
    const page = browser.contexts()[0]?.pages()[0];
    expect(await page?.evaluate(() => [window.innerWidth, window.innerHeight])).toEqual([1024, 700]);
    await page?.goto('http://site.wallcrawler.test/title/All%20params');
    expect(await page?.title()).toBe('All params');
    expect(proxy.requests.some((r) => r.target.includes('site.wallcrawler.test') && r.credentials === 'u:p')).toBe(
      true,
    );
    await browser.close();
    await clients.refusing.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
    expect((await clients.refusing.sessions.retrieve(session.id)).proxyBytes).toBeGreaterThan(0);
    // logSession: false and recordSession: false.
    expect(await clients.refusing.sessions.logs.list(session.id)).toEqual([]);
    expect(await clients.refusing.sessions.recording.retrieve(session.id)).toEqual([]);
  });

  it('with WALLCRAWLER_UNSUPPORTED_FIELDS=ignore, accepts the whole body and names the refused fields as ignored too', async () => {
    const { contextId, extensionId } = setup.ignoring;
    const { data: session, response } = await clients.ignoring.sessions
      .create(allOptionalParams(ignoring.projectId, contextId, extensionId, proxy.url))
      .withResponse();
    expect(response.status).toBe(201);
    expect(headerList(response.headers.get(IGNORED_FIELDS_HEADER))).toEqual(
      [...REFUSED, ...IGNORED_IN_SDK_BODY].sort(),
    );
    await clients.ignoring.sessions.update(session.id, { status: 'REQUEST_RELEASE' });
  });

  it('names unknown fields and the legacy fingerprint as ignored', async () => {
    const response = await fetch(`${refusing.url}/v1/sessions`, {
      method: 'POST',
      headers: { 'x-bb-api-key': refusing.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({
        aFieldFromTheFuture: { nested: true },
        browserSettings: { fingerprint: { devices: ['desktop'] }, solveCaptchas: false, advancedStealth: false },
      }),
    });
    expect(response.status).toBe(201);
    expect(headerList(response.headers.get(IGNORED_FIELDS_HEADER))).toEqual([
      'aFieldFromTheFuture',
      'browserSettings.fingerprint',
    ]);
    const { id } = (await response.json()) as { id: string };
    await clients.refusing.sessions.update(id, { status: 'REQUEST_RELEASE' });
  });

  it('leaves no process or directory behind', async () => {
    await expectNothingLeft(refusing.dataDir);
    await expectNothingLeft(ignoring.dataDir);
  });

  it('docs/compatibility.md lists every create field with the treatment the server gives it', () => {
    const docs = readFileSync(new URL('../../../../docs/compatibility.md', import.meta.url), 'utf8');
    const section = docs.split('<!-- create-fields:start -->')[1]?.split('<!-- create-fields:end -->')[0] ?? '';
    const rows = [...section.matchAll(/^\| `([^`]+)` \| (supported|partly|ignored|refused) \|/gm)].map((m) => [
      m[1],
      m[2],
    ]);
    expect(rows).toEqual(CREATE_FIELDS.map((f) => [f.path, f.treatment]));
  });
});
