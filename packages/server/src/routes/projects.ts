import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { ProjectNotFoundError } from '../domain/errors.js';
import type { ProjectRecord } from '../domain/model.js';
import type { AppEnv } from '../http/app-env.js';
import type { Store } from '../ports/store.js';
import { pickErrors } from '../schemas/error.js';
import { jsonContent } from '../schemas/json-content.js';
import { IdParamSchema } from '../schemas/parameters.js';
import { type ProjectBody, ProjectSchema, ProjectUsageSchema } from '../schemas/project.js';

const listProjects = createRoute({
  method: 'get',
  path: '/v1/projects',
  operationId: 'listProjects',
  tags: ['Projects'],
  summary: 'List the projects the key covers',
  responses: {
    200: { description: 'The projects.', content: jsonContent(z.array(ProjectSchema)) },
    ...pickErrors(401, 403),
  },
});

const retrieveProject = createRoute({
  method: 'get',
  path: '/v1/projects/{id}',
  operationId: 'retrieveProject',
  tags: ['Projects'],
  summary: 'Retrieve a project',
  request: { params: IdParamSchema },
  responses: {
    200: { description: 'The project.', content: jsonContent(ProjectSchema) },
    ...pickErrors(401, 403, 404),
  },
});

const projectUsage = createRoute({
  method: 'get',
  path: '/v1/projects/{id}/usage',
  operationId: 'projectUsage',
  tags: ['Projects'],
  summary: "A project's usage",
  request: { params: IdParamSchema },
  responses: {
    200: { description: 'The usage.', content: jsonContent(ProjectUsageSchema) },
    ...pickErrors(401, 403, 404),
  },
});

function projectBody(p: ProjectRecord): ProjectBody {
  return {
    id: p.id,
    name: p.name,
    ownerId: p.ownerId,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
    defaultTimeout: p.defaultTimeout,
    concurrency: p.concurrency,
  };
}

export function registerProjectRoutes(app: OpenAPIHono<AppEnv>, { store }: { store: Store }) {
  /** A project the key covers; any other is a 404, whether or not it exists. */
  const coveredProject = async (auth: AppEnv['Variables']['auth'], id: string) => {
    const project = auth.projectIds.includes(id) ? await store.getProject(id) : undefined;
    if (!project) throw new ProjectNotFoundError(id);
    return project;
  };

  app.openapi(listProjects, async (c) =>
    c.json((await store.listProjects(c.var.auth.projectIds)).map(projectBody), 200),
  );

  app.openapi(retrieveProject, async (c) =>
    c.json(projectBody(await coveredProject(c.var.auth, c.req.valid('param').id)), 200),
  );

  app.openapi(projectUsage, async (c) => {
    const project = await coveredProject(c.var.auth, c.req.valid('param').id);
    const now = Date.now();
    let browserMinutes = 0;
    let proxyBytes = 0;
    for (const s of await store.listSessions(project.id)) {
      const ms = (s.endedAt?.getTime() ?? now) - s.startedAt.getTime();
      browserMinutes += Math.ceil(Math.max(0, ms) / 60_000);
      proxyBytes += s.proxyBytes;
    }
    return c.json({ browserMinutes, proxyBytes }, 200);
  });
}
