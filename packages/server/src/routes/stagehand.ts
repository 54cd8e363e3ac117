import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { STAGEHAND_METHODS } from '@wallcrawler/contracts';
import type { AppEnv } from '../http/app-env.js';
import { announceIgnored, reviewCreateFields, type UnsupportedFieldsMode } from '../http/create-fields.js';
import { projectFor } from '../http/project-for.js';
import { createInputFrom } from '../http/session-create-input.js';
import { pickErrors } from '../schemas/error.js';
import { jsonContent } from '../schemas/json-content.js';
import { IdParamSchema } from '../schemas/parameters.js';
import { IgnoredFieldsHeaderSchema, type SessionCreateParamsZod } from '../schemas/session.js';
import type { StagehandMethod, StagehandService } from '../stagehand/stagehand-service.js';

const StagehandHeadersSchema = z.object({
  'x-model-api-key': z
    .string()
    .optional()
    .openapi({
      param: {
        name: 'x-model-api-key',
        in: 'header',
        description: "The model provider's API key. Used for this call's model requests only; never stored or logged.",
      },
    }),
  'x-stream-response': z
    .string()
    .optional()
    .openapi({
      param: {
        name: 'x-stream-response',
        in: 'header',
        description: '`true`: answer with server-sent events (what Stagehand sends). Otherwise one JSON body.',
      },
    }),
  'x-language': z
    .string()
    .optional()
    .openapi({
      param: {
        name: 'x-language',
        in: 'header',
        description:
          '`python` (with `x-sdk-version` 3.18 or later) gets `event:` + `data:` frames; every other client gets `data:` frames only.',
      },
    }),
});

const ModelConfigSchema = z
  .union([
    z.string(),
    z.looseObject({
      modelName: z.string(),
      apiKey: z.string().optional(),
      baseURL: z.string().optional(),
      provider: z.string().optional(),
    }),
  ])
  .openapi('StagehandModelConfig', {
    description: 'A model name, or `{modelName, apiKey?, baseURL?, ...}`: any OpenAI-compatible endpoint works.',
  });

const startRequestSchema = (createParams: SessionCreateParamsZod) =>
  z
    .looseObject({
      modelName: z.string().min(1),
      verbose: z.union([z.literal(0), z.literal(1), z.literal(2)]).optional(),
      systemPrompt: z.string().optional(),
      selfHeal: z.boolean().optional(),
      domSettleTimeoutMs: z.number().int().min(0).optional(),
      browserbaseSessionID: z.string().min(1).optional(),
      browserbaseSessionCreateParams: createParams.optional(),
    })
    .openapi('StagehandSessionStartRequest');

const StartResponseSchema = z
  .object({
    success: z.literal(true),
    data: z.object({ sessionId: z.string(), available: z.boolean(), cdpUrl: z.string().nullable() }),
  })
  .openapi('StagehandSessionStartResponse');

const CallRequestSchema = z
  .looseObject({
    input: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
    instruction: z.string().optional(),
    schema: z.record(z.string(), z.unknown()).optional(),
    url: z.string().optional(),
    options: z.looseObject({ model: ModelConfigSchema.optional(), timeout: z.number().optional() }).optional(),
    frameId: z.string().nullable().optional(),
    streamResponse: z.boolean().optional(),
  })
  .openapi('StagehandCallRequest');

const CallResponseSchema = z
  .object({ success: z.literal(true), data: z.object({ result: z.unknown(), actionId: z.string().optional() }) })
  .openapi('StagehandCallResponse');

const SuccessSchema = z.object({ success: z.literal(true) }).openapi('StagehandSuccess');

const ReplaySchema = z
  .object({
    success: z.literal(true),
    data: z.object({
      pages: z.array(
        z.object({
          url: z.string(),
          timestamp: z.number(),
          duration: z.number(),
          actions: z.array(z.record(z.string(), z.unknown())),
        }),
      ),
    }),
  })
  .openapi('StagehandReplay');

/** `POST /v1/sessions/start`, whose create fields are `createParams` (its shortest timeout is the app's). */
const startRoute = (createParams: SessionCreateParamsZod) =>
  createRoute({
    method: 'post',
    path: '/v1/sessions/start',
    operationId: 'stagehandStart',
    tags: ['Stagehand'],
    summary: "Start a Stagehand session (Stagehand's hosted API)",
    request: {
      headers: StagehandHeadersSchema,
      body: { required: true, content: jsonContent(startRequestSchema(createParams)) },
    },
    responses: {
      200: {
        description: 'The session runs, with Stagehand attached.',
        headers: IgnoredFieldsHeaderSchema,
        content: jsonContent(StartResponseSchema),
      },
      ...pickErrors(400, 401, 403, 404, 409, 413, 415, 429, 500, 501, 502),
    },
  });

const STREAM_DESCRIPTION =
  'Server-sent events `{id, type, data}`: `starting`, `connected`, log lines (`running`), then `finished` with the result or `error`. Without `x-stream-response: true`, one JSON body.';

function callRoute(method: StagehandMethod, summary: string) {
  return createRoute({
    method: 'post',
    path: `/v1/sessions/{id}/${method}`,
    operationId: `stagehand${method[0]?.toUpperCase()}${method.slice(1)}`,
    tags: ['Stagehand'],
    summary,
    request: {
      headers: StagehandHeadersSchema,
      params: IdParamSchema,
      body: { required: true, content: jsonContent(CallRequestSchema) },
    },
    responses: {
      200: {
        description: STREAM_DESCRIPTION,
        content: {
          'text/event-stream': { schema: z.string() },
          'application/json': { schema: CallResponseSchema },
        },
      },
      ...pickErrors(400, 401, 403, 404, 409, 413, 415, 422, 501, 502),
    },
  });
}

