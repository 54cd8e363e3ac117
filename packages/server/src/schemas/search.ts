import { z } from '@hono/zod-openapi';

/** Browserbase's `SearchWebParams` (`@browserbasehq/sdk` 2.21, `resources/search.d.ts`). */
export const SearchParamsSchema = z
  .looseObject({
    query: z.string().trim().min(1).max(200),
    numResults: z
      .number()
      .int()
      .min(1)
      .max(25)
      .optional()
      .openapi({ description: 'How many results, 1–25. @default 10' }),
  })
  .openapi('SearchParams');

export const SearchResultSchema = z
  .object({
    id: z.string(),
    title: z.string(),
    url: z.string(),
    author: z.string().optional(),
    favicon: z.string().optional(),
    image: z.string().optional(),
    publishedDate: z.string().optional().openapi({ description: 'RFC 3339.' }),
  })
  .openapi('SearchResult');

/** Browserbase's `SearchWebResponse`. */
export const SearchResponseSchema = z
  .object({ query: z.string(), requestId: z.string(), results: z.array(SearchResultSchema) })
  .openapi('SearchResponse');
