import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../http/app-env.js';
import type { ModelGateway } from '../llm/model-gateway.js';
import { pickErrors } from '../schemas/error.js';
import { jsonContent } from '../schemas/json-content.js';
import type { SessionLifecycle } from '../services/session-lifecycle.js';

const LlmHeadersSchema = z.object({
  'x-bb-session-id': z
    .string()
    .min(1)
    .openapi({
      param: {
        name: 'x-bb-session-id',
        in: 'header',
        description: "A session of the key's project: the browser the call is made for (another project's is a 404).",
      },
    }),
});

const ResponsesRequestSchema = z
  .looseObject({
    model: z
      .string()
      .optional()
      .openapi({ description: "`auto` (or none): the project's model. Any other name is sent as it is." }),
    input: z.union([z.string(), z.array(z.unknown())]),
    instructions: z.string().nullable().optional(),
    stream: z.boolean().optional(),
  })
  .openapi('LlmResponsesRequest', {
    description: "An OpenAI Responses API request (what the AI SDK's `openai.responses()` model sends).",
  });

const ResponsesAnswerSchema = z
  .looseObject({ id: z.string(), object: z.literal('response'), output: z.array(z.unknown()) })
  .openapi('LlmResponsesAnswer', { description: 'An OpenAI Responses API answer.' });

const responsesRoute = createRoute({
  method: 'post',
  path: '/v1/llm/responses',
  operationId: 'llmResponses',
  tags: ['Model gateway'],
  summary: "Stagehand 4's model gateway: an OpenAI Responses call to the project's model",
  description:
    'Sent to the project\'s model endpoint (`wallcrawler projects model set`), else the server\'s (`WALLCRAWLER_MODEL_*`), with `model: "auto"` mapped to its model; translated to Chat Completions when the endpoint speaks only that. 400 `model_not_configured` when there is none; 502 `model_unreachable` when it fails or cannot be reached (its status in `details`).',
  request: {
    headers: LlmHeadersSchema,
    body: { required: true, content: jsonContent(ResponsesRequestSchema) },
  },
  responses: {
    200: {
      description: 'The answer; with `stream: true`, Responses stream events (server-sent events).',
      content: {
        'application/json': { schema: ResponsesAnswerSchema },
        'text/event-stream': { schema: z.string() },
      },
    },
    ...pickErrors(400, 401, 404, 413, 415, 502),
  },
});

/** `POST /v1/llm/responses`, for a session of the caller's project. */
export function registerLlmRoutes(
  app: OpenAPIHono<AppEnv>,
  { gateway, lifecycle }: { gateway: ModelGateway; lifecycle: SessionLifecycle },
) {
  app.openapi(responsesRoute, async (c) => {
    const { 'x-bb-session-id': sessionId } = c.req.valid('header');
    const { projectId } = c.var.auth;
    // The same 404 as the REST API's for a session that is not the project's.
    await lifecycle.get(projectId, sessionId);
    // The body as sent, fields the schema does not name included (tools, text.format, reasoning, ...).
    return (await gateway.responses(projectId, c.req.valid('json'), c.req.raw.signal)) as never;
  });
}