const endRoute = createRoute({
  method: 'post',
  path: '/v1/sessions/{id}/end',
  operationId: 'stagehandEnd',
  tags: ['Stagehand'],
  summary: 'Detach Stagehand and release the session',
  request: { params: IdParamSchema },
  responses: {
    200: { description: 'The session is released.', content: jsonContent(SuccessSchema) },
    ...pickErrors(400, 401, 403, 404, 501, 502),
  },
});

const replayRoute = createRoute({
  method: 'get',
  path: '/v1/sessions/{id}/replay',
  operationId: 'stagehandReplay',
  tags: ['Stagehand'],
  summary: "The session's Stagehand calls with their token usage (`stagehand.metrics`)",
  request: { params: IdParamSchema },
  responses: {
    200: { description: 'The calls, by page.', content: jsonContent(ReplaySchema) },
    ...pickErrors(401, 403, 404, 501, 502),
  },
});

const CacheRequestSchema = z.record(z.string(), z.unknown()).openapi('StagehandCacheRequest');

const cacheGetRoute = createRoute({
  method: 'post',
  path: '/v1/cache/get',
  operationId: 'stagehandCacheGet',
  tags: ['Stagehand'],
  summary: "Stagehand 4's server cache: always a miss (Wallcrawler keeps no action cache)",
  request: { body: { required: false, content: jsonContent(CacheRequestSchema) } },
  responses: {
    200: {
      description: 'A miss.',
      content: jsonContent(
        z.object({
          success: z.literal(true),
          data: z.object({ cacheKey: z.null(), hit: z.literal(false), missReason: z.string() }),
        }),
      ),
    },
    ...pickErrors(400, 401, 413, 415),
  },
});

const cacheSetRoute = createRoute({
  method: 'post',
  path: '/v1/cache/set',
  operationId: 'stagehandCacheSet',
  tags: ['Stagehand'],
  summary: "Stagehand 4's server cache: nothing is written",
  request: { body: { required: false, content: jsonContent(CacheRequestSchema) } },
  responses: {
    200: {
      description: 'Not written.',
      content: jsonContent(
        z.object({
          success: z.literal(true),
          data: z.object({ cacheKey: z.null(), written: z.literal(false), skippedReason: z.string() }),
        }),
      ),
    },
    ...pickErrors(400, 401, 413, 415),
  },
});

/**
 * Stagehand's hosted API, for Stagehand 3 in its default (API) mode, and the cache routes Stagehand 4 calls.
 * Registered before the session routes: `POST /v1/sessions/start` must not be taken for an update of a session
 * named `start`.
 */
export function registerStagehandRoutes(
  app: OpenAPIHono<AppEnv>,
  {
    stagehand,
    gatewayUrl,
    unsupportedFields,
    createParams,
  }: {
    stagehand: StagehandService;
    gatewayUrl: (requestUrl: string) => string;
    unsupportedFields: UnsupportedFieldsMode;
    createParams: SessionCreateParamsZod;
  },
) {
  app.openapi(startRoute(createParams), async (c) => {
    const body = c.req.valid('json');
    const params = body.browserbaseSessionCreateParams ?? {};
    const { ignored } = body.browserbaseSessionID ? { ignored: [] } : reviewCreateFields(params, unsupportedFields);
    const projectId = projectFor(c.var.auth, params.projectId);
    const data = await stagehand.start(
      projectId,
      body,
      createInputFrom(params),
      c.req.header('x-model-api-key'),
      gatewayUrl(c.req.url),
    );
    announceIgnored(c, data.sessionId, ignored);
    return c.json({ success: true as const, data }, 200);
  });

  const summaries: Record<StagehandMethod, string> = {
    act: 'Perform an action on the page (Stagehand `act`)',
    extract: 'Extract data from the page (Stagehand `extract`)',
    observe: 'Find actionable elements (Stagehand `observe`)',
    navigate: 'Navigate the page (Stagehand `page.goto` in API mode)',
    agentExecute: "Run Stagehand's agent loop on the server (its steps as log events)",
  };
  for (const method of STAGEHAND_METHODS) {
    const summary = summaries[method];
    app.openapi(callRoute(method, summary), async (c) => {
      const response = await stagehand.call(
        c.var.auth.projectId,
        c.req.valid('param').id,
        method,
        c.req.valid('json'),
        {
          modelApiKey: c.req.header('x-model-api-key') || undefined,
          streamResponse: c.req.header('x-stream-response'),
          language: c.req.header('x-language'),
          sdkVersion: c.req.header('x-sdk-version'),
        },
      );
      // Through `c.body`, so the answer carries the headers the middleware prepared (`x-request-id`).
      const headers: Record<string, string> = {};
      response.headers.forEach((value, name) => {
        headers[name] = value;
      });
      return c.body(response.body as ReadableStream, response.status as 200, headers) as never;
    });
  }

  app.openapi(endRoute, async (c) => {
    await stagehand.end(c.var.auth.projectId, c.req.valid('param').id);
    return c.json({ success: true as const }, 200);
  });

  app.openapi(replayRoute, async (c) => {
    const data = await stagehand.replay(c.var.auth.projectId, c.req.valid('param').id);
    return c.json({ success: true as const, data }, 200);
  });

  app.openapi(cacheGetRoute, (c) =>
    c.json({ success: true as const, data: { cacheKey: null, hit: false as const, missReason: 'disabled' } }, 200),
  );
  app.openapi(cacheSetRoute, (c) =>
    c.json(
      { success: true as const, data: { cacheKey: null, written: false as const, skippedReason: 'disabled' } },
      200,
    ),
  );
}
