import {
  contextArchiveKey,
  downloadFileKey,
  extensionZipKey,
  SESSION_ARTIFACT_PREFIXES,
  sessionLogKey,
  sessionRecordingKey,
  TABLES,
} from '@wallcrawler/contracts';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { Peer, Port, SecurityGroup, Vpc } from 'aws-cdk-lib/aws-ec2';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { actions, refs, resourcesOf, type Synthesized, statementsOf, synth, useModes } from './support/synth.js';

/**
 * The stack's network, security and storage, synthesized once per mode for the file: cdk-nag, the subnets,
 * security groups and IAM roles; the tables, the blob bucket and its expiry, the log groups.
 */

const modes = useModes();

/** The stack's network and security: cdk-nag's AwsSolutions pack, the subnets, the security groups, the IAM roles. */

describe('cdk-nag (AwsSolutions)', () => {
  it.each([
    ['dev', () => modes.dev],
    ['prod', () => modes.prod],
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

/** `connect: 'direct'`, today's layout: synthesized once, on first use, for the tests that compare it. */
let directStack: Synthesized | undefined;
const direct = () => {
  directStack ??= synth({ mode: 'dev', connect: 'direct' });
  return directStack;
};

/** Every ingress rule of the template: inline in security groups, and rules of their own. */
function ingressRules(s: Synthesized): { group: string; rule: Record<string, unknown> }[] {
  const inline = Object.entries(resourcesOf(s.template, 'AWS::EC2::SecurityGroup')).flatMap(([id, g]) =>
    ((g.Properties?.SecurityGroupIngress ?? []) as Record<string, unknown>[]).map((rule) => ({ group: id, rule })),
  );
  const separate = Object.values(resourcesOf(s.template, 'AWS::EC2::SecurityGroupIngress')).map((r) => ({
    group: refs(r.Properties?.GroupId),
    rule: r.Properties ?? {},
  }));
  return [...inline, ...separate];
}

describe('network', () => {
  it('edge mode has private subnets with one NAT gateway and the free S3 and DynamoDB endpoints; direct dev has neither', () => {
    for (const { template } of [modes.dev, modes.prod]) {
      template.resourceCountIs('AWS::EC2::NatGateway', 1);
      expect(Object.keys(resourcesOf(template, 'AWS::EC2::Subnet'))).toHaveLength(4);
      const endpoints = Object.values(resourcesOf(template, 'AWS::EC2::VPCEndpoint'));
      expect(endpoints.map((e) => e.Properties?.VpcEndpointType)).toEqual(['Gateway', 'Gateway']);
      expect(refs(endpoints)).toMatch(/\.s3/);
      expect(refs(endpoints)).toMatch(/\.dynamodb/);
    }
    modes.prod.template.resourceCountIs('AWS::EC2::FlowLog', 1);
    direct().template.resourceCountIs('AWS::EC2::NatGateway', 0);
    direct().template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    expect(Object.keys(resourcesOf(direct().template, 'AWS::EC2::Subnet'))).toHaveLength(2);
  });

  it.each([
    ['dev', () => modes.dev],
    ['prod', () => modes.prod],
  ])('edge mode (%s) admits nothing from 0.0.0.0/0: CloudFront is the only way in', (_, get) => {
    const s = get();
    const rules = ingressRules(s);
    expect(rules.length).toBeGreaterThan(0);
    for (const { group, rule } of rules) {
      expect(rule.CidrIp, group).toBeUndefined();
      expect(rule.CidrIpv6, group).toBeUndefined();
      expect(rule.SourcePrefixListId, group).toBeUndefined();
      expect(rule.SourceSecurityGroupId, group).toBeDefined();
    }
    const groups = resourcesOf(s.template, 'AWS::EC2::SecurityGroup');
    const idOf = (text: string) =>
      Object.keys(groups).find((id) => String(groups[id]?.Properties?.GroupDescription).includes(text));
    const [controller, gateway, balancer, api] = [
      '9223 only',
      'from its load balancer only',
      'internal load balancer',
      'outbound only',
    ].map(idOf);
    const into = (id: string | undefined) => rules.filter((r) => r.group.includes(String(id)));
    const from = (r: { rule: Record<string, unknown> }) => refs(r.rule.SourceSecurityGroupId);
    // The browser tasks: 9223 from the gateway and the API function, nothing else.
    expect(into(controller).map((r) => [r.rule.FromPort, r.rule.ToPort])).toEqual([
      [9223, 9223],
      [9223, 9223],
    ]);
    expect(into(controller).map(from).sort()).toEqual(
      [expect.stringContaining(String(api)), expect.stringContaining(String(gateway))].sort(),
    );
    // The gateway: its port from its load balancer only.
    expect(into(gateway).map((r) => [r.rule.FromPort, from(r)])).toEqual([
      [8080, expect.stringContaining(String(balancer))],
    ]);
    // The load balancer: port 80 from CloudFront's VPC-origin security group, looked up once deployed.
    expect(into(balancer).map((r) => [r.rule.FromPort, from(r)])).toEqual([
      [80, expect.stringContaining('VpcOriginSecurityGroup')],
    ]);
    expect(into(api)).toEqual([]);
  });

  it('direct mode still opens 9223 to its clients, and only 9223', () => {
    const groups = Object.values(resourcesOf(direct().template, 'AWS::EC2::SecurityGroup'));
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
    expect(ingressRules(direct())).toHaveLength(1);
    direct().template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 0);
    direct().template.resourceCountIs('AWS::CloudFront::VpcOrigin', 0);
    // Public tasks, as before: the pool's tasks get public IPs, and the API hands out their addresses.
    direct().template.hasResourceProperties('AWS::ECS::Service', {
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'ENABLED' }) },
    });
    const api = Object.values(resourcesOf(direct().template, 'AWS::Lambda::Function')).find((f) =>
      String(f.Properties?.Description).includes('API'),
    );
    const env = (api?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    expect(env.WALLCRAWLER_TASK_PUBLIC_IP).toBe('true');
    expect(env.WALLCRAWLER_CONNECT_BASE_URL).toBeUndefined();
    expect(refs(env.WALLCRAWLER_ORIGIN_SECRET_ARN)).toContain('OriginSecret');
    const narrowed = synth({ mode: 'dev', connect: 'direct', allowedConnectCidrs: ['203.0.113.0/24'] });
    narrowed.template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: [Match.objectLike({ CidrIp: '203.0.113.0/24', FromPort: 9223, ToPort: 9223 })],
    });
  });
});

