import { z } from '@hono/zod-openapi';

/** Whether `value` is an absolute http(s) URL: the only kind a fetch loads (never `file:`, `chrome:`, `data:`). */
function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/** Browserbase's `FetchAPICreateParams` (`@browserbasehq/sdk` 2.21, `resources/fetch-api.d.ts`). */
export const FetchParamsSchema = z
  .looseObject({
    url: z
      .string()
      .refine(isHttpUrl, { message: 'Must be an absolute http:// or https:// URL.' })
      .openapi({ description: 'The URL to fetch: http or https only.' }),
    allowInsecureSsl: z
      .boolean()
      .optional()
      .openapi({ description: 'Accept a certificate the browser does not trust.' }),
    allowRedirects: z
      .boolean()
      .optional()
      .openapi({ description: 'Follow redirects (the default); false answers with the first 3xx itself.' }),
    format: z.enum(['raw', 'json', 'markdown']).optional(),
    proxies: z.boolean().optional(),
    schema: z.record(z.string(), z.unknown()).optional(),
  })
  .openapi('FetchParams');

/** Browserbase's `FetchAPICreateResponse`, plus `truncated`. */
export const FetchResponseSchema = z
  .object({
    id: z.string().openapi({ description: 'The id of the session the fetch ran in (released before the answer).' }),
    content: z.union([z.string(), z.record(z.string(), z.unknown())]),
    contentType: z.string(),
    encoding: z.string(),
    headers: z.record(z.string(), z.string()),
    statusCode: z.number().int(),
    truncated: z
      .literal(true)
      .optional()
      .openapi({ description: 'Present when the content was longer than the fetch cap and was cut.' }),
  })
  .openapi('FetchResponse');
