import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { AWS_API_ENV as A, ORIGIN_SECRET_HEADER } from '@wallcrawler/contracts';
import { tempDir } from '@wallcrawler/test-support';
import { type LambdaHttpHandler, startApiGateway } from '@wallcrawler/test-support/api-gateway';
import { build } from 'tsup';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { apiKeyRecord } from '../../src/api-keys.js';
import { DynamoDbStore } from '../../src/aws/dynamodb/dynamodb-store.js';
import { loadAwsApiConfig } from '../../src/aws/lambda/config.js';
import { newProject } from '../../src/bootstrap.js';
import { dynamoDbClient, freshTables } from '../support/dynamodb.js';
import { sessionRecord } from '../support/records.js';

const packageDir = fileURLToPath(new URL('../../', import.meta.url));

const validEnv = {
  [A.sessionsTable]: 'wallcrawler-sessions',
  [A.projectsTable]: 'wallcrawler-projects',
  [A.apiKeysTable]: 'wallcrawler-api-keys',
  [A.resourcesTable]: 'wallcrawler-resources',
  [A.connectSecretArn]: 'arn:aws:secretsmanager:us-west-2:111122223333:secret:wallcrawler-connect-AbCdEf',
  [A.cluster]: 'wallcrawler',
  [A.taskDefinition]: 'wallcrawler-controller',
  [A.subnets]: 'subnet-1,subnet-2',
  [A.securityGroups]: 'sg-1',
  [A.assignPublicIp]: 'true',
  [A.region]: 'us-west-2',
};

describe('the Lambda configuration', () => {
  it('reads every setting, with defaults', () => {
    const config = loadAwsApiConfig(validEnv);
    expect(config.ecs).toEqual({
      cluster: 'wallcrawler',
      taskDefinition: 'wallcrawler-controller',
      containerName: 'controller',
      subnets: ['subnet-1', 'subnet-2'],
      securityGroups: ['sg-1'],
      assignPublicIp: true,
      readyTimeoutMs: 55_000,
    });
    expect(config.connectSecret).toEqual({ arn: validEnv[A.connectSecretArn] });
  });

  it('reads the server-wide model, its key by secret ARN (or the key itself, for emulators), both or neither', () => {
    const arn = 'arn:aws:secretsmanager:us-west-2:111122223333:secret:wallcrawler-model-key-AbCdEf';
    const model = { [A.modelBaseUrl]: 'https://api.openai.com/v1/', [A.modelName]: 'gpt-4.1-mini' };
    expect(loadAwsApiConfig({ ...validEnv, ...model, [A.modelApiKeySecretArn]: arn }).model).toEqual({
      baseUrl: 'https://api.openai.com/v1',
      model: 'gpt-4.1-mini',
      api: 'responses',
      apiKey: { arn },
    });
    expect(loadAwsApiConfig({ ...validEnv, ...model, [A.modelApi]: 'chat', [A.modelApiKey]: 'k' }).model).toMatchObject(
      {
        api: 'chat',
        apiKey: { value: 'k' },
      },
    );
    expect(loadAwsApiConfig(validEnv)).not.toHaveProperty('model');
    expect(() => loadAwsApiConfig({ ...validEnv, [A.modelBaseUrl]: 'https://x/v1' })).toThrow(A.modelName);
    expect(() =>
      loadAwsApiConfig({ ...validEnv, ...model, [A.modelApiKeySecretArn]: arn, [A.modelApiKey]: 'k' }),
    ).toThrow(A.modelApiKeySecretArn);
  });

  it("reads the blob bucket, an emulator's S3 endpoint and contexts' key secret (by ARN, or the key itself)", () => {
    const arn = 'arn:aws:secretsmanager:us-west-2:111122223333:secret:wallcrawler-context-key-AbCdEf';
    const withBlobs = loadAwsApiConfig({
      ...validEnv,
      [A.blobsBucket]: 'wallcrawler-blobs',
      [A.contextKeySecretArn]: arn,
      [A.s3Endpoint]: 'http://127.0.0.1:4569',
    });
    expect(withBlobs).toMatchObject({
      blobsBucket: 'wallcrawler-blobs',
      contextKey: { arn },
      endpoints: { s3: 'http://127.0.0.1:4569' },
    });
    expect(loadAwsApiConfig({ ...validEnv, [A.contextKey]: 'ab'.repeat(32) }).contextKey).toEqual({
      value: 'ab'.repeat(32),
    });
    // Without a bucket, contexts and extensions answer 501; without a key, contexts do.
    expect(loadAwsApiConfig(validEnv)).not.toHaveProperty('blobsBucket');
    expect(loadAwsApiConfig(validEnv)).not.toHaveProperty('contextKey');
    expect(() => loadAwsApiConfig({ ...validEnv, [A.contextKeySecretArn]: 'context-key' })).toThrow(
      A.contextKeySecretArn,
    );
  });

  it('lists every problem at once', () => {
    const error = (() => {
      try {
        loadAwsApiConfig({ [A.assignPublicIp]: 'yes', [A.readyTimeoutMs]: '59000', [A.subnets]: ' , ' });
      } catch (e) {
        return e as Error;
      }
    })();
    for (const name of [
      A.sessionsTable,
      A.projectsTable,
      A.apiKeysTable,
      A.resourcesTable,
      A.cluster,
      A.taskDefinition,
      A.subnets,
      A.securityGroups,
      A.assignPublicIp,
      A.readyTimeoutMs,
      A.region,
      A.connectSecretArn,
    ]) {
      expect(error?.message).toContain(name);
    }
  });
});