describe('least privilege, role by role', () => {
  it('a controller task may move sessions, the counter and its own pool item (and in direct mode describe itself), nothing else', () => {
    const statements = statementsOf(direct(), 'BrowsersControllerTaskTaskRole');
    expect(actions(statements)).toEqual([
      'dynamodb:ConditionCheckItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:GetItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:UpdateItem',
      'dynamodb:UpdateItem',
      'dynamodb:UpdateItem',
      'ec2:DescribeNetworkInterfaces',
      'ecs:DescribeTasks',
      's3:AbortMultipartUpload',
      's3:AbortMultipartUpload',
      's3:GetObject',
      's3:GetObject',
      's3:ListBucket',
      's3:PutObject',
      's3:PutObject',
    ]);
    // Contexts: their items' few attributes, and their locks only; objects under contexts/ and extensions/ only,
    // written under contexts/ only.
    const resources = statements.filter((s) => refs(s.Resource).includes('DataResources'));
    expect(resources.map((s) => refs(s.Condition))).toEqual([
      expect.stringContaining('dynamodb:Attributes'),
      expect.stringContaining('context-lock#*'),
    ]);
    const written = statements.find((s) => refs(s.Action).includes('s3:PutObject'));
    expect(refs(written?.Resource)).toContain('/contexts/*');
    expect(refs(written?.Resource)).not.toContain('/extensions/');
    const read = statements.find((s) => refs(s.Action).includes('s3:GetObject'));
    expect(refs(read?.Resource)).toContain('/extensions/*');
    expect(refs(read?.Resource)).not.toContain('downloads/');
    // Session artifacts: written (and read back) under their prefixes only, in a statement of their own.
    const artifacts = statements.filter((s) => refs(s.Resource).includes('/downloads/'));
    expect(artifacts).toHaveLength(1);
    expect(
      ((artifacts[0]?.Resource ?? []) as unknown[]).map(
        (r) => JSON.stringify(r).match(/\/(downloads|logs|recordings)\/\*/)?.[1],
      ),
    ).toEqual(['downloads', 'logs', 'recordings']);
    const pool = statements.find((s) => refs(s.Action).includes('dynamodb:PutItem'));
    expect(refs(pool?.Resource)).toContain('DataTasks');
    expect(refs(statements)).not.toContain('index');
    // The one `*`: EC2's DescribeNetworkInterfaces has no resource-level permissions.
    expect(statements.filter((s) => s.Resource === '*').map((s) => s.Action)).toEqual([
      'ec2:DescribeNetworkInterfaces',
    ]);
    const describe = statements.find((s) => s.Action === 'ecs:DescribeTasks');
    expect(refs(describe?.Condition)).toContain('ecs:cluster');
    // Edge mode's private tasks have no public address to look up, and no such rights.
    for (const edge of [modes.dev, modes.prod]) {
      const privateActions = actions(statementsOf(edge, 'BrowsersControllerTaskTaskRole'));
      expect(privateActions).not.toContain('ec2:DescribeNetworkInterfaces');
      expect(privateActions).not.toContain('ecs:DescribeTasks');
      expect(privateActions).toHaveLength(17);
    }
  });

  it("the connect gateway may read a session's item and its own secret, nothing else", () => {
    for (const edge of [modes.dev, modes.prod]) {
      const task = statementsOf(edge, 'GatewayTaskTaskRole');
      expect(task).toEqual([
        {
          Effect: 'Allow',
          Action: 'dynamodb:GetItem',
          Resource: { 'Fn::GetAtt': [expect.stringMatching(/^DataSessions/), 'Arn'] },
        },
      ]);
      // Its execution role (ECS pulls the image, writes its logs, and hands it the secret): the connect secret
      // alone, never the contexts' key or the origin secret.
      const execution = statementsOf(edge, 'GatewayTaskExecutionRole');
      const secrets = execution.filter((s) => refs(s.Action).includes('secretsmanager:'));
      expect(secrets).toHaveLength(1);
      expect(refs(secrets[0]?.Resource)).toMatch(/^\{"Ref":"ConnectSecret/);
      expect(actions(secrets)).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
      expect(refs(execution)).not.toMatch(/ContextKey|OriginSecret|dynamodb|s3:/);
      // Nothing else has its roles.
      expect(statementsOf(edge, 'Gateway').length).toBe(task.length + execution.length);
    }
  });

  it('the task-state function may end sessions and retire pool items, nothing else', () => {
    const statements = statementsOf(modes.prod, 'BrowsersTaskStateFunctionServiceRole');
    expect(actions(statements)).toEqual([
      'dynamodb:ConditionCheckItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
      'dynamodb:UpdateItem',
      'dynamodb:UpdateItem',
    ]);
    // A task that died holding a context's lock: its ending releases the lock, and nothing else of the table.
    const locks = statements.find((s) => refs(s.Action).includes('dynamodb:DeleteItem'));
    expect(refs(locks?.Condition)).toContain('context-lock#*');
    expect(refs(statements)).not.toContain('"*"');
  });

  it('the API may use its tables, bucket and secret, run and stop tasks of its own cluster, and resize its pool only', () => {
    const statements = statementsOf(modes.prod, 'ApiFunctionServiceRole');
    expect(new Set(actions(statements))).toEqual(
      new Set([
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:ConditionCheckItem',
        'dynamodb:Query',
        'dynamodb:Scan',
        'dynamodb:DeleteItem',
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
        'ecs:DescribeServices',
        'ecs:UpdateService',
        'iam:PassRole',
        'secretsmanager:GetSecretValue',
        'secretsmanager:DescribeSecret',
      ]),
    );
    expect(statements.some((s) => s.Resource === '*')).toBe(false);
    const run = statements.find((s) => s.Action === 'ecs:RunTask');
    expect(refs(run?.Resource)).toContain('BrowsersControllerTask');
    expect(refs(run?.Condition)).toContain('ecs:cluster');
    // A claim asks the warm pool's service for its replacement: that service only.
    const resize = statements.find((s) => refs(s.Action).includes('ecs:UpdateService'));
    expect(refs(resize?.Resource)).toContain('BrowsersWarmPool');
    expect(refs(resize?.Resource)).not.toContain('*');
    const pass = statements.find((s) => s.Action === 'iam:PassRole');
    expect(pass?.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } });
    // Deletes only in the resources table (contexts, extensions, contexts' locks), never a session or a key.
    const deletes = statements.filter((s) => refs(s.Action).includes('dynamodb:DeleteItem'));
    expect(deletes.map((s) => refs(s.Resource))).toEqual([expect.stringContaining('DataResources')]);
    expect(refs(deletes[0]?.Resource)).not.toMatch(/DataSessions|DataProjects|DataApiKeys/);
    // Contexts' key and the origin secret, read by ARN, besides the connect secret.
    const secrets = statements.filter((s) => refs(s.Action).includes('secretsmanager:GetSecretValue'));
    expect(refs(secrets)).toContain('ContextKey');
    expect(refs(secrets)).toContain('ConnectSecret');
    expect(refs(secrets)).toContain('OriginSecret');
  });
});

