import { AWS_API_ENV, CONTROLLER_ENV } from '@wallcrawler/contracts';
import { Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  type ISecurityGroup,
  type IVpc,
  Peer,
  Port,
  SecurityGroup,
  type SubnetSelection,
  SubnetType,
} from 'aws-cdk-lib/aws-ec2';
import {
  Cluster,
  ContainerImage,
  ContainerInsights,
  CpuArchitecture,
  Secret as EcsSecret,
  FargateService,
  FargateTaskDefinition,
  LogDrivers,
  OperatingSystemFamily,
} from 'aws-cdk-lib/aws-ecs';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFn } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, type IConstruct } from 'constructs';
import type { WallcrawlerBlobs } from './blobs.js';
import { bundledFunction } from './bundled-function.js';
import type { WallcrawlerData } from './data.js';
import { acknowledge, acknowledgeFindings, nagText } from './nag.js';

/** The most a session keeps, in MiB (`WallcrawlerStackProps.sessionLimits`). */
export interface SessionLimits {
  contextMb?: number;
  downloadsMb?: number;
  logMb?: number;
  recordingMb?: number;
}

/** The controller's variables for the limits given (the others keep the controller's defaults). */
function sessionLimitsEnv(limits: SessionLimits = {}): Record<string, string> {
  const names: Record<keyof SessionLimits, string> = {
    contextMb: CONTROLLER_ENV.contextMaxMb,
    downloadsMb: CONTROLLER_ENV.sessionDownloadsMaxMb,
    logMb: CONTROLLER_ENV.sessionLogMaxMb,
    recordingMb: CONTROLLER_ENV.sessionRecordingMaxMb,
  };
  return Object.fromEntries(
    Object.entries(limits)
      .filter(([, mb]) => mb !== undefined)
      .map(([name, mb]) => [names[name as keyof SessionLimits], String(mb)]),
  );
}

export interface WallcrawlerBrowsersProps {
  vpc: IVpc;
  /** Whether tasks get public IPs in public subnets (clients on the internet reach them) or private ones. */
  publicTasks: boolean;
  data: WallcrawlerData;
  /**
   * Where a task fetches its session's context and extension, saves the context back, and keeps the session's
   * files (downloads, CDP log, recording).
   */
  blobs: WallcrawlerBlobs;
  connectSecret: ISecret;
  /** Contexts' AES-256-GCM key (64 hex digits), given to the task only through ECS `secrets`. */
  contextKey: ISecret;
  /** The controller image's build context (a directory with its Dockerfile). */
  imageDirectory: string;
  /** The task-state function's bundle directory. */
  taskStateCode: string;
  /** Fargate CPU units per browser. @default 1024 */
  cpu?: number;
  /** MiB per browser. @default 2048 */
  memoryMiB?: number;
  /**
   * Clients allowed to reach the controllers' port 9223 (direct mode). An empty list opens it to no address:
   * the edge mode's, where only the gateway and the API are admitted, by `admitConnectionsFrom`.
   * @default ['0.0.0.0/0']
   */
  allowedConnectCidrs?: string[];
  /** Seconds before a session no client connected to ends. @default 300 */
  idleTimeoutSeconds?: number;
  /** The warm pool's size; `min: 0, targetIdle: 0` means none at rest (every create starts a task). */
  warmPool: { min: number; max: number; targetIdle: number };
  /** The warm-pool scaler's bundle directory. */
  warmPoolCode: string;
  /** Minutes an idle pool task waits before it retires (the service then starts a fresh one). @default 30 */
  poolIdleMinutes?: number;
  /** The most a session keeps, in MiB (`WallcrawlerStackProps.sessionLimits`). @default the controller's */
  sessionLimits?: SessionLimits;
  logRetention: RetentionDays;
  removalPolicy: RemovalPolicy;
}

/** The port every controller's CDP proxy listens on. */
export const CONTROLLER_PORT = 9223;

/**
 * Where browsers run: the ECS cluster, the controller's Fargate task definition (built from the controller
 * image), the security group that opens port 9223 and nothing else, and the EventBridge rule that hands
 * "ECS Task State Change" events of stopped tasks to the task-state function.
 */
