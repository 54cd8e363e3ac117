/**
 * The API on AWS Lambda: the same `createApp`, over DynamoDB and ECS Fargate, as a streaming function behind API
 * Gateway's REST API (`response-streaming.ts`), built once per execution environment from one validated
 * configuration. Plus the handlers of EventBridge's "ECS Task State Change" events and of the warm-pool scaler.
 * Each is bundled into a file of its own (`dist/lambda/*.cjs`).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Logger } from '@wallcrawler/contracts';
import { parseContextKey } from '@wallcrawler/controller';
import { createS3Client, S3BlobStore, SessionTable, TaskTable } from '@wallcrawler/controller/aws';
import { createApp } from '../../app.js';
import type { ModelEndpoint } from '../../llm/model-endpoint.js';
import { createLogger } from '../../logger.js';
import { DownloadService } from '../../services/download-service.js';
import { SessionArtifactService } from '../../services/session-artifact-service.js';
import { reportUnavailable } from '../dependency-errors.js';
import { DynamoDbStore } from '../dynamodb/dynamodb-store.js';
import { EcsBrowserProvider, type EcsBrowserProviderOptions } from '../ecs/ecs-browser-provider.js';
import { handleTaskStateChange, type TaskStateOutcome } from '../ecs/task-state-events.js';
import { replenishWarmPool, scaleWarmPool, type WarmPoolDecision } from '../ecs/warm-pool-scaler.js';
import { S3LargeAnswers } from '../s3/s3-large-answers.js';
import {
  type AwsApiConfig,
  type AwsPoolConfig,
  type AwsStoreConfig,
  loadAwsApiConfig,
  loadAwsPoolConfig,
  loadAwsStoreConfig,
} from './config.js';
import {
  AWS_REQUEST_HANDLER,
  keptOnSuccess,
  LazySecretTokenSigner,
  readConnectSecret,
  readSecretString,
} from './connect-secret.js';
import { type StreamingHandler, streamingApiHandler } from './response-streaming.js';

export interface LambdaHandlers {
  /**
   * API Gateway's REST API (Lambda proxy, response transfer mode `STREAM`) → the API. Wrapped in
   * `awslambda.streamifyResponse`, so Lambda's runtime hands it a response stream.
   */
  api: StreamingHandler;
  /** EventBridge "ECS Task State Change" → ends sessions whose task stopped. */
  taskState: (event: unknown) => Promise<TaskStateOutcome>;
}

/** The connect secret: the configured value, or read from Secrets Manager on first use. */
function connectSecret(config: AwsApiConfig): () => Promise<Uint8Array> {
  const configured = config.connectSecret;
  if ('value' in configured) return async () => configured.value;
  return keptOnSuccess(() => readConnectSecret(configured.arn, config.region));
}

/**
 * The value CloudFront's origin-secret header must carry, read from its secret on first use (a cold start
 * waits for nothing), and kept; a failed read is retried by the next request. Never logged.
 */
function originSecretOf(config: AwsApiConfig): (() => Promise<string>) | undefined {
  const source = config.originSecret;
  if (!source) return undefined;
  if ('value' in source) return async () => source.value;
  return keptOnSuccess(async () => (await readSecretString(source.arn, config.region)).trim());
}

/** Lambda's `awslambda.streamifyResponse`, which marks a handler as one that streams its answer. */
function streamify(handler: StreamingHandler): StreamingHandler {
  const runtime = globalThis.awslambda;
  if (!runtime?.streamifyResponse)
    throw new Error('Not in a Lambda Node.js runtime: there is no awslambda.streamifyResponse.');
  return runtime.streamifyResponse(handler);
}

/**
 * Contexts' key, read from its secret on first use (a request that needs no context never waits for Secrets
 * Manager), and kept for the next ones; a failed read is retried by the next use.
 */
function contextKeyOf(config: AwsApiConfig): (() => Promise<Buffer>) | undefined {
  const source = config.contextKey;
  if (!source) return undefined;
  if ('value' in source) {
    const key = parseContextKey(source.value);
    return async () => key;
  }
  return keptOnSuccess(async () => parseContextKey(await readSecretString(source.arn, config.region)));
}

