import { AWS_API_ENV as E } from '@wallcrawler/contracts';
import { z } from 'zod';

const list = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string()).min(1, 'expected a comma-separated list with at least one entry'));

const logLevel = z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info');

/** What every function needs: the session tables and where DynamoDB is. */
const storeSchema = z.object({
  [E.sessionsTable]: z.string().min(3),
  [E.projectsTable]: z.string().min(3),
  [E.tasksTable]: z.string().min(3).optional(),
  /** Contexts' locks live there: an ending releases its session's. */
  [E.resourcesTable]: z.string().min(3).optional(),
  [E.region]: z.string().min(1),
  [E.logLevel]: logLevel,
  [E.dynamodbEndpoint]: z.url().optional(),
});

/** What the API function needs besides: the keys table, the connect-token secret, and how to run browsers. */
const apiSchema = storeSchema.extend({
  [E.apiKeysTable]: z.string().min(3),
  [E.resourcesTable]: z.string().min(3),
  [E.connectSecretArn]: z.string().startsWith('arn:', 'expected a Secrets Manager ARN').optional(),
  [E.connectSecret]: z
    .string()
    .transform((v) => Buffer.from(v, 'base64url'))
    .refine((b) => b.length >= 32, 'must decode to at least 32 bytes')
    .optional(),
  // CloudFront's origin-secret header: with either, a request without it is refused (403).
  [E.originSecretArn]: z.string().startsWith('arn:', 'expected a Secrets Manager ARN').optional(),
  [E.originSecret]: z.string().min(16, 'must be at least 16 characters').optional(),
  [E.cluster]: z.string().min(1),
  [E.taskDefinition]: z.string().min(1),
  [E.containerName]: z.string().min(1).default('controller'),
  [E.subnets]: list,
  [E.securityGroups]: list,
  [E.assignPublicIp]: z.enum(['true', 'false']).transform((v) => v === 'true'),
  [E.readyTimeoutMs]: z.coerce.number().int().min(1_000).max(58_000).default(55_000),
  [E.ecsEndpoint]: z.url().optional(),
  [E.unsupportedFields]: z.enum(['refuse', 'ignore']).default('refuse'),
  [E.blobsBucket]: z.string().min(3).optional(),
  [E.s3Endpoint]: z.url().optional(),
  [E.contextKeySecretArn]: z.string().startsWith('arn:', 'expected a Secrets Manager ARN').optional(),
  [E.contextKey]: z.string().min(1).optional(),
  // The server-wide model of POST /v1/llm/responses; its key by secret ARN (the value itself: tests and emulators).
  [E.modelBaseUrl]: z.url({ protocol: /^https?$/ }).optional(),
  [E.modelName]: z.string().min(1).optional(),
  [E.modelApi]: z.enum(['responses', 'chat']).default('responses'),
  [E.modelApiKeySecretArn]: z.string().startsWith('arn:', 'expected a Secrets Manager ARN').optional(),
  [E.modelApiKey]: z.string().min(1).optional(),
  // The warm pool's service and size, with which each claim asks for its replacement (all four, or none).
  [E.poolService]: z.string().min(1).optional(),
  [E.poolMin]: z.coerce.number().int().min(0).max(1000).optional(),
  [E.poolMax]: z.coerce.number().int().min(0).max(1000).optional(),
  [E.poolTargetIdle]: z.coerce.number().int().min(0).max(1000).optional(),
  // The edge's public base: https on AWS (CloudFront); http only on a machine's own loopback (tests).
  [E.connectBaseUrl]: z
    .url()
    .refine(
      (v) => /^https:\/\//.test(v) || /^http:\/\/(127\.[0-9.]+|localhost)(:\d+)?\/?$/.test(v),
      'expected an https:// URL (the connect edge behind CloudFront)',
    )
    .refine((v) => !/[?#]/.test(v) && new URL(v).pathname === '/', 'expected a base URL without a path or query')
    .optional(),
});

const count = z.coerce.number().int().min(0).max(1000);
const POOL_SETTINGS = [E.poolService, E.poolMin, E.poolMax, E.poolTargetIdle] as const;

/** What the warm-pool scaler needs: the tasks table, the pool's service and its size. */
const poolSchema = storeSchema.extend({
  [E.tasksTable]: z.string().min(3),
  [E.cluster]: z.string().min(1),
  [E.poolService]: z.string().min(1),
  [E.poolMin]: count,
  [E.poolMax]: count,
  [E.poolTargetIdle]: count,
  [E.ecsEndpoint]: z.url().optional(),
});

/** The warm-pool scaler function's configuration. */
export interface AwsPoolConfig extends AwsStoreConfig {
  tables: { sessions: string; projects: string; tasks: string };
  cluster: string;
  service: string;
  size: { min: number; max: number; targetIdle: number };
}

/** The task-state function's configuration. */
export interface AwsStoreConfig {
  tables: { sessions: string; projects: string; apiKeys?: string; tasks?: string; resources?: string };
  region: string;
  logLevel: string;
  endpoints: { dynamodb?: string; ecs?: string };
}

/** The API function's configuration. */
export interface AwsApiConfig extends AwsStoreConfig {
  tables: { sessions: string; projects: string; apiKeys: string; resources: string; tasks?: string };
  connectSecret: { arn: string } | { value: Uint8Array };
  /** The value CloudFront's origin-secret header carries: its secret's ARN (read on first use), or itself. */
  originSecret?: { arn: string } | { value: string };
  ecs: {
    cluster: string;
    taskDefinition: string;
    containerName: string;
    subnets: string[];
    securityGroups: string[];
    assignPublicIp: boolean;
    readyTimeoutMs: number;
  };
  /** What a create asking for an unsupported feature gets. @default 'refuse' */
  unsupportedFields: 'refuse' | 'ignore';
  /** The bucket of contexts, extensions and session artifacts; without it their routes answer 501. */
  blobsBucket?: string;
  /** Contexts' key: the secret's ARN (read on first use), or the key itself (tests and emulators). */
  contextKey?: { arn: string } | { value: string };
  /** The server-wide model endpoint of `POST /v1/llm/responses`; its key by secret ARN (read on first use), or itself. */
  model?: { baseUrl: string; model: string; api: 'responses' | 'chat'; apiKey?: { arn: string } | { value: string } };
  /** The connect edge's public base (`https://host`): sessions are handed out on it. Without it, direct mode. */
  connectBaseUrl?: string;
  /** The warm pool's service and size: a claim asks it for a replacement at once. Without it, only the schedule does. */
  pool?: { service: string; size: { min: number; max: number; targetIdle: number } };
  endpoints: { dynamodb?: string; ecs?: string; s3?: string };
}

type Env = Record<string, string | undefined>;

function parse<T extends z.ZodType>(schema: T, env: Env, extraProblems: (present: Env) => string[] = () => []) {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(present);
  const problems = result.success ? [] : result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
  problems.push(...extraProblems(present));
  if (!result.success || problems.length > 0) throw new Error(`Invalid configuration:\n${problems.join('\n')}`);
  return result.data as z.output<T>;
}

/**
 * Reads the task-state function's configuration from `env`, once, at cold start.
 * @throws Error listing every missing or invalid variable at once
 */
export function loadAwsStoreConfig(env: Env = process.env): AwsStoreConfig {
  const c = parse(storeSchema, env);
  return {
    tables: {
      sessions: c[E.sessionsTable],
      projects: c[E.projectsTable],
      ...(c[E.tasksTable] ? { tasks: c[E.tasksTable] } : {}),
      ...(c[E.resourcesTable] ? { resources: c[E.resourcesTable] } : {}),
    },
    region: c[E.region],
    logLevel: c[E.logLevel],
    endpoints: c[E.dynamodbEndpoint] ? { dynamodb: c[E.dynamodbEndpoint] } : {},
  };
}

/**
 * Reads the warm-pool scaler's configuration from `env`.
 * @throws Error listing every missing or invalid variable at once
 */
export function loadAwsPoolConfig(env: Env = process.env): AwsPoolConfig {
  const c = parse(poolSchema, env, (present) =>
    Number(present[E.poolMin]) > Number(present[E.poolMax]) ? [`  ${E.poolMin}: must not exceed ${E.poolMax}`] : [],
  );
  return {
    tables: { sessions: c[E.sessionsTable], projects: c[E.projectsTable], tasks: c[E.tasksTable] },
    cluster: c[E.cluster],
    service: c[E.poolService],
    size: { min: c[E.poolMin], max: c[E.poolMax], targetIdle: c[E.poolTargetIdle] },
    region: c[E.region],
    logLevel: c[E.logLevel],
    endpoints: {
      ...(c[E.dynamodbEndpoint] ? { dynamodb: c[E.dynamodbEndpoint] } : {}),
      ...(c[E.ecsEndpoint] ? { ecs: c[E.ecsEndpoint] } : {}),
    },
  };
}

function connectBaseOf(url: string | undefined): Pick<AwsApiConfig, 'connectBaseUrl'> {
  return url ? { connectBaseUrl: url.replace(/\/$/, '') } : {};
}

function contextKeySource(arn: string | undefined, value: string | undefined): Pick<AwsApiConfig, 'contextKey'> {
  if (arn) return { contextKey: { arn } };
  return value ? { contextKey: { value } } : {};
}

function modelOf(
  baseUrl: string | undefined,
  model: string | undefined,
  api: 'responses' | 'chat',
  keyArn: string | undefined,
  key: string | undefined,
): Pick<AwsApiConfig, 'model'> {
  if (!baseUrl || !model) return {};
  const apiKey = keyArn ? { arn: keyArn } : key ? { value: key } : undefined;
  return { model: { baseUrl: baseUrl.replace(/\/+$/, ''), model, api, ...(apiKey ? { apiKey } : {}) } };
}

function originSecretSource(arn: string | undefined, value: string | undefined): Pick<AwsApiConfig, 'originSecret'> {
  if (arn) return { originSecret: { arn } };
  return value ? { originSecret: { value } } : {};
}

/**
 * Reads the API function's configuration from `env`, once, at cold start.
 * @throws Error listing every missing or invalid variable at once
 */
export function loadAwsApiConfig(env: Env = process.env): AwsApiConfig {
  const c = parse(apiSchema, env, (present) => [
    // Checked apart from the schema so that they are reported together with every other problem.
    ...(!present[E.connectSecretArn] === !present[E.connectSecret]
      ? [`  ${E.connectSecretArn}: set exactly one of ${E.connectSecretArn} and ${E.connectSecret}`]
      : []),
    ...(present[E.originSecretArn] && present[E.originSecret]
      ? [`  ${E.originSecretArn}: set at most one of ${E.originSecretArn} and ${E.originSecret}`]
      : []),
    ...(!present[E.modelBaseUrl] !== !present[E.modelName]
      ? [`  ${E.modelBaseUrl}: set both ${E.modelBaseUrl} and ${E.modelName}, or neither`]
      : []),
    ...(present[E.modelApiKeySecretArn] && present[E.modelApiKey]
      ? [`  ${E.modelApiKeySecretArn}: set at most one of ${E.modelApiKeySecretArn} and ${E.modelApiKey}`]
      : []),
    ...(POOL_SETTINGS.some((n) => present[n]) && !POOL_SETTINGS.every((n) => present[n])
      ? [`  ${E.poolService}: set all of ${POOL_SETTINGS.join(', ')}, or none`]
      : []),
  ]);
  const poolService = c[E.poolService];
  const arn = c[E.connectSecretArn];
  return {
    tables: {
      sessions: c[E.sessionsTable],
      projects: c[E.projectsTable],
      apiKeys: c[E.apiKeysTable],
      resources: c[E.resourcesTable],
      ...(c[E.tasksTable] ? { tasks: c[E.tasksTable] } : {}),
    },
    connectSecret: arn ? { arn } : { value: c[E.connectSecret] as Uint8Array },
    ...originSecretSource(c[E.originSecretArn], c[E.originSecret]),
    ecs: {
      cluster: c[E.cluster],
      taskDefinition: c[E.taskDefinition],
      containerName: c[E.containerName],
      subnets: c[E.subnets],
      securityGroups: c[E.securityGroups],
      assignPublicIp: c[E.assignPublicIp],
      readyTimeoutMs: c[E.readyTimeoutMs],
    },
    unsupportedFields: c[E.unsupportedFields],
    ...(c[E.blobsBucket] ? { blobsBucket: c[E.blobsBucket] } : {}),
    ...contextKeySource(c[E.contextKeySecretArn], c[E.contextKey]),
    ...modelOf(c[E.modelBaseUrl], c[E.modelName], c[E.modelApi], c[E.modelApiKeySecretArn], c[E.modelApiKey]),
    ...connectBaseOf(c[E.connectBaseUrl]),
    ...(poolService
      ? {
          pool: {
            service: poolService,
            size: { min: c[E.poolMin] ?? 0, max: c[E.poolMax] ?? 0, targetIdle: c[E.poolTargetIdle] ?? 0 },
          },
        }
      : {}),
    region: c[E.region],
    logLevel: c[E.logLevel],
    endpoints: {
      ...(c[E.dynamodbEndpoint] ? { dynamodb: c[E.dynamodbEndpoint] } : {}),
      ...(c[E.ecsEndpoint] ? { ecs: c[E.ecsEndpoint] } : {}),
      ...(c[E.s3Endpoint] ? { s3: c[E.s3Endpoint] } : {}),
    },
  };
}
