import { CONTROLLER_ENV } from '@wallcrawler/contracts';
import { loadControllerConfig } from '@wallcrawler/controller/task';
import { AWS_API_ENV, loadAwsApiConfig, loadAwsPoolConfig, loadAwsStoreConfig } from '@wallcrawler/server/aws';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { validateWallcrawlerProps } from '../src/index.js';
import {
  actions,
  refs,
  resolveForRuntime,
  resourcesOf,
  type Synthesized,
  statementsOf,
  synth,
  useModes,
} from './support/synth.js';

/**
 * The stack's compute and API, synthesized once per mode for the file: the controller's task definition and
 * warm pool, the API's Lambda behind the streaming REST API and CloudFront, the environment each gets (one the runtime's
 * own loader accepts), and the props' validation.
 */

const modes = useModes();

/** The stack's compute: the controller's Fargate task definition, its stopped-task events, the warm pool's service. */

describe('browsers', () => {
  it('runs the controller image as a Fargate task with its env, its secret, a health check and logs', () => {
    modes.prod.template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '1024',
      Memory: '2048',
      NetworkMode: 'awsvpc',
      RequiresCompatibilities: ['FARGATE'],
      ContainerDefinitions: [
        Match.objectLike({
          Name: 'controller',
          Essential: true,
          PortMappings: [Match.objectLike({ ContainerPort: 9223 })],
          // The close path saves a persisted context before the ending is recorded: Fargate's longest grace.
          StopTimeout: 120,
          HealthCheck: Match.objectLike({ Command: ['CMD', 'node', 'dist/task/health.js'] }),
          // Both keys only through ECS `secrets`: never in the plain environment or RunTask's overrides.
          Secrets: [
            Match.objectLike({ Name: CONTROLLER_ENV.connectSecret }),
            Match.objectLike({ Name: CONTROLLER_ENV.contextKey }),
          ],
          Environment: Match.arrayWith([
            Match.objectLike({ Name: CONTROLLER_ENV.resourcesTable }),
            Match.objectLike({ Name: CONTROLLER_ENV.blobsBucket }),
          ]),
          LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
        }),
      ],
    });
    modes.prod.template.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
  });

  it('sends stopped tasks of this cluster to the task-state function', () => {
    modes.prod.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ecs'],
        'detail-type': ['ECS Task State Change'],
        detail: { clusterArn: [Match.anyValue()], lastStatus: ['STOPPED'] },
      },
      Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 8 } })],
    });
  });
});

describe('the warm pool', () => {
  it('is an ECS service of controller tasks at its floor, sized every minute by the scaler', () => {
    modes.prod.template.hasResourceProperties('AWS::ECS::Service', {
      DesiredCount: 1,
      LaunchType: 'FARGATE',
      DeploymentConfiguration: Match.objectLike({ MinimumHealthyPercent: 0, MaximumPercent: 200 }),
      NetworkConfiguration: {
        AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'ENABLED', SecurityGroups: [Match.anyValue()] }),
      },
    });
    modes.dev.template.hasResourceProperties('AWS::ECS::Service', { DesiredCount: 0 });
    modes.prod.template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)' });
    const sized = synth({ mode: 'prod', warmPool: { min: 2, max: 20, targetIdle: 3 } });
    sized.template.hasResourceProperties('AWS::ECS::Service', { DesiredCount: 2 });
  });

  it('the scaler may count the pool and resize its service, nothing else', () => {
    const statements = statementsOf(modes.prod, 'BrowsersWarmPoolScalerServiceRole');
    expect(actions(statements)).toEqual(['dynamodb:Query', 'ecs:DescribeServices', 'ecs:UpdateService']);
    const ecsRights = statements.find((s) => refs(s.Action).includes('ecs:'));
    expect(refs(ecsRights?.Resource)).toContain('BrowsersWarmPool');
  });

  it("gives the API function the pool's service and size, so that each claim asks for its replacement", () => {
    const api = Object.values(resourcesOf(modes.prod.template, 'AWS::Lambda::Function')).find((f) =>
      String(f.Properties?.Description).includes('API'),
    );
    const env = (api?.Properties?.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {};
    expect(env).toMatchObject({
      WALLCRAWLER_POOL_MIN: '1',
      WALLCRAWLER_POOL_MAX: expect.any(String),
      WALLCRAWLER_POOL_TARGET_IDLE: expect.any(String),
    });
    expect(refs(env.WALLCRAWLER_POOL_SERVICE)).toContain('BrowsersWarmPool');
  });
});

/** The stack's API: its Lambda function behind a streaming REST API, and CloudFront (with WAF in prod) in front. */

