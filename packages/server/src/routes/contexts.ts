import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { ContextRecord } from '../domain/model.js';
import type { AppEnv } from '../http/app-env.js';
import { projectFor } from '../http/project-for.js';
import {
  type ContextBody,
  ContextCreateParamsSchema,
  type ContextCreateResponseBody,
  ContextCreateResponseSchema,
  ContextSchema,
} from '../schemas/context.js';
import { pickErrors } from '../schemas/error.js';
import { jsonContent } from '../schemas/json-content.js';
import { IdParamSchema, ProjectIdHeaderSchema } from '../schemas/parameters.js';
import type { ContextService } from '../services/context-service.js';

const createContext = createRoute({
  method: 'post',
  path: '/v1/contexts',
  operationId: 'createContext',
  tags: ['Contexts'],
  summary: 'Create a context',
  description:
    'A context keeps a browser profile (cookies, storage) between sessions that name it in `browserSettings.context`.',
  request: {
    headers: ProjectIdHeaderSchema,
    body: { required: false, content: jsonContent(ContextCreateParamsSchema) },
  },
  responses: {
    201: { description: 'The context.', content: jsonContent(ContextCreateResponseSchema) },
    ...pickErrors(400, 401, 403, 409, 413, 415, 501),
  },
});

const retrieveContext = createRoute({
  method: 'get',
  path: '/v1/contexts/{id}',
  operationId: 'retrieveContext',
  tags: ['Contexts'],
  summary: 'Retrieve a context',
  request: { headers: ProjectIdHeaderSchema, params: IdParamSchema },
  responses: {
    200: { description: 'The context.', content: jsonContent(ContextSchema) },
    ...pickErrors(401, 403, 404, 501),
  },
});

const updateContext = createRoute({
  method: 'put',
  path: '/v1/contexts/{id}',
  operationId: 'updateContext',
  tags: ['Contexts'],
  summary: 'Update a context (deprecated by Browserbase; changes nothing but `updatedAt`)',
  request: { headers: ProjectIdHeaderSchema, params: IdParamSchema },
  responses: {
    200: { description: 'The context.', content: jsonContent(ContextCreateResponseSchema) },
    ...pickErrors(400, 401, 403, 404, 501),
  },
});

const deleteContext = createRoute({
  method: 'delete',
  path: '/v1/contexts/{id}',
  operationId: 'deleteContext',
  tags: ['Contexts'],
  summary: 'Delete a context and its saved profile',
  request: { headers: ProjectIdHeaderSchema, params: IdParamSchema },
  responses: {
    204: { description: 'Deleted.' },
    ...pickErrors(400, 401, 403, 404, 501),
  },
});

function contextBody(c: ContextRecord): ContextBody {
  return {
    id: c.id,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
    projectId: c.projectId,
    ...(c.name !== undefined ? { name: c.name } : {}),
  };
}

/** Browserbase's retired client-upload fields, with its values. */
function uploadFields(c: ContextRecord): ContextCreateResponseBody {
  return {
    id: c.id,
    cipherAlgorithm: 'AES-256-CBC',
    initializationVectorSize: 16,
    publicKey: '',
    uploadUrl: 'https://context-uploads.wallcrawler.invalid/not-supported',
  };
}

export function registerContextRoutes(app: OpenAPIHono<AppEnv>, { contexts }: { contexts: () => ContextService }) {
  app.openapi(createContext, async (c) => {
    const body = c.req.valid('json');
    const context = await contexts().create(projectFor(c.var.auth, body.projectId), body.name);
    return c.json(uploadFields(context), 201);
  });

  app.openapi(retrieveContext, async (c) => {
    return c.json(contextBody(await contexts().retrieve(c.var.auth.projectId, c.req.valid('param').id)), 200);
  });

  app.openapi(updateContext, async (c) => {
    return c.json(uploadFields(await contexts().touch(c.var.auth.projectId, c.req.valid('param').id)), 200);
  });

  app.openapi(deleteContext, async (c) => {
    await contexts().delete(c.var.auth.projectId, c.req.valid('param').id);
    return c.body(null, 204);
  });
}
