import { z } from '@hono/zod-openapi';

export const HealthSchema = z
  .object({
    status: z.enum(['ok']),
    version: z.string(),
  })
  .openapi('Health');
