import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { tempDir } from '@wallcrawler/test-support';
import { memoryLogger } from '@wallcrawler/test-support/test-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretTokenSigner } from '../../src/adapters/secret-token-signer.js';
import { SqliteStore } from '../../src/adapters/sqlite/sqlite-store.js';
import { createApp } from '../../src/app.js';
import { loadAwsApiConfig } from '../../src/aws/lambda/config.js';
import { keptOnSuccess } from '../../src/aws/lambda/connect-secret.js';
import { DependencyUnavailableError } from '../../src/domain/errors.js';
import { ORIGIN_SECRET_HEADER } from '../../src/middleware/origin-secret.js';
import { MemoryBrowserProvider } from '../support/memory-browser-provider.js';

/**
 * The origin-secret check: on AWS the API answers only requests that carry the value CloudFront adds, so its
 * own `execute-api` endpoint (and with it a way around the WAF) is closed. The real app, over a real SQLite
 * store, in process.
 */

const SECRET = `origin-${randomBytes(24).toString('base64url')}`;
const dir = tempDir('wallcrawler-origin-');
let store: SqliteStore;
const lines = memoryLogger();
let reads = 0;
let failNextRead = false;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  store = await SqliteStore.open(join(dir.path, 'wallcrawler.db'));
  app = createApp({
    store,
    provider: new MemoryBrowserProvider({ dataDir: dir.path }),
    signer: new SecretTokenSigner(randomBytes(32)),
    logger: lines,
    // As the Lambda handler reads it: on first use, kept once read, retried after a failure.
    originSecret: keptOnSuccess(async () => {
      reads += 1;
      if (failNextRead) {
        failNextRead = false;
        throw new DependencyUnavailableError('Secrets Manager could not be reached', 5);
      }
      return SECRET;
    }),
  });
});

afterAll(async () => {
  await store.close();
  dir.remove();
});

const get = (path: string, headers: Record<string, string> = {}) => app.request(path, { headers });

describe('the origin-secret check', () => {
  it('reads the secret on first use only, and retries a failed read on the next request', async () => {
    // Nothing was read to build the app: a cold start waits for no secret.
    expect(reads).toBe(0);
    failNextRead = true;
    const unavailable = await get('/health', { [ORIGIN_SECRET_HEADER]: SECRET });
    expect(unavailable.status).toBe(503);
    expect(await unavailable.json()).toMatchObject({ code: 'dependency_unavailable' });
    expect(reads).toBe(1);
    expect((await get('/health', { [ORIGIN_SECRET_HEADER]: SECRET })).status).toBe(200);
    expect((await get('/health', { [ORIGIN_SECRET_HEADER]: SECRET })).status).toBe(200);
    expect(reads).toBe(2);
  });

  it.each([
    ['no header', {}],
    ['a wrong value', { [ORIGIN_SECRET_HEADER]: 'guess' }],
    ['the value with a byte more', { [ORIGIN_SECRET_HEADER]: `${SECRET}x` }],
    ['an empty value', { [ORIGIN_SECRET_HEADER]: '' }],
  ])('refuses %s with a 403 in the one error body, on every path', async (_, headers: Record<string, string>) => {
    for (const path of ['/health', '/v1/sessions', '/no-such-route', '/replay/s1?page=p&token=t']) {
      const response = await get(path, { 'x-request-id': 'req-1', ...headers });
      expect(response.status, path).toBe(403);
      expect(await response.json()).toEqual({
        statusCode: 403,
        error: 'Forbidden',
        code: 'direct_access_refused',
        message: 'This API is reached only through its CloudFront distribution.',
        requestId: 'req-1',
      });
    }
  });

  it('lets the right value through to the app, which then authenticates as usual', async () => {
    const health = await get('/health', { [ORIGIN_SECRET_HEADER]: SECRET });
    expect(health.status).toBe(200);
    const unauthenticated = await get('/v1/sessions', { [ORIGIN_SECRET_HEADER]: SECRET });
    expect(unauthenticated.status).toBe(401);
    expect(await unauthenticated.json()).toMatchObject({ code: 'missing_api_key' });
  });

  it('never logs the secret or the header', () => {
    expect(lines.lines.length).toBeGreaterThan(0);
    const logged = JSON.stringify(lines.lines);
    expect(logged).not.toContain(SECRET);
    expect(logged).not.toContain(ORIGIN_SECRET_HEADER);
  });
});

describe('its configuration', () => {
  const base = {
    WALLCRAWLER_SESSIONS_TABLE: 'sessions',
    WALLCRAWLER_PROJECTS_TABLE: 'projects',
    WALLCRAWLER_API_KEYS_TABLE: 'keys',
    WALLCRAWLER_RESOURCES_TABLE: 'resources',
    WALLCRAWLER_CONNECT_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:connect',
    WALLCRAWLER_ECS_CLUSTER: 'cluster',
    WALLCRAWLER_TASK_DEFINITION: 'td',
    WALLCRAWLER_TASK_SUBNETS: 'subnet-1',
    WALLCRAWLER_TASK_SECURITY_GROUPS: 'sg-1',
    WALLCRAWLER_TASK_PUBLIC_IP: 'false',
    AWS_REGION: 'us-east-1',
  };

  it('takes the secret by ARN or by value, and none means no check', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:origin';
    expect(loadAwsApiConfig({ ...base, WALLCRAWLER_ORIGIN_SECRET_ARN: arn }).originSecret).toEqual({ arn });
    expect(loadAwsApiConfig({ ...base, WALLCRAWLER_ORIGIN_SECRET: SECRET }).originSecret).toEqual({ value: SECRET });
    expect(loadAwsApiConfig(base).originSecret).toBeUndefined();
  });

  it('refuses both at once, a short value and a value that is no ARN, without echoing the value', () => {
    expect(() =>
      loadAwsApiConfig({ ...base, WALLCRAWLER_ORIGIN_SECRET_ARN: 'arn:aws:x', WALLCRAWLER_ORIGIN_SECRET: SECRET }),
    ).toThrow(/set at most one of WALLCRAWLER_ORIGIN_SECRET_ARN and WALLCRAWLER_ORIGIN_SECRET/);
    let message = '';
    try {
      loadAwsApiConfig({ ...base, WALLCRAWLER_ORIGIN_SECRET: 'short-secret', WALLCRAWLER_ORIGIN_SECRET_ARN: 'nope' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/WALLCRAWLER_ORIGIN_SECRET: must be at least 16 characters/);
    expect(message).toMatch(/WALLCRAWLER_ORIGIN_SECRET_ARN: expected a Secrets Manager ARN/);
    expect(message).not.toContain('short-secret');
  });
});
