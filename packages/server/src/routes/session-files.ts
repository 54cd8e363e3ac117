import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { largeAnswerKey } from '@wallcrawler/contracts';
import type { Context } from 'hono';
import { NotSupportedError } from '../domain/errors.js';
import type { AppEnv } from '../http/app-env.js';
import { answerOrRedirect, jsonOrRedirect } from '../http/large-answer.js';
import { zipDisposition } from '../http/zip-response.js';
import type { LargeAnswers } from '../ports/large-answers.js';
import { pickErrors } from '../schemas/error.js';
import { FileUploadSchema } from '../schemas/extension.js';
import { jsonContent } from '../schemas/json-content.js';
import { IdParamSchema, ProjectIdHeaderSchema } from '../schemas/parameters.js';
import {
  RecordingDownloadsSchema,
  ReplayListingSchema,
  SessionLogSchema,
  SessionRecordingSchema,
} from '../schemas/session.js';
import type { SessionFiles } from '../services/session-files.js';
import type { SessionViews } from '../services/session-views.js';

/**
 * On AWS an answer larger than the front door carries (Lambda's buffered 6 MB) is stored in the blob bucket, and
 * the client is sent there (see `http/large-answer.ts`).
 */
const redirectedWhenLarge = {
  307: {
    description:
      "The answer is larger than this deployment's front door carries (AWS: over 4 MiB): it is at `Location`, a presigned URL valid for 5 minutes. Browserbase's SDK, and any fetch, follow it.",
    headers: {
      Location: { description: 'A short-lived URL of the answer.', schema: { type: 'string' as const } },
    },
  },
};

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
    ...redirectedWhenLarge,
    ...pickErrors(401, 403, 404, 501, 502, 503),
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
    ...redirectedWhenLarge,
    ...pickErrors(401, 403, 404, 501, 502, 503),
  },
});

const sessionRecording = createRoute({
  method: 'get',
  path: '/v1/sessions/{id}/recording',
  operationId: 'sessionRecording',
  tags: ['Sessions'],
  summary: "The session's rrweb recording",
  description:
    'Every rrweb event of every page, in order: live while the session runs, kept after it ended. Empty for a session created with `browserSettings.recordSession: false`. Password fields are masked.',
  request: { headers: ProjectIdHeaderSchema, params: IdParamSchema },
  responses: {
    200: { description: 'The events.', content: jsonContent(z.array(SessionRecordingSchema)) },
    ...redirectedWhenLarge,
    ...pickErrors(401, 403, 404, 501, 502, 503),
  },
});

const recordingDownloadsNote =
  'Wallcrawler does not render recordings to video: every page answers `FAILED`, with no `downloadUrl`. Replay the rrweb recording instead (`GET /v1/sessions/{id}/replays` gives a page per recorded page).';

const createRecordingDownloads = createRoute({
  method: 'post',
  path: '/v1/sessions/{id}/recording/downloads',
  operationId: 'createRecordingDownloads',
  tags: ['Sessions'],
  summary: 'Ask for video downloads of the recording (not supported: answers FAILED per page)',
  description: recordingDownloadsNote,
  request: { headers: ProjectIdHeaderSchema, params: IdParamSchema },
  responses: {
    200: { description: 'The pages, each FAILED.', content: jsonContent(RecordingDownloadsSchema) },
    ...pickErrors(400, 401, 403, 404, 501),
  },
});

const listRecordingDownloads = createRoute({
  method: 'get',
  path: '/v1/sessions/{id}/recording/downloads',
  operationId: 'listRecordingDownloads',
  tags: ['Sessions'],
  summary: 'Video downloads of the recording (not supported: FAILED per page)',
  description: recordingDownloadsNote,
  request: { headers: ProjectIdHeaderSchema, params: IdParamSchema },
  responses: {
    200: { description: 'The pages, each FAILED.', content: jsonContent(RecordingDownloadsSchema) },
    ...pickErrors(401, 403, 404, 501),
  },
});

