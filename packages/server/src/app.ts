import type { Hook } from '@hono/zod-openapi';
import { OpenAPIHono } from '@hono/zod-openapi';
import { formatMiB, type Logger, silentLogger } from '@wallcrawler/contracts';
import { bodyLimit } from 'hono/body-limit';
import { withApiKeyCache } from './adapters/cached-api-keys.js';
import { TunnelProxyChecker } from './adapters/tunnel-proxy-checker.js';
import type { Census } from './census.js';
import { NotSupportedError } from './domain/errors.js';
import { FetchService } from './fetch/fetch-service.js';
import { ApiError } from './http/api-error.js';
import type { AppEnv } from './http/app-env.js';
import type { UnsupportedFieldsMode } from './http/create-fields.js';
import { errorResponse, handleError } from './http/error-handler.js';
import { type FastRoute, fastSessionRead } from './http/fast-session-read.js';
import { type ModelEndpoint, ModelEndpoints } from './llm/model-endpoint.js';
import { ModelGateway } from './llm/model-gateway.js';
import { McpConnections } from './mcp/connections.js';
import { ServerMetrics } from './metrics.js';
import { apiKeyAuth } from './middleware/api-key-auth.js';
import { jsonBody } from './middleware/json-body.js';
import { isUpload, multipartUploads } from './middleware/multipart-uploads.js';
import { originSecretCheck } from './middleware/origin-secret.js';
import { requestContext } from './middleware/request-context.js';
import type { BlobStore } from './ports/blob-store.js';
import type { BrowserProvider } from './ports/browser-provider.js';
import type { ConnectTokenSigner } from './ports/connect-token-signer.js';
import type { LargeAnswers } from './ports/large-answers.js';
import type { ProxyChecker } from './ports/proxy-checker.js';
import type { Store } from './ports/store.js';
import { registerContextRoutes } from './routes/contexts.js';
import { registerDashboard } from './routes/dashboard.js';
import { registerExtensionRoutes } from './routes/extensions.js';
import { registerFetchRoutes } from './routes/fetch.js';
import { registerHealthRoute } from './routes/health.js';
import { registerLlmRoutes } from './routes/llm.js';
import { registerMcpRoute } from './routes/mcp.js';
import { registerMetricsRoute } from './routes/metrics.js';
import { registerNotSupportedRoutes } from './routes/not-supported.js';
import { registerProjectRoutes } from './routes/projects.js';
import { registerReplayPages } from './routes/replay-pages.js';
import { registerSearchRoutes } from './routes/search.js';
import { registerSessionFileRoutes } from './routes/session-files.js';
import { registerSessionRoutes } from './routes/sessions.js';
import { registerStagehandRoutes } from './routes/stagehand.js';
import { registerWebhookRoutes } from './routes/webhooks.js';
import { SessionCreateParamsSchema, sessionCreateParamsSchema } from './schemas/session.js';
import { SearxngSearch } from './search/searxng-search.js';
import { BrowserStartPlanner } from './services/browser-start-planner.js';
import { ContextService } from './services/context-service.js';
import type { DownloadService } from './services/download-service.js';
import { ExtensionService } from './services/extension-service.js';
import type { HostAdmission } from './services/host-admission.js';
import type { SessionArtifactService } from './services/session-artifact-service.js';
import { SessionFiles } from './services/session-files.js';
import { SessionLifecycle } from './services/session-lifecycle.js';
import { SessionViews } from './services/session-views.js';
import { type WebhookDeliveryOptions, WebhookDispatcher } from './services/webhook-dispatcher.js';
import { WebhookSecrets } from './services/webhook-secrets.js';
import { WebhookService } from './services/webhook-service.js';
import { WebhookTargets } from './services/webhook-targets.js';
import { StagehandService } from './stagehand/stagehand-service.js';
import { VERSION } from './version.js';