describe('api and edge', () => {
  it('serves the API from a Node 24 Lambda behind a REST API that streams it, with access logs, in the VPC in prod', () => {
    const fns = Object.values(resourcesOf(modes.prod.template, 'AWS::Lambda::Function'));
    expect(fns.map((f) => f.Properties?.Runtime)).toEqual(['nodejs24.x', 'nodejs24.x', 'nodejs24.x']);
    const api = fns.find((f) => String(f.Properties?.Description).includes('API'));
    // As long as API Gateway may stream an answer.
    expect(api?.Properties).toMatchObject({ Handler: 'index.handler', Timeout: 900 });
    expect(api?.Properties?.VpcConfig).toBeDefined();
    const devApi = Object.values(resourcesOf(modes.dev.template, 'AWS::Lambda::Function')).find((f) =>
      String(f.Properties?.Description).includes('API'),
    );
    expect(devApi?.Properties?.VpcConfig).toBeUndefined();
    for (const { template } of [modes.dev, modes.prod]) {
      template.resourceCountIs('AWS::ApiGatewayV2::Api', 0);
      template.hasResourceProperties('AWS::ApiGateway::RestApi', {
        EndpointConfiguration: { Types: ['REGIONAL'] },
        BinaryMediaTypes: ['*/*'],
      });
      // The root and every path below it, any method: a Lambda proxy integration through
      // InvokeWithResponseStream, for up to 15 minutes.
      const methods = Object.values(resourcesOf(template, 'AWS::ApiGateway::Method'));
      expect(methods).toHaveLength(2);
      for (const method of methods) {
        expect(method.Properties).toMatchObject({
          HttpMethod: 'ANY',
          AuthorizationType: 'NONE',
          Integration: { Type: 'AWS_PROXY', ResponseTransferMode: 'STREAM', TimeoutInMillis: 900_000 },
        });
        expect(JSON.stringify(method.Properties?.Integration)).toContain('/response-streaming-invocations');
      }
      template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: '{proxy+}' });
      template.hasResourceProperties('AWS::ApiGateway::Stage', {
        StageName: 'prod',
        AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }),
        MethodSettings: [Match.objectLike({ LoggingLevel: 'ERROR', DataTraceEnabled: false })],
      });
    }
  });

  it("answers what API Gateway answers itself in the one error body: a function's failure is a 503 to retry", () => {
    const responses = Object.values(resourcesOf(modes.dev.template, 'AWS::ApiGateway::GatewayResponse'));
    const byType = Object.fromEntries(responses.map((r) => [r.Properties?.ResponseType, r.Properties]));
    expect(Object.keys(byType).sort()).toEqual(['DEFAULT_5XX', 'REQUEST_TOO_LARGE', 'THROTTLED']);
    expect(byType.DEFAULT_5XX).toMatchObject({
      StatusCode: '503',
      ResponseParameters: { 'gatewayresponse.header.Retry-After': "'5'" },
    });
    expect(byType.THROTTLED).toMatchObject({ StatusCode: '429' });
    for (const response of responses) {
      const templates = response.Properties?.ResponseTemplates as Record<string, string> | undefined;
      const template = templates?.['application/json'] ?? '';
      // As API Gateway fills it in: its message is a JSON string already.
      const body = JSON.parse(
        template
          .replace('$context.error.messageString', '"Internal server error"')
          .replace('$context.requestId', 'r-1'),
      );
      expect(Object.keys(body)).toEqual(['statusCode', 'error', 'code', 'message', 'requestId']);
      expect(String(body.statusCode)).toBe(response.Properties?.StatusCode);
    }
  });

  it('puts CloudFront in front, waiting up to 60 s for the stage, with WAF in prod only', () => {
    modes.prod.template.resourceCountIs('AWS::WAFv2::WebACL', 1);
    modes.prod.template.hasResourceProperties('AWS::WAFv2::WebACL', { Scope: 'CLOUDFRONT' });
    modes.prod.template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        WebACLId: Match.anyValue(),
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https' }),
        Origins: [
          Match.objectLike({
            CustomOriginConfig: Match.objectLike({ OriginProtocolPolicy: 'https-only', OriginReadTimeout: 60 }),
          }),
        ],
      }),
    });
    modes.dev.template.resourceCountIs('AWS::WAFv2::WebACL', 0);
    // Its origin is the stage: the path `/v1/sessions` reaches the function as it was sent.
    const [distribution] = Object.values(resourcesOf(modes.dev.template, 'AWS::CloudFront::Distribution'));
    const config = distribution?.Properties?.DistributionConfig as { Origins?: Record<string, unknown>[] } | undefined;
    const origin = config?.Origins?.[0];
    expect(JSON.stringify(origin?.OriginPath)).toContain('ApiRestApiDeploymentStageprod');
  });
});

/**
 * The environment the stack gives each function and the controller's container is one the runtime's own
 * configuration loader accepts, with no name either side does not know.
 */

