import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { getRequestListener } from '@hono/node-server';
import { CONTROLLER_ENV as E } from '@wallcrawler/controller';
import { inject } from 'vitest';
import { type LocalEcs, type LocalTaskDefinition, startLocalEcs } from '../../../../test-support/local-ecs.js';
import { DynamoDbStore } from '../../src/adapters/dynamodb/dynamodb-store.js';
import { EcsBrowserProvider, type EcsBrowserProviderOptions } from '../../src/adapters/ecs/ecs-browser-provider.js';
import { SecretTokenSigner } from '../../src/adapters/secret-token-signer.js';
import { apiKeyRecord } from '../../src/api-keys.js';
import { createApp } from '../../src/app.js';
import { newProject } from '../../src/bootstrap.js';
import { handleTaskStateChange, type TaskStateOutcome } from '../../src/services/task-state.js';
import { dynamoDbClient, freshTables } from './dynamodb.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

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
  close(): Promise<void>;
}

export interface AwsTopologyOptions {
  concurrency?: number;
  /** Extra env of the controller's task definition (what the stack sets). */
  taskEnv?: Record<string, string>;
  provider?: Partial<EcsBrowserProviderOptions>;
  startDelayMs?: number;
}

/**
 * The AWS topology on one machine: the API (`createApp` over `DynamoDbStore` and `EcsBrowserProvider`) on a
 * loopback port; DynamoDB Local for the tables; the local ECS endpoint, driven by the real `@aws-sdk/client-ecs`,
 * running each task as the controller's real entry command on an address of its own; task-state events
 * delivered to the real handler. Clients connect straight to each task's controller with the session's JWT.
 */
export async function startAwsTopology({
  concurrency = 5,
  taskEnv = {},
  provider = {},
  startDelayMs = 0,
}: AwsTopologyOptions = {}): Promise<AwsTopology> {
  const dynamo = dynamoDbClient();
  const tables = await freshTables(dynamo);
  const store = new DynamoDbStore({ client: dynamo, tables: tables.names });
  const secret = randomBytes(32);
  const signer = new SecretTokenSigner(secret);
  const project = newProject('aws', { concurrency, defaultTimeout: 300 });
  await store.createProject(project);
  const apiKey = `wc_aws_${randomBytes(16).toString('hex')}`;
  await store.createApiKey(apiKeyRecord(apiKey, 'aws', [project.id]));

  const taskStateOutcomes: TaskStateOutcome[] = [];
  const definition: LocalTaskDefinition = {
    family: 'wallcrawler-controller',
    networkMode: 'awsvpc',
    stopTimeoutMs: 3_000,
    container: {
      name: 'controller',
      // The image's command, run from the sources: `node packages/controller/dist/main.js` once built.
      command: [
        process.execPath,
        '--import',
        'tsx',
        '--conditions=@wallcrawler/source',
        'packages/controller/src/main.ts',
      ],
      workingDirectory: root,
      environment: {
        [E.sessionsTable]: tables.names.sessions,
        [E.projectsTable]: tables.names.projects,
        [E.dynamodbEndpoint]: inject('dynamodbEndpoint'),
        [E.connectSecret]: secret.toString('base64url'),
        [E.port]: '9223',
        [E.disconnectGraceMs]: '300',
        [E.logLevel]: 'info',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        ...taskEnv,
      },
    },
  };
  const ecs = await startLocalEcs({
    taskDefinitions: [definition],
    startDelayMs,
    onTaskStateChange: async (event) => {
      taskStateOutcomes.push(await handleTaskStateChange(event, store));
    },
  });
  const ecsClient = new ECSClient({
    endpoint: ecs.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const browsers = new EcsBrowserProvider({
    ecs: ecsClient,
    store,
    signer,
    cluster: 'wallcrawler',
    taskDefinition: 'wallcrawler-controller',
    subnets: ['subnet-local'],
    securityGroups: ['sg-local'],
    assignPublicIp: true,
    readyTimeoutMs: 20_000,
    pollIntervalMs: 100,
    runTaskBackoffMs: 50,
    ...provider,
  });
  const app = createApp({ store, provider: browsers, signer });
  const server = createServer(getRequestListener(app.fetch));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    apiKey,
    projectId: project.id,
    store,
    ecs,
    taskStateOutcomes,
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
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await ecs.close();
      ecsClient.destroy();
      await tables.drop();
      dynamo.destroy();
    },
  };
}
