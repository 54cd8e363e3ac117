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

describe('network', () => {
  it('dev mode has no NAT gateway; prod mode has private subnets and one', () => {
    modes.dev.template.resourceCountIs('AWS::EC2::NatGateway', 0);
    modes.prod.template.resourceCountIs('AWS::EC2::NatGateway', 1);
    expect(Object.keys(resourcesOf(modes.dev.template, 'AWS::EC2::Subnet'))).toHaveLength(2);
    expect(Object.keys(resourcesOf(modes.prod.template, 'AWS::EC2::Subnet'))).toHaveLength(4);
    modes.prod.template.resourceCountIs('AWS::EC2::FlowLog', 1);
  });

  it('opens port 9223 and nothing else', () => {
    const groups = Object.values(resourcesOf(modes.prod.template, 'AWS::EC2::SecurityGroup'));
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
});

describe('least privilege, role by role', () => {
  it('a controller task may move sessions, the counter and its own pool item, and describe itself, nothing else', () => {
    const statements = statementsOf(modes.prod, 'BrowsersControllerTaskTaskRole');
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
    // Private tasks have no public address to look up, and no such rights.
    const privateTasks = synth({ mode: 'prod', publicTasks: false });
    expect(actions(statementsOf(privateTasks, 'BrowsersControllerTaskTaskRole'))).not.toContain(
      'ec2:DescribeNetworkInterfaces',
    );
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
    // Contexts' key, read by ARN, besides the connect secret.
    const secrets = statements.filter((s) => refs(s.Action).includes('secretsmanager:GetSecretValue'));
    expect(refs(secrets)).toContain('ContextKey');
    expect(refs(secrets)).toContain('ConnectSecret');
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
