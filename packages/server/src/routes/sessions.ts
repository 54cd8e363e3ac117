import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { SessionNotFoundError } from '../domain/errors.js';
import type { AppEnv } from '../http/app-env.js';
import { announceIgnored, reviewCreateFields, type UnsupportedFieldsMode } from '../http/create-fields.js';
import { projectFor } from '../http/project-for.js';
import { sessionBody, sessionViewBody } from '../http/session-body.js';
import { createInputFrom } from '../http/session-create-input.js';
import { pickErrors } from '../schemas/error.js';
import { jsonContent } from '../schemas/json-content.js';
import { IdParamSchema, ProjectIdHeaderSchema } from '../schemas/parameters.js';
import {
  IgnoredFieldsHeaderSchema,
  type SessionCreateParamsZod,
  SessionLiveURLsSchema,
  SessionSchema,
  SessionStatusSchema,
  SessionUpdateParamsSchema,
  SessionViewSchemas,
} from '../schemas/session.js';
import type { SessionLifecycle } from '../services/session-lifecycle.js';
import type { SessionViews } from '../services/session-views.js';

/** `POST /v1/sessions`, whose body is `createParams` (its shortest timeout is the app's). */
const createSession = (createParams: SessionCreateParamsZod) =>
  createRoute({
    method: 'post',
    path: '/v1/sessions',
    operationId: 'createSession',
    tags: ['Sessions'],
    summary: 'Create a browser session',
    request: {
      headers: ProjectIdHeaderSchema,
      body: { required: false, content: jsonContent(createParams) },
    },
    responses: {
      201: {
        description: 'The session is running.',
        headers: IgnoredFieldsHeaderSchema,
        content: jsonContent(SessionViewSchemas.create),
      },
      ...pickErrors(400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 501, 502, 503),
    },
  });

const listSessions = createRoute({
  method: 'get',
  path: '/v1/sessions',
  operationId: 'listSessions',
  tags: ['Sessions'],
  summary: "List the project's sessions",
  request: {
    headers: ProjectIdHeaderSchema,
    query: z.object({
      status: SessionStatusSchema.optional(),
      q: z.string().optional().openapi({ description: "Metadata query: `user_metadata['key']['nested']:'value'`." }),
    }),
  },
  responses: {
    200: { description: 'The sessions.', content: jsonContent(z.array(SessionSchema)) },
    ...pickErrors(400, 401, 403),
  },
});

const retrieveSession = createRoute({
  method: 'get',
  path: '/v1/sessions/{id}',
  operationId: 'retrieveSession',
  tags: ['Sessions'],
  summary: 'Retrieve a session',
  request: { headers: ProjectIdHeaderSchema, params: IdParamSchema },
  responses: {
    200: { description: 'The session.', content: jsonContent(SessionViewSchemas.retrieve) },
    ...pickErrors(401, 403, 404),
  },
});

const updateSession = createRoute({
  method: 'post',
  path: '/v1/sessions/{id}',
  operationId: 'updateSession',
  tags: ['Sessions'],
  summary: 'Release a session',
  request: {
    headers: ProjectIdHeaderSchema,
    params: IdParamSchema,
    body: { required: true, content: jsonContent(SessionUpdateParamsSchema) },
  },
  responses: {
    200: { description: 'The session after the update.', content: jsonContent(SessionSchema) },
    ...pickErrors(400, 401, 403, 404, 413, 415),
  },
});

const debugSession = createRoute({
  method: 'get',
  path: '/v1/sessions/{id}/debug',
  operationId: 'debugSession',
  tags: ['Sessions'],
  summary: 'Live URLs of a running session',
  request: {
    headers: ProjectIdHeaderSchema,
    params: IdParamSchema,
    query: z.object({ expiresIn: z.coerce.number().int().min(1).max(21600).optional() }),
  },
  responses: {
    200: { description: 'The live URLs.', content: jsonContent(SessionLiveURLsSchema) },
    ...pickErrors(400, 401, 403, 404, 409),
  },
});

export function registerSessionRoutes(
  app: OpenAPIHono<AppEnv>,
  {
    lifecycle,
    views,
    gatewayUrl,
    unsupportedFields,
    createParams,
  }: {
    lifecycle: SessionLifecycle;
    views: SessionViews;
    gatewayUrl: (requestUrl: string) => string;
    unsupportedFields: UnsupportedFieldsMode;
    createParams: SessionCreateParamsZod;
  },
) {
  app.openapi(createSession(createParams), async (c) => {
    const body = c.req.valid('json');
    const { ignored } = reviewCreateFields(body, unsupportedFields);
    const projectId = projectFor(c.var.auth, body.projectId);
    const view = await views.of(await lifecycle.create(projectId, createInputFrom(body)), gatewayUrl(c.req.url));
    const { connect } = view;
    if (!connect) throw new SessionNotFoundError(view.session.id);
    announceIgnored(c, view.session.id, ignored);
    return c.json({ ...sessionBody(view.session), ...connect }, 201);
  });

  app.openapi(listSessions, async (c) => {
    const { status, q } = c.req.valid('query');
    const list = await lifecycle.list(c.var.auth.projectId, { status, q });
    return c.json(list.map(sessionBody), 200);
  });

  app.openapi(retrieveSession, async (c) => {
    const view = await views.retrieve(c.var.auth.projectId, c.req.valid('param').id, gatewayUrl(c.req.url));
    return c.json(sessionViewBody(view), 200);
  });

  app.openapi(updateSession, async (c) => {
    const body = c.req.valid('json');
    const session = await lifecycle.release(projectFor(c.var.auth, body.projectId), c.req.valid('param').id);
    return c.json(sessionBody(session), 200);
  });

  app.openapi(debugSession, async (c) => {
    const urls = await views.liveUrls(
      c.var.auth.projectId,
      c.req.valid('param').id,
      gatewayUrl(c.req.url),
      c.req.valid('query').expiresIn,
    );
    return c.json(urls, 200);
  });
}