/** Everything the API needs from the outside world. `createApp` reads no environment and starts nothing. */
export interface AppDeps {
  store: Store;
  provider: BrowserProvider;
  signer: ConnectTokenSigner;
  /**
   * The value CloudFront's origin-secret header must carry (AWS), read on first use: every request without it
   * gets a 403, so the API is reached only through CloudFront. Without it, no request is checked.
   */
  originSecret?: () => Promise<string>;
  /** Checks a create's proxies before the session starts. @default a tunnel asked of each proxy over TCP */
  proxyChecker?: ProxyChecker;
  /** Context archives, extension zips and session artifacts. Without one, those routes answer 501. */
  blobs?: BlobStore;
  /**
   * Contexts' AES-256-GCM key (32 bytes), or how to read it on first use (AWS: from its secret). Without one,
   * sessions cannot start from contexts.
   */
  contextKey?: Buffer | (() => Promise<Buffer>);
  /** The most a context's files may add up to, uncompressed. @default 256 MiB */
  contextMaxBytes?: number;
  /** The most an uploaded file (an extension zip, a session upload) may hold. @default 50 MiB */
  uploadMaxBytes?: number;
  /** Keeps and serves sessions' downloads (needs `blobs`). */
  downloads?: DownloadService;
  /** The most one session's downloads may add up to. @default 512 MiB */
  sessionDownloadsMaxBytes?: number;
  /** Keeps and serves sessions' CDP logs (needs `blobs`). */
  artifacts?: SessionArtifactService;
  /** The most one session's CDP log keeps. @default 16 MiB */
  sessionLogMaxBytes?: number;
  /** The most one session's recording keeps. @default 64 MiB */
  sessionRecordingMaxBytes?: number;
  /** `POST /v1/fetch`: the most of a body an answer carries (the rest is cut). @default 4 MiB */
  fetchMaxBytes?: number;
  /** `POST /v1/fetch`'s deadline. @default 30 s */
  fetchTimeoutMs?: number;
  /** A SearXNG instance's base URL, for `POST /v1/search`. Without it, search answers 501. */
  searchUrl?: string;
  /** Where answers too large for the front door go, to be redirected to (AWS). Without it, all are streamed. */
  largeAnswers?: LargeAnswers;
  /** How many browsers this host runs at once, and the wait for a slot. Without it, only projects' limits apply. */
  admission?: HostAdmission;
  /** The Prometheus metrics `GET /metrics` serves. @default a registry of the app's own */
  metrics?: ServerMetrics;
  /** What a create asking for an unsupported feature gets (see `http/create-fields.ts`). @default 'refuse' */
  unsupportedFields?: UnsupportedFieldsMode;
  /**
   * Test-only: the shortest session `timeout` a create accepts, in seconds, so that tests reach a timeout in
   * seconds. Users keep Browserbase's minimum, which `openapi.yaml` documents. @default 60
   */
  minSessionTimeoutSeconds?: number;
  /**
   * The base URL (`http://127.0.0.1:<port>`) at which this process reaches its own connect gateway, for the
   * Stagehand it runs on sessions (`/v1/sessions/start`). Without it, Stagehand's routes answer 501.
   */
  internalGatewayUrl?: () => string | undefined;
  /**
   * The server-wide model endpoint of `POST /v1/llm/responses`, for projects without their own (whose keys are
   * sealed under `contextKey`). Without either, the route answers 400 `model_not_configured`.
   */
  model?: ModelEndpoint;
  /** Where the app's per-session maps and caches are counted (the leak check). */
  census?: Census;
  /**
   * Webhooks (their secrets are sealed under `contextKey`; without one, their routes answer 501).
   * `allowPrivateTargets`: `WALLCRAWLER_WEBHOOKS_ALLOW_PRIVATE`. `deliver: false` keeps the CRUD but delivers
   * nothing from this process (a Lambda function, which cannot keep retrying in the background).
   */
  webhooks?: WebhookDeliveryOptions & { allowPrivateTargets?: boolean; deliver?: boolean };
  logger?: Logger;
  /**
   * The base URL clients reach the connect gateway at, for `connectUrl`s (`http://host:port`).
   * @default the origin each request came in on
   */
  publicUrl?: string;
  /**
   * AWS: the connect edge's public https base; sessions' `connectUrl`, live view and DevTools URLs are on it
   * (`wss://`, `https://`), never a task's address. @default each task's own address (direct mode)
   */
  connectBaseUrl?: string;
}

/** Request bodies are small JSON documents; 1 MiB leaves room for generous `userMetadata`. */
const MAX_BODY_BYTES = 1024 * 1024;
/** A model call carries a page's accessibility tree and may carry screenshots: Stagehand 4 sends up to 25 MB. */
const MODEL_CALL_MAX_BYTES = 25 * 1024 * 1024;

