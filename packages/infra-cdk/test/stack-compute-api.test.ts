import {
  CONNECT_EDGE_PATH_PATTERNS,
  CONTROLLER_ENV,
  EDGE_BROWSER_SOCKET_PATH,
  EDGE_ENV,
  ORIGIN_SECRET_HEADER,
} from '@wallcrawler/contracts';
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
        // Edge mode: no public IP, in the private subnets.
        AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED', SecurityGroups: [Match.anyValue()] }),
      },
      ServiceName: Match.absent(),
      LoadBalancers: Match.absent(),
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
    // Ours, and CDK's custom-resource function that looks up CloudFront's VPC-origin security group.
    const fns = Object.values(resourcesOf(modes.prod.template, 'AWS::Lambda::Function'));
    expect(fns.map((f) => f.Properties?.Runtime)).toEqual(['nodejs24.x', 'nodejs24.x', 'nodejs24.x', 'nodejs24.x']);
    const api = fns.find((f) => String(f.Properties?.Description).includes('API'));
    // As long as API Gateway may stream an answer.
    expect(api?.Properties).toMatchObject({ Handler: 'index.handler', Timeout: 900 });
    expect(api?.Properties?.VpcConfig).toBeDefined();
    // Edge mode's API reaches private tasks over the VPC, in dev too (see the connect gateway's tests); direct
    // dev keeps it outside.
    const directDev = synth({ mode: 'dev', connect: 'direct' });
    const devApi = Object.values(resourcesOf(directDev.template, 'AWS::Lambda::Function')).find((f) =>
      String(f.Properties?.Description).includes('API'),
    );
    expect(devApi?.Properties?.VpcConfig).toBeUndefined();
    expect(
      Object.values(resourcesOf(directDev.template, 'AWS::Lambda::Function')).map((f) => f.Properties?.Runtime),
    ).toEqual(['nodejs24.x', 'nodejs24.x', 'nodejs24.x']);
    const [directDistribution] = Object.values(resourcesOf(directDev.template, 'AWS::CloudFront::Distribution'));
    expect(refs(directDistribution)).not.toContain('VpcOrigin');
    expect(refs(directDistribution)).toContain(ORIGIN_SECRET_HEADER);
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

  it('puts CloudFront in front, waiting up to 60 s for the stage, which it reaches with the origin secret, with WAF in prod only', () => {
    modes.prod.template.resourceCountIs('AWS::WAFv2::WebACL', 1);
    modes.prod.template.hasResourceProperties('AWS::WAFv2::WebACL', { Scope: 'CLOUDFRONT' });
    modes.prod.template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        WebACLId: Match.anyValue(),
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https' }),
      }),
    });
    modes.dev.template.resourceCountIs('AWS::WAFv2::WebACL', 0);
    for (const s of [modes.dev, modes.prod]) {
      const config = distributionConfig(s);
      const api = config.Origins.find((o) => o.Id === config.DefaultCacheBehavior.TargetOriginId);
      // Its origin is the stage: the path `/v1/sessions` reaches the function as it was sent.
      expect(api).toMatchObject({
        OriginPath: '/prod',
        CustomOriginConfig: expect.objectContaining({ OriginProtocolPolicy: 'https-only', OriginReadTimeout: 60 }),
        OriginCustomHeaders: [{ HeaderName: ORIGIN_SECRET_HEADER, HeaderValue: expect.anything() }],
      });
      expect(refs(api?.DomainName)).toContain('ApiRestApi');
      // The header's value is resolved at deploy time from the secret: it is not in the template.
      expect(refs(api?.OriginCustomHeaders)).toMatch(/\{\{resolve:secretsmanager:.*OriginSecret/);
      // No standard logs: they would keep every query string, and so every connect token.
      expect(config.Logging).toBeUndefined();
    }
  });

  it('sends the connect paths from the contracts to the gateway as a VPC origin, over https only, with the query string', () => {
    for (const s of [modes.dev, modes.prod]) {
      const config = distributionConfig(s);
      expect(config.CacheBehaviors.map((b) => b.PathPattern)).toEqual([...CONNECT_EDGE_PATH_PATTERNS]);
      const origin = config.Origins.find((o) => o.Id === config.CacheBehaviors[0]?.TargetOriginId);
      expect(origin?.VpcOriginConfig).toMatchObject({ OriginReadTimeout: 60 });
      expect(refs(origin?.DomainName)).toContain('GatewayLoadBalancer');
      for (const behavior of config.CacheBehaviors) {
        expect(behavior).toMatchObject({
          TargetOriginId: origin?.Id,
          ViewerProtocolPolicy: 'https-only',
          // CachingDisabled, and AllViewer: every header (the WebSocket handshake's) and the query string.
          CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
          OriginRequestPolicyId: '216adef6-5c7f-47e4-b989-5492eafa07d3',
        });
      }
      // The CDP path the API hands out goes to the gateway, and no API path does.
      const matches = (path: string) =>
        CONNECT_EDGE_PATH_PATTERNS.some((p) => new RegExp(`^${p.replace(/\*/g, '.*')}$`).test(path));
      for (const path of [EDGE_BROWSER_SOCKET_PATH, '/devtools/page/ABC', '/json/version', '/debug/s1/live']) {
        expect(matches(path), path).toBe(true);
      }
      for (const path of ['/v1/sessions', '/replay/s1', '/health', '/dashboard', '/openapi.json']) {
        expect(matches(path), path).toBe(false);
      }
      s.template.hasResourceProperties('AWS::CloudFront::VpcOrigin', {
        VpcOriginEndpointConfig: Match.objectLike({ HTTPPort: 80, OriginProtocolPolicy: 'http-only' }),
      });
    }
  });
});

