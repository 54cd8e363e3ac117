/**
 * The AWS topology on one machine, the one implementation behind the distributed suite (through
 * `packages/server/test/support/aws-topology.ts`) and `npm run aws:local` (`scripts/aws-local.ts`):
 *
 * - the stack's tables in a DynamoDB Local (started by the caller), and its bucket in an `s3rver`;
 * - the local ECS endpoint, driven by the real `@aws-sdk/client-ecs`, running each task as the controller image's
 *   real entry command on an address of its own, with the environment the synthesized stack's task definition
 *   gives the container; task-state events delivered to the real task-state handler, as EventBridge's rule does;
 * - the API function (`createLambdaHandlers`) behind the API Gateway stand-in, with the environment the
 *   synthesized stack gives the function;
 * - optionally the warm pool: its ECS service, and its scaler function with the stack's environment.
 *
 * - with `connect: 'edge'` (the default, as the stack's): the connect edge's real entry command
 *   (`edge-process.ts`) behind a TLS front with a throwaway CA (`tls-front.ts`), CloudFront's stand-in, which is
 *   then the one https origin clients use: the API's paths to the front door, the connect paths to the edge, which
 *   relays to each task's own loopback address. With `connect: 'direct'`, clients get each task's address.
 *
 * Every CloudFormation reference in the stack's environments is resolved to its local counterpart (a table's
 * name, the cluster, a secret's value instead of its ARN); one this file does not know fails the start,
 * so a stack that gains a setting cannot silently drift from what is tested here.
 */
import { randomBytes } from 'node:crypto';
import { GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { CreateServiceCommand, ECSClient, RunTaskCommand } from '@aws-sdk/client-ecs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  AWS_API_ENV as A,
  CONTROLLER_ENV as E,
  EDGE_ENV,
  type Logger,
  ORIGIN_SECRET_HEADER,
  silentLogger,
} from '@wallcrawler/contracts';
import { TaskTable } from '@wallcrawler/controller/aws';
import { generateApiKey, newProject } from '@wallcrawler/server';
import {
  createLambdaHandlers,
  createWarmPoolHandler,
  DynamoDbStore,
  type LambdaHandlerOptions,
  type LambdaHandlers,
  loadAwsApiConfig,
  loadAwsPoolConfig,
  type TaskStateOutcome,
  type WarmPoolDecision,
} from '@wallcrawler/server/aws';
import { type FrontDoorLimits, type LambdaHttpHandler, startApiGateway } from './api-gateway.js';
import { controllerImage, resolveStackEnv, type SynthesizedStack, synthesizedStack } from './controller-image.js';
import { dynamoDbClient, freshTables } from './dynamodb-tables.js';
import { waitFor } from './index.js';
import { type LocalEcs, type LocalTaskDefinition, startLocalEcs } from './local-ecs.js';
import { type LocalEdge, type LocalEdgeOptions, startLocalEdge } from './local-edge.js';
import { type LocalS3, startS3rver } from './s3rver.js';

export interface AwsTopology {
  /** The API's base URL: the TLS front's (`https://`) with the edge, else the front door's. */
  url: string;
  /** With the edge: the CA clients must trust (`NODE_EXTRA_CA_CERTS`), the TLS front, and the edge's process. */
  edge?: LocalEdge;
  apiKey: string;
  projectId: string;
  store: DynamoDbStore;
  ecs: LocalEcs;
  /** The stack's bucket (s3rver), which the API and the tasks share. */
  s3: LocalS3;
  /** Contexts' key, as the stack's secret holds it (64 hex digits). */
  contextKey: string;
  /** The connect-token secret, as the stack's secret holds it (base64url): tests sign tokens of their own. */
  connectSecret: string;
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
  /** Stops the front door, the scaler's schedule, every task (SIGTERM, then SIGKILL after its stop timeout). */
  close(): Promise<void>;
}

