import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { NotSupportedError } from '../domain/errors.js';
import type { AppEnv } from '../http/app-env.js';
import type { WebSearch } from '../ports/web-search.js';
import { errorResponses, pickErrors } from '../schemas/error.js';
import { jsonContent } from '../schemas/json-content.js';
import { SearchParamsSchema, SearchResponseSchema } from '../schemas/search.js';

const DEFAULT_RESULTS = 10;

const webSearch = createRoute({
  method: 'post',
  path: '/v1/search',
  operationId: 'searchWeb',
  tags: ['Search'],
  summary: 'Search the web through the configured search backend',
  request: { body: { required: true, content: jsonContent(SearchParamsSchema) } },
  responses: {
    200: { description: 'The results, best first.', content: jsonContent(SearchResponseSchema) },
    ...pickErrors(400, 401, 403, 415, 500, 501),
    502: {
      description: 'The search backend failed, could not be reached or did not answer in time (`search_unavailable`).',
      content: errorResponses[502].content,
    },
  },
});

export function registerSearchRoutes(app: OpenAPIHono<AppEnv>, { search }: { search: WebSearch | undefined }) {
  app.openapi(webSearch, async (c) => {
    if (!search) {
      throw new NotSupportedError(
        'Web search needs a search backend, and none is configured: set WALLCRAWLER_SEARCH_URL to the base URL of a SearXNG instance whose settings.yml allows the json format (search.formats).',
      );
    }
    const { query, numResults = DEFAULT_RESULTS } = c.req.valid('json');
    const results = await search.search(query, numResults);
    return c.json({ query, requestId: c.get('requestId') ?? '', results }, 200);
  });
}