const listReplays = createRoute({
  method: 'get',
  path: '/v1/sessions/{id}/replays',
  operationId: 'sessionReplays',
  tags: ['Sessions'],
  summary: 'The recorded pages, each with a replay page URL',
  description:
    "Browserbase's shape. Each `url` opens a page that plays that page's rrweb recording in a browser (no login: the URL carries a view-only token, valid `expiresIn` seconds, default a day). It is not an HLS playlist.",
  request: {
    headers: ProjectIdHeaderSchema,
    params: IdParamSchema,
    query: z.object({ expiresIn: z.coerce.number().int().min(60).max(2_592_000).optional() }),
  },
  responses: {
    200: { description: 'The pages.', content: jsonContent(ReplayListingSchema) },
    ...pickErrors(400, 401, 403, 404, 501),
  },
});

const replayPage = createRoute({
  method: 'get',
  path: '/v1/sessions/{id}/replays/{pageId}',
  operationId: 'sessionReplayPage',
  tags: ['Sessions'],
  summary: "A page's HLS video (not supported)",
  description:
    "Wallcrawler renders no video: this answers 501. Open the page's `url` from `GET /v1/sessions/{id}/replays` instead.",
  request: {
    headers: ProjectIdHeaderSchema,
    params: IdParamSchema.extend({ pageId: z.string().openapi({ param: { name: 'pageId', in: 'path' } }) }),
  },
  responses: {
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
    ...pickErrors(400, 401, 403, 404, 409, 413, 415, 501, 502),
  },
});

export function registerSessionFileRoutes(
  app: OpenAPIHono<AppEnv>,
  {
    files,
    views,
    gatewayUrl,
    largeAnswers,
  }: {
    files: SessionFiles;
    views: SessionViews;
    gatewayUrl: (requestUrl: string) => string;
    /** Where answers too large for the front door go (AWS); without it every answer is streamed. */
    largeAnswers?: LargeAnswers | undefined;
  },
) {
  app.openapi(listDownloads, async (c) => {
    const { id } = c.req.valid('param');
    return answerOrRedirect(c, await files.downloadsZip(c.var.auth.projectId, id), {
      contentType: 'application/zip',
      contentDisposition: zipDisposition(id),
      key: (tag) => largeAnswerKey('downloads', id, tag, 'zip'),
      large: largeAnswers,
    }) as never;
  });

  const json = (c: Context, value: unknown, key: (tag: string) => string) =>
    jsonOrRedirect(c, value, { key, large: largeAnswers });

  app.openapi(sessionLogs, async (c) => {
    const { id } = c.req.valid('param');
    const entries = await files.logs(c.var.auth.projectId, id);
    return (await json(c, entries, (tag) => largeAnswerKey('logs', id, tag, 'json'))) as never;
  });

  app.openapi(sessionRecording, async (c) => {
    const { id } = c.req.valid('param');
    const events = await files.recording(c.var.auth.projectId, id);
    return (await json(c, events, (tag) => largeAnswerKey('recordings', id, tag, 'json'))) as never;
  });

  const pagesFailed = async (projectId: string, id: string) => {
    const pages = await files.recordedPages(projectId, id);
    return { downloads: pages.map((p) => ({ pageId: p.pageId, status: 'FAILED' as const })) };
  };
  app.openapi(createRecordingDownloads, async (c) =>
    c.json(await pagesFailed(c.var.auth.projectId, c.req.valid('param').id), 200),
  );
  app.openapi(listRecordingDownloads, async (c) =>
    c.json(await pagesFailed(c.var.auth.projectId, c.req.valid('param').id), 200),
  );

  app.openapi(listReplays, async (c) => {
    const listing = await views.replays(
      c.var.auth.projectId,
      c.req.valid('param').id,
      gatewayUrl(c.req.url),
      c.req.valid('query').expiresIn,
    );
    return c.json(listing, 200);
  });

  app.openapi(replayPage, async (c) => {
    await files.recording(c.var.auth.projectId, c.req.valid('param').id);
    throw new NotSupportedError(
      "Wallcrawler renders no HLS video of recordings. Open the page's url from GET /v1/sessions/{id}/replays, which replays the rrweb recording in a browser.",
    );
  });

  app.openapi(uploadFile, async (c) => {
    const { file } = c.req.valid('form');
    const path = await files.upload(
      c.var.auth.projectId,
      c.req.valid('param').id,
      file.name,
      new Uint8Array(await file.arrayBuffer()),
    );
    return c.json({ message: `The file was uploaded to ${path}.`, path }, 200);
  });
}
