import { z } from '@hono/zod-openapi';

export const ProjectSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    ownerId: z.string(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    defaultTimeout: z.number().int().openapi({ description: 'Seconds; the timeout of sessions created without one.' }),
    concurrency: z.number().int().openapi({ description: 'How many sessions may be PENDING or RUNNING at once.' }),
  })
  .openapi('Project');

export const ProjectUsageSchema = z
  .object({
    browserMinutes: z.number().int(),
    proxyBytes: z.number().int(),
  })
  .openapi('ProjectUsage');

export type ProjectBody = z.infer<typeof ProjectSchema>;
