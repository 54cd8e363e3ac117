import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { WebhookAttemptRecord, WebhookRecord } from '../domain/webhook.js';
import type { AppEnv } from '../http/app-env.js';
import { pickErrors } from '../schemas/error.js';
import { jsonContent } from '../schemas/json-content.js';
import { IdParamSchema, ProjectIdHeaderSchema } from '../schemas/parameters.js';
import {
  type WebhookBody,
  WebhookCreateParamsSchema,
  WebhookCreateResponseSchema,
  WebhookDeliveryListSchema,
  WebhookListQuerySchema,
  WebhookListResponseSchema,
  WebhookRotateSecretParamsSchema,
  WebhookRotateSecretResponseSchema,
  WebhookSchema,
  WebhookUpdateParamsSchema,
} from '../schemas/webhook.js';
import type { WebhookService } from '../services/webhook-service.js';

const tags = ['Webhooks'];
const request = { headers: ProjectIdHeaderSchema, params: IdParamSchema };

const createWebhook = createRoute({
  method: 'post',
  path: '/v1/webhooks',
  operationId: 'createWebhook',
  tags,
  summary: 'Register a webhook',
  description: 'The answer carries the signing secret, shown only here (and on rotation). See docs/webhooks.md.',
  request: {
    headers: ProjectIdHeaderSchema,
    body: { required: true, content: jsonContent(WebhookCreateParamsSchema) },
  },
  responses: {
    200: { description: 'The webhook and its signing secret.', content: jsonContent(WebhookCreateResponseSchema) },
    ...pickErrors(400, 401, 403, 409, 415),
  },
});

const listWebhooks = createRoute({
  method: 'get',
  path: '/v1/webhooks',
  operationId: 'listWebhooks',
  tags,
  summary: "List the project's webhooks, newest first",
  request: { headers: ProjectIdHeaderSchema, query: WebhookListQuerySchema },
  responses: {
    200: { description: 'A page of webhooks.', content: jsonContent(WebhookListResponseSchema) },
    ...pickErrors(400, 401, 403),
  },
});

const retrieveWebhook = createRoute({
  method: 'get',
  path: '/v1/webhooks/{id}',
  operationId: 'retrieveWebhook',
  tags,
  summary: 'Retrieve a webhook',
  request,
  responses: {
    200: { description: 'The webhook.', content: jsonContent(WebhookSchema) },
    ...pickErrors(401, 403, 404),
  },
});

const updateWebhook = createRoute({
  method: 'patch',
  path: '/v1/webhooks/{id}',
  operationId: 'updateWebhook',
  tags,
  summary: "Change a webhook's endpoint or event types",
  request: { ...request, body: { required: true, content: jsonContent(WebhookUpdateParamsSchema) } },
  responses: {
    200: { description: 'The webhook.', content: jsonContent(WebhookSchema) },
    ...pickErrors(400, 401, 403, 404, 409, 415),
  },
});

const deleteWebhook = createRoute({
  method: 'delete',
  path: '/v1/webhooks/{id}',
  operationId: 'deleteWebhook',
  tags,
  summary: 'Delete a webhook (its deliveries stop at once)',
  request,
  responses: {
    204: { description: 'Deleted.' },
    ...pickErrors(400, 401, 403, 404),
  },
});

const rotateWebhookSecret = createRoute({
  method: 'post',
  path: '/v1/webhooks/{id}/secret',
  operationId: 'rotateWebhookSecret',
  tags,
  summary: 'Issue a new signing secret (the old one signs too for 24 hours unless `revokeImmediately`)',
  request: {
    ...request,
    body: { required: false, content: jsonContent(WebhookRotateSecretParamsSchema) },
  },
  responses: {
    200: { description: 'The new signing secret.', content: jsonContent(WebhookRotateSecretResponseSchema) },
    ...pickErrors(400, 401, 403, 404, 415),
  },
});

const listWebhookDeliveries = createRoute({
  method: 'get',
  path: '/v1/webhooks/{id}/deliveries',
  operationId: 'listWebhookDeliveries',
  tags,
  summary: "A webhook's delivery log, newest attempt first (a Wallcrawler extension)",
  request,
  responses: {
    200: { description: 'The latest attempts (up to 100).', content: jsonContent(WebhookDeliveryListSchema) },
    ...pickErrors(401, 403, 404),
  },
});

function webhookBody(w: WebhookRecord): WebhookBody {
  return {
    id: w.id,
    createdAt: w.createdAt.toISOString(),
    updatedAt: w.updatedAt.toISOString(),
    endpoint: w.endpoint,
    eventTypes: w.eventTypes,
    projectId: w.projectId,
  };
}

function attemptBody(a: WebhookAttemptRecord) {
  return {
    id: a.id,
    webhookId: a.webhookId,
    eventId: a.eventId,
    eventType: a.eventType,
    attempt: a.attempt,
    attemptedAt: a.attemptedAt.toISOString(),
    responseStatus: a.responseStatus ?? null,
    error: a.error ?? null,
    succeeded: a.succeeded,
    nextAttemptAt: a.nextAttemptAt?.toISOString() ?? null,
  };
}

export function registerWebhookRoutes(app: OpenAPIHono<AppEnv>, { webhooks }: { webhooks: () => WebhookService }) {
  app.openapi(createWebhook, async (c) => {
    const { webhook, secret } = await webhooks().create(c.var.auth.projectId, c.req.valid('json'));
    return c.json({ ...webhookBody(webhook), secret }, 200);
  });

  app.openapi(listWebhooks, async (c) => {
    const { cursor, limit } = c.req.valid('query');
    const page = await webhooks().list(c.var.auth.projectId, { cursor, ...(limit ? { limit } : {}) });
    return c.json({ ...page, data: page.data.map(webhookBody) }, 200);
  });

  app.openapi(retrieveWebhook, async (c) => {
    return c.json(webhookBody(await webhooks().retrieve(c.var.auth.projectId, c.req.valid('param').id)), 200);
  });

  app.openapi(updateWebhook, async (c) => {
    const updated = await webhooks().update(c.var.auth.projectId, c.req.valid('param').id, c.req.valid('json'));
    return c.json(webhookBody(updated), 200);
  });

  app.openapi(deleteWebhook, async (c) => {
    await webhooks().delete(c.var.auth.projectId, c.req.valid('param').id);
    return c.body(null, 204);
  });

  app.openapi(rotateWebhookSecret, async (c) => {
    const body = c.req.valid('json') ?? {};
    const secret = await webhooks().rotateSecret(c.var.auth.projectId, c.req.valid('param').id, body);
    return c.json({ secret }, 200);
  });

  app.openapi(listWebhookDeliveries, async (c) => {
    const attempts = await webhooks().deliveries(c.var.auth.projectId, c.req.valid('param').id);
    return c.json({ data: attempts.map(attemptBody) }, 200);
  });
}
