import { randomBytes } from 'node:crypto';
import { GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { CreateServiceCommand, ECSClient, RunTaskCommand } from '@aws-sdk/client-ecs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AWS_API_ENV as A, CONTROLLER_ENV as E } from '@wallcrawler/contracts';
import { TaskTable } from '@wallcrawler/controller/aws';
import { waitFor } from '@wallcrawler/test-support';
import { type FrontDoorLimits, type LambdaHttpHandler, startApiGateway } from '@wallcrawler/test-support/api-gateway';
import { type LocalEcs, type LocalTaskDefinition, startLocalEcs } from '@wallcrawler/test-support/local-ecs';
import { inject } from 'vitest';
import { apiKeyRecord } from '../../src/api-keys.js';
import { DynamoDbStore } from '../../src/aws/dynamodb/dynamodb-store.js';
import type { TaskStateOutcome } from '../../src/aws/ecs/task-state-events.js';
import type { WarmPoolDecision } from '../../src/aws/ecs/warm-pool-scaler.js';
import { loadAwsApiConfig, loadAwsPoolConfig } from '../../src/aws/lambda/config.js';
import {
  createLambdaHandlers,
  createWarmPoolHandler,
  type LambdaHandlerOptions,
  type LambdaHandlers,
} from '../../src/aws/lambda/handlers.js';
import { newProject } from '../../src/bootstrap.js';
import { controllerImage, stackControllerContainer } from './controller-image.js';
import { dynamoDbClient, freshTables } from './dynamodb.js';

export interface AwsTopology {
  /** The API's base URL. */
  url: string;
  apiKey: string;
  projectId: string;
  store: DynamoDbStore;
  ecs: LocalEcs;
  /** What the task-state handler decided for each event it got. */
  taskStateOutcomes: TaskStateOutcome[];
  /** The project's admission counter, read straight from its item. */
  activeCounter(): Promise<number>;
  /** A session's item in the sessions table, raw, as DynamoDB returns it (undefined when there is none). */
  sessionItem(sessionId: string): Promise<Record<string, unknown> | undefined>;
  /**
   * Starts `count` warm-pool tasks (RunTask with no session, as the pool's ECS service does) and waits until
   * they are idle in the pool.
   */
  prewarm(count: number): Promise<void>;
  /** Runs the warm-pool scaler function once, as its schedule does. */
  scalePool(): Promise<WarmPoolDecision>;
  /** The warm pool's tasks by status, from the tasks table. */
  poolTasks(): Promise<{ taskArn: string; status: string; sessionId?: string }[]>;
  /** The warm pool's table, as the API uses it (to claim tasks by hand). */
  taskTable(): TaskTable;
  close(): Promise<void>;
}

export interface AwsTopologyOptions {
  concurrency?: number;
  /** Extra env of the controller's task definition (what the stack sets). */
  taskEnv?: Record<string, string>;
  provider?: LambdaHandlerOptions['provider'];
  /** @default 20_000 */
  readyTimeoutMs?: number;
  /** @default the test run's DynamoDB Local */
  dynamodbEndpoint?: string;
  /** A warm pool: its ECS service is created with `min` tasks, and `scalePool()` runs the scaler function. */
  warmPool?: { min: number; max: number; targetIdle: number };
  startDelayMs?: number;
  /** The shortest session `timeout` the API accepts, in seconds. @default 60, Browserbase's */
  minSessionTimeoutSeconds?: number;
  /** The front door's limits (CloudFront's and API Gateway's). @default theirs in the stack */
  frontDoor?: FrontDoorLimits;
}

/**
 * The AWS topology on one machine: the API (`createApp` over `DynamoDbStore` and `EcsBrowserProvider`) behind
 * the local stand-in of the stack's streaming front door on a loopback port; DynamoDB Local for the tables; the local ECS endpoint, driven by the real `@aws-sdk/client-ecs`,
 * running each task as the controller's real entry command on an address of its own; task-state events
 * delivered to the real handler. Clients connect straight to each task's controller with the session's JWT.
 */
export async function startAwsTopology({
  concurrency = 5,
  taskEnv = {},
  provider = {},
  readyTimeoutMs = 20_000,
  startDelayMs = 0,
  dynamodbEndpoint = inject('dynamodbEndpoint'),
  warmPool,
  minSessionTimeoutSeconds,
  frontDoor,
}: AwsTopologyOptions = {}): Promise<AwsTopology> {
  const dynamo = dynamoDbClient(dynamodbEndpoint);
  const tables = await freshTables(dynamo);
  const store = new DynamoDbStore({ client: dynamo, tables: tables.names });
  const secret = randomBytes(32);
  const project = newProject('aws', { concurrency, defaultTimeout: 300 });
  await store.createProject(project);
  const apiKey = `wc_aws_${randomBytes(16).toString('hex')}`;
  await store.createApiKey(apiKeyRecord(apiKey, 'aws', [project.id]));

  const taskStateOutcomes: TaskStateOutcome[] = [];
  let handlers: LambdaHandlers | undefined;
  // The task runs the image's command in its /app, with the environment the stack's task definition gives the
  // container: the image's ENV, then the task definition's environment (its table references resolved to this
  // test's tables) and secrets.
  const image = await controllerImage();
  const stack = await stackControllerContainer();
  const references: Record<string, string> = {
    [E.sessionsTable]: tables.names.sessions,
    [E.projectsTable]: tables.names.projects,
    [E.tasksTable]: tables.names.tasks,
  };
  const stackEnv: Record<string, string> = {};
  for (const [name, value] of Object.entries(stack.environment)) {
    if (typeof value === 'string') stackEnv[name] = value;
    else if (references[name]) stackEnv[name] = references[name];
    else
      throw new Error(`The stack gives the controller ${name} from ${value.Ref}, which this topology cannot resolve`);
  }
  const secrets: Record<string, string> = { [E.connectSecret]: secret.toString('base64url') };
  for (const name of stack.secrets)
    if (!secrets[name]) throw new Error(`The stack gives the controller an unknown secret ${name}`);
  // The image's home directory is the container's own filesystem, which the local ECS endpoint provides.
  const { [E.dataDir]: _home, ...imageEnv } = image.env;
  const [command, ...args] = image.cmd as [string, ...string[]];
  const definition: LocalTaskDefinition = {
    family: 'wallcrawler-controller',
    networkMode: 'awsvpc',
    stopTimeoutMs: 3_000,
    container: {
      name: 'controller',
      command: [command === 'node' ? process.execPath : command, ...args],
      workingDirectory: image.appDir,
      environment: {
        ...imageEnv,
        ...stackEnv,
        ...secrets,
        // What only this machine needs: the emulator's endpoint and credentials, and short waits.
        [E.dynamodbEndpoint]: dynamodbEndpoint,
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        [E.disconnectGraceMs]: '300',
        ...taskEnv,
      },
    },
  };
  const ecs = await startLocalEcs({
    taskDefinitions: [definition],
    startDelayMs,
    // EventBridge's rule delivers the event to the task-state function.
    onTaskStateChange: async (event) => {
      if (handlers) taskStateOutcomes.push(await handlers.taskState(event));
    },
  });
  // The Lambda's credentials come from its environment, as AWS gives them; the emulators accept any.
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  const config = loadAwsApiConfig({
    [A.sessionsTable]: tables.names.sessions,
    [A.projectsTable]: tables.names.projects,
    [A.apiKeysTable]: tables.names.apiKeys,
    [A.resourcesTable]: tables.names.resources,
    [A.tasksTable]: tables.names.tasks,
    [A.connectSecret]: secret.toString('base64url'),
    [A.cluster]: 'wallcrawler',
    [A.taskDefinition]: 'wallcrawler-controller',
    [A.subnets]: 'subnet-local-a,subnet-local-b',
    [A.securityGroups]: 'sg-local',
    [A.assignPublicIp]: 'true',
    [A.readyTimeoutMs]: String(readyTimeoutMs),
    [A.region]: 'us-east-1',
    [A.logLevel]: 'silent',
    [A.dynamodbEndpoint]: dynamodbEndpoint,
    [A.ecsEndpoint]: ecs.endpoint,
  });
  const lambda = await createLambdaHandlers(config, {
    provider: { pollIntervalMs: 100, runTaskBackoffMs: 50, ...provider },
    minSessionTimeoutSeconds,
  });
  handlers = lambda;
  const gateway = await startApiGateway(lambda.api as unknown as LambdaHttpHandler, frontDoor);
  const poolService = 'wallcrawler-warm-pool';
  const scaler = warmPool
    ? createWarmPoolHandler(
        loadAwsPoolConfig({
          [A.sessionsTable]: tables.names.sessions,
          [A.projectsTable]: tables.names.projects,
          [A.tasksTable]: tables.names.tasks,
          [A.cluster]: 'wallcrawler',
          [A.poolService]: poolService,
          [A.poolMin]: String(warmPool.min),
          [A.poolMax]: String(warmPool.max),
          [A.poolTargetIdle]: String(warmPool.targetIdle),
          [A.region]: 'us-east-1',
          [A.logLevel]: 'silent',
          [A.dynamodbEndpoint]: dynamodbEndpoint,
          [A.ecsEndpoint]: ecs.endpoint,
        }),
      )
    : undefined;
  if (warmPool) {
    const client = new ECSClient({
      endpoint: ecs.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    await client.send(
      new CreateServiceCommand({
        cluster: 'wallcrawler',
        serviceName: poolService,
        taskDefinition: 'wallcrawler-controller',
        desiredCount: warmPool.min,
        launchType: 'FARGATE',
        networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-local-a'], assignPublicIp: 'ENABLED' } },
      }),
    );
    client.destroy();
  }
  const url = gateway.url;

  const poolTasks = async () => {
    const { Items = [] } = await dynamo.send(new ScanCommand({ TableName: tables.names.tasks, ConsistentRead: true }));
    return Items.map((i) => ({
      taskArn: String(i.taskArn?.S),
      status: String(i.status?.S),
      ...(i.sessionId?.S ? { sessionId: i.sessionId.S } : {}),
    }));
  };

  return {
    url,
    apiKey,
    projectId: project.id,
    store,
    ecs,
    taskStateOutcomes,
    async prewarm(count: number) {
      const ecsClient = new ECSClient({
        endpoint: ecs.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
      try {
        const before = (await poolTasks()).filter((t) => t.status === 'IDLE').length;
        for (let i = 0; i < count; i++) {
          await ecsClient.send(
            new RunTaskCommand({
              cluster: 'wallcrawler',
              taskDefinition: 'wallcrawler-controller',
              launchType: 'FARGATE',
              group: 'service:wallcrawler-warm-pool',
              networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-local-a'], assignPublicIp: 'ENABLED' } },
            }),
          );
        }
        await waitFor(async () => (await poolTasks()).filter((t) => t.status === 'IDLE').length >= before + count, {
          timeout: 30_000,
          message: `${count} warm-pool task(s) to be idle`,
        });
      } finally {
        ecsClient.destroy();
      }
    },
    poolTasks,
    taskTable: () =>
      new TaskTable({
        db: DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } }),
        tables: { tasks: tables.names.tasks, sessions: tables.names.sessions },
      }),
    async scalePool() {
      if (!scaler) throw new Error('this topology has no warm pool');
      return scaler();
    },
    async activeCounter() {
      const { Item } = await dynamo.send(
        new GetItemCommand({
          TableName: tables.names.projects,
          Key: { projectId: { S: project.id } },
          ConsistentRead: true,
        }),
      );
      return Number(Item?.activeSessions?.N ?? 0);
    },
    async sessionItem(sessionId: string) {
      const { Item } = await dynamo.send(
        new GetItemCommand({
          TableName: tables.names.sessions,
          Key: { sessionId: { S: sessionId } },
          ConsistentRead: true,
        }),
      );
      return Item;
    },
    async close() {
      await gateway.close();
      await ecs.close();
      await tables.drop();
      dynamo.destroy();
    },
  };
}