/** Validation failures become one 400 listing every problem, each with its location (`body.timeout`). */
const validationHook: Hook<unknown, AppEnv, string, unknown> = (result, c) => {
  if (result.success) return;
  const details = result.error.issues.map((issue) => ({
    path: [result.target === 'json' ? 'body' : result.target, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  const summary = details.map((d) => `${d.path}: ${d.message}`).join('; ');
  return errorResponse(c, new ApiError(400, 'validation_failed', `Invalid request: ${summary}`, details));
};

/**
 * The Wallcrawler API as a Hono app. Serve it with any runtime Hono supports; the Node runtime adds the connect
 * gateway on the same port (see `runtime/node.ts`).
 */
export function createApp(deps: AppDeps): OpenAPIHono<AppEnv> {
  return createApi(deps).app;
}

/** The API as a Hono app, plus the routes a Node server can answer without it (see `http/fast-session-read.ts`). */
export interface Api {
  app: OpenAPIHono<AppEnv>;
  /** `GET /v1/sessions/{id}`, answered as the app answers it; every other request is the app's. */
  fastRoute: FastRoute;
  /** The sessions' lifecycle, for the runtime's own use (reconciling after a restart). */
  lifecycle: SessionLifecycle;
  /** Delivers session events to webhooks; the runtime closes it on shutdown, after the sessions have ended. */
  webhookDispatcher: WebhookDispatcher | undefined;
}

/** `createApp`, and the Node runtime's fast route over the same services. */
export function createApi(deps: AppDeps): Api {
  const { provider, signer, blobs, logger = silentLogger, publicUrl } = deps;
  // Every authenticated request looks its key up: a short cache spares the store (revocations here are immediate).
  const store = withApiKeyCache(deps.store, { census: deps.census });
  const metrics =
    deps.metrics ?? new ServerMetrics({ activeSessions: () => store.listActiveSessions(), admission: deps.admission });
  const contextService = blobs
    ? new ContextService({
        store,
        blobs,
        key: deps.contextKey,
        logger,
        ...(deps.contextMaxBytes !== undefined ? { maxBytes: deps.contextMaxBytes } : {}),
      })
    : undefined;
  const extensionService = blobs ? new ExtensionService({ store, blobs, logger }) : undefined;
  const needBlobs =
    <T>(service: T | undefined, what: string) =>
    () => {
      if (!service) throw new NotSupportedError(`This deployment has no blob store, so it cannot keep ${what}.`);
      return service;
    };
  const planner = new BrowserStartPlanner({
    provider,
    proxies: deps.proxyChecker ?? new TunnelProxyChecker(),
    contexts: contextService,
    extensions: extensionService,
    downloads: deps.downloads,
    artifacts: deps.artifacts,
    ...(deps.sessionLogMaxBytes !== undefined ? { sessionLogMaxBytes: deps.sessionLogMaxBytes } : {}),
    ...(deps.sessionRecordingMaxBytes !== undefined ? { sessionRecordingMaxBytes: deps.sessionRecordingMaxBytes } : {}),
    ...(deps.sessionDownloadsMaxBytes !== undefined ? { sessionDownloadsMaxBytes: deps.sessionDownloadsMaxBytes } : {}),
  });
  const webhookSecrets = deps.contextKey ? new WebhookSecrets(deps.contextKey) : undefined;
  const webhookTargets = new WebhookTargets(deps.webhooks?.allowPrivateTargets === true);
  const webhookService = webhookSecrets
    ? new WebhookService({ store, secrets: webhookSecrets, targets: webhookTargets })
    : undefined;
  const webhookDispatcher =
    webhookSecrets && deps.webhooks?.deliver !== false
      ? new WebhookDispatcher({
          ...deps.webhooks,
          store,
          secrets: webhookSecrets,
          targets: webhookTargets,
          logger,
          census: deps.census,
        })
      : undefined;
  const lifecycle = new SessionLifecycle({
    store,
    provider,
    planner,
    logger,
    admission: deps.admission,
    metrics,
    census: deps.census,
    events: webhookDispatcher,
  });
  const files = new SessionFiles({ lifecycle, provider, downloads: deps.downloads, artifacts: deps.artifacts, logger });
  const views = new SessionViews({
    lifecycle,
    provider,
    signer,
    files,
    census: deps.census,
    connectBaseUrl: deps.connectBaseUrl,
  });
  const uploadMaxBytes = deps.uploadMaxBytes ?? 50 * 1024 * 1024;
  const gatewayUrl = (requestUrl: string) => publicUrl ?? new URL(requestUrl).origin;

  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.use('*', (c, next) => {
    c.set('metrics', metrics);
    return next();
  });
  app.use('*', requestContext({ logger }));
  if (deps.originSecret) app.use('*', originSecretCheck(deps.originSecret));
  const limit = (maxSize: number, what: string) =>
    bodyLimit({
      maxSize,
      onError: () => {
        // The rest of the body is left unread: close the connection, or a keep-alive client would send its next
        // request on a socket the server is about to drop.
        throw new ApiError(413, 'payload_too_large', `${what} (the limit is ${formatMiB(maxSize)}).`, undefined, {
          connection: 'close',
        });
      },
    });
  const jsonLimit = limit(MAX_BODY_BYTES, 'The request body is too large');
  const modelCallLimit = limit(MODEL_CALL_MAX_BYTES, 'The model call is too large');
  // A multipart body carries its part headers besides the file.
  const fileLimit = limit(uploadMaxBytes + 64 * 1024, 'The uploaded file is too large');
  app.use('/v1/*', (c, next) => {
    // A GET has no body to limit (and asking for one makes the Node adapter build a whole Request).
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    if (isUpload(c.req.method, c.req.path)) return fileLimit(c, next);
    return c.req.path === '/v1/llm/responses' ? modelCallLimit(c, next) : jsonLimit(c, next);
  });
  app.use('/v1/*', multipartUploads());
  // The dashboard's forms are one field each.
  app.use('/dashboard/*', limit(16 * 1024, 'The form is too large'));
  app.use('/v1/*', jsonBody());
  app.use('/v1/*', apiKeyAuth({ store }));

  registerHealthRoute(app, { version: VERSION });
  registerMetricsRoute(app, { store, metrics });
  const unsupportedFields = deps.unsupportedFields ?? 'refuse';
  const stagehand = new StagehandService({
    lifecycle,
    views,
    gatewayUrl: deps.internalGatewayUrl ?? (() => undefined),
    logger,
    census: deps.census,
  });
  // Users get the module's one schema; only a test's lower minimum builds another.
  const createParams =
    deps.minSessionTimeoutSeconds === undefined
      ? SessionCreateParamsSchema
      : sessionCreateParamsSchema(deps.minSessionTimeoutSeconds);
  registerStagehandRoutes(app, { stagehand, gatewayUrl, unsupportedFields, createParams });
  registerSessionRoutes(app, { lifecycle, views, gatewayUrl, unsupportedFields, createParams });
  registerProjectRoutes(app, { store });
  const models = new ModelEndpoints({ store, serverDefault: deps.model, sealKey: deps.contextKey });
  const modelGateway = new ModelGateway({ endpoints: models, logger });
  registerLlmRoutes(app, { gateway: modelGateway, lifecycle });
  const fetcher = new FetchService({
    lifecycle,
    views,
    gatewayUrl: deps.internalGatewayUrl ?? (() => undefined),
    models: modelGateway,
    logger,
    ...(deps.fetchMaxBytes !== undefined ? { maxBytes: deps.fetchMaxBytes } : {}),
    ...(deps.fetchTimeoutMs !== undefined ? { timeoutMs: deps.fetchTimeoutMs } : {}),
  });
  registerFetchRoutes(app, { fetcher });
  registerSearchRoutes(app, { search: deps.searchUrl ? new SearxngSearch({ baseUrl: deps.searchUrl }) : undefined });
  registerNotSupportedRoutes(app);
  registerSessionFileRoutes(app, { files, views, gatewayUrl, largeAnswers: deps.largeAnswers });
  registerReplayPages(app, { files, signer, largeAnswers: deps.largeAnswers });
  registerDashboard(app, { store, lifecycle, views, files, signer, gatewayUrl, largeAnswers: deps.largeAnswers });
  registerMcpRoute(app, {
    store,
    gatewayUrl,
    services: {
      lifecycle,
      views,
      connections: new McpConnections({ lifecycle, census: deps.census }),
      internalGatewayUrl: deps.internalGatewayUrl ?? (() => undefined),
      createParams,
      unsupportedFields,
    },
  });
  registerContextRoutes(app, { contexts: needBlobs(contextService, 'contexts') });
  registerExtensionRoutes(app, { extensions: needBlobs(extensionService, 'extensions') });
  registerWebhookRoutes(app, {
    webhooks: () => {
      if (!webhookService) throw new NotSupportedError('This deployment has no key to seal webhook secrets with.');
      return webhookService;
    },
  });

  app.openAPIRegistry.registerComponent('securitySchemes', 'WallcrawlerApiKey', {
    type: 'apiKey',
    in: 'header',
    name: 'x-wc-api-key',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'BrowserbaseApiKey', {
    type: 'apiKey',
    in: 'header',
    name: 'X-BB-API-Key',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'BearerAuth', { type: 'http', scheme: 'bearer' });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'Wallcrawler API', version: VERSION },
    security: [{ WallcrawlerApiKey: [] }, { BrowserbaseApiKey: [] }, { BearerAuth: [] }],
  });

  const routes = () =>
    app.routes
      .filter((r) => r.method !== 'ALL')
      .map((r) => ({ method: r.method, pattern: new RegExp(`^${r.path.replace(/:[^/]+/g, '[^/]+')}$`) }));
  app.notFound((c) => {
    const allowed = [
      ...new Set(
        routes()
          .filter((r) => r.pattern.test(c.req.path))
          .map((r) => r.method),
      ),
    ];
    if (allowed.length > 0) {
      return errorResponse(
        c,
        new ApiError(
          405,
          'method_not_allowed',
          `${c.req.method} is not allowed on ${c.req.path}; use ${allowed.join(' or ')}.`,
          undefined,
          {
            allow: allowed.join(', '),
          },
        ),
      );
    }
    return errorResponse(c, new ApiError(404, 'not_found', `There is no route ${c.req.method} ${c.req.path}.`));
  });
  app.onError(handleError);
  return { app, fastRoute: fastSessionRead({ store, views, publicUrl, logger }), lifecycle, webhookDispatcher };
}
