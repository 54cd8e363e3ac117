import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type { IVpc, SecurityGroup, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import { Architecture, Code, Function as LambdaFn, Runtime } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { acknowledgeLambdaBasicRole } from './nag.js';

export interface BundledFunctionProps {
  description: string;
  /** The function's bundle directory (`index.cjs`, handler `index.handler`), from `@wallcrawler/server`. */
  code: string;
  memorySize: number;
  timeoutSeconds: number;
  environment: Record<string, string>;
  /** The construct id of its log group. */
  logGroupId: string;
  logRetention: RetentionDays;
  removalPolicy: RemovalPolicy;
  vpc?: { vpc: IVpc; vpcSubnets: SubnetSelection; securityGroups: SecurityGroup[] };
}

/**
 * One of Wallcrawler's Lambda functions, all made alike: Node 24 on arm64, its bundle without source maps, and
 * a log group of its own with the stack's retention.
 */
export function bundledFunction(scope: Construct, id: string, props: BundledFunctionProps): LambdaFn {
  const fn = new LambdaFn(scope, id, {
    description: props.description,
    runtime: Runtime.NODEJS_24_X,
    architecture: Architecture.ARM_64,
    handler: 'index.handler',
    code: Code.fromAsset(props.code, { exclude: ['*.map'] }),
    memorySize: props.memorySize,
    timeout: Duration.seconds(props.timeoutSeconds),
    environment: props.environment,
    logGroup: new LogGroup(scope, props.logGroupId, {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    }),
    ...(props.vpc ?? {}),
  });
  acknowledgeLambdaBasicRole(fn);
  return fn;
}
