import { z } from '@hono/zod-openapi';

export const ContextSchema = z
  .object({
    id: z.string(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime().openapi({ description: 'The last time the context was created, saved or updated.' }),
    projectId: z.string(),
    name: z.string().optional(),
  })
  .openapi('Context');

/**
 * Browserbase's answer to a context create or update. Its fields served a client-side upload flow that
 * Browserbase has retired; Wallcrawler keeps the shape, with Browserbase's values, and encrypts on the server.
 */
export const ContextCreateResponseSchema = z
  .object({
    id: z.string(),
    cipherAlgorithm: z.string().openapi({ description: 'Always `AES-256-CBC`, as Browserbase answers.' }),
    initializationVectorSize: z.number().int().openapi({ description: 'Always 16, as Browserbase answers.' }),
    publicKey: z
      .string()
      .openapi({ description: 'Empty: contexts are not uploaded by clients. Archives are sealed on the server.' }),
    uploadUrl: z
      .string()
      .openapi({ description: "A non-functional placeholder, as Browserbase's is since its SDK 2.17.0." }),
  })
  .openapi('ContextCreateResponse');

export const ContextCreateParamsSchema = z
  .looseObject({
    name: z
      .string()
      .trim()
      .min(1)
      .max(256)
      .optional()
      .openapi({ description: 'Unique in the project, whatever its case. Trimmed.' }),
    projectId: z.string().optional(),
  })
  .openapi('ContextCreateParams');

export type ContextBody = z.infer<typeof ContextSchema>;
export type ContextCreateResponseBody = z.infer<typeof ContextCreateResponseSchema>;
