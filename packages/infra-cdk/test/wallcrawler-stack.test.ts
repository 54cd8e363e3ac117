import {
  CONTROLLER_ENV,
  contextArchiveKey,
  downloadFileKey,
  extensionZipKey,
  SESSION_ARTIFACT_PREFIXES,
  sessionLogKey,
  sessionRecordingKey,
  TABLES,
} from '@wallcrawler/contracts';
import { loadControllerConfig } from '@wallcrawler/controller/task';
import { AWS_API_ENV, loadAwsApiConfig, loadAwsPoolConfig, loadAwsStoreConfig } from '@wallcrawler/server/aws';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { Peer, Port, SecurityGroup, Vpc } from 'aws-cdk-lib/aws-ec2';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { validateWallcrawlerProps } from '../src/index.js';
import { resolveForRuntime, resourcesOf, type Synthesized, synth } from './support/synth.js';

let dev: Synthesized;
let prod: Synthesized;
beforeAll(() => {
  dev = synth({ mode: 'dev' });
  prod = synth({ mode: 'prod' });
});

type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown; Effect: string };

/** Every statement of the policies attached to the role whose logical id starts with `rolePrefix`. */
function statementsOf(s: Synthesized, rolePrefix: string): Statement[] {
  const policies = resourcesOf(s.template, 'AWS::IAM::Policy');
  return Object.values(policies)
    .filter((p) => ((p.Properties?.Roles as { Ref: string }[]) ?? []).some((r) => r.Ref.startsWith(rolePrefix)))
    .flatMap((p) => (p.Properties?.PolicyDocument as { Statement: Statement[] } | undefined)?.Statement ?? []);
}

const actions = (statements: Statement[]) =>
  statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])).sort();
const refs = (value: unknown) => JSON.stringify(value);

describe('cdk-nag (AwsSolutions)', () => {
  it.each([
    ['dev', () => dev],
    ['prod', () => prod],
  ])('finds no unacknowledged error in %s mode, and every acknowledgment says why', (_, get) => {
    // Synthesis with the pack as a validation plugin already passed (it throws on errors); ask the pack directly
    // too, to see what it reports.
    const { stack } = get();
    const result = new AwsSolutionsChecks().validateScope(stack);
    expect(result.violations.filter((v) => v.severity === 'error')).toEqual([]);
    const reasons = stack.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .flatMap((m) => Object.entries(m.data as Record<string, string>));
    expect(reasons.length).toBeGreaterThan(10);
    for (const [id, reason] of reasons) expect(reason.length, id).toBeGreaterThan(30);
  });

  it('does catch what it should (a control: an open security group without a reason)', () => {
    const stack = new Stack(new App(), 'Control');
    new SecurityGroup(stack, 'Open', { vpc: new Vpc(stack, 'Vpc') }).addIngressRule(Peer.anyIpv4(), Port.tcp(22));
    const result = new AwsSolutionsChecks().validateScope(stack);
    expect(result.violations.map((v) => v.ruleName)).toContain('AwsSolutions-EC23');
  });
});

describe('data', () => {
  it('creates the tables from the store’s own description, with GSIs, TTL and PITR (no stream: none is read)', () => {
    const tables = Object.values(resourcesOf(prod.template, 'AWS::DynamoDB::GlobalTable'));
    expect(tables).toHaveLength(5);
    const byKey = (key: string) =>
      tables.find((t) => refs(t.Properties?.KeySchema).includes(`"AttributeName":"${key}"`))?.Properties;
    const sessions = byKey(TABLES.sessions.partitionKey.name);
    expect(sessions).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      GlobalSecondaryIndexes: [
        {
          IndexName: 'projectId-createdAt',
          KeySchema: [
            { AttributeName: 'projectId', KeyType: 'HASH' },
            { AttributeName: 'createdAt', KeyType: 'RANGE' },
          ],
        },
        {
          IndexName: 'status-expiresAt',
          KeySchema: [
            { AttributeName: 'status', KeyType: 'HASH' },
            { AttributeName: 'expiresAt', KeyType: 'RANGE' },
          ],
        },
      ],
    });
    expect(refs(sessions?.Replicas)).toContain('"PointInTimeRecoveryEnabled":true');
    expect(sessions?.StreamSpecification).toBeUndefined();
    expect(byKey('projectId')).toBeDefined();
    expect(byKey('keyHash')?.GlobalSecondaryIndexes).toMatchObject([{ IndexName: 'apiKeyId' }]);
    expect(byKey('taskArn')).toMatchObject({
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      GlobalSecondaryIndexes: [{ IndexName: 'status-idleSince' }],
    });
    expect(byKey(TABLES.resources.partitionKey.name)?.GlobalSecondaryIndexes).toBeUndefined();
  });

  it('keeps data on delete in prod and drops it in dev', () => {
    const policy = (s: Synthesized) =>
      Object.values(s.template.findResources('AWS::DynamoDB::GlobalTable')).map(
        (t) => (t as { DeletionPolicy: string }).DeletionPolicy,
      );
    expect(new Set(policy(prod))).toEqual(new Set(['Retain']));
    expect(new Set(policy(dev))).toEqual(new Set(['Delete']));
  });
});