/** The server-wide model endpoint, its key read from its secret on first use (a failed read is retried). */
function modelOf(config: AwsApiConfig): ModelEndpoint | undefined {
  const model = config.model;
  if (!model) return undefined;
  const { apiKey, ...endpoint } = model;
  if (!apiKey) return endpoint;
  if ('value' in apiKey) return { ...endpoint, apiKey: apiKey.value };
  return { ...endpoint, apiKey: keptOnSuccess(async () => (await readSecretString(apiKey.arn, config.region)).trim()) };
}

export interface LambdaHandlerOptions {
  logger?: Logger;
  /** Provider settings the environment does not carry (backoffs, poll interval), for tests and embedders. */
  provider?: Partial<Omit<EcsBrowserProviderOptions, 'ecs' | 'store' | 'signer'>>;
  /** Test-only: the shortest session `timeout` a create accepts, in seconds (see `AppDeps`). @default 60 */
  minSessionTimeoutSeconds?: number;
}

// A DynamoDB failure is a 503 whatever it is (unreachable, a fault, throttled past the SDK's retries). ECS only
// when unreachable: the provider reads ECS's own faults and throttling, and retries them itself.
function dynamoClient(config: AwsStoreConfig): DynamoDBClient {
  return reportUnavailable(
    new DynamoDBClient({
      region: config.region,
      requestHandler: AWS_REQUEST_HANDLER,
      ...(config.endpoints.dynamodb ? { endpoint: config.endpoints.dynamodb } : {}),
    }),
    'DynamoDB',
    { answered: true },
  );
}

function ecsClient(config: AwsStoreConfig): ECSClient {
  return reportUnavailable(
    new ECSClient({
      region: config.region,
      requestHandler: AWS_REQUEST_HANDLER,
      ...(config.endpoints.ecs ? { endpoint: config.endpoints.ecs } : {}),
    }),
    'ECS',
    { answered: false },
  );
}

/** The sessions table, for what the provider writes on a session's item itself (a release's reason). */
function sessionTableOf(config: AwsStoreConfig, client: DynamoDBClient): SessionTable {
  return new SessionTable({
    db: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
    tables: { sessions: config.tables.sessions, projects: config.tables.projects },
  });
}

/** The warm pool's table, when the deployment has one. */
function poolOf(config: AwsStoreConfig, client: DynamoDBClient): TaskTable | undefined {
  if (!config.tables.tasks) return undefined;
  return new TaskTable({
    db: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
    tables: { tasks: config.tables.tasks, sessions: config.tables.sessions },
  });
}

/**
 * The API function: DynamoDB, ECS and the connect-token secret. Nothing is fetched here: the secret is read on
 * the first request that needs it, so every request gets an answer of ours even when Secrets Manager is down.
 */
export async function createApiHandler(
  config: AwsApiConfig,
  options: LambdaHandlerOptions = {},
): Promise<LambdaHandlers['api']> {
  return streamify(apiHandlerOf(config, options));
}

/** The API function's handler, not yet marked as streaming. */
function apiHandlerOf(
  config: AwsApiConfig,
  { logger, provider: providerOptions, minSessionTimeoutSeconds }: LambdaHandlerOptions,
): StreamingHandler {
  const log = logger ?? createLogger(config.logLevel);
  const client = dynamoClient(config);
  const store = new DynamoDbStore({ client, tables: config.tables });
  const secret = connectSecret(config);
  const signer = new LazySecretTokenSigner(secret);
  const pool = poolOf(config, client);
  // An S3 failure, as DynamoDB's, is a 503 of ours.
  const s3 = config.blobsBucket
    ? reportUnavailable(createS3Client({ region: config.region, endpoint: config.endpoints.s3 }), 'S3', {
        answered: true,
      })
    : undefined;
  const blobs = s3 && config.blobsBucket ? new S3BlobStore({ client: s3, bucket: config.blobsBucket }) : undefined;
  const contextKey = contextKeyOf(config);
  const ecs = ecsClient(config);
  const poolSettings = config.pool;
  // Each claim asks the pool's service for its replacement at once (the schedule stays, to shrink it).
  const replenish =
    pool && poolSettings
      ? (claimed: Parameters<typeof replenishWarmPool>[1]) =>
          replenishWarmPool(
            {
              ecs,
              cluster: config.ecs.cluster,
              service: poolSettings.service,
              tasks: pool,
              size: poolSettings.size,
              logger: log,
            },
            claimed,
          )
      : undefined;
  const provider = new EcsBrowserProvider({
    ecs,
    store,
    signer,
    connectSecret: secret,
    ...config.ecs,
    logger: log,
    ...(pool ? { pool } : {}),
    ...(replenish ? { replenish } : {}),
    // The tasks fetch contexts and extensions from the same bucket, with the same key; they keep sessions' files
    // there too, and serve them while the session runs.
    keeping: { contexts: Boolean(blobs && contextKey), extensions: Boolean(blobs) },
    files: blobs !== undefined,
    sessions: sessionTableOf(config, client),
    ...providerOptions,
  });
  // Sessions' files: read live from their task, then from the bucket, which the tasks fill (no retention sweep:
  // the bucket's lifecycle rule expires them). Answers too large for Lambda are redirected to the bucket.
  const files =
    s3 && blobs && config.blobsBucket
      ? {
          downloads: new DownloadService({ blobs, logger: log }),
          artifacts: new SessionArtifactService({ blobs, logger: log }),
          largeAnswers: new S3LargeAnswers({ blobs, client: s3, bucket: config.blobsBucket }),
        }
      : {};
  const originSecret = originSecretOf(config);
  const model = modelOf(config);
  const app = createApp({
    store,
    provider,
    signer,
    ...(originSecret ? { originSecret } : {}),
    ...(blobs ? { blobs } : {}),
    ...files,
    ...(contextKey ? { contextKey } : {}),
    ...(model ? { model } : {}),
    logger: log,
    unsupportedFields: config.unsupportedFields,
    minSessionTimeoutSeconds,
    // A function is frozen between requests, so it cannot retry in the background: it keeps the webhooks' CRUD
    // and delivers nothing itself.
    webhooks: { deliver: false },
    ...(config.connectBaseUrl ? { connectBaseUrl: config.connectBaseUrl } : {}),
  });
  return streamingApiHandler(async () => app, log);
}