export class WallcrawlerBrowsers extends Construct {
  readonly cluster: Cluster;
  readonly taskDefinition: FargateTaskDefinition;
  readonly containerName = 'controller';
  readonly securityGroup: SecurityGroup;
  readonly taskSubnets: SubnetSelection;
  readonly publicTasks: boolean;
  readonly taskStateFunction: LambdaFn;
  /** The warm pool: an ECS service of idle controller tasks that creates claim. */
  readonly warmPool: FargateService;
  /** Sizes the warm pool's service on its idle tasks, every minute (each claim also grows it at once, from the API). */
  readonly warmPoolScaler: LambdaFn;
  readonly containerLogs: LogGroup;
  /** The controller's image, which the connect gateway runs too (as another program). */
  readonly image: ContainerImage;
  readonly #poolSize: WallcrawlerBrowsersProps['warmPool'];

  constructor(scope: Construct, id: string, props: WallcrawlerBrowsersProps) {
    super(scope, id);
    this.#poolSize = props.warmPool;
    this.publicTasks = props.publicTasks;
    this.taskSubnets = { subnetType: props.publicTasks ? SubnetType.PUBLIC : SubnetType.PRIVATE_WITH_EGRESS };
    this.cluster = new Cluster(this, 'Cluster', { vpc: props.vpc, containerInsightsV2: ContainerInsights.ENABLED });

    this.securityGroup = new SecurityGroup(this, 'ControllerSecurityGroup', {
      vpc: props.vpc,
      description: 'Wallcrawler controllers: CDP on 9223 only',
      allowAllOutbound: true, // the browser browses the web
    });
    const cidrs = props.allowedConnectCidrs ?? ['0.0.0.0/0'];
    for (const cidr of cidrs) {
      this.securityGroup.addIngressRule(Peer.ipv4(cidr), Port.tcp(CONTROLLER_PORT), 'CDP clients (token-checked)');
    }
    if (cidrs.includes('0.0.0.0/0')) {
      acknowledge(
        this.securityGroup,
        'AwsSolutions-EC23',
        "Only port 9223 is open, and every connection must present its session's JWT (checked at the upgrade). Clients connect from anywhere, as to Browserbase; narrow it with allowedConnectCidrs.",
      );
    }

    this.containerLogs = new LogGroup(this, 'ControllerLogs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.taskDefinition = new FargateTaskDefinition(this, 'ControllerTask', {
      cpu: props.cpu ?? 1024,
      memoryLimitMiB: props.memoryMiB ?? 2048,
      runtimePlatform: {
        cpuArchitecture: CpuArchitecture.X86_64,
        operatingSystemFamily: OperatingSystemFamily.LINUX,
      },
    });
    const E = CONTROLLER_ENV;
    this.image = ContainerImage.fromAsset(props.imageDirectory);
    this.taskDefinition.addContainer(this.containerName, {
      image: this.image,
      essential: true,
      portMappings: [{ containerPort: CONTROLLER_PORT }],
      // A stop (release, scale-in, Spot) runs the close path, which saves a persisted context's profile before
      // the ending is recorded: Fargate's longest grace before SIGKILL.
      stopTimeout: Duration.seconds(120),
      logging: LogDrivers.awsLogs({ logGroup: this.containerLogs, streamPrefix: 'controller' }),
      environment: {
        [E.sessionsTable]: props.data.sessions.tableName,
        [E.projectsTable]: props.data.projects.tableName,
        [E.tasksTable]: props.data.tasks.tableName,
        [E.resourcesTable]: props.data.resources.tableName,
        [E.blobsBucket]: props.blobs.bucket.bucketName,
        [E.port]: String(CONTROLLER_PORT),
        [E.idleTimeoutMs]: String((props.idleTimeoutSeconds ?? 300) * 1000),
        [E.poolIdleTimeoutMs]: String((props.poolIdleMinutes ?? 30) * 60_000),
        // Clients outside the VPC reach a public task at its public IP, which the controller looks up.
        [E.advertise]: props.publicTasks ? 'public' : 'private',
        [E.logLevel]: 'info',
        ...sessionLimitsEnv(props.sessionLimits),
      },
      secrets: {
        [E.connectSecret]: EcsSecret.fromSecretsManager(props.connectSecret),
        [E.contextKey]: EcsSecret.fromSecretsManager(props.contextKey),
      },
      healthCheck: {
        command: ['CMD', 'node', 'dist/task/health.js'],
        interval: Duration.seconds(10),
        timeout: Duration.seconds(5),
        startPeriod: Duration.seconds(20),
        retries: 3,
      },
    });
    props.data.grantController(this.taskDefinition.taskRole);
    props.data.grantPoolTask(this.taskDefinition.taskRole);
    props.data.grantContextItems(this.taskDefinition.taskRole);
    props.data.grantContextLocks(this.taskDefinition.taskRole);
    props.blobs.grantSessionTask(this.taskDefinition.taskRole);
    props.blobs.grantKeepSessionArtifacts(this.taskDefinition.taskRole);
    if (props.publicTasks) this.#grantFindPublicAddress();
    acknowledge(
      this.taskDefinition,
      'AwsSolutions-ECS2',
      "The plain environment holds only table and bucket names, the port and timeouts; the connect secret and contexts' key come from Secrets Manager (`secrets`).",
    );
    acknowledge(
      this.taskDefinition.obtainExecutionRole(),
      'AwsSolutions-IAM5[Resource::*]',
      "ECS's execution role: ecr:GetAuthorizationToken only exists on `*`; the rest (the image's repository, the log group, the secret) are scoped by CDK.",
    );