describe('blobs', () => {
  it('encrypts the bucket, blocks public access, requires TLS, logs access and expires artifacts', () => {
    prod.template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'blobs/' }),
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } })]),
      },
    });
    // The expiring rules cover exactly the keys the server writes a session's artifacts under, and never the
    // user's contexts or extensions.
    const [bucket] = Object.values(resourcesOf(prod.template, 'AWS::S3::Bucket')).filter(
      (b) => (b.Properties?.LoggingConfiguration as { LogFilePrefix?: string } | undefined)?.LogFilePrefix === 'blobs/',
    );
    if (!bucket?.Properties) throw new Error('the template has no blob bucket');
    const rules = (
      bucket.Properties.LifecycleConfiguration as { Rules: { Prefix?: string; ExpirationInDays?: number }[] }
    ).Rules.filter((r) => r.ExpirationInDays !== undefined);
    expect(rules.map((r) => r.Prefix).sort()).toEqual([...SESSION_ARTIFACT_PREFIXES].sort());
    expect(new Set(rules.map((r) => r.ExpirationInDays))).toEqual(new Set([30]));
    const expires = (key: string) => rules.some((r) => key.startsWith(r.Prefix ?? ''));
    for (const key of [downloadFileKey('s1', 'report.pdf'), sessionLogKey('s1'), sessionRecordingKey('s1')]) {
      expect(expires(key), key).toBe(true);
    }
    for (const key of [contextArchiveKey('c1'), extensionZipKey('e1')]) expect(expires(key), key).toBe(false);
    for (const policy of Object.values(resourcesOf(prod.template, 'AWS::S3::BucketPolicy'))) {
      expect(refs(policy.Properties?.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
    }
  });
});

describe('browsers', () => {
  it('runs the controller image as a Fargate task with its env, its secret, a health check and logs', () => {
    prod.template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '1024',
      Memory: '2048',
      NetworkMode: 'awsvpc',
      RequiresCompatibilities: ['FARGATE'],
      ContainerDefinitions: [
        Match.objectLike({
          Name: 'controller',
          Essential: true,
          PortMappings: [Match.objectLike({ ContainerPort: 9223 })],
          StopTimeout: 30,
          HealthCheck: Match.objectLike({ Command: ['CMD', 'node', 'dist/task/health.js'] }),
          Secrets: [Match.objectLike({ Name: CONTROLLER_ENV.connectSecret })],
          LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
        }),
      ],
    });
    prod.template.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
  });

  it('opens port 9223 and nothing else', () => {
    const groups = Object.values(resourcesOf(prod.template, 'AWS::EC2::SecurityGroup'));
    const controller = groups.find((g) => String(g.Properties?.GroupDescription).includes('9223'));
    expect(controller?.Properties?.SecurityGroupIngress).toEqual([
      {
        CidrIp: '0.0.0.0/0',
        Description: 'CDP clients (token-checked)',
        FromPort: 9223,
        IpProtocol: 'tcp',
        ToPort: 9223,
      },
    ]);
    const api = groups.find((g) => String(g.Properties?.GroupDescription).includes('outbound only'));
    expect(api?.Properties?.SecurityGroupIngress).toBeUndefined();
    const narrowed = synth({ mode: 'dev', allowedConnectCidrs: ['203.0.113.0/24'] });
    narrowed.template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: [Match.objectLike({ CidrIp: '203.0.113.0/24', FromPort: 9223, ToPort: 9223 })],
    });
  });

  it('sends stopped tasks of this cluster to the task-state function', () => {
    prod.template.hasResourceProperties('AWS::Events::Rule', {
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
    prod.template.hasResourceProperties('AWS::ECS::Service', {
      DesiredCount: 1,
      LaunchType: 'FARGATE',
      DeploymentConfiguration: Match.objectLike({ MinimumHealthyPercent: 0, MaximumPercent: 200 }),
      NetworkConfiguration: {
        AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'ENABLED', SecurityGroups: [Match.anyValue()] }),
      },
    });
    dev.template.hasResourceProperties('AWS::ECS::Service', { DesiredCount: 0 });
    prod.template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)' });
    const sized = synth({ mode: 'prod', warmPool: { min: 2, max: 20, targetIdle: 3 } });
    sized.template.hasResourceProperties('AWS::ECS::Service', { DesiredCount: 2 });
  });

  it('the scaler may count the pool and resize its service, nothing else', () => {
    const statements = statementsOf(prod, 'BrowsersWarmPoolScalerServiceRole');
    expect(actions(statements)).toEqual(['dynamodb:Query', 'ecs:DescribeServices', 'ecs:UpdateService']);
    const ecsRights = statements.find((s) => refs(s.Action).includes('ecs:'));
    expect(refs(ecsRights?.Resource)).toContain('BrowsersWarmPool');
  });
});

