import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type Browserbase from '@browserbasehq/sdk';
import { BadRequestError, InternalServerError, RateLimitError } from '@browserbasehq/sdk';
import { freePort, liveBrowsers, tempDir } from '@wallcrawler/test-support';
import { useTestServer } from '@wallcrawler/test-support/test-server';
import { issueServerCertificate, makeThrowawayCa } from '@wallcrawler/test-support/throwaway-ca';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserbaseProject, expectShape } from '../support/browserbase.js';

/**
 * The official `@browserbasehq/sdk`'s `fetchAPI.create` against a real server and real Chromium, and pages of a
 * server of this file's own (plain and self-signed https): raw bodies and headers, redirects followed or not, a
 * 404, markdown of the rendered DOM, the cap, a URL nothing answers at, one that never answers. After every
 * fetch, its session has ended and no browser is left.
 */

const CAP_MB = 1;
const t = useTestServer({ WALLCRAWLER_FETCH_MAX_MB: String(CAP_MB), WALLCRAWLER_FETCH_TIMEOUT_MS: '8000' });

const PAGE = `<!doctype html><html><head><title>Fetch page</title></head><body>
<h1>Fetched heading</h1><p>Some <strong>bold</strong> text and <a href="/other">a link</a>.</p>
<script>document.body.insertAdjacentHTML('beforeend', '<h2>Added by script</h2>')</script></body></html>`;
const BIG_BYTES = 3 * 1024 * 1024;

function pages(request: IncomingMessage, response: ServerResponse): void {
  switch (new URL(request.url ?? '/', 'http://x').pathname) {
    case '/page':
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'x-page': 'yes' }).end(PAGE);
      return;
    case '/redirect':
      response.writeHead(302, { location: '/page', 'x-hop': 'first' }).end('moved');
      return;
    case '/missing':
      response.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Nothing here</h1>');
      return;
    case '/big':
      response.writeHead(200, { 'content-type': 'text/plain' }).end('x'.repeat(BIG_BYTES));
      return;
    case '/image':
      response.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2]));
      return;
    case '/hang':
      return; // never answers: the fetch's deadline must
    default:
      response.writeHead(204).end();
  }
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(String((server.address() as AddressInfo).port))),
  );
}

