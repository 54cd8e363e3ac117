import { z } from '@hono/zod-openapi';
import { REGIONS, SESSION_STATUSES } from '../domain/model.js';

export const SessionStatusSchema = z.enum(SESSION_STATUSES).openapi('SessionStatus');

export const RegionSchema = z
  .enum(REGIONS)
  .openapi('Region', { description: "Always one of Browserbase's four regions." });

const metadata = z.record(z.string(), z.unknown());
const dateTime = z.iso.datetime();

export const SessionSchema = z
  .object({
    id: z.string(),
    createdAt: dateTime,
    updatedAt: dateTime,
    startedAt: dateTime,
    expiresAt: dateTime,
    endedAt: dateTime.optional(),
    keepAlive: z.boolean(),
    projectId: z.string(),
    proxyBytes: z.number().int(),
    region: RegionSchema,
    status: SessionStatusSchema,
    contextId: z.string().optional(),
    userMetadata: metadata.optional(),
  })
  .openapi('Session');

const connectFields = {
  connectUrl: z.string().openapi({
    description:
      'WebSocket URL for CDP clients: `ws://<host>/?signingKey=<token>`; on AWS behind the connect edge, `wss://<edge>/devtools/browser?signingKey=<token>`.',
  }),
  seleniumRemoteUrl: z
    .string()
    .openapi({ description: 'Reserved for Selenium; Wallcrawler does not serve WebDriver yet.' }),
  signingKey: z.string().openapi({ description: "The session's connect token (a JWT bound to this session)." }),
};

export const SessionViewSchemas = {
  create: z.intersection(SessionSchema, z.object(connectFields)).openapi('SessionCreateResponse'),
  retrieve: z
    .intersection(
      SessionSchema,
      z.object({
        connectUrl: connectFields.connectUrl.optional(),
        seleniumRemoteUrl: connectFields.seleniumRemoteUrl.optional(),
        signingKey: connectFields.signingKey.optional(),
      }),
    )
    .openapi('SessionRetrieveResponse'),
};

export const ViewportSchema = z
  .looseObject({
    width: z.number().int().min(100).max(7680).optional(),
    height: z.number().int().min(100).max(4320).optional(),
  })
  .openapi('Viewport');

export const SessionContextSchema = z
  .looseObject({
    id: z.string().min(1),
    persist: z
      .boolean()
      .optional()
      .openapi({ description: 'Save the profile back into the context when the session ends. @default false' }),
  })
  .openapi('SessionContext');

export const BrowserSettingsSchema = z
  .looseObject({
    viewport: ViewportSchema.optional(),
    context: SessionContextSchema.optional(),
    extensionId: z.string().min(1).optional(),
    logSession: z
      .boolean()
      .optional()
      .openapi({ description: "Log the clients' CDP commands (`GET /v1/sessions/{id}/logs`). @default true" }),
    recordSession: z.boolean().optional().openapi({
      description: 'Record every page with rrweb (`GET /v1/sessions/{id}/recording`, `/replays`). @default true',
    }),
    allowedDomains: z.array(z.string()).optional().openapi({
      description: 'Refused unless empty: Wallcrawler does not restrict navigation (see docs/compatibility.md).',
    }),
    ignoreCertificateErrors: z.boolean().optional().openapi({
      description: 'Refused when true; send CDP `Security.setIgnoreCertificateErrors` instead.',
    }),
    advancedStealth: z.boolean().optional().openapi({ description: 'Ignored.' }),
    verified: z.boolean().optional().openapi({ description: 'Ignored.' }),
    blockAds: z.boolean().optional().openapi({ description: 'Ignored: ads are not blocked.' }),
    solveCaptchas: z.boolean().optional().openapi({ description: 'Ignored: captchas are not solved.' }),
    captchaImageSelector: z.string().optional().openapi({ description: 'Ignored.' }),
    captchaInputSelector: z.string().optional().openapi({ description: 'Ignored.' }),
    fingerprint: z.record(z.string(), z.unknown()).optional().openapi({ description: 'Ignored.' }),
    os: z.string().optional().openapi({ description: 'Ignored.' }),
  })
  .openapi('BrowserSettings');

const ProxySchema = z
  .looseObject({
    type: z.enum(['browserbase', 'external', 'none']),
    server: z.string().optional(),
    domainPattern: z.string().optional(),
    username: z.string().optional(),
    password: z.string().optional(),
    geolocation: z.record(z.string(), z.unknown()).optional(),
  })
  .openapi('SessionProxy');

/** Browserbase's shortest session `timeout`, in seconds: what the API documents, and what users get. */
export const MIN_SESSION_TIMEOUT_SECONDS = 60;

/**
 * The create body, with the shortest `timeout` it accepts (and documents) at `minTimeoutSeconds`. Only tests
 * lower it (`AppDeps.minSessionTimeoutSeconds`), so that a timeout is reached in seconds, not a minute.
 */