describe('api and edge', () => {
  it('serves the API from a Node 24 Lambda behind an HTTP API with access logs, in the VPC in prod', () => {
    const fns = Object.values(resourcesOf(prod.template, 'AWS::Lambda::Function'));
    expect(fns.map((f) => f.Properties?.Runtime)).toEqual(['nodejs24.x', 'nodejs24.x', 'nodejs24.x']);
    const api = fns.find((f) => String(f.Properties?.Description).includes('API'));
    expect(api?.Properties).toMatchObject({ Handler: 'index.handler', Timeout: 29 });
    expect(api?.Properties?.VpcConfig).toBeDefined();
    const devApi = Object.values(resourcesOf(dev.template, 'AWS::Lambda::Function')).find((f) =>
      String(f.Properties?.Description).includes('API'),
    );
    expect(devApi?.Properties?.VpcConfig).toBeUndefined();
    prod.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
    });
  });

  it('puts CloudFront in front, with WAF in prod only', () => {
    prod.template.resourceCountIs('AWS::WAFv2::WebACL', 1);
    prod.template.hasResourceProperties('AWS::WAFv2::WebACL', { Scope: 'CLOUDFRONT' });
    prod.template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        WebACLId: Match.anyValue(),
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https' }),
      }),
    });
    dev.template.resourceCountIs('AWS::WAFv2::WebACL', 0);
  });

  it('dev mode has no NAT gateway; prod mode has private subnets and one', () => {
    dev.template.resourceCountIs('AWS::EC2::NatGateway', 0);
    prod.template.resourceCountIs('AWS::EC2::NatGateway', 1);
    expect(Object.keys(resourcesOf(dev.template, 'AWS::EC2::Subnet'))).toHaveLength(2);
    expect(Object.keys(resourcesOf(prod.template, 'AWS::EC2::Subnet'))).toHaveLength(4);
    prod.template.resourceCountIs('AWS::EC2::FlowLog', 1);
  });

  it('keeps every log group for the configured retention', () => {
    for (const group of Object.values(resourcesOf(prod.template, 'AWS::Logs::LogGroup'))) {
      expect(group.Properties?.RetentionInDays).toBe(30);
    }
  });
});

