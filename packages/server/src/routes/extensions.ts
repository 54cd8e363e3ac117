import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { ExtensionRecord } from '../domain/model.js';
import type { AppEnv } from '../http/app-env.js';
import { pickErrors } from '../schemas/error.js';
import { type ExtensionBody, ExtensionSchema, FileUploadSchema } from '../schemas/extension.js';
import { jsonContent } from '../schemas/json-content.js';
import { IdParamSchema, ProjectIdHeaderSchema } from '../schemas/parameters.js';
import type { ExtensionService } from '../services/extension-service.js';

const createExtension = createRoute({
  method: 'post',
  path: '/v1/extensions',
  operationId: 'createExtension',
  tags: ['Extensions'],
  summary: 'Upload a Chrome extension',
  description:
    'A zip with `manifest.json` at its root, as the multipart part `file`. Sessions load it with `extensionId` (top level or in `browserSettings`).',
  request: {
    headers: ProjectIdHeaderSchema,
    body: { required: true, content: { 'multipart/form-data': { schema: FileUploadSchema } } },
  },
  responses: {
    201: { description: 'The extension.', content: jsonContent(ExtensionSchema) },
    ...pickErrors(400, 401, 403, 413, 415, 501),
  },
});

const retrieveExtension = createRoute({
  method: 'get',
  path: '/v1/extensions/{id}',
  operationId: 'retrieveExtension',
  tags: ['Extensions'],
  summary: 'Retrieve an extension',
  request: { headers: ProjectIdHeaderSchema, params: IdParamSchema },
  responses: {
    200: { description: 'The extension.', content: jsonContent(ExtensionSchema) },
    ...pickErrors(401, 403, 404, 501),
  },
});

const deleteExtension = createRoute({
  method: 'delete',
  path: '/v1/extensions/{id}',
  operationId: 'deleteExtension',
  tags: ['Extensions'],
  summary: 'Delete an extension',
  request: { headers: ProjectIdHeaderSchema, params: IdParamSchema },
  responses: {
    204: { description: 'Deleted.' },
    ...pickErrors(400, 401, 403, 404, 501),
  },
});

function extensionBody(e: ExtensionRecord): ExtensionBody {
  return {
    id: e.id,
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
    fileName: e.fileName,
    projectId: e.projectId,
  };
}

export function registerExtensionRoutes(
  app: OpenAPIHono<AppEnv>,
  { extensions }: { extensions: () => ExtensionService },
) {
  app.openapi(createExtension, async (c) => {
    const { file } = c.req.valid('form');
    const bytes = Buffer.from(await file.arrayBuffer());
    const extension = await extensions().create(c.var.auth.projectId, file.name, bytes);
    return c.json(extensionBody(extension), 201);
  });

  app.openapi(retrieveExtension, async (c) => {
    return c.json(extensionBody(await extensions().retrieve(c.var.auth.projectId, c.req.valid('param').id)), 200);
  });

  app.openapi(deleteExtension, async (c) => {
    await extensions().delete(c.var.auth.projectId, c.req.valid('param').id);
    return c.body(null, 204);
  });
}
