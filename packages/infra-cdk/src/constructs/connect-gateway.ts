import { EDGE_ENV } from '@wallcrawler/contracts';
import { Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AdjustmentType, type ScalingInterval } from 'aws-cdk-lib/aws-applicationautoscaling';
import { CfnSecurityGroupIngress, type IVpc, SecurityGroup, SubnetType } from 'aws-cdk-lib/aws-ec2';
import {
  type Cluster,
  type ContainerDefinition,
  type ContainerImage,
  CpuArchitecture,
  Secret as EcsSecret,
  FargateService,
  FargateTaskDefinition,
  LogDrivers,
  OperatingSystemFamily,
} from 'aws-cdk-lib/aws-ecs';
import {
  ApplicationLoadBalancer,
  ApplicationProtocol,
  type ApplicationTargetGroup,
} from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { AwsCustomResource, AwsCustomResourcePolicy, PhysicalResourceId } from 'aws-cdk-lib/custom-resources';
import { Construct, type IDependable } from 'constructs';
import type { WallcrawlerData } from './data.js';
import { acknowledge } from './nag.js';

/** The port the gateway's tasks listen on, behind the load balancer. */
export const GATEWAY_PORT = 8080;

/** The gateway service's size: tasks at least and at most, and the sockets one task is sized for. */
export interface GatewaySize {
  min: number;
  max: number;
  /** CDP WebSockets one gateway task carries before the service adds one. @default 1000 */
  socketsPerTask?: number;
}

export interface WallcrawlerConnectGatewayProps {
  vpc: IVpc;
  cluster: Cluster;
  /** The controller's image: the gateway is the same image, run as `node dist/edge/main.js`. */
  image: ContainerImage;
  data: WallcrawlerData;
  connectSecret: ISecret;
  size: GatewaySize;
  /** Fargate CPU units per gateway task. @default 256 */
  cpu?: number;
  /** MiB per gateway task. @default 512 */
  memoryMiB?: number;
  logRetention: RetentionDays;
  removalPolicy: RemovalPolicy;
}

/**
 * The connect gateway: an ECS service of the controller's image run as the edge (`node dist/edge/main.js`),
 * which checks a session's token at the upgrade, finds the session's task in the sessions table and relays to
 * it over the VPC; and the internal Application Load Balancer in front of it, which CloudFront reaches as a VPC
 * origin. Nothing here is reachable from the internet: the load balancer is internal and admits only
 * CloudFront's VPC-origin interfaces (see `WallcrawlerEdge`), the tasks only the load balancer.
 */
export class WallcrawlerConnectGateway extends Construct {
  readonly loadBalancer: ApplicationLoadBalancer;
  readonly service: FargateService;
  readonly taskDefinition: FargateTaskDefinition;
  readonly securityGroup: SecurityGroup;
  readonly targetGroup: ApplicationTargetGroup;
  readonly logs: LogGroup;
  readonly #container: ContainerDefinition;
  readonly #albSecurityGroup: SecurityGroup;
  readonly #vpc: IVpc;

