/**
 * The API on AWS Lambda: the same `createApp` behind `hono/aws-lambda`, over DynamoDB and ECS Fargate, built
 * once per execution environment from one validated configuration. Plus the handler of EventBridge's "ECS Task
 * State Change" events. Each is bundled into a file of its own (`dist/lambda/*.cjs`).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Logger } from '@wallcrawler/controller';
import { handle } from 'hono/aws-lambda';
import { DynamoDbStore } from '../adapters/dynamodb/dynamodb-store.js';
import { EcsBrowserProvider, type EcsBrowserProviderOptions } from '../adapters/ecs/ecs-browser-provider.js';
import { SecretTokenSigner } from '../adapters/secret-token-signer.js';
import { createApp } from '../app.js';
import { createLogger } from '../logger.js';
import { handleTaskStateChange, type TaskStateOutcome } from '../services/task-state.js';
import { type AwsApiConfig, type AwsStoreConfig, loadAwsApiConfig, loadAwsStoreConfig } from './aws-config.js';

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

export interface LambdaHandlerOptions {
  logger?: Logger;
  /** Provider settings the environment does not carry (backoffs, poll interval), for tests and embedders. */
  provider?: Partial<Omit<EcsBrowserProviderOptions, 'ecs' | 'store' | 'signer'>>;
}

function dynamoClient(config: AwsStoreConfig): DynamoDBClient {
  return new DynamoDBClient({
    region: config.region,
    ...(config.endpoints.dynamodb ? { endpoint: config.endpoints.dynamodb } : {}),
  });
}

/** The API function: DynamoDB, ECS and the connect-token secret. */
export async function createApiHandler(
  config: AwsApiConfig,
  { logger, provider: providerOptions }: LambdaHandlerOptions = {},
): Promise<LambdaHandlers['api']> {
  const log = logger ?? createLogger(config.logLevel);
  const store = new DynamoDbStore({ client: dynamoClient(config), tables: config.tables });
  const signer = new SecretTokenSigner(await connectSecret(config));
  const provider = new EcsBrowserProvider({
    ecs: new ECSClient({ region: config.region, ...(config.endpoints.ecs ? { endpoint: config.endpoints.ecs } : {}) }),
    store,
    signer,
    ...config.ecs,
    logger: log,
    ...providerOptions,
  });
  return handle(createApp({ store, provider, signer, logger: log }));
}

/** The task-state function: DynamoDB only (no secret, no ECS). */
export function createTaskStateHandler(
  config: AwsStoreConfig,
  { logger }: LambdaHandlerOptions = {},
): LambdaHandlers['taskState'] {
  const log = logger ?? createLogger(config.logLevel);
  const store = new DynamoDbStore({ client: dynamoClient(config), tables: config.tables });
  return (event) => handleTaskStateChange(event, store, log);
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

/** The task-state function's handler. */
export const taskStateHandler = async (event: unknown): Promise<TaskStateOutcome> => {
  taskState ??= createTaskStateHandler(loadAwsStoreConfig(process.env));
  return taskState(event);
};