export interface AwsTopologyOptions {
  /** The DynamoDB Local the tables are created in. */
  dynamodbEndpoint: string;
  /** The project's concurrency limit. @default 5 */
  concurrency?: number;
  /** Extra env of the controller's task definition (on top of what the stack sets). */
  taskEnv?: Record<string, string>;
  provider?: LambdaHandlerOptions['provider'];
  /** How long a create waits for its browser. @default the stack's */
  readyTimeoutMs?: number;
  /** The container's stop timeout (SIGTERM to SIGKILL). @default the stack's */
  stopTimeoutMs?: number;
  /**
   * A warm pool: its ECS service is created with `min` tasks; `scalePool()` runs the scaler function, and so does
   * a timer every `scheduleMs` when given (the stack's schedule).
   */
  warmPool?: { min: number; max: number; targetIdle: number; scheduleMs?: number };
  /** Delay between RunTask and the container's start. @default 0 */
  startDelayMs?: number;
  /** The shortest session `timeout` the API accepts, in seconds. @default 60, Browserbase's */
  minSessionTimeoutSeconds?: number;
  /** The front door's port on 127.0.0.1. @default 0 (any free one) */
  port?: number;
  /** The front door's limits (CloudFront's and API Gateway's). @default theirs in the stack */
  frontDoor?: FrontDoorLimits;
  /** The functions' logger. @default silent */
  logger?: Logger;
  /** Where each task's output goes as it comes (a container's log driver). */
  onTaskOutput?: (taskArn: string, chunk: string) => void;
  /** How clients reach a session: through the connect edge (as the stack's default), or at its task. @default 'edge' */
  connect?: 'edge' | 'direct';
  /**
   * The edge's settings: its ping interval (`WALLCRAWLER_EDGE_PING_MS`), the TLS front's idle timeout
   * (CloudFront's 10 minutes), and a CA made beforehand (a test run's, which its workers trust) instead of one
   * made under the topology's own directory.
   */
  edge?: Pick<LocalEdgeOptions, 'pingMs' | 'idleTimeoutMs' | 'ca'>;
  /** Where the edge's output goes as it comes. */
  onEdgeOutput?: (chunk: string) => void;
  /**
   * Runs the emulators' processes (s3rver) in process groups of their own, so that a terminal's Ctrl-C reaches
   * only the command, which stops them after the tasks that still use them.
   */
  detached?: boolean;
  /**
   * How each task's container runs: by default the image's command as a process in its laid-out `/app`; the
   * real image's tests run it in a container engine instead (`controller-container.ts`).
   */
  container?: (container: LocalTaskDefinition['container']) => LocalTaskDefinition['container'];
}

const CLUSTER = 'wallcrawler';
const TASK_DEFINITION = 'wallcrawler-controller';
const POOL_SERVICE = 'wallcrawler-warm-pool';
const SUBNETS = ['subnet-local-a', 'subnet-local-b'];
const SECURITY_GROUP = 'sg-local';
const REGION = 'us-east-1';
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/**
 * The connect edge's environment: what the stack gives its container (the secrets' values in place of their
 * ARNs), but for where it listens and its public base, which the local edge sets; then what only this machine
 * needs (`local`).
 */
function edgeEnv(
  stack: SynthesizedStack,
  { tableEnv, secret }: { tableEnv: Record<string, Record<string, string>>; secret: string },
  local: Record<string, string>,
): Record<string, string> {
  if (!stack.edge) throw new Error('The stack has no connect edge (synthesized with connect: direct)');
  const secrets: Record<string, string> = { [EDGE_ENV.connectSecret]: secret };
  for (const name of stack.edge.secrets)
    if (!secrets[name]) throw new Error(`The stack gives the connect edge an unknown secret ${name}`);
  const {
    [EDGE_ENV.host]: _host,
    [EDGE_ENV.port]: _port,
    [EDGE_ENV.publicUrl]: _publicUrl,
    ...stackEnv
  } = resolveStackEnv('connect edge', stack.edge.environment, { ...tableEnv, [EDGE_ENV.publicUrl]: {} });
  return { ...stackEnv, ...secrets, ...local };
}