describe('@browserbasehq/sdk: fetchAPI.create', () => {
  let client: Browserbase;
  let projectId: string;
  let http: Server;
  let https: Server;
  let site: string;
  let secureSite: string;
  const scratch = tempDir('wallcrawler-fetch-');

  beforeAll(async () => {
    ({
      client,
      project: { id: projectId },
    } = await browserbaseProject(t, 'compat-fetch', 2));
    http = createHttpServer(pages);
    site = `http://127.0.0.1:${await listen(http)}`;
    // Signed by a CA nobody trusts: Chromium refuses it unless told to accept it.
    const ca = makeThrowawayCa(scratch.path);
    https = createHttpsServer(issueServerCertificate(ca, scratch.path), pages);
    secureSite = `https://127.0.0.1:${await listen(https)}`;
  });

  afterAll(async () => {
    for (const server of [http, https]) {
      server?.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
    }
    scratch.remove();
  });

  /** Every fetch's session has ended (COMPLETED), and no browser of the server runs. */
  async function expectReleased(): Promise<void> {
    expect(liveBrowsers(t.dataDir).size, 'browsers left running after the answer').toBe(0);
    const sessions = await client.sessions.list();
    expect(sessions.length).toBeGreaterThan(0);
    expect(sessions.map((s) => s.status).filter((s) => s !== 'COMPLETED')).toEqual([]);
  }

  it('answers the body, status and headers as fetched, in Browserbase shape', async () => {
    const fetched = await client.fetchAPI.create({ url: `${site}/page` });
    expectShape(
      fetched,
      {
        id: 'string',
        content: 'string',
        contentType: 'string',
        encoding: 'string',
        headers: 'object',
        statusCode: 'integer',
      },
      {},
      'FetchAPICreateResponse',
    );
    expect(fetched.statusCode).toBe(200);
    // The body as the server sent it: the script is there, what it adds is not.
    expect(fetched.content).toBe(PAGE);
    expect(fetched.contentType).toBe('text/html');
    expect(fetched.encoding).toBe('utf-8');
    expect(fetched.headers['x-page']).toBe('yes');
    // The fetch ran in a session of the project's own, which has ended.
    const session = await client.sessions.retrieve(fetched.id);
    expect(session.projectId).toBe(projectId);
    expect(session.status).toBe('COMPLETED');
    await expectReleased();
  });

  it('follows redirects by default, and answers the 3xx itself with allowRedirects: false', async () => {
    const followed = await client.fetchAPI.create({ url: `${site}/redirect` });
    expect(followed.statusCode).toBe(200);
    expect(followed.content).toBe(PAGE);

    const notFollowed = await client.fetchAPI.create({ url: `${site}/redirect`, allowRedirects: false });
    expect(notFollowed.statusCode).toBe(302);
    expect(notFollowed.headers.location).toBe('/page');
    expect(notFollowed.headers['x-hop']).toBe('first');
    await expectReleased();
  });

  it('answers a 404 page with its status and body, and a binary body as base64', async () => {
    const missing = await client.fetchAPI.create({ url: `${site}/missing` });
    expect(missing.statusCode).toBe(404);
    expect(missing.content).toBe('<h1>Nothing here</h1>');

    const image = await client.fetchAPI.create({ url: `${site}/image` });
    expect(image.contentType).toBe('image/png');
    expect(image.encoding).toBe('base64');
    expect(Buffer.from(image.content as string, 'base64')).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2]));
    await expectReleased();
  });

  it('answers the rendered page as markdown', async () => {
    const fetched = await client.fetchAPI.create({ url: `${site}/page`, format: 'markdown' });
    expect(fetched.statusCode).toBe(200);
    expect(fetched.contentType).toBe('text/markdown');
    const markdown = fetched.content as string;
    expect(markdown).toContain('# Fetched heading');
    expect(markdown).toContain('Some **bold** text and [a link](/other).');
    // Rendered: what the page's script added is there, the script itself is not.
    expect(markdown).toContain('## Added by script');
    expect(markdown).not.toContain('insertAdjacentHTML');
    // A document that is not HTML is answered as raw answers it.
    const image = await client.fetchAPI.create({ url: `${site}/image`, format: 'markdown' });
    expect(image).toMatchObject({ contentType: 'image/png', encoding: 'base64' });
    await expectReleased();
  });

  it('cuts a body over the cap and says so', async () => {
    const fetched = await client.fetchAPI.create({ url: `${site}/big` });
    expect(fetched.statusCode).toBe(200);
    expect((fetched.content as string).length).toBe(CAP_MB * 1024 * 1024);
    expect((fetched as unknown as { truncated?: boolean }).truncated).toBe(true);

    const small = await client.fetchAPI.create({ url: `${site}/page` });
    expect('truncated' in small).toBe(false);
    await expectReleased();
  });

  it('refuses a self-signed certificate with a clear 502, and accepts it with allowInsecureSsl', async () => {
    const refused = await client.fetchAPI.create({ url: `${secureSite}/page` }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(InternalServerError);
    const error = (refused as InternalServerError).error as { code: string; message: string; statusCode: number };
    expect(error.statusCode).toBe(502);
    expect(error.code).toBe('fetch_failed');
    expect(error.message).toMatch(/net::ERR_CERT_/);
    expect(error.message).toContain('allowInsecureSsl');

    const accepted = await client.fetchAPI.create({ url: `${secureSite}/page`, allowInsecureSsl: true });
    expect(accepted.statusCode).toBe(200);
    expect(accepted.content).toBe(PAGE);
    await expectReleased();
  });

  it('answers 502 with the reason for a port nothing listens on, and 504 for a page that never answers', async () => {
    const port = await freePort();
    const unreachable = await client.fetchAPI.create({ url: `http://127.0.0.1:${port}/` }).catch((e: unknown) => e);
    expect(unreachable).toBeInstanceOf(InternalServerError);
    const error = (unreachable as InternalServerError).error as { code: string; message: string; statusCode: number };
    expect(error.statusCode).toBe(502);
    expect(error.code).toBe('fetch_failed');
    expect(error.message).toContain('net::ERR_CONNECTION_REFUSED');

    const hung = await client.fetchAPI.create({ url: `${site}/hang` }).catch((e: unknown) => e);
    expect(hung).toBeInstanceOf(InternalServerError);
    const timeout = (hung as InternalServerError).error as { code: string; statusCode: number };
    expect(timeout.statusCode).toBe(504);
    expect(timeout.code).toBe('fetch_timeout');
    await expectReleased();
  });

  it("counts against the project's concurrency like any session", async () => {
    const { client: single } = await browserbaseProject(t, 'compat-fetch-single', 1);
    const held = await single.sessions.create({ keepAlive: true });
    try {
      const refused = await single.fetchAPI.create({ url: `${site}/page` }, { maxRetries: 0 }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(RateLimitError);
      expect(((refused as RateLimitError).error as { code: string }).code).toBe('concurrency_limit_exceeded');
    } finally {
      await single.sessions.update(held.id, { status: 'REQUEST_RELEASE' });
    }
    // With the slot free, the same fetch runs.
    expect((await single.fetchAPI.create({ url: `${site}/page` })).statusCode).toBe(200);
    expect(liveBrowsers(t.dataDir).size).toBe(0);
  });

  it('refuses non-http(s) URLs, json without a model, and proxies the project does not have, with 400s', async () => {
    const before = (await client.sessions.list()).length;
    for (const [params, code] of [
      [{ url: 'file:///etc/passwd' }, 'validation_failed'],
      [{ url: 'chrome://version' }, 'validation_failed'],
      [{ url: 'not a url' }, 'validation_failed'],
      // This server has no model configured (browserbase-sdk-fetch-json.test.ts has one).
      [{ url: `${site}/page`, format: 'json', schema: { type: 'object' } }, 'model_not_configured'],
      [{ url: `${site}/page`, proxies: true }, 'proxies_not_configured'],
    ] as const) {
      const refused = await client.fetchAPI.create(params).catch((e: unknown) => e);
      expect(refused, JSON.stringify(params)).toBeInstanceOf(BadRequestError);
      expect(((refused as BadRequestError).error as { code: string }).code).toBe(code);
    }
    // Refused before any session was started.
    expect((await client.sessions.list()).length).toBe(before);
  });
});