  constructor(scope: Construct, id: string, props: WallcrawlerConnectGatewayProps) {
    super(scope, id);
    const privateSubnets = { subnetType: SubnetType.PRIVATE_WITH_EGRESS };
    this.securityGroup = new SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `Wallcrawler connect gateway: ${GATEWAY_PORT} from its load balancer only`,
      // Out to the browser tasks' 9223, DynamoDB, and (through NAT) ECR, Secrets Manager and CloudWatch Logs.
      allowAllOutbound: true,
    });
    const albSecurityGroup = new SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc: props.vpc,
      description: 'Wallcrawler connect gateway internal load balancer: HTTP from the CloudFront VPC origin only',
      allowAllOutbound: false,
    });
    this.#albSecurityGroup = albSecurityGroup;
    this.#vpc = props.vpc;
    this.loadBalancer = new ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      internetFacing: false,
      vpcSubnets: privateSubnets,
      securityGroup: albSecurityGroup,
      // A CDP socket may stay silent for long; the gateway pings each one every minute, well inside this.
      idleTimeout: Duration.minutes(10),
      dropInvalidHeaderFields: true,
    });
    acknowledge(
      this.loadBalancer,
      'AwsSolutions-ELB2',
      "Access logs are off on purpose: ALB access logs keep every request's query string, where a session's connect token (`?signingKey=`) travels. The gateway logs each connection without it.",
    );

    this.logs = new LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy: props.removalPolicy });
    this.taskDefinition = new FargateTaskDefinition(this, 'Task', {
      cpu: props.cpu ?? 256,
      memoryLimitMiB: props.memoryMiB ?? 512,
      runtimePlatform: { cpuArchitecture: CpuArchitecture.X86_64, operatingSystemFamily: OperatingSystemFamily.LINUX },
    });
    this.#container = this.taskDefinition.addContainer('edge', {
      image: props.image,
      // tini stays the entrypoint; only the program changes.
      command: ['node', 'dist/edge/main.js'],
      essential: true,
      portMappings: [{ containerPort: GATEWAY_PORT }],
      logging: LogDrivers.awsLogs({ logGroup: this.logs, streamPrefix: 'edge' }),
      // The close path sends every client a close frame (1012) at once: a short grace is enough.
      stopTimeout: Duration.seconds(30),
      environment: {
        [EDGE_ENV.host]: '0.0.0.0',
        [EDGE_ENV.port]: String(GATEWAY_PORT),
        // CloudFront drops a WebSocket idle for 10 minutes.
        [EDGE_ENV.pingMs]: '60000',
        [EDGE_ENV.sessionsTable]: props.data.sessions.tableName,
        [EDGE_ENV.logLevel]: 'info',
      },
      secrets: { [EDGE_ENV.connectSecret]: EcsSecret.fromSecretsManager(props.connectSecret) },
    });
    // The edge reads one session's item by its key, and nothing else.
    this.taskDefinition.taskRole.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['dynamodb:GetItem'], resources: [props.data.sessions.tableArn] }),
    );
    acknowledge(
      this.taskDefinition,
      'AwsSolutions-ECS2',
      'The plain environment holds the listen address, the port, the ping interval and the table name; the connect secret comes from Secrets Manager (`secrets`).',
    );
    acknowledge(
      this.taskDefinition.obtainExecutionRole(),
      'AwsSolutions-IAM5[Resource::*]',
      "ECS's execution role: ecr:GetAuthorizationToken only exists on `*`; the rest (the image's repository, the log group, the connect secret) are scoped by CDK.",
    );

    this.service = new FargateService(this, 'Service', {
      cluster: props.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: props.size.min,
      assignPublicIp: false,
      vpcSubnets: privateSubnets,
      securityGroups: [this.securityGroup],
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
    });
    const listener = this.loadBalancer.addListener('Http', {
      port: 80,
      protocol: ApplicationProtocol.HTTP,
      // Never 0.0.0.0/0: the edge admits CloudFront's VPC-origin security group.
      open: false,
    });
    this.targetGroup = listener.addTargets('Edge', {
      port: GATEWAY_PORT,
      protocol: ApplicationProtocol.HTTP,
      targets: [this.service],
      healthCheck: { path: '/health', interval: Duration.seconds(15), healthyThresholdCount: 2 },
      // A stopping task's sockets get their close frame at once; the rest of the drain is wasted time.
      deregistrationDelay: Duration.seconds(30),
    });
    this.#scale(props.size);
  }

  /**
   * Scales on the load balancer's ActiveConnectionCount, which counts both legs of each CDP socket
   * (client→balancer and balancer→task): a task per `socketsPerTask` sockets, set as exact capacities by band,
   * every minute. Not RequestCountPerTarget, which counts a WebSocket once, at its upgrade, however long it then
   * carries a session; and nothing else beside it, since a second policy's capacities would fight these.
   */
  #scale(size: GatewaySize): void {
    if (size.max === size.min) return;
    const scaling = this.service.autoScaleTaskCount({ minCapacity: size.min, maxCapacity: size.max });
    const perTask = 2 * (size.socketsPerTask ?? 1000);
    const steps: ScalingInterval[] = [{ upper: perTask * size.min, change: size.min }];
    for (let tasks = size.min + 1; tasks <= size.max; tasks++) {
      const band = { lower: perTask * (tasks - 1), change: tasks };
      steps.push(tasks < size.max ? { ...band, upper: perTask * tasks } : band);
    }
    scaling.scaleOnMetric('Connections', {
      metric: this.loadBalancer.metrics.activeConnectionCount({ period: Duration.minutes(1), statistic: 'Sum' }),
      scalingSteps: steps,
      adjustmentType: AdjustmentType.EXACT_CAPACITY,
      cooldown: Duration.minutes(2),
    });
  }

  /**
   * Admits CloudFront's VPC origin, and nothing else, to the load balancer's port 80. CloudFront reaches a VPC
   * origin from network interfaces it makes in the VPC, in a security group of its own
   * (`CloudFront-VPCOrigins-Service-SG`) that exists once `distribution` is deployed and whose id CloudFormation
   * does not give: a custom resource looks it up (EC2's DescribeSecurityGroups, read-only).
   */
  admitCloudFront(distribution: IDependable): void {
    const lookup = new AwsCustomResource(this, 'VpcOriginSecurityGroup', {
      onUpdate: {
        service: 'EC2',
        action: 'describeSecurityGroups',
        parameters: {
          Filters: [
            { Name: 'vpc-id', Values: [this.#vpc.vpcId] },
            { Name: 'group-name', Values: ['CloudFront-VPCOrigins-Service-SG'] },
          ],
        },
        physicalResourceId: PhysicalResourceId.of('CloudFront-VPCOrigins-Service-SG'),
        outputPaths: ['SecurityGroups.0.GroupId'],
      },
      policy: AwsCustomResourcePolicy.fromSdkCalls({ resources: AwsCustomResourcePolicy.ANY_RESOURCE }),
      installLatestAwsSdk: false,
    });
    lookup.node.addDependency(distribution);
    // A rule of its own: inline in the load balancer's group it would make a cycle through the distribution.
    new CfnSecurityGroupIngress(this, 'FromCloudFront', {
      groupId: this.#albSecurityGroup.securityGroupId,
      sourceSecurityGroupId: lookup.getResponseField('SecurityGroups.0.GroupId'),
      ipProtocol: 'tcp',
      fromPort: 80,
      toPort: 80,
      description: 'CloudFront VPC origin',
    });
    acknowledge(
      lookup,
      'AwsSolutions-IAM5[Resource::*]',
      'EC2 DescribeSecurityGroups has no resource-level permissions: only `*`, and it is read-only.',
    );
    // CDK's one function for every AwsCustomResource of the stack, named after its fixed id.
    const provider = Stack.of(this).node.tryFindChild(
      `AWS${AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`,
    );
    if (provider)
      acknowledge(
        provider,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        "AWSLambdaBasicExecutionRole on CDK's custom-resource function: AWS's managed policy for its own logs, as CDK attaches it.",
      );
  }

  /** The public base clients reach the edge at (`https://<distribution domain>`), for DevTools discovery's URLs. */
  setPublicUrl(url: string): void {
    this.#container.addEnvironment(EDGE_ENV.publicUrl, url);
  }
}
