import { createHash } from 'node:crypto';
import { SearchUnavailableError } from '../domain/errors.js';
import type { WebSearch, WebSearchResult } from '../ports/web-search.js';

/** What SearXNG's JSON API (`GET /search?q=…&format=json`) answers, as far as it is read here. */
interface SearxngAnswer {
  results?: {
    url?: unknown;
    title?: unknown;
    author?: unknown;
    thumbnail?: unknown;
    img_src?: unknown;
    publishedDate?: unknown;
  }[];
}

export interface SearxngSearchOptions {
  /** The instance's base URL (`https://searx.example.org`, or with a path prefix). */
  baseUrl: string;
  /** How long one search may take. @default 10 s */
  timeoutMs?: number;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

/**
 * Web search through a SearXNG instance's JSON API. The instance must allow the `json` format
 * (`search.formats` in its `settings.yml`); SearXNG answers 403 otherwise, and the message says so.
 */
export class SearxngSearch implements WebSearch {
  readonly #endpoint: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor({ baseUrl, timeoutMs = 10_000, fetch: fetcher = fetch }: SearxngSearchOptions) {
    this.#endpoint = `${baseUrl.replace(/\/$/, '')}/search`;
    this.#timeoutMs = timeoutMs;
    this.#fetch = fetcher;
  }

  async search(query: string, numResults: number): Promise<WebSearchResult[]> {
    const url = `${this.#endpoint}?${new URLSearchParams({ q: query, format: 'json' })}`;
    let response: Response;
    try {
      response = await this.#fetch(url, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      const reason =
        (error as Error).name === 'TimeoutError' ? `no answer within ${this.#timeoutMs} ms` : 'unreachable';
      throw new SearchUnavailableError(`The search backend (WALLCRAWLER_SEARCH_URL) is ${reason}.`);
    }
    if (response.status === 403) {
      await response.body?.cancel();
      throw new SearchUnavailableError(
        'The search backend refused the JSON format (403): add `json` to `search.formats` in its settings.yml.',
      );
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new SearchUnavailableError(`The search backend answered ${response.status}.`);
    }
    let answer: SearxngAnswer;
    try {
      answer = (await response.json()) as SearxngAnswer;
    } catch {
      throw new SearchUnavailableError('The search backend did not answer JSON.');
    }
    return (answer.results ?? []).flatMap(toResult).slice(0, numResults);
  }
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** A SearXNG result as Browserbase's (none without a URL); the id is stable for a URL. */
function toResult(result: NonNullable<SearxngAnswer['results']>[number]): WebSearchResult[] {
  const url = text(result.url);
  if (!url) return [];
  const author = text(result.author);
  const image = text(result.thumbnail) ?? text(result.img_src);
  const date = text(result.publishedDate) ? new Date(result.publishedDate as string) : undefined;
  return [
    {
      id: createHash('sha256').update(url).digest('hex').slice(0, 32),
      title: text(result.title) ?? url,
      url,
      ...(author ? { author } : {}),
      ...(image ? { image } : {}),
      ...(date && !Number.isNaN(date.getTime()) ? { publishedDate: date.toISOString() } : {}),
    },
  ];
}