export async function startAwsTopology({
  dynamodbEndpoint,
  concurrency = 5,
  taskEnv = {},
  provider = {},
  readyTimeoutMs,
  stopTimeoutMs,
  startDelayMs = 0,
  warmPool,
  minSessionTimeoutSeconds,
  port = 0,
  frontDoor,
  logger = silentLogger,
  onTaskOutput,
  detached = false,
  connect = 'edge',
  edge: edgeOptions = {},
  onEdgeOutput,
  container: inContainer = (c) => c,
}: AwsTopologyOptions): Promise<AwsTopology> {
  const [image, stack] = await Promise.all([controllerImage(), synthesizedStack(connect)]);
  const dynamo = dynamoDbClient(dynamodbEndpoint);
  const tables = await freshTables(dynamo);
  // What `close()` undoes, last first: the front door, the schedule, the tasks (whose endings still reach the
  // tables and the bucket), s3rver, the tables. A start that fails undoes what it had done.
  const cleanups: (() => Promise<void> | void)[] = [() => dynamo.destroy(), () => tables.drop()];
  const closeAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };
  try {
    const store = new DynamoDbStore({ client: dynamo, tables: tables.names });
    const secret = randomBytes(32).toString('base64url');
    const contextKey = randomBytes(32).toString('hex');
    const originSecret = randomBytes(32).toString('base64url');
    const s3 = await startS3rver({ detached, cors: stack.bucketCors });
    cleanups.push(() => s3.stop());
    const project = newProject('aws', { concurrency, defaultTimeout: 300 });
    await store.createProject(project);
    const key = generateApiKey('aws', [project.id]);
    await store.createApiKey(key.record);

    const same = (names: Record<string, string>) =>
      Object.fromEntries(Object.entries(names).map(([name, value]) => [name, { [name]: value }]));
    const tableEnv = same({
      [A.sessionsTable]: tables.names.sessions,
      [A.projectsTable]: tables.names.projects,
      [A.apiKeysTable]: tables.names.apiKeys,
      [A.resourcesTable]: tables.names.resources,
      [A.tasksTable]: tables.names.tasks,
      [A.blobsBucket]: s3.bucket,
    });
    const computeEnv = same({
      [A.cluster]: CLUSTER,
      [A.taskDefinition]: TASK_DEFINITION,
      [A.subnets]: SUBNETS.join(','),
      [A.securityGroups]: SECURITY_GROUP,
      [A.poolService]: POOL_SERVICE,
    });

    // The task runs the image's command in its /app, with the environment the stack's task definition gives the
    // container: the image's ENV, then the task definition's environment and secrets.
    const secrets: Record<string, string> = { [E.connectSecret]: secret, [E.contextKey]: contextKey };
    for (const name of stack.controller.secrets)
      if (!secrets[name]) throw new Error(`The stack gives the controller an unknown secret ${name}`);
    // The image's home directory is the container's own filesystem, which the local ECS endpoint provides.
    const { [E.dataDir]: _home, ...imageEnv } = image.env;
    const [command, ...args] = image.cmd as [string, ...string[]];
    const definition: LocalTaskDefinition = {
      family: TASK_DEFINITION,
      networkMode: 'awsvpc',
      stopTimeoutMs: stopTimeoutMs ?? (stack.controller.stopTimeoutSeconds ?? 30) * 1000,
      container: inContainer({
        name: 'controller',
        command: [command === 'node' ? process.execPath : command, ...args],
        workingDirectory: image.appDir,
        environment: {
          ...imageEnv,
          ...resolveStackEnv('controller', stack.controller.environment, tableEnv),
          ...secrets,
          // The bucket, as the stack gives it; and what only this machine needs: the emulators' endpoints and
          // credentials.
          [E.blobsBucket]: s3.bucket,
          [E.dynamodbEndpoint]: dynamodbEndpoint,
          [E.s3Endpoint]: s3.endpoint,
          AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
          ...taskEnv,
        },
      }),
    };
    const taskStateOutcomes: TaskStateOutcome[] = [];
    let handlers: LambdaHandlers | undefined;
    const ecs = await startLocalEcs({
      taskDefinitions: [definition],
      startDelayMs,
      // EventBridge's rule delivers the event to the task-state function.
      onTaskStateChange: async (event) => {
        if (handlers) taskStateOutcomes.push(await handlers.taskState(event));
      },
      ...(onTaskOutput ? { onOutput: onTaskOutput } : {}),
    });
    cleanups.push(() => ecs.close());

    // CloudFront and the gateway service: the front first (the edge is told its public base), then the edge.
    let apiUrl = '';
    let edge: LocalEdge | undefined;
    // CloudFront's proof to the API that a request came through it (the stack's origin secret).
    const originHeaders = { [ORIGIN_SECRET_HEADER]: originSecret };
    if (connect === 'edge') {
      edge = await startLocalEdge({
        appDir: image.appDir,
        api: () => apiUrl,
        apiHeaders: originHeaders,
        port,
        env: edgeEnv(
          stack,
          { tableEnv, secret },
          {
            [EDGE_ENV.awsRegion]: REGION,
            [EDGE_ENV.dynamodbEndpoint]: dynamodbEndpoint,
            ...(taskEnv[E.logLevel] ? { [EDGE_ENV.logLevel]: taskEnv[E.logLevel] } : {}),
            AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
            AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
          },
        ),
        ...edgeOptions,
        ...(onEdgeOutput ? { onOutput: onEdgeOutput } : {}),
      });
      cleanups.push(edge.close);
    }

    // The functions' credentials come from their environment, as AWS gives them; the emulators accept any.
    process.env.AWS_ACCESS_KEY_ID ??= LOCAL_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY ??= LOCAL_CREDENTIALS.secretAccessKey;
    const localEndpoints = {
      [A.region]: REGION,
      [A.dynamodbEndpoint]: dynamodbEndpoint,
      [A.ecsEndpoint]: ecs.endpoint,
    };
    // The pool's size as this topology's (its claims grow the service as the stack's do); none without a pool.
    const {
      [A.poolService]: _service,
      [A.poolMin]: _min,
      [A.poolMax]: _max,
      [A.poolTargetIdle]: _targetIdle,
      ...apiEnv
    } = resolveStackEnv('API function', stack.api, {
      ...tableEnv,
      ...computeEnv,
      [A.connectSecretArn]: { [A.connectSecret]: secret },
      [A.contextKeySecretArn]: { [A.contextKey]: contextKey },
      [A.originSecretArn]: { [A.originSecret]: originSecret },
      // The distribution's domain, in the stack: the TLS front's here (set below), or none in direct mode.
      [A.connectBaseUrl]: {},
    });
    if (!_service || _min === undefined || _max === undefined || _targetIdle === undefined) {
      throw new Error("The stack no longer gives the API function the warm pool's service and size");
    }
    const poolEnv = warmPool
      ? {
          [A.poolService]: _service,
          [A.poolMin]: String(warmPool.min),
          [A.poolMax]: String(warmPool.max),
          [A.poolTargetIdle]: String(warmPool.targetIdle),
        }
      : {};
    const config = loadAwsApiConfig({
      ...apiEnv,
      ...poolEnv,
      [A.blobsBucket]: s3.bucket,
      [A.contextKey]: contextKey,
      [A.s3Endpoint]: s3.endpoint,
      ...localEndpoints,
      ...(readyTimeoutMs !== undefined ? { [A.readyTimeoutMs]: String(readyTimeoutMs) } : {}),
      ...(edge ? { [A.connectBaseUrl]: edge.front.url } : { [A.connectBaseUrl]: '' }),
    });
    const lambda = await createLambdaHandlers(config, {
      provider: { pollIntervalMs: 100, runTaskBackoffMs: 50, ...provider },
      minSessionTimeoutSeconds,
      logger,
    });
    handlers = lambda;

    const scaler = warmPool
      ? createWarmPoolHandler(
          loadAwsPoolConfig({
            ...resolveStackEnv('warm-pool scaler', stack.warmPool, { ...tableEnv, ...computeEnv }),
            ...localEndpoints,
            [A.poolMin]: String(warmPool.min),
            [A.poolMax]: String(warmPool.max),
            [A.poolTargetIdle]: String(warmPool.targetIdle),
          }),
          { logger },
        )
      : undefined;
    if (warmPool) {
      const client = new ECSClient({ endpoint: ecs.endpoint, region: REGION, credentials: LOCAL_CREDENTIALS });
      await client.send(
        new CreateServiceCommand({
          cluster: CLUSTER,
          serviceName: POOL_SERVICE,
          taskDefinition: TASK_DEFINITION,
          desiredCount: warmPool.min,
          launchType: 'FARGATE',
          networkConfiguration: { awsvpcConfiguration: { subnets: [SUBNETS[0] as string], assignPublicIp: 'ENABLED' } },
        }),
      );
      client.destroy();
    }
    if (scaler && warmPool?.scheduleMs) {
      // EventBridge's schedule: a failed run is logged, and the next one tries again.
      const schedule = setInterval(() => {
        scaler().catch((error: unknown) => logger.warn({ err: String(error) }, 'the warm-pool scaler failed'));
      }, warmPool.scheduleMs);
      cleanups.push(() => clearInterval(schedule));
    }
    // Behind the TLS front, the front door is the API's `execute-api` endpoint: reached without the origin
    // secret, it refuses. Without the edge it stands for CloudFront too, and adds the secret itself.
    const gateway = await startApiGateway(lambda.api as unknown as LambdaHttpHandler, frontDoor, {
      port: edge ? 0 : port,
      ...(edge ? {} : { originHeaders }),
    });
    cleanups.push(() => gateway.close());
    apiUrl = gateway.url;

    const poolTasks = async () => {
      const { Items = [] } = await dynamo.send(
        new ScanCommand({ TableName: tables.names.tasks, ConsistentRead: true }),
      );
      return Items.map((i) => ({
        taskArn: String(i.taskArn?.S),
        status: String(i.status?.S),
        ...(i.sessionId?.S ? { sessionId: i.sessionId.S } : {}),
      }));
    };
    const getItem = async (table: string, name: string, value: string) =>
      (await dynamo.send(new GetItemCommand({ TableName: table, Key: { [name]: { S: value } }, ConsistentRead: true })))
        .Item;

    return {
      url: edge ? edge.front.url : gateway.url,
      ...(edge ? { edge } : {}),
      apiKey: key.key,
      projectId: project.id,
      store,
      ecs,
      s3,
      contextKey,
      connectSecret: secret,
      taskStateOutcomes,
      async prewarm(count: number) {
        const client = new ECSClient({ endpoint: ecs.endpoint, region: REGION, credentials: LOCAL_CREDENTIALS });
        try {
          const before = (await poolTasks()).filter((t) => t.status === 'IDLE').length;
          for (let i = 0; i < count; i++) {
            await client.send(
              new RunTaskCommand({
                cluster: CLUSTER,
                taskDefinition: TASK_DEFINITION,
                launchType: 'FARGATE',
                group: `service:${POOL_SERVICE}`,
                networkConfiguration: {
                  awsvpcConfiguration: { subnets: [SUBNETS[0] as string], assignPublicIp: 'ENABLED' },
                },
              }),
            );
          }
          await waitFor(async () => (await poolTasks()).filter((t) => t.status === 'IDLE').length >= before + count, {
            timeout: 30_000,
            message: `${count} warm-pool task(s) to be idle`,
          });
        } finally {
          client.destroy();
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
        const item = await getItem(tables.names.projects, 'projectId', project.id);
        return Number(item?.activeSessions?.N ?? 0);
      },
      sessionItem: (sessionId: string) => getItem(tables.names.sessions, 'sessionId', sessionId),
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
