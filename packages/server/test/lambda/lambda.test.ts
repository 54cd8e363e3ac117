import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AWS_API_ENV as A } from '@wallcrawler/contracts';
import { tempDir } from '@wallcrawler/test-support';
import { build } from 'tsup';
import { describe, expect, inject, it } from 'vitest';
import { loadAwsApiConfig } from '../../src/aws/lambda/config.js';
import { dynamoDbClient, freshTables } from '../support/dynamodb.js';

const packageDir = fileURLToPath(new URL('../../', import.meta.url));
const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;

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
      readyTimeoutMs: 25_000,
    });
    expect(config.connectSecret).toEqual({ arn: validEnv[A.connectSecretArn] });
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
        loadAwsApiConfig({ [A.assignPublicIp]: 'yes', [A.readyTimeoutMs]: '60000', [A.subnets]: ' , ' });
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

describe('the bundled Lambda functions', () => {
  it('are one self-contained file each that answer API Gateway events', async () => {
    const out = tempDir('wallcrawler-lambda-');
    const client = dynamoDbClient();
    const tables = await freshTables(client);
    try {
      const configs = (await import('../../tsup.config.js')).default as unknown as Record<string, unknown>[];
      const lambda = configs.find((c) => JSON.stringify(c.entry).includes('lambda/api/index'));
      const entry = Object.fromEntries(
        Object.entries(lambda?.entry as Record<string, string>).map(([name, path]) => [name, join(packageDir, path)]),
      );
      await build({ ...lambda, entry, outDir: out.path, silent: true, config: false, sourcemap: false } as never);
      // Nothing next to the bundle: it must load with no node_modules of its own.
      const require = createRequire(join(out.path, 'lambda', 'api', 'index.cjs'));
      Object.assign(process.env, {
        ...validEnv,
        [A.connectSecretArn]: '',
        [A.connectSecret]: Buffer.alloc(32, 7).toString('base64url'),
        [A.sessionsTable]: tables.names.sessions,
        [A.projectsTable]: tables.names.projects,
        [A.apiKeysTable]: tables.names.apiKeys,
        [A.resourcesTable]: tables.names.resources,
        [A.dynamodbEndpoint]: inject('dynamodbEndpoint'),
        [A.logLevel]: 'silent',
        AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'local',
        AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
      });
      const { handler } = require(join(out.path, 'lambda', 'api', 'index.cjs')) as {
        handler: (event: unknown, context: unknown) => Promise<{ statusCode: number; body: string }>;
      };
      const health = await handler(fixture('apigw-v2-health.json'), {});
      expect(health.statusCode).toBe(200);
      expect(JSON.parse(health.body)).toMatchObject({ status: 'ok' });

      const event = fixture('apigw-v2-health.json');
      event.rawPath = '/v1/sessions';
      (event.requestContext as { http: { path: string } }).http.path = '/v1/sessions';
      const unauthorized = await handler(event, {});
      expect(unauthorized.statusCode).toBe(401);
      expect(JSON.parse(unauthorized.body)).toMatchObject({ statusCode: 401, code: 'missing_api_key' });

      const { handler: taskState } = require(join(out.path, 'lambda', 'task-state', 'index.cjs')) as {
        handler: (event: unknown) => Promise<string>;
      };
      expect(await taskState({ 'detail-type': 'Scheduled Event' })).toBe('ignored');
    } finally {
      for (const name of Object.values(A)) if (name !== 'AWS_REGION') delete process.env[name];
      await tables.drop();
      client.destroy();
      out.remove();
    }
  });
});