export function sessionCreateParamsSchema(minTimeoutSeconds: number) {
  return z
    .looseObject({
      projectId: z.string().optional(),
      timeout: z.number().int().min(minTimeoutSeconds).max(21600).optional(),
      keepAlive: z.boolean().optional(),
      region: RegionSchema.optional(),
      extensionId: z.string().optional(),
      userMetadata: metadata.optional(),
      browserSettings: BrowserSettingsSchema.optional(),
      proxies: z
        .union([z.boolean(), z.array(ProxySchema)])
        .optional()
        .openapi({
          description:
            "Proxies of your own. An entry of type `external` sends the hosts its `domainPattern` matches (a regular expression over the whole host name, case-insensitive; every host without one) through an HTTP proxy (`server`: `http://host:port`), with its `username` and `password`; one of type `none` sends them straight out; hosts no entry matches go straight out. Each proxy is checked at create: wrong credentials are a 400 `proxy_auth_failed`, an unreachable proxy a 502 `proxy_unreachable`. The session's `proxyBytes` counts the bytes through these proxies. `true` and entries of type `browserbase` are refused (400 `unsupported_field`) unless the operator set `WALLCRAWLER_UNSUPPORTED_FIELDS=ignore`, which ignores them. On AWS, `proxyBytes` is up to 5 seconds behind while the session runs.",
        }),
      proxySettings: z.record(z.string(), z.unknown()).optional().openapi({ description: 'Ignored.' }),
    })
    .openapi('SessionCreateParams');
}

export const SessionCreateParamsSchema = sessionCreateParamsSchema(MIN_SESSION_TIMEOUT_SECONDS);
/** A create body schema, whatever its shortest timeout. */
export type SessionCreateParamsZod = typeof SessionCreateParamsSchema;

export const SessionUpdateParamsSchema = z
  .looseObject({
    status: z.enum(['REQUEST_RELEASE']),
    projectId: z.string().optional(),
  })
  .openapi('SessionUpdateParams');

export const SessionLivePageSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    title: z.string(),
    faviconUrl: z.string(),
    debuggerUrl: z.string(),
    debuggerFullscreenUrl: z.string(),
  })
  .openapi('SessionLivePage');

export const SessionLiveURLsSchema = z
  .object({
    debuggerFullscreenUrl: z.string(),
    debuggerUrl: z.string(),
    wsUrl: z.string(),
    pages: z.array(SessionLivePageSchema),
  })
  .openapi('SessionLiveURLs');

export type SessionBody = z.infer<typeof SessionSchema>;
export type SessionCreateParams = z.infer<typeof SessionCreateParamsSchema>;

export const SessionLogSchema = z
  .object({
    method: z.string(),
    pageId: z.number().int().openapi({ description: 'The page: 0, 1, ... in the order pages appeared.' }),
    sessionId: z.string(),
    frameId: z.string().optional(),
    loaderId: z.string().optional(),
    request: z
      .object({
        params: z.record(z.string(), z.unknown()),
        rawBody: z.string(),
        timestamp: z.number().int().optional(),
      })
      .optional(),
    response: z
      .object({
        rawBody: z.string(),
        result: z.record(z.string(), z.unknown()),
        timestamp: z.number().int().optional(),
      })
      .optional(),
    timestamp: z
      .number()
      .int()
      .optional()
      .openapi({ description: 'When the command was sent, in ms since the epoch.' }),
  })
  .openapi('SessionLog');

export const SessionRecordingSchema = z
  .object({
    data: z.record(z.string(), z.unknown()).openapi({ description: "rrweb's event payload." }),
    sessionId: z.string(),
    timestamp: z.number().int().openapi({ description: 'ms since the epoch.' }),
    type: z.number().int().openapi({ description: "rrweb's event type (2 full snapshot, 3 incremental, 4 meta)." }),
    pageId: z
      .string()
      .openapi({ description: 'The page, "0", "1", ... in the order pages appeared (a Wallcrawler addition).' }),
  })
  .openapi('SessionRecording');

export const RecordingDownloadsSchema = z
  .object({
    downloads: z.array(
      z.object({
        pageId: z.string(),
        status: z.enum(['NOT_REQUESTED', 'PENDING', 'COMPLETED', 'FAILED']),
        completedAt: z.string().optional(),
        downloadUrl: z.string().optional(),
      }),
    ),
  })
  .openapi('RecordingDownloads');

export const ReplayListingSchema = z
  .object({
    pageCount: z.number().int(),
    pages: z.array(
      z.object({
        pageId: z.string(),
        startTimeMs: z.number().int(),
        endTimeMs: z.number().int(),
        url: z.string().openapi({
          description: "A page that replays this page's recording in a browser (rrweb-player), not an HLS playlist.",
        }),
      }),
    ),
  })
  .openapi('ReplayListing');

/** The `x-wallcrawler-ignored-fields` response header of a create (`http/create-fields.ts`). */
export const IgnoredFieldsHeaderSchema = z.object({
  'x-wallcrawler-ignored-fields': z.string().optional().openapi({
    description:
      'The create fields that were accepted but not acted on (unsupported features and unknown fields), comma-separated. Absent when there are none.',
  }),
});
