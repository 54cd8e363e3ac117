import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { FetchService } from '../fetch/fetch-service.js';
import type { AppEnv } from '../http/app-env.js';
import { errorResponses, pickErrors } from '../schemas/error.js';
import { FetchParamsSchema, FetchResponseSchema } from '../schemas/fetch.js';
import { jsonContent } from '../schemas/json-content.js';

const createFetch = createRoute({
  method: 'post',
  path: '/v1/fetch',
  operationId: 'createFetch',
  tags: ['Fetch'],
  summary: "Fetch a URL through a browser session of the key's project",
  request: { body: { required: true, content: jsonContent(FetchParamsSchema) } },
  responses: {
    200: { description: 'What the URL answered.', content: jsonContent(FetchResponseSchema) },
    ...pickErrors(400, 401, 403, 415, 429, 500),
    502: {
      description:
        "The URL gave no answer (`fetch_failed`, with Chromium's reason): unreachable, or its certificate refused; or the session's browser could not be reached (`controller_unreachable`); or, for `format: \"json\"`, the project's model failed (`model_unreachable`).",
      content: errorResponses[502].content,
    },
    503: errorResponses[503],
    504: {
      description: 'The URL did not answer, or its page did not load, before the deadline (`fetch_timeout`).',
      content: errorResponses[502].content,
    },
  },
});

export function registerFetchRoutes(app: OpenAPIHono<AppEnv>, { fetcher }: { fetcher: FetchService }) {
  app.openapi(createFetch, async (c) => c.json(await fetcher.fetch(c.var.auth.projectId, c.req.valid('json')), 200));
}