const out = tempDir('wallcrawler-lambda-');
const bundle = (name: string) => join(out.path, 'lambda', name, 'index.cjs');
// Nothing next to the bundles: each must load with no node_modules of its own.
const requireBundle = createRequire(bundle('api'));

beforeAll(async () => {
  const configs = (await import('../../tsup.config.js')).default as unknown as Record<string, unknown>[];
  const lambda = configs.find((c) => JSON.stringify(c.entry).includes('lambda/api/index'));
  const entry = Object.fromEntries(
    Object.entries(lambda?.entry as Record<string, string>).map(([name, path]) => [name, join(packageDir, path)]),
  );
  await build({ ...lambda, entry, outDir: out.path, silent: true, config: false, sourcemap: false } as never);
}, 120_000);

afterAll(() => out.remove());

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Runs `body` with the API function's bundle loaded afresh (a new execution environment) in `env`, behind the
 * local front door, then puts the environment back.
 */
async function withApiBundle(env: Record<string, string>, body: (url: string) => Promise<void>): Promise<void> {
  const saved = { ...process.env };
  Object.assign(process.env, env, {
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'local',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
  });
  delete requireBundle.cache[bundle('api')];
  const { handler } = requireBundle(bundle('api')) as { handler: LambdaHttpHandler };
  const gateway = await startApiGateway(handler);
  try {
    await body(gateway.url);
  } finally {
    await gateway.close();
    process.env = saved;
  }
}

const json = async (response: Response) => ({
  status: response.status,
  retryAfter: response.headers.get('retry-after'),
  body: (await response.json()) as Record<string, unknown>,
});

