import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../http/app-env.js';
import type { ServerMetrics } from '../metrics.js';
import { apiKeyAuth } from '../middleware/api-key-auth.js';
import type { Store } from '../ports/store.js';
import { pickErrors } from '../schemas/error.js';

const getMetrics = createRoute({
  method: 'get',
  path: '/metrics',
  operationId: 'getMetrics',
  tags: ['Health'],
  summary: 'Prometheus metrics (any API key; Prometheus sends it as a bearer token)',
  responses: {
    200: {
      description:
        'Sessions by status, create latency by stage, the host’s browser slots and create queue, CDP bytes and connections, rejections by code, and the process’s own figures, in the Prometheus text format.',
      content: { 'text/plain': { schema: z.string() } },
    },
    ...pickErrors(401),
  },
});

/** `GET /metrics`, protected like the API: scrape it with `authorization: Bearer <key>`. */
export function registerMetricsRoute(
  app: OpenAPIHono<AppEnv>,
  { store, metrics }: { store: Store; metrics: ServerMetrics },
) {
  app.use('/metrics', apiKeyAuth({ store }));
  app.openapi(getMetrics, async (c) =>
    c.text(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }),
  );
}
