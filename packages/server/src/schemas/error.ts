import { z } from '@hono/zod-openapi';
import { jsonContent } from './json-content.js';

export const ErrorDetailSchema = z
  .object({
    path: z.string().openapi({ description: 'Where the problem is, e.g. `body.timeout`.' }),
    message: z.string(),
  })
  .openapi('ErrorDetail');

/** The one error body of every non-2xx response (docs/architecture.md, "The contract"; codes in docs/api.md). */
export const ErrorSchema = z
  .object({
    success: z.literal(false).optional().openapi({ description: "Only on Stagehand's routes, whose clients read it." }),
    statusCode: z.number().int().openapi({ description: 'The HTTP status, repeated.' }),
    error: z.string().openapi({ description: 'The HTTP reason phrase, e.g. `Not Found`.' }),
    code: z.string().openapi({ description: 'A stable, machine-readable code, e.g. `session_not_found`.' }),
    message: z.string().openapi({ description: 'What went wrong and, where possible, how to fix it.' }),
    requestId: z.string().openapi({ description: 'Also sent as the `x-request-id` response header.' }),
    details: z
      .array(ErrorDetailSchema)
      .optional()
      .openapi({ description: 'For validation errors, one entry per problem.' }),
  })
  .openapi('Error');

export type ErrorBody = z.infer<typeof ErrorSchema>;

const errorContent = jsonContent(ErrorSchema);

/** The error responses a route declares, by status. */
export const errorResponses = {
  400: { description: 'The request is malformed or fails validation.', content: errorContent },
  401: { description: 'No API key, or an unknown or revoked one.', content: errorContent },
  403: {
    description:
      "The key does not cover the project named in `x-wc-project-id` (`project_not_allowed`), or, on AWS, the request did not come through the stack's CloudFront distribution (`direct_access_refused`).",
    content: errorContent,
  },
  404: { description: 'No such resource in this project.', content: errorContent },
  409: { description: 'The resource is not in a state that allows this.', content: errorContent },
  413: { description: 'The body is over the size limit.', content: errorContent },
  422: { description: 'The request is well-formed but names something that cannot be used.', content: errorContent },
  415: { description: 'The body is not `application/json`.', content: errorContent },
  429: {
    description:
      'The project is at its `concurrency` (`concurrency_limit_exceeded`), or this host runs all the browsers it can and the create could not wait for one (`host_at_capacity`). Retry after `Retry-After` seconds.',
    headers: {
      'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' as const } },
    },
    content: errorContent,
  },
  500: { description: 'The server failed.', content: errorContent },
  501: { description: 'This deployment does not support the feature (the message says which).', content: errorContent },
  502: {
    description: "The session's browser task could not be reached (`controller_unreachable`, AWS).",
    content: errorContent,
  },
  503: {
    description:
      'No browser became ready in time (`browser_not_ready`): this host was too busy to start one, or on AWS no task was ready; or on AWS a service it needs (DynamoDB, ECS, Secrets Manager) failed or could not be reached (`dependency_unavailable`). Retry after `Retry-After` seconds.',
    headers: {
      'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' as const } },
    },
    content: errorContent,
  },
} as const;

/** Picks error responses for a route: `pickErrors(401, 404)`. */
export function pickErrors<S extends keyof typeof errorResponses>(...statuses: S[]): Pick<typeof errorResponses, S> {
  return Object.fromEntries(statuses.map((s) => [s, errorResponses[s]])) as Pick<typeof errorResponses, S>;
}
