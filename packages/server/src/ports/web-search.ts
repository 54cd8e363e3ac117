/** One result of a web search, in Browserbase's `SearchWebResponse.Result` shape. */
export interface WebSearchResult {
  id: string;
  title: string;
  url: string;
  author?: string;
  favicon?: string;
  image?: string;
  /** RFC 3339. */
  publishedDate?: string;
}

/** A web search backend (`POST /v1/search`): a SearXNG instance here (`search/searxng-search.ts`). */
export interface WebSearch {
  /**
   * At most `numResults` results for `query`, best first.
   * @throws SearchUnavailableError when the backend fails, cannot be reached or does not answer in time
   */
  search(query: string, numResults: number): Promise<WebSearchResult[]>;
}