    this.taskStateFunction = bundledFunction(this, 'TaskStateFunction', {
      description: 'Ends Wallcrawler sessions whose ECS task stopped without recording it',
      code: props.taskStateCode,
      memorySize: 256,
      timeoutSeconds: 30,
      environment: {
        [AWS_API_ENV.sessionsTable]: props.data.sessions.tableName,
        [AWS_API_ENV.projectsTable]: props.data.projects.tableName,
        [AWS_API_ENV.tasksTable]: props.data.tasks.tableName,
        [AWS_API_ENV.resourcesTable]: props.data.resources.tableName,
        [AWS_API_ENV.logLevel]: 'info',
      },
      logGroupId: 'TaskStateLogs',
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    props.data.grantTaskStateHandler(this.taskStateFunction);
    // A task that died holding a context's lock: the handler's ending releases it.
    props.data.grantContextLocks(this.taskStateFunction);
    ({ service: this.warmPool, scaler: this.warmPoolScaler } = this.#warmPool(props));
    new Rule(this, 'TaskStoppedRule', {
      description: 'Stopped Wallcrawler controller tasks',
      eventPattern: {
        source: ['aws.ecs'],
        detailType: ['ECS Task State Change'],
        detail: { clusterArn: [this.cluster.clusterArn], lastStatus: ['STOPPED'] },
      },
      targets: [new LambdaFunction(this.taskStateFunction, { retryAttempts: 8 })],
    });
  }

  #warmPool(props: WallcrawlerBrowsersProps): { service: FargateService; scaler: LambdaFn } {
    const service = new FargateService(this, 'WarmPool', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: props.warmPool.min,
      assignPublicIp: props.publicTasks,
      vpcSubnets: this.taskSubnets,
      securityGroups: [this.securityGroup],
      // Its tasks exit after serving one session, by design; the scheduler replaces them while the scaler wants.
      minHealthyPercent: 0,
      maxHealthyPercent: 200,
    });
    const A = AWS_API_ENV;
    const scaler = bundledFunction(this, 'WarmPoolScaler', {
      description: 'Sizes the Wallcrawler warm pool on its idle tasks',
      code: props.warmPoolCode,
      memorySize: 256,
      timeoutSeconds: 30,
      environment: {
        [A.sessionsTable]: props.data.sessions.tableName,
        [A.projectsTable]: props.data.projects.tableName,
        [A.tasksTable]: props.data.tasks.tableName,
        [A.cluster]: this.cluster.clusterName,
        [A.poolService]: service.serviceName,
        [A.poolMin]: String(props.warmPool.min),
        [A.poolMax]: String(props.warmPool.max),
        [A.poolTargetIdle]: String(props.warmPool.targetIdle),
        [A.logLevel]: 'info',
      },
      logGroupId: 'WarmPoolScalerLogs',
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    props.data.grantPoolCensus(scaler);
    scaler.addToRolePolicy(
      new PolicyStatement({ actions: ['ecs:DescribeServices', 'ecs:UpdateService'], resources: [service.serviceArn] }),
    );
    new Rule(this, 'WarmPoolSchedule', {
      description: 'Sizes the Wallcrawler warm pool every minute',
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [new LambdaFunction(scaler, { retryAttempts: 0 })],
    });
    return { service, scaler };
  }

  /** Admits `peer` (the connect gateway, the API function) to the controllers' port 9223. */
  admitConnectionsFrom(peer: ISecurityGroup, description: string): void {
    this.securityGroup.addIngressRule(peer, Port.tcp(CONTROLLER_PORT), description);
  }

  /**
   * What the API needs to run browsers: `RunTask` of this task definition in this cluster, `StopTask` and
   * `DescribeTasks` of this cluster's tasks, passing the task's two roles to ECS, and reading and resizing the
   * warm pool's service (a claim asks for its replacement at once). Nothing else.
   */
  grantRunBrowsers(grantee: IGrantable): void {
    const tasks = this.#clusterTasksArn();
    const grant = (statement: PolicyStatement) => grantee.grantPrincipal.addToPrincipalPolicy(statement);
    grant(
      new PolicyStatement({
        actions: ['ecs:RunTask'],
        resources: [this.taskDefinition.taskDefinitionArn],
        conditions: { ArnEquals: { 'ecs:cluster': this.cluster.clusterArn } },
      }),
    );
    grant(new PolicyStatement({ actions: ['ecs:StopTask', 'ecs:DescribeTasks'], resources: [tasks] }));
    grant(
      new PolicyStatement({
        actions: ['ecs:DescribeServices', 'ecs:UpdateService'],
        resources: [this.warmPool.serviceArn],
      }),
    );
    acknowledgeFindings(
      grantee.grantPrincipal as unknown as IConstruct,
      'AwsSolutions-IAM5',
      [`Resource::${nagText(this, tasks)}`],
      "StopTask and DescribeTasks name tasks that do not exist yet: `task/<this cluster>/*` is this cluster's tasks only.",
    );
    const roles = [this.taskDefinition.taskRole.roleArn, this.taskDefinition.obtainExecutionRole().roleArn];
    grant(
      new PolicyStatement({
        actions: ['iam:PassRole'],
        resources: roles,
        conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      }),
    );
  }

  /** `arn:…:task/<this cluster>/*`: the tasks of this cluster, which exist only at run time. */
  #clusterTasksArn(): string {
    return Stack.of(this).formatArn({
      service: 'ecs',
      resource: 'task',
      resourceName: `${this.cluster.clusterName}/*`,
    });
  }

  /** A public task looks up its own public IP: its network interface (ECS), then that interface's address (EC2). */
  #grantFindPublicAddress(): void {
    const role = this.taskDefinition.taskRole;
    const tasks = this.#clusterTasksArn();
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['ecs:DescribeTasks'],
        resources: [tasks],
        conditions: { ArnEquals: { 'ecs:cluster': this.cluster.clusterArn } },
      }),
    );
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['ec2:DescribeNetworkInterfaces'], resources: ['*'] }));
    acknowledgeFindings(
      role,
      'AwsSolutions-IAM5',
      [`Resource::${nagText(this, tasks)}`, 'Resource::*'],
      "A task describes itself (ECS names tasks at run time: `task/<this cluster>/*`) and its network interface (EC2's DescribeNetworkInterfaces supports no resource-level permissions, so only `*`); both read-only.",
    );
  }

  /** The API function's environment for running browsers here. */
  apiEnvironment(): Record<string, string> {
    const A = AWS_API_ENV;
    return {
      [A.cluster]: this.cluster.clusterName,
      [A.taskDefinition]: this.taskDefinition.taskDefinitionArn,
      [A.containerName]: this.containerName,
      [A.subnets]: this.cluster.vpc.selectSubnets(this.taskSubnets).subnetIds.join(','),
      [A.securityGroups]: this.securityGroup.securityGroupId,
      [A.assignPublicIp]: String(this.publicTasks),
      // The scaler's settings: each claim grows the pool's service at once, as the scaler would.
      [A.poolService]: this.warmPool.serviceName,
      [A.poolMin]: String(this.#poolSize.min),
      [A.poolMax]: String(this.#poolSize.max),
      [A.poolTargetIdle]: String(this.#poolSize.targetIdle),
    };
  }
}
