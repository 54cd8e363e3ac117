import { z } from '@hono/zod-openapi';
import { WEBHOOK_EVENT_TYPES } from '../domain/webhook.js';

const EventTypeSchema = z.enum(WEBHOOK_EVENT_TYPES).openapi('WebhookEventType', {
  description:
    "Browserbase's function events (accepted; Wallcrawler runs no functions, so they never fire) and Wallcrawler's session events.",
});

const endpoint = z.string().min(1).max(2048).openapi({
  description:
    'The http(s) URL deliveries are POSTed to. Loopback, private and link-local targets are refused unless the server sets `WALLCRAWLER_WEBHOOKS_ALLOW_PRIVATE=true`.',
});

const eventTypes = z.array(EventTypeSchema).min(1).max(WEBHOOK_EVENT_TYPES.length);

export const WebhookSchema = z
  .object({
    id: z.string(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    endpoint: z.string(),
    eventTypes: z.array(EventTypeSchema),
    projectId: z.string(),
  })
  .openapi('Webhook');

export const WebhookCreateResponseSchema = WebhookSchema.extend({
  secret: z.string().openapi({ description: 'The signing secret, `whsec_…`. Shown only here and on rotation.' }),
}).openapi('WebhookCreateResponse');

export const WebhookCreateParamsSchema = z.object({ endpoint, eventTypes }).strict().openapi('WebhookCreateParams');

export const WebhookUpdateParamsSchema = z
  .object({ endpoint: endpoint.optional(), eventTypes: eventTypes.optional() })
  .strict()
  .openapi('WebhookUpdateParams');

export const WebhookListQuerySchema = z.object({
  cursor: z
    .string()
    .optional()
    .openapi({ param: { name: 'cursor', in: 'query', description: "The previous page's `nextCursor`." } }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .optional()
    .openapi({ param: { name: 'limit', in: 'query', description: 'Webhooks per page (1-100, default 10).' } }),
});

export const WebhookListResponseSchema = z
  .object({
    data: z.array(WebhookSchema),
    limit: z.number().int(),
    nextCursor: z.string().nullable(),
  })
  .openapi('WebhookListResponse');

export const WebhookRotateSecretParamsSchema = z
  .object({
    revokeImmediately: z.boolean().optional().openapi({
      description: 'Stop signing with the previous secret at once, instead of 24 hours later.',
    }),
  })
  .strict()
  .openapi('WebhookRotateSecretParams');

export const WebhookRotateSecretResponseSchema = z
  .object({ secret: z.string() })
  .openapi('WebhookRotateSecretResponse');

export const WebhookDeliveryAttemptSchema = z
  .object({
    id: z.string(),
    webhookId: z.string(),
    eventId: z.string().openapi({ description: 'The delivered event: every attempt at one delivery shares it.' }),
    eventType: EventTypeSchema,
    attempt: z.number().int().openapi({ description: '1 for the first try.' }),
    attemptedAt: z.iso.datetime(),
    responseStatus: z.number().int().nullable().openapi({ description: "The receiver's status; null if none came." }),
    error: z.string().nullable().openapi({ description: 'Why the attempt failed; null if it succeeded.' }),
    succeeded: z.boolean(),
    nextAttemptAt: z.iso.datetime().nullable().openapi({ description: 'When the next try is due, if any.' }),
  })
  .openapi('WebhookDeliveryAttempt');

export const WebhookDeliveryListSchema = z
  .object({ data: z.array(WebhookDeliveryAttemptSchema) })
  .openapi('WebhookDeliveryList');

export type WebhookBody = z.infer<typeof WebhookSchema>;
