import Browserbase, { InternalServerError } from '@browserbasehq/sdk';
import { type SearxngStandIn, startSearxngStandIn } from '@wallcrawler/test-support/searxng-stand-in';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectShape } from '../support/browserbase.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * The official `@browserbasehq/sdk`'s `search.web`: through a SearXNG instance's JSON API when
 * `WALLCRAWLER_SEARCH_URL` names one (here a stand-in speaking SearXNG's format, `test-support/searxng-stand-in.ts`),
 * a 501 saying how to configure one otherwise, and a 502 when the backend fails.
 */

const DOCUMENTS = [
  {
    url: 'https://example.org/chromium',
    title: 'Chromium remote debugging',
    content: 'How the DevTools protocol drives a browser.',
    author: 'A. Writer',
    publishedDate: '2026-03-01T10:00:00',
    thumbnail: 'https://example.org/chromium.png',
  },
  { url: 'https://example.org/cdp', title: 'The DevTools protocol', content: 'Domains, commands and events.' },
  { url: 'https://example.org/cooking', title: 'Bread', content: 'Flour, water, salt.' },
];

/** The SDK's error body, as it received it. */
const body = (error: unknown) =>
  (error as InternalServerError).error as { statusCode: number; code: string; message: string };

describe('@browserbasehq/sdk: search.web', () => {
  let searxng: SearxngStandIn;
  let app: TestApp;
  let unconfigured: TestApp;

  beforeAll(async () => {
    searxng = await startSearxngStandIn(DOCUMENTS);
    app = await startTestApp({ WALLCRAWLER_SEARCH_URL: searxng.url });
    unconfigured = await startTestApp();
  });

  afterAll(async () => {
    await app?.close();
    await unconfigured?.close();
    await searxng?.close();
  });

  const client = (t: TestApp) => new Browserbase({ apiKey: t.apiKey, baseURL: t.url });

  it("answers the backend's results in Browserbase's shape, best first, at most numResults", async () => {
    const answer = await client(app).search.web({ query: 'DevTools protocol' });
    expectShape(answer, { query: 'string', requestId: 'string', results: 'array' }, {}, 'SearchWebResponse');
    expect(answer.query).toBe('DevTools protocol');
    expect(answer.requestId).not.toBe('');
    expect(answer.results.map((r) => r.url)).toEqual(['https://example.org/chromium', 'https://example.org/cdp']);
    const [first, second] = answer.results;
    expectShape(
      first,
      { id: 'string', title: 'string', url: 'string' },
      { author: 'string', favicon: 'string', image: 'string', publishedDate: 'string' },
      'Result',
    );
    expect(first).toMatchObject({
      title: 'Chromium remote debugging',
      author: 'A. Writer',
      image: 'https://example.org/chromium.png',
      publishedDate: new Date('2026-03-01T10:00:00').toISOString(),
    });
    // Absent fields stay absent (SearXNG's nulls and empty strings are not passed on).
    expect(Object.keys(second ?? {}).sort()).toEqual(['id', 'title', 'url']);
    // Ids are stable for a URL.
    const again = await client(app).search.web({ query: 'DevTools protocol', numResults: 1 });
    expect(again.results.map((r) => r.id)).toEqual([first?.id]);
    // The backend was asked through its JSON API.
    const asked = searxng.requests.at(-1);
    expect(asked?.pathname).toBe('/search');
    expect(asked?.searchParams.get('format')).toBe('json');
    expect(asked?.searchParams.get('q')).toBe('DevTools protocol');
  });

  it('refuses an empty query and numResults outside 1–25 with 400s', async () => {
    for (const params of [
      { query: '' },
      { query: '  ' },
      { query: 'x', numResults: 0 },
      { query: 'x', numResults: 26 },
    ]) {
      const refused = await client(app)
        .search.web(params)
        .catch((e: unknown) => e);
      expect(body(refused).statusCode, JSON.stringify(params)).toBe(400);
      expect(body(refused).code).toBe('validation_failed');
    }
  });

  it('answers 501 not_supported naming WALLCRAWLER_SEARCH_URL when no backend is configured', async () => {
    const refused = await client(unconfigured)
      .search.web({ query: 'anything' })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(InternalServerError);
    expect(body(refused).statusCode).toBe(501);
    expect(body(refused).code).toBe('not_supported');
    expect(body(refused).message).toContain('WALLCRAWLER_SEARCH_URL');
    expect(body(refused).message).toContain('SearXNG');
  });

  it('answers 502 saying how to fix an instance that does not allow the json format', async () => {
    const htmlOnly = await startSearxngStandIn(DOCUMENTS, { json: false });
    const pointed = await startTestApp({ WALLCRAWLER_SEARCH_URL: htmlOnly.url });
    try {
      const refused = await client(pointed)
        .search.web({ query: 'DevTools' }, { maxRetries: 0 })
        .catch((e: unknown) => e);
      expect(body(refused).statusCode).toBe(502);
      expect(body(refused).code).toBe('search_unavailable');
      expect(body(refused).message).toContain('search.formats');
    } finally {
      await pointed.close();
      await htmlOnly.close();
    }
  });

  it('answers 502 search_unavailable when the backend is gone', async () => {
    const gone = await startSearxngStandIn([]);
    const pointed = await startTestApp({ WALLCRAWLER_SEARCH_URL: gone.url });
    try {
      await gone.close();
      const refused = await client(pointed)
        .search.web({ query: 'anything' }, { maxRetries: 0 })
        .catch((e: unknown) => e);
      expect(body(refused).statusCode).toBe(502);
      expect(body(refused).code).toBe('search_unavailable');
      expect(body(refused).message).toContain('unreachable');
    } finally {
      await pointed.close();
    }
  });
});
