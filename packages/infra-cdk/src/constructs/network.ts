import { RemovalPolicy } from 'aws-cdk-lib';
import {
  FlowLogDestination,
  FlowLogTrafficType,
  GatewayVpcEndpointAwsService,
  IpAddresses,
  SubnetType,
  Vpc,
} from 'aws-cdk-lib/aws-ec2';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface WallcrawlerNetworkProps {
  /**
   * `dev`: public subnets only, no NAT gateway (tasks and Lambdas reach AWS over the internet gateway).
   * `prod`: public subnets plus private subnets with NAT gateways; the Lambdas run in the private ones.
   */
  mode: 'dev' | 'prod';
  /**
   * Private subnets with NAT, whatever the mode: the connect edge's browser tasks have no public IP, yet browse
   * the web. @default true in prod, false in dev
   */
  privateSubnets?: boolean;
  /** @default 2 */
  maxAzs?: number;
  /** NAT gateways in prod mode (one per AZ survives an AZ outage). @default 1 */
  natGateways?: number;
  logRetention: RetentionDays;
  removalPolicy: RemovalPolicy;
}

/**
 * The VPC, with flow logs to CloudWatch; with private subnets, their NAT gateways and the S3 and DynamoDB
 * gateway endpoints.
 */
export class WallcrawlerNetwork extends Construct {
  readonly vpc: Vpc;
  readonly hasPrivateSubnets: boolean;

  constructor(scope: Construct, id: string, props: WallcrawlerNetworkProps) {
    super(scope, id);
    const prod = props.privateSubnets ?? props.mode === 'prod';
    this.hasPrivateSubnets = prod;
    this.vpc = new Vpc(this, 'Vpc', {
      ipAddresses: IpAddresses.cidr('10.40.0.0/16'),
      maxAzs: props.maxAzs ?? 2,
      natGateways: prod ? (props.natGateways ?? 1) : 0,
      subnetConfiguration: [
        { name: 'public', subnetType: SubnetType.PUBLIC, cidrMask: 20 },
        ...(prod ? [{ name: 'private', subnetType: SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 }] : []),
      ],
    });
    if (prod) {
      // Free gateway endpoints: the image's layers (ECR keeps them in S3), session files and every table read
      // and write skip the NAT gateway and its per-GB charge.
      this.vpc.addGatewayEndpoint('S3', { service: GatewayVpcEndpointAwsService.S3 });
      this.vpc.addGatewayEndpoint('DynamoDb', { service: GatewayVpcEndpointAwsService.DYNAMODB });
    }
    const flowLogs = new LogGroup(this, 'FlowLogs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: FlowLogDestination.toCloudWatchLogs(flowLogs),
      trafficType: FlowLogTrafficType.REJECT,
    });
  }
}
