/**
 * A stand-in for a SearXNG instance's JSON API (SearXNG itself is a Python application, which cannot be installed
 * here): `GET /search?q=…&format=json` answers SearXNG's JSON shape (`query`, `number_of_results`, `results` with
 * `url`, `title`, `content`, `engine`, `publishedDate`, `thumbnail`, `author`, …) from a fixed set of documents,
 * those whose title or content holds every word of the query. Like SearXNG with `json` missing from
 * `search.formats`, any other format is a 403. What it was asked is kept, for a test to check.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SearxngDocument {
  url: string;
  title: string;
  content: string;
  author?: string | null;
  publishedDate?: string | null;
  thumbnail?: string | null;
  img_src?: string | null;
}

export interface SearxngStandIn {
  /** The base URL (`http://127.0.0.1:port`), what `WALLCRAWLER_SEARCH_URL` is set to. */
  url: string;
  /** Each request's path and query, in order. */
  readonly requests: URL[];
  close(): Promise<void>;
}

/** `json: false` answers as an instance whose `search.formats` lacks `json` does: 403 to every JSON search. */
export async function startSearxngStandIn(
  documents: SearxngDocument[],
  { json = true }: { json?: boolean } = {},
): Promise<SearxngStandIn> {
  const requests: URL[] = [];
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://x');
    requests.push(url);
    if (request.method !== 'GET' || url.pathname !== '/search') {
      response.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>');
      return;
    }
    if (!json || url.searchParams.get('format') !== 'json') {
      response.writeHead(403, { 'content-type': 'text/html' }).end('<h1>403 Forbidden</h1>');
      return;
    }
    const query = url.searchParams.get('q') ?? '';
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    const results = documents
      .filter((d) => words.every((w) => `${d.title} ${d.content}`.toLowerCase().includes(w)))
      .map((d, i) => ({
        template: 'default.html',
        engine: 'duckduckgo',
        engines: ['duckduckgo'],
        positions: [i + 1],
        score: 1 / (i + 1),
        category: 'general',
        parsed_url: (() => {
          const u = new URL(d.url);
          return [u.protocol.slice(0, -1), u.host, u.pathname, '', u.search.slice(1), u.hash.slice(1)];
        })(),
        publishedDate: null,
        thumbnail: null,
        img_src: '',
        ...d,
      }));
    response.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        query,
        number_of_results: results.length,
        results,
        answers: [],
        corrections: [],
        infoboxes: [],
        suggestions: [],
        unresponsive_engines: [],
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
