/**
 * The API on AWS Lambda: the same `createApp` behind `hono/aws-lambda`, over DynamoDB and ECS Fargate, built
 * once per execution environment from one validated configuration. Plus the handler of EventBridge's "ECS Task
 * State Change" events. Each is bundled into a file of its own (`dist/lambda/*.cjs`).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Logger } from '@wallcrawler/contracts';
import { parseContextKey } from '@wallcrawler/controller';
import { createS3Client, S3BlobStore, SessionTable, TaskTable } from '@wallcrawler/controller/aws';
import { handle } from 'hono/aws-lambda';
import { SecretTokenSigner } from '../../adapters/secret-token-signer.js';
import { createApp } from '../../app.js';
import { createLogger } from '../../logger.js';
import { DynamoDbStore } from '../dynamodb/dynamodb-store.js';
import { EcsBrowserProvider, type EcsBrowserProviderOptions } from '../ecs/ecs-browser-provider.js';
import { handleTaskStateChange, type TaskStateOutcome } from '../ecs/task-state-events.js';
import { scaleWarmPool, type WarmPoolDecision } from '../ecs/warm-pool-scaler.js';
import {
  type AwsApiConfig,
  type AwsPoolConfig,
  type AwsStoreConfig,
  loadAwsApiConfig,
  loadAwsPoolConfig,
  loadAwsStoreConfig,
} from './config.js';

export interface LambdaHandlers {
  /** API Gateway (HTTP API, payload 2.0, or REST) → the API. */
  api: ReturnType<typeof handle>;
  /** EventBridge "ECS Task State Change" → ends sessions whose task stopped. */
  taskState: (event: unknown) => Promise<TaskStateOutcome>;
}

async function connectSecret(config: AwsApiConfig): Promise<Uint8Array> {
  if ('value' in config.connectSecret) return config.connectSecret.value;
  const client = new SecretsManagerClient({ region: config.region });
  try {
    const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: config.connectSecret.arn }));
    const secret = Buffer.from((SecretString ?? '').trim(), 'base64url');
    if (secret.length < 32)
      throw new Error(`The secret ${config.connectSecret.arn} must hold 32 bytes or more, base64url`);
    return secret;
  } finally {
    client.destroy();
  }
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
  let read: Promise<Buffer> | undefined;
  return () => {
    read ??= (async () => {
      const client = new SecretsManagerClient({ region: config.region });
      try {
        const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: source.arn }));
        return parseContextKey(SecretString ?? '');
      } finally {
        client.destroy();
      }
    })().catch((error: unknown) => {
      read = undefined;
      throw error;
    });
    return read;
  };
}

export interface LambdaHandlerOptions {
  logger?: Logger;
  /** Provider settings the environment does not carry (backoffs, poll interval), for tests and embedders. */
  provider?: Partial<Omit<EcsBrowserProviderOptions, 'ecs' | 'store' | 'signer'>>;
  /** Test-only: the shortest session `timeout` a create accepts, in seconds (see `AppDeps`). @default 60 */
  minSessionTimeoutSeconds?: number;
}

function dynamoClient(config: AwsStoreConfig): DynamoDBClient {
  return new DynamoDBClient({
    region: config.region,
    ...(config.endpoints.dynamodb ? { endpoint: config.endpoints.dynamodb } : {}),
  });
}

function ecsClient(config: AwsStoreConfig): ECSClient {
  return new ECSClient({ region: config.region, ...(config.endpoints.ecs ? { endpoint: config.endpoints.ecs } : {}) });
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

/** The API function: DynamoDB, ECS and the connect-token secret. */
export async function createApiHandler(
  config: AwsApiConfig,
  { logger, provider: providerOptions, minSessionTimeoutSeconds }: LambdaHandlerOptions = {},
): Promise<LambdaHandlers['api']> {
  const log = logger ?? createLogger(config.logLevel);
  const client = dynamoClient(config);
  const store = new DynamoDbStore({ client, tables: config.tables });
  const secret = await connectSecret(config);
  const signer = new SecretTokenSigner(secret);
  const pool = poolOf(config, client);
  const blobs = config.blobsBucket
    ? new S3BlobStore({
        client: createS3Client({ region: config.region, endpoint: config.endpoints.s3 }),
        bucket: config.blobsBucket,
      })
    : undefined;
  const contextKey = contextKeyOf(config);
  const provider = new EcsBrowserProvider({
    ecs: ecsClient(config),
    store,
    signer,
    connectSecret: secret,
    ...config.ecs,
    logger: log,
    ...(pool ? { pool } : {}),
    // The tasks fetch contexts and extensions from the same bucket, with the same key.
    keeping: { contexts: Boolean(blobs && contextKey), extensions: Boolean(blobs) },
    sessions: sessionTableOf(config, client),
    ...providerOptions,
  });
  return handle(
    createApp({
      store,
      provider,
      signer,
      ...(blobs ? { blobs } : {}),
      ...(contextKey ? { contextKey } : {}),
      logger: log,
      unsupportedFields: config.unsupportedFields,
      minSessionTimeoutSeconds,
    }),
  );
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
let api: Promise<LambdaHandlers['api']> | undefined;
let taskState: LambdaHandlers['taskState'] | undefined;

/** The API function's handler. */
export const apiHandler: LambdaHandlers['api'] = async (event, context) => {
  api ??= createApiHandler(loadAwsApiConfig(process.env)).catch((error: unknown) => {
    api = undefined;
    throw error;
  });
  return (await api)(event, context);
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
