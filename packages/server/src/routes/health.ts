import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../http/app-env.js';
import { HealthSchema } from '../schemas/health.js';

const getHealth = createRoute({
  method: 'get',
  path: '/health',
  operationId: 'getHealth',
  tags: ['Health'],
  summary: 'Liveness of the API process',
  security: [],
  responses: { 200: { description: 'The server is up.', content: { 'application/json': { schema: HealthSchema } } } },
});

export function registerHealthRoute(app: OpenAPIHono<AppEnv>, { version }: { version: string }) {
  app.openapi(getHealth, (c) => c.json({ status: 'ok' as const, version }, 200));
}