/** The task-state function: DynamoDB only (no secret, no ECS). */
export function createTaskStateHandler(
  config: AwsStoreConfig,
  { logger }: LambdaHandlerOptions = {},
): LambdaHandlers['taskState'] {
  const log = logger ?? createLogger(config.logLevel);
  const client = dynamoClient(config);
  const store = new DynamoDbStore({ client, tables: config.tables });
  const pool = poolOf(config, client);
  return (event) => handleTaskStateChange(event, store, log, pool);
}

/** The warm-pool scaler function (on a schedule): sizes the pool's service on its idle tasks. */
export function createWarmPoolHandler(
  config: AwsPoolConfig,
  { logger }: LambdaHandlerOptions = {},
): () => Promise<WarmPoolDecision> {
  const log = logger ?? createLogger(config.logLevel);
  const tasks = poolOf(config, dynamoClient(config)) as TaskTable;
  const ecs = ecsClient(config);
  return () =>
    scaleWarmPool({ ecs, cluster: config.cluster, service: config.service, tasks, size: config.size, logger: log });
}

/** Builds both handlers from a configuration (tests build theirs from an explicit environment). */
export async function createLambdaHandlers(
  config: AwsApiConfig,
  options: LambdaHandlerOptions = {},
): Promise<LambdaHandlers> {
  return { api: await createApiHandler(config, options), taskState: createTaskStateHandler(config, options) };
}

// Built on the first invocation, from the function's environment, and kept for the next ones.
let api: StreamingHandler | undefined;
let taskState: LambdaHandlers['taskState'] | undefined;

/**
 * The API function's handler, unwrapped (its entry wraps it in `awslambda.streamifyResponse`). A function whose
 * environment does not load answers each request with a 500 of ours, logs why, and tries again next time.
 */
export const apiHandler: StreamingHandler = async (event, responseStream, context) => {
  if (!api) {
    try {
      api = apiHandlerOf(loadAwsApiConfig(process.env), {});
    } catch (error) {
      const failed = async (): Promise<never> => {
        throw error;
      };
      return streamingApiHandler(failed, createLogger('error'))(event, responseStream, context);
    }
  }
  return api(event, responseStream, context);
};

let warmPool: (() => Promise<WarmPoolDecision>) | undefined;

/** The warm-pool scaler function's handler. */
export const warmPoolHandler = async (): Promise<WarmPoolDecision> => {
  warmPool ??= createWarmPoolHandler(loadAwsPoolConfig(process.env));
  return warmPool();
};

/** The task-state function's handler. */
export const taskStateHandler = async (event: unknown): Promise<TaskStateOutcome> => {
  taskState ??= createTaskStateHandler(loadAwsStoreConfig(process.env));
  return taskState(event);
};