describe('the bundled Lambda functions', () => {
  it('are one self-contained file each; the API streams its answers through the REST API', async () => {
    const client = dynamoDbClient();
    const tables = await freshTables(client);
    try {
      await withApiBundle(
        {
          ...validEnv,
          [A.connectSecretArn]: '',
          [A.connectSecret]: Buffer.alloc(32, 7).toString('base64url'),
          [A.sessionsTable]: tables.names.sessions,
          [A.projectsTable]: tables.names.projects,
          [A.apiKeysTable]: tables.names.apiKeys,
          [A.resourcesTable]: tables.names.resources,
          [A.dynamodbEndpoint]: inject('dynamodbEndpoint'),
          [A.logLevel]: 'silent',
        },
        async (url) => {
          const health = await fetch(`${url}/health`);
          expect(health.status).toBe(200);
          expect(await health.json()).toMatchObject({ status: 'ok' });
          const unauthorized = await json(await fetch(`${url}/v1/sessions`));
          expect(unauthorized).toMatchObject({ status: 401, body: { statusCode: 401, code: 'missing_api_key' } });
          const { handler: taskState } = requireBundle(bundle('task-state')) as {
            handler: (event: unknown) => Promise<string>;
          };
          expect(await taskState({ 'detail-type': 'Scheduled Event' })).toBe('ignored');
        },
      );
    } finally {
      await tables.drop();
      client.destroy();
    }
  });

  it('answers in its error body, 503 with Retry-After, when DynamoDB, ECS and Secrets Manager cannot be reached', async () => {
    const nowhere = `http://127.0.0.1:${await closedPort()}`;
    await withApiBundle(
      {
        ...validEnv,
        [A.tasksTable]: 'wallcrawler-tasks',
        [A.dynamodbEndpoint]: nowhere,
        [A.ecsEndpoint]: nowhere,
        // Every other AWS client of the function (Secrets Manager) goes there too.
        AWS_ENDPOINT_URL: nowhere,
        [A.logLevel]: 'silent',
      },
      async (url) => {
        // No key: nothing to look up, so the answer needs no service at all.
        const anonymous = await json(await fetch(`${url}/v1/sessions`));
        expect(anonymous).toMatchObject({
          status: 401,
          body: { statusCode: 401, error: 'Unauthorized', code: 'missing_api_key' },
        });
        expect(anonymous.body.requestId).toEqual(expect.any(String));

        const key = { 'x-bb-api-key': 'wc_closed_ports_0123456789abcdef', 'content-type': 'application/json' };
        const list = await json(await fetch(`${url}/v1/sessions`, { headers: key }));
        const create = await json(await fetch(`${url}/v1/sessions`, { method: 'POST', headers: key, body: '{}' }));
        for (const answer of [list, create]) {
          expect(answer).toMatchObject({
            status: 503,
            retryAfter: '5',
            body: { statusCode: 503, error: 'Service Unavailable', code: 'dependency_unavailable' },
          });
          expect(answer.body.message).toMatch(/DynamoDB could not be reached/);
          expect(answer.body.requestId).toEqual(expect.any(String));
        }
      },
    );
  });

  it("answers only CloudFront's requests when an origin secret is set: 403 direct_access_refused without it", async () => {
    const nowhere = `http://127.0.0.1:${await closedPort()}`;
    const secret = 'origin-secret-0123456789abcdefghij';
    const base = { ...validEnv, [A.dynamodbEndpoint]: nowhere, [A.ecsEndpoint]: nowhere, [A.logLevel]: 'silent' };
    await withApiBundle({ ...base, [A.originSecret]: secret }, async (url) => {
      for (const headers of [{}, { [ORIGIN_SECRET_HEADER]: 'a-guess' }] as Record<string, string>[]) {
        const refused = await json(await fetch(`${url}/health`, { headers }));
        expect(refused).toMatchObject({
          status: 403,
          body: { statusCode: 403, error: 'Forbidden', code: 'direct_access_refused' },
        });
        expect(refused.body.requestId).toEqual(expect.any(String));
      }
      const through = { [ORIGIN_SECRET_HEADER]: secret };
      expect((await fetch(`${url}/health`, { headers: through })).status).toBe(200);
      expect(await json(await fetch(`${url}/v1/sessions`, { headers: through }))).toMatchObject({
        status: 401,
        body: { code: 'missing_api_key' },
      });
    });
    // By ARN, read on the first request: Secrets Manager unreachable is a 503 of ours, never a pass.
    await withApiBundle(
      {
        ...base,
        [A.originSecretArn]: 'arn:aws:secretsmanager:us-west-2:111122223333:secret:wallcrawler-origin-AbCdEf',
        AWS_ENDPOINT_URL_SECRETS_MANAGER: nowhere,
      },
      async (url) => {
        const unavailable = await json(await fetch(`${url}/health`, { headers: { [ORIGIN_SECRET_HEADER]: secret } }));
        expect(unavailable).toMatchObject({ status: 503, body: { code: 'dependency_unavailable' } });
      },
    );
  });

  it('reads the connect secret when a request first needs it: without Secrets Manager only those get a 503', async () => {
    const client = dynamoDbClient();
    const tables = await freshTables(client);
    const store = new DynamoDbStore({ client, tables: tables.names });
    const project = newProject('lazy-secret', { concurrency: 2, defaultTimeout: 300 });
    await store.createProject(project);
    const apiKey = 'wc_lazy_secret_0123456789abcdef';
    await store.createApiKey(apiKeyRecord(apiKey, 'lazy', [project.id]));
    const running = sessionRecord(project.id, { status: 'RUNNING', connectEndpoint: 'ws://10.0.0.1:9223' });
    await store.insertSessionWithinLimit(running, 2);
    const nowhere = `http://127.0.0.1:${await closedPort()}`;
    try {
      await withApiBundle(
        {
          ...validEnv,
          [A.sessionsTable]: tables.names.sessions,
          [A.projectsTable]: tables.names.projects,
          [A.apiKeysTable]: tables.names.apiKeys,
          [A.resourcesTable]: tables.names.resources,
          [A.dynamodbEndpoint]: inject('dynamodbEndpoint'),
          // DynamoDB Local keeps tables per region: the test's tables are in us-east-1.
          [A.region]: 'us-east-1',
          AWS_ENDPOINT_URL_SECRETS_MANAGER: nowhere,
          [A.logLevel]: 'silent',
        },
        async (url) => {
          const headers = { 'x-bb-api-key': apiKey };
          const list = await fetch(`${url}/v1/sessions`, { headers });
          expect(list.status).toBe(200);
          expect(((await list.json()) as { id: string }[]).map((s) => s.id)).toEqual([running.id]);
          // Its connectUrl carries a token signed with the secret.
          const read = await json(await fetch(`${url}/v1/sessions/${running.id}`, { headers }));
          expect(read).toMatchObject({
            status: 503,
            retryAfter: '5',
            body: { statusCode: 503, code: 'dependency_unavailable' },
          });
          expect(read.body.message).toMatch(/Secrets Manager could not be reached/);
        },
      );
    } finally {
      await tables.drop();
      client.destroy();
    }
  });

  it('serves /mcp through the front door: the MCP SDK client lists tools and sessions; browser tools say 501', async () => {
    const client = dynamoDbClient();
    const tables = await freshTables(client);
    const store = new DynamoDbStore({ client, tables: tables.names });
    const project = newProject('mcp-lambda', { concurrency: 2, defaultTimeout: 300 });
    await store.createProject(project);
    const apiKey = 'wc_mcp_lambda_0123456789abcdef';
    await store.createApiKey(apiKeyRecord(apiKey, 'mcp', [project.id]));
    const running = sessionRecord(project.id, { status: 'RUNNING', connectEndpoint: 'ws://10.0.0.1:9223' });
    await store.insertSessionWithinLimit(running, 2);
    try {
      await withApiBundle(
        {
          ...validEnv,
          [A.connectSecretArn]: '',
          [A.connectSecret]: Buffer.alloc(32, 7).toString('base64url'),
          [A.sessionsTable]: tables.names.sessions,
          [A.projectsTable]: tables.names.projects,
          [A.apiKeysTable]: tables.names.apiKeys,
          [A.resourcesTable]: tables.names.resources,
          [A.dynamodbEndpoint]: inject('dynamodbEndpoint'),
          [A.region]: 'us-east-1',
          [A.logLevel]: 'silent',
        },
        async (url) => {
          const unauthorized = await json(await fetch(`${url}/mcp`, { method: 'POST', body: '{}' }));
          expect(unauthorized).toMatchObject({ status: 401, body: { statusCode: 401, code: 'missing_api_key' } });
          const mcp = new Client({ name: 'wallcrawler-test', version: '1.0.0' });
          await mcp.connect(
            new StreamableHTTPClientTransport(new URL('/mcp', url), {
              requestInit: { headers: { authorization: `Bearer ${apiKey}` } },
            }),
          );
          try {
            expect((await mcp.listTools()).tools.map((t) => t.name)).toContain('browser_snapshot');
            const list = (await mcp.callTool({ name: 'session_list', arguments: {} })) as CallToolResult;
            const text = list.content.flatMap((c) => (c.type === 'text' ? [c.text] : [])).join('');
            expect((JSON.parse(text) as { id: string }[]).map((s) => s.id)).toEqual([running.id]);
            // The function is bundled without Playwright: the browser tools say so rather than fail obscurely.
            const snapshot = (await mcp.callTool({
              name: 'browser_snapshot',
              arguments: { sessionId: running.id },
            })) as CallToolResult;
            expect(snapshot.isError).toBe(true);
            expect(snapshot.structuredContent).toMatchObject({ statusCode: 501, code: 'not_supported' });
          } finally {
            await mcp.close();
          }
        },
      );
    } finally {
      await tables.drop();
      client.destroy();
    }
  });
});