const distributionConfig = (s: Synthesized) => {
  const [distribution] = Object.values(resourcesOf(s.template, 'AWS::CloudFront::Distribution'));
  type Origin = Record<string, unknown> & { Id: string };
  type Behavior = Record<string, unknown> & { TargetOriginId: string; PathPattern?: string };
  return distribution?.Properties?.DistributionConfig as {
    Origins: Origin[];
    DefaultCacheBehavior: Behavior;
    CacheBehaviors: Behavior[];
    Logging?: unknown;
  };
};

/** The connect gateway: the controller's image run as the edge, behind an internal load balancer. */

describe('the connect gateway', () => {
  const gatewayContainer = (s: Synthesized) =>
    Object.values(resourcesOf(s.template, 'AWS::ECS::TaskDefinition'))
      .flatMap((d) => (d.Properties?.ContainerDefinitions ?? []) as Record<string, unknown>[])
      .find((c) => c.Name === 'edge') as Record<string, unknown> & {
      Environment: { Name: string; Value: unknown }[];
      Secrets: { Name: string }[];
    };

  it('runs the same image as the browsers, as `node dist/edge/main.js`, with its secret through ECS secrets', () => {
    const container = gatewayContainer(modes.prod);
    const [browser] = Object.values(resourcesOf(modes.prod.template, 'AWS::ECS::TaskDefinition'))
      .flatMap((d) => (d.Properties?.ContainerDefinitions ?? []) as Record<string, unknown>[])
      .filter((c) => c.Name === 'controller');
    expect(container.Image).toEqual(browser?.Image);
    expect(container).toMatchObject({
      Command: ['node', 'dist/edge/main.js'],
      PortMappings: [{ ContainerPort: 8080 }],
    });
    expect(container.Secrets.map((x) => x.Name)).toEqual([EDGE_ENV.connectSecret]);
    const env = Object.fromEntries(container.Environment.map((e) => [e.Name, e.Value]));
    expect(Object.keys(env).sort()).toEqual(
      [
        EDGE_ENV.host,
        EDGE_ENV.port,
        EDGE_ENV.pingMs,
        EDGE_ENV.sessionsTable,
        EDGE_ENV.logLevel,
        EDGE_ENV.publicUrl,
      ].sort(),
    );
    expect(env).toMatchObject({ [EDGE_ENV.host]: '0.0.0.0', [EDGE_ENV.port]: '8080', [EDGE_ENV.pingMs]: '60000' });
    expect(refs(env[EDGE_ENV.publicUrl])).toMatch(/https:\/\/.*EdgeDistribution/);
    // One image asset for both programs.
    const images = new Set(
      Object.values(resourcesOf(modes.prod.template, 'AWS::ECS::TaskDefinition')).flatMap((d) =>
        ((d.Properties?.ContainerDefinitions ?? []) as Record<string, unknown>[]).map((c) => refs(c.Image)),
      ),
    );
    expect(images.size).toBe(1);
  });

  it('is a service of at least 2 tasks in prod, without public IPs, behind an internal load balancer without access logs', () => {
    const services = Object.values(resourcesOf(modes.prod.template, 'AWS::ECS::Service')).filter(
      (x) => x.Properties?.LoadBalancers,
    );
    expect(services).toHaveLength(1);
    expect(services[0]?.Properties).toMatchObject({
      DesiredCount: 2,
      NetworkConfiguration: { AwsvpcConfiguration: expect.objectContaining({ AssignPublicIp: 'DISABLED' }) },
      LoadBalancers: [expect.objectContaining({ ContainerName: 'edge', ContainerPort: 8080 })],
    });
    modes.dev.template.hasResourceProperties('AWS::ECS::Service', { DesiredCount: 1, LoadBalancers: Match.anyValue() });
    for (const s of [modes.dev, modes.prod]) {
      const [balancer] = Object.values(resourcesOf(s.template, 'AWS::ElasticLoadBalancingV2::LoadBalancer'));
      expect(balancer?.Properties).toMatchObject({ Scheme: 'internal', Type: 'application' });
      const attributes = Object.fromEntries(
        ((balancer?.Properties?.LoadBalancerAttributes ?? []) as { Key: string; Value: string }[]).map((a) => [
          a.Key,
          a.Value,
        ]),
      );
      expect(attributes['access_logs.s3.enabled']).not.toBe('true');
      expect(attributes['idle_timeout.timeout_seconds']).toBe('600');
      s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
        Port: 8080,
        HealthCheckPath: '/health',
      });
      s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 80, Protocol: 'HTTP' });
    }
  });

  it('scales on the load balancer’s active connections, a task per 1000 sockets', () => {
    const policies = Object.values(resourcesOf(modes.prod.template, 'AWS::ApplicationAutoScaling::ScalingPolicy'));
    const step = policies.filter((p) => p.Properties?.PolicyType === 'StepScaling');
    expect(step.length).toBe(2);
    for (const policy of step) {
      expect(policy.Properties?.StepScalingPolicyConfiguration).toMatchObject({ AdjustmentType: 'ExactCapacity' });
    }
    const upper = step
      .map((p) => p.Properties?.StepScalingPolicyConfiguration as { StepAdjustments: { ScalingAdjustment: number }[] })
      .flatMap((c) => c.StepAdjustments.map((a) => a.ScalingAdjustment));
    expect(new Set(upper)).toEqual(new Set([2, 3, 4, 5, 6, 7, 8, 9, 10]));
    // Two alarms split the bands between them; every band sets its exact capacity: 2 tasks up to 4000
    // connections (2 per socket), then one more per 2000.
    const alarms = Object.values(resourcesOf(modes.prod.template, 'AWS::CloudWatch::Alarm'));
    expect(alarms.map((a) => [a.Properties?.Namespace, a.Properties?.MetricName, a.Properties?.Statistic])).toEqual([
      ['AWS/ApplicationELB', 'ActiveConnectionCount', 'Sum'],
      ['AWS/ApplicationELB', 'ActiveConnectionCount', 'Sum'],
    ]);
    const threshold = Number(alarms[0]?.Properties?.Threshold);
    type Adjustment = { MetricIntervalLowerBound?: number; ScalingAdjustment: number };
    const bands = step.flatMap((p) =>
      (
        (p.Properties?.StepScalingPolicyConfiguration as { StepAdjustments?: Adjustment[] } | undefined)
          ?.StepAdjustments ?? []
      ).map((a) => [threshold + (a.MetricIntervalLowerBound ?? -threshold), a.ScalingAdjustment]),
    );
    expect(bands.sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual([
      [0, 2],
      [4000, 3],
      [6000, 4],
      [8000, 5],
      [10000, 6],
      [12000, 7],
      [14000, 8],
      [16000, 9],
      [18000, 10],
    ]);
    expect(policies.filter((p) => p.Properties?.PolicyType === 'TargetTrackingScaling')).toHaveLength(0);
    modes.prod.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 2,
      MaxCapacity: 10,
    });
  });

  it('hands the API the distribution as the connect base, and runs every task privately, without a public IP', () => {
    for (const s of [modes.dev, modes.prod]) {
      const api = Object.values(resourcesOf(s.template, 'AWS::Lambda::Function')).find((f) =>
        String(f.Properties?.Description).includes('API'),
      );
      const env = (api?.Properties?.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {};
      expect(refs(env[AWS_API_ENV.connectBaseUrl])).toMatch(
        /^\{"Fn::Join":\["",\["https:\/\/",\{"Fn::GetAtt":\["EdgeDistribution/,
      );
      expect(env[AWS_API_ENV.assignPublicIp]).toBe('false');
      // RunTask puts browser tasks in the private subnets only.
      expect(refs(env[AWS_API_ENV.subnets])).toMatch(/privateSubnet1.*privateSubnet2/);
      expect(refs(env[AWS_API_ENV.subnets])).not.toContain('publicSubnet');
      expect(api?.Properties?.VpcConfig).toBeDefined();
      // And no ECS service of the stack gives its tasks a public IP.
      for (const service of Object.values(resourcesOf(s.template, 'AWS::ECS::Service'))) {
        expect(refs(service.Properties?.NetworkConfiguration)).toContain('"AssignPublicIp":"DISABLED"');
        expect(refs(service.Properties?.NetworkConfiguration)).not.toContain('publicSubnet');
      }
    }
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
    expect(config.ecs.assignPublicIp).toBe(false);
    expect('arn' in config.connectSecret).toBe(true);
    expect(config.originSecret).toEqual({ arn: expect.stringContaining('OriginSecret') });
  });

  it('gives the API function the model, its key by secret ARN only, which it may read', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:wallcrawler-model-key-AbCdEf';
    const withModel = synth({
      mode: 'dev',
      model: { baseUrl: 'http://10.0.0.5:8000/v1', name: 'qwen', api: 'chat', apiKeySecretArn: arn },
    });
    const env = envOf(withModel, 'API');
    expect(env).toMatchObject({
      [AWS_API_ENV.modelBaseUrl]: 'http://10.0.0.5:8000/v1',
      [AWS_API_ENV.modelName]: 'qwen',
      [AWS_API_ENV.modelApi]: 'chat',
      [AWS_API_ENV.modelApiKeySecretArn]: arn,
    });
    expect(env).not.toHaveProperty(AWS_API_ENV.modelApiKey);
    expect(loadAwsApiConfig({ ...env, AWS_REGION: 'us-east-1' }).model).toEqual({
      baseUrl: 'http://10.0.0.5:8000/v1',
      model: 'qwen',
      api: 'chat',
      apiKey: { arn },
    });
    const policies = JSON.stringify(resourcesOf(withModel.template, 'AWS::IAM::Policy'));
    expect(policies).toContain(arn);
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
    const config = controllerConfigOf(modes.prod);
    expect(config.store?.sessionsTable).toBeTruthy();
    expect(config.store?.resourcesTable).toBeTruthy();
    expect(config.blobs?.bucket).toBeTruthy();
    expect(config.blobs?.contextKey?.length).toBe(32);
    expect(config.port).toBe(9223);
    // The local server's defaults.
    expect(config.blobs?.contextMaxBytes).toBe(256 * MiB);
    expect(config.blobs?.fileLimits).toEqual({
      downloadsMaxBytes: 512 * MiB,
      logMaxBytes: 16 * MiB,
      recordingMaxBytes: 64 * MiB,
    });
  });

  it('gives the tasks the session limits asked for', () => {
    const config = controllerConfigOf(
      synth({ mode: 'dev', sessionLimits: { contextMb: 1024, downloadsMb: 2048, logMb: 32, recordingMb: 128 } }),
    );
    expect(config.blobs?.contextMaxBytes).toBe(1024 * MiB);
    expect(config.blobs?.fileLimits).toEqual({
      downloadsMaxBytes: 2048 * MiB,
      logMaxBytes: 32 * MiB,
      recordingMaxBytes: 128 * MiB,
    });
  });
});

const MiB = 1024 * 1024;

/** The configuration the controller's own loader makes of its container's environment in the template. */
function controllerConfigOf(synthesized: Synthesized): ReturnType<typeof loadControllerConfig> {
  const [definition] = Object.values(resourcesOf(synthesized.template, 'AWS::ECS::TaskDefinition'));
  const container = (definition?.Properties?.ContainerDefinitions as Record<string, unknown>[] | undefined)?.[0] as {
    Environment: { Name: string; Value: unknown }[];
    Secrets: { Name: string }[];
  };
  const names = new Set<string>(Object.values(CONTROLLER_ENV));
  const env: Record<string, string> = {};
  for (const { Name, Value } of container.Environment) {
    expect(names.has(Name), Name).toBe(true);
    env[Name] = resolveForRuntime(Value, synthesized.template);
  }
  expect(container.Environment.map((e) => e.Name)).not.toContain(CONTROLLER_ENV.contextKey);
  // What the secrets hold, as the stack generates them: the connect secret's alphanumerics, 64 hex digits.
  const secretValues: Record<string, string> = { [CONTROLLER_ENV.contextKey]: 'ab'.repeat(32) };
  for (const { Name } of container.Secrets) {
    expect(names.has(Name), Name).toBe(true);
    env[Name] = secretValues[Name] ?? Buffer.alloc(48, 1).toString('base64url');
  }
  return loadControllerConfig({
    ...env,
    // What ECS and the RunTask overrides add.
    AWS_REGION: 'us-east-1',
    ECS_CONTAINER_METADATA_URI_V4: 'http://169.254.170.2/v4/abc',
    [CONTROLLER_ENV.sessionId]: 's-1',
    [CONTROLLER_ENV.projectId]: 'p-1',
    [CONTROLLER_ENV.expiresAt]: new Date().toISOString(),
  });
}

/** The stack's props: every problem of invalid or conflicting ones is reported at once, before synthesis. */

describe('props', () => {
  it('lists every problem of conflicting or invalid props in one message', () => {
    const problems = validateWallcrawlerProps(
      {
        mode: 'dev',
        connect: 'direct',
        publicTasks: false,
        browserCpu: 1024,
        browserMemoryMiB: 1000,
        readyTimeoutSeconds: 59,
        allowedConnectCidrs: ['10.0.0.0/33', 'nonsense'],
        natGateways: 2,
        waf: 'create',
        warmPool: { min: 5, max: 2, targetIdle: 3 },
        sessionLimits: { logMb: 2048, recordingMb: 0.5 },
      },
      'eu-central-1',
    );
    expect(problems).toHaveLength(11);
    expect(problems).toContain('sessionLimits.logMb must be a whole number of MiB from 1 to 1024, not 2048');
    // What edge mode (the default) refuses: a public task, CIDRs (tasks admit only the gateway and the API), a
    // gateway of one task in prod, a gateway in direct mode.
    expect(
      validateWallcrawlerProps(
        { mode: 'prod', publicTasks: true, allowedConnectCidrs: ['0.0.0.0/0'], gateway: { min: 1, max: 0 } },
        'us-east-1',
      ),
    ).toEqual([
      "publicTasks: true needs connect: 'direct' (edge mode's tasks have no public IP)",
      "allowedConnectCidrs needs connect: 'direct' (edge mode's tasks admit only the gateway and the API; clients reach them through CloudFront)",
      'gateway.max must be a whole number from 1 to 50, not 0',
      "gateway.min must be at least 2 in prod (one task per zone survives a zone's loss), not 1",
      'gateway.min (1) must not exceed gateway.max (0)',
    ]);
    expect(validateWallcrawlerProps({ connect: 'direct', gateway: { min: 1, max: 2 } }, 'us-east-1')).toEqual([
      "gateway needs connect: 'edge' (direct mode has no gateway)",
    ]);
    expect(validateWallcrawlerProps({ connect: 'tls' as never }, 'us-east-1')).toEqual([
      `connect must be 'edge' or 'direct', not "tls"`,
    ]);
    expect(() => synth({ mode: 'dev', browserCpu: 300, readyTimeoutSeconds: 0 })).toThrow(
      /browserCpu must be one of[\s\S]*readyTimeoutSeconds must be/,
    );
  });

  it('accepts the defaults, and an existing web ACL in any region', () => {
    expect(validateWallcrawlerProps({}, 'eu-central-1')).toEqual([]);
    // Edge mode has private subnets in dev too, so its NAT gateways may be counted; direct dev keeps the old rules.
    expect(
      validateWallcrawlerProps({ natGateways: 2, publicTasks: false, gateway: { min: 1, max: 3 } }, 'us-east-1'),
    ).toEqual([]);
    expect(validateWallcrawlerProps({ mode: 'prod', connect: 'direct', publicTasks: false }, 'us-east-1')).toEqual([]);
    expect(
      validateWallcrawlerProps(
        { mode: 'prod', waf: { webAclArn: 'arn:aws:wafv2:us-east-1:111122223333:global/webacl/wc/abc' } },
        'eu-central-1',
      ),
    ).toEqual([]);
  });
});