/** The stack's storage and its lifecycle: the DynamoDB tables, the blob bucket and its expiry, the log groups. */

describe('data', () => {
  it('creates the tables from the store’s own description, with GSIs, TTL and PITR (no stream: none is read)', () => {
    const tables = Object.values(resourcesOf(modes.prod.template, 'AWS::DynamoDB::GlobalTable'));
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
    expect(new Set(policy(modes.prod))).toEqual(new Set(['Retain']));
    expect(new Set(policy(modes.dev))).toEqual(new Set(['Delete']));
  });
});

describe('blobs', () => {
  it('encrypts the bucket, blocks public access, requires TLS, logs access and expires artifacts', () => {
    modes.prod.template.hasResourceProperties('AWS::S3::Bucket', {
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
    const [bucket] = Object.values(resourcesOf(modes.prod.template, 'AWS::S3::Bucket')).filter(
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
    for (const policy of Object.values(resourcesOf(modes.prod.template, 'AWS::S3::BucketPolicy'))) {
      expect(refs(policy.Properties?.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
    }
    // A replay page follows its events' redirect to a presigned GET: CORS lets it, for GET only.
    expect(bucket.Properties.CorsConfiguration).toEqual({
      CorsRules: [{ AllowedMethods: ['GET'], AllowedOrigins: ['*'], MaxAge: 300 }],
    });
  });
});

describe('logs', () => {
  it('keeps every log group for the configured retention', () => {
    for (const group of Object.values(resourcesOf(modes.prod.template, 'AWS::Logs::LogGroup'))) {
      expect(group.Properties?.RetentionInDays).toBe(30);
    }
  });
});