describe('the stack and the runtime agree on every environment variable', () => {
  const envOf = (s: Synthesized, description: string) => {
    const fn = Object.values(resourcesOf(s.template, 'AWS::Lambda::Function')).find((f) =>
      String(f.Properties?.Description).includes(description),
    );
    const variables =
      (fn?.Properties?.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {};
    return Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, resolveForRuntime(v, s.template)]));
  };

  it.each([
    ['dev', () => modes.dev],
    ['prod', () => modes.prod],
  ])('the API function’s environment (%s) is one the API’s loader accepts', (_, get) => {
    const env = envOf(get(), 'API');
    const names = new Set<string>(Object.values(AWS_API_ENV));
    for (const key of Object.keys(env)) expect(names.has(key), key).toBe(true);
    // Lambda sets AWS_REGION itself.
    const config = loadAwsApiConfig({ ...env, AWS_REGION: 'us-east-1' });
    expect(config.ecs.subnets.length).toBeGreaterThanOrEqual(2);
    expect(config.ecs.assignPublicIp).toBe(true);
    expect('arn' in config.connectSecret).toBe(true);
  });

  it('the warm-pool scaler’s environment is one its loader accepts', () => {
    const env = envOf(modes.prod, 'warm pool');
    const config = loadAwsPoolConfig({ ...env, AWS_REGION: 'us-east-1' });
    expect(config.size).toEqual({ min: 1, max: 10, targetIdle: 1 });
  });

  it('the task-state function’s environment is one its loader accepts', () => {
    const env = envOf(modes.prod, 'task stopped');
    expect(() => loadAwsStoreConfig({ ...env, AWS_REGION: 'us-east-1' })).not.toThrow();
  });

  it('the controller container’s environment, secret and RunTask overrides make a config it accepts', () => {
    const [definition] = Object.values(resourcesOf(modes.prod.template, 'AWS::ECS::TaskDefinition'));
    const container = (definition?.Properties?.ContainerDefinitions as Record<string, unknown>[] | undefined)?.[0] as {
      Environment: { Name: string; Value: unknown }[];
      Secrets: { Name: string }[];
    };
    const names = new Set<string>(Object.values(CONTROLLER_ENV));
    const env: Record<string, string> = {};
    for (const { Name, Value } of container.Environment) {
      expect(names.has(Name), Name).toBe(true);
      env[Name] = resolveForRuntime(Value, modes.prod.template);
    }
    expect(container.Environment.map((e) => e.Name)).not.toContain(CONTROLLER_ENV.contextKey);
    // What the secrets hold, as the stack generates them: the connect secret's alphanumerics, 64 hex digits.
    const secretValues: Record<string, string> = { [CONTROLLER_ENV.contextKey]: 'ab'.repeat(32) };
    for (const { Name } of container.Secrets) {
      expect(names.has(Name), Name).toBe(true);
      env[Name] = secretValues[Name] ?? Buffer.alloc(48, 1).toString('base64url');
    }
    const config = loadControllerConfig({
      ...env,
      // What ECS and the RunTask overrides add.
      AWS_REGION: 'us-east-1',
      ECS_CONTAINER_METADATA_URI_V4: 'http://169.254.170.2/v4/abc',
      [CONTROLLER_ENV.sessionId]: 's-1',
      [CONTROLLER_ENV.projectId]: 'p-1',
      [CONTROLLER_ENV.expiresAt]: new Date().toISOString(),
    });
    expect(config.store?.sessionsTable).toBeTruthy();
    expect(config.store?.resourcesTable).toBeTruthy();
    expect(config.blobs?.bucket).toBeTruthy();
    expect(config.blobs?.contextKey?.length).toBe(32);
    expect(config.port).toBe(9223);
  });
});

/** The stack's props: every problem of invalid or conflicting ones is reported at once, before synthesis. */

describe('props', () => {
  it('lists every problem of conflicting or invalid props in one message', () => {
    const problems = validateWallcrawlerProps(
      {
        mode: 'dev',
        publicTasks: false,
        browserCpu: 1024,
        browserMemoryMiB: 1000,
        readyTimeoutSeconds: 59,
        allowedConnectCidrs: ['10.0.0.0/33', 'nonsense'],
        natGateways: 2,
        waf: 'create',
        warmPool: { min: 5, max: 2, targetIdle: 3 },
      },
      'eu-central-1',
    );
    expect(problems).toHaveLength(9);
    expect(() => synth({ mode: 'dev', browserCpu: 300, readyTimeoutSeconds: 0 })).toThrow(
      /browserCpu must be one of[\s\S]*readyTimeoutSeconds must be/,
    );
  });

  it('accepts the defaults, and an existing web ACL in any region', () => {
    expect(validateWallcrawlerProps({}, 'eu-central-1')).toEqual([]);
    expect(
      validateWallcrawlerProps(
        { mode: 'prod', waf: { webAclArn: 'arn:aws:wafv2:us-east-1:111122223333:global/webacl/wc/abc' } },
        'eu-central-1',
      ),
    ).toEqual([]);
  });
});