describe('least privilege, role by role', () => {
  it('a controller task may move sessions, the counter and its own pool item, and describe itself, nothing else', () => {
    const statements = statementsOf(prod, 'BrowsersControllerTaskTaskRole');
    expect(actions(statements)).toEqual([
      'dynamodb:ConditionCheckItem',
      'dynamodb:GetItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:UpdateItem',
      'dynamodb:UpdateItem',
      'ec2:DescribeNetworkInterfaces',
      'ecs:DescribeTasks',
    ]);
    const pool = statements.find((s) => refs(s.Action).includes('dynamodb:PutItem'));
    expect(refs(pool?.Resource)).toContain('DataTasks');
    expect(refs(statements)).not.toContain('index');
    // The one `*`: EC2's DescribeNetworkInterfaces has no resource-level permissions.
    expect(statements.filter((s) => s.Resource === '*').map((s) => s.Action)).toEqual([
      'ec2:DescribeNetworkInterfaces',
    ]);
    const describe = statements.find((s) => s.Action === 'ecs:DescribeTasks');
    expect(refs(describe?.Condition)).toContain('ecs:cluster');
    // Private tasks have no public address to look up, and no such rights.
    const privateTasks = synth({ mode: 'prod', publicTasks: false });
    expect(actions(statementsOf(privateTasks, 'BrowsersControllerTaskTaskRole'))).not.toContain(
      'ec2:DescribeNetworkInterfaces',
    );
  });

  it('the task-state function may end sessions and retire pool items, nothing else', () => {
    const statements = statementsOf(prod, 'BrowsersTaskStateFunctionServiceRole');
    expect(actions(statements)).toEqual([
      'dynamodb:ConditionCheckItem',
      'dynamodb:GetItem',
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
      'dynamodb:UpdateItem',
      'dynamodb:UpdateItem',
    ]);
    expect(refs(statements)).not.toContain('"*"');
  });

  it('the API may use its tables, bucket and secret, and run and stop tasks of its own cluster only', () => {
    const statements = statementsOf(prod, 'ApiFunctionServiceRole');
    expect(new Set(actions(statements))).toEqual(
      new Set([
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:ConditionCheckItem',
        'dynamodb:Query',
        'dynamodb:Scan',
        's3:GetObject*',
        's3:GetBucket*',
        's3:List*',
        's3:DeleteObject*',
        's3:PutObject',
        's3:PutObjectLegalHold',
        's3:PutObjectRetention',
        's3:PutObjectTagging',
        's3:PutObjectVersionTagging',
        's3:Abort*',
        'ecs:RunTask',
        'ecs:StopTask',
        'ecs:DescribeTasks',
        'iam:PassRole',
        'secretsmanager:GetSecretValue',
        'secretsmanager:DescribeSecret',
      ]),
    );
    expect(statements.some((s) => s.Resource === '*')).toBe(false);
    const run = statements.find((s) => s.Action === 'ecs:RunTask');
    expect(refs(run?.Resource)).toContain('BrowsersControllerTask');
    expect(refs(run?.Condition)).toContain('ecs:cluster');
    const pass = statements.find((s) => s.Action === 'iam:PassRole');
    expect(pass?.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } });
    expect(statements.some((s) => refs(s.Action).includes('dynamodb:DeleteItem'))).toBe(false);
  });
});

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
    ['dev', () => dev],
    ['prod', () => prod],
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
    const env = envOf(prod, 'warm pool');
    const config = loadAwsPoolConfig({ ...env, AWS_REGION: 'us-east-1' });
    expect(config.size).toEqual({ min: 1, max: 10, targetIdle: 1 });
  });

  it('the task-state function’s environment is one its loader accepts', () => {
    const env = envOf(prod, 'task stopped');
    expect(() => loadAwsStoreConfig({ ...env, AWS_REGION: 'us-east-1' })).not.toThrow();
  });

  it('the controller container’s environment, secret and RunTask overrides make a config it accepts', () => {
    const [definition] = Object.values(resourcesOf(prod.template, 'AWS::ECS::TaskDefinition'));
    const container = (definition?.Properties?.ContainerDefinitions as Record<string, unknown>[] | undefined)?.[0] as {
      Environment: { Name: string; Value: unknown }[];
      Secrets: { Name: string }[];
    };
    const names = new Set<string>(Object.values(CONTROLLER_ENV));
    const env: Record<string, string> = {};
    for (const { Name, Value } of container.Environment) {
      expect(names.has(Name), Name).toBe(true);
      env[Name] = resolveForRuntime(Value, prod.template);
    }
    for (const { Name } of container.Secrets) {
      expect(names.has(Name), Name).toBe(true);
      env[Name] = Buffer.alloc(48, 1).toString('base64url');
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
    expect(config.port).toBe(9223);
  });
});

describe('props', () => {
  it('lists every problem of conflicting or invalid props in one message', () => {
    const problems = validateWallcrawlerProps(
      {
        mode: 'dev',
        publicTasks: false,
        browserCpu: 1024,
        browserMemoryMiB: 1000,
        readyTimeoutSeconds: 40,
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
