import { Readable } from 'node:stream';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../http/app-env.js';
import { pickErrors } from '../schemas/error.js';
import { FileUploadSchema } from '../schemas/extension.js';
import { jsonContent } from '../schemas/json-content.js';
import { IdParamSchema, ProjectIdHeaderSchema } from '../schemas/parameters.js';
import { SessionLogSchema } from '../schemas/session.js';
import type { SessionService } from '../services/session-service.js';

const listDownloads = createRoute({
  method: 'get',
  path: '/v1/sessions/{id}/downloads',
  operationId: 'sessionDownloads',
  tags: ['Sessions'],
  summary: "The session's downloads, as a zip",
  description:
    "What the browser downloaded into the session's own directory: while the session runs, the finished files; after it ended, the files kept until the retention limits (`WALLCRAWLER_ARTIFACTS_RETENTION_HOURS`, `WALLCRAWLER_ARTIFACTS_MAX_MB`). A session without downloads gives a valid empty zip. Downloads cancelled for passing the session's limit are listed, with the reason, in `wallcrawler-download-errors.json` inside the zip.",
  request: { headers: ProjectIdHeaderSchema, params: IdParamSchema },
  responses: {
    200: {
      description: 'A zip archive.',
      content: { 'application/zip': { schema: z.string().openapi({ type: 'string', format: 'binary' }) } },
    },
    ...pickErrors(401, 403, 404, 501),
  },
});

const sessionLogs = createRoute({
  method: 'get',
  path: '/v1/sessions/{id}/logs',
  operationId: 'sessionLogs',
  tags: ['Sessions'],
  summary: "The session's CDP log",
  description:
    "The CDP commands the session's clients sent, with Chromium's answers, oldest first: live while it runs, kept after it ended. Secrets (credentials, cookie values, typed text) are redacted; each body keeps at most 64 KiB, and the log at most `WALLCRAWLER_SESSION_LOG_MAX_MB` (the oldest entries go first). Empty for a session created with `browserSettings.logSession: false`.",
  request: { headers: ProjectIdHeaderSchema, params: IdParamSchema },
  responses: {
    200: { description: 'The log.', content: jsonContent(z.array(SessionLogSchema)) },
    ...pickErrors(401, 403, 404, 501),
  },
});

export const UploadResponseSchema = z
  .object({
    message: z.string().openapi({ description: "Says where the file is on the browser's machine." }),
    path: z.string().openapi({
      description:
        "The file's path for the browser: give it to CDP `DOM.setFileInputFiles` (or Playwright's `setInputFiles`).",
    }),
  })
  .openapi('SessionUploadResponse');

const uploadFile = createRoute({
  method: 'post',
  path: '/v1/sessions/{id}/uploads',
  operationId: 'sessionUpload',
  tags: ['Sessions'],
  summary: "Upload a file for the session's page to use",
  description:
    "Stores the multipart part `file` where the running session's browser can read it, for file inputs. The file is deleted with the session.",
  request: {
    headers: ProjectIdHeaderSchema,
    params: IdParamSchema,
    body: { required: true, content: { 'multipart/form-data': { schema: FileUploadSchema } } },
  },
  responses: {
    200: { description: 'Uploaded.', content: jsonContent(UploadResponseSchema) },
    ...pickErrors(400, 401, 403, 404, 409, 413, 415, 501),
  },
});

export function registerSessionFileRoutes(app: OpenAPIHono<AppEnv>, { sessions }: { sessions: SessionService }) {
  app.openapi(listDownloads, async (c) => {
    const zip = await sessions.downloadsZip(c.var.auth.projectId, c.req.valid('param').id);
    return new Response(Readable.toWeb(zip) as ReadableStream, {
      status: 200,
      headers: {
        'content-type': 'application/zip',
        'content-disposition': `attachment; filename="${c.req.valid('param').id}-downloads.zip"`,
      },
    }) as never;
  });

  app.openapi(sessionLogs, async (c) => {
    return c.json([...(await sessions.logs(c.var.auth.projectId, c.req.valid('param').id))], 200);
  });

  app.openapi(uploadFile, async (c) => {
    const { file } = c.req.valid('form');
    const path = await sessions.upload(
      c.var.auth.projectId,
      c.req.valid('param').id,
      file.name,
      new Uint8Array(await file.arrayBuffer()),
    );
    return c.json({ message: `The file was uploaded to ${path}.`, path }, 200);
  });
}
