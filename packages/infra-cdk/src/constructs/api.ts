import { AWS_API_ENV } from '@wallcrawler/contracts';
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { type IVpc, SecurityGroup, SubnetType } from 'aws-cdk-lib/aws-ec2';
import type { Function as LambdaFn } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { WallcrawlerBlobs } from './blobs.js';
import type { WallcrawlerBrowsers } from './browsers.js';
import { bundledFunction } from './bundled-function.js';
import type { WallcrawlerData } from './data.js';
import { acknowledge } from './nag.js';

export interface WallcrawlerApiProps {
  data: WallcrawlerData;
  blobs: WallcrawlerBlobs;
  browsers: WallcrawlerBrowsers;
  connectSecret: ISecret;
  /** Contexts' key: the function reads it by ARN on first use. */
  contextKey: ISecret;
  /** The API function's bundle directory. */
  code: string;
  /** Run the function in the VPC's private subnets (prod mode). */
  vpc?: IVpc;
  /** How long a create waits for its browser. Below API Gateway's 29 s integration limit. @default 25 */
  readyTimeoutSeconds?: number;
  /** What a create asking for an unsupported feature gets: a 400, or the field ignored. @default 'refuse' */
  unsupportedFields?: 'refuse' | 'ignore';
  /** @default 1024 */
  memoryMiB?: number;
  logRetention: RetentionDays;
  removalPolicy: RemovalPolicy;
}

/**
 * The REST API: one Lambda function (the Hono app; it authenticates API keys itself, so there is no
 * authorizer and none of its cache pitfalls) behind an API Gateway HTTP API, with access logs.
 */
export class WallcrawlerApi extends Construct {
  readonly function: LambdaFn;
  readonly httpApi: HttpApi;

  constructor(scope: Construct, id: string, props: WallcrawlerApiProps) {
    super(scope, id);
    const A = AWS_API_ENV;
    const ready = props.readyTimeoutSeconds ?? 25;
    this.function = bundledFunction(this, 'Function', {
      description: 'Wallcrawler API (Browserbase-compatible)',
      code: props.code,
      memorySize: props.memoryMiB ?? 1024,
      // A create polls for its browser for `ready` seconds; API Gateway gives up at 29.
      timeoutSeconds: 29,
      logGroupId: 'Logs',
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
      environment: {
        [A.sessionsTable]: props.data.sessions.tableName,
        [A.projectsTable]: props.data.projects.tableName,
        [A.apiKeysTable]: props.data.apiKeys.tableName,
        [A.resourcesTable]: props.data.resources.tableName,
        [A.tasksTable]: props.data.tasks.tableName,
        [A.connectSecretArn]: props.connectSecret.secretArn,
        [A.blobsBucket]: props.blobs.bucket.bucketName,
        [A.contextKeySecretArn]: props.contextKey.secretArn,
        [A.readyTimeoutMs]: String(ready * 1000),
        [A.unsupportedFields]: props.unsupportedFields ?? 'refuse',
        [A.logLevel]: 'info',
        ...props.browsers.apiEnvironment(),
      },
      ...(props.vpc
        ? {
            vpc: {
              vpc: props.vpc,
              vpcSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS },
              securityGroups: [
                new SecurityGroup(this, 'FunctionSecurityGroup', {
                  vpc: props.vpc,
                  description: 'Wallcrawler API function: outbound only',
                  allowAllOutbound: true,
                }),
              ],
            },
          }
        : {}),
    });
    props.data.grantApi(this.function);
    props.blobs.grantReadWrite(this.function);
    props.browsers.grantRunBrowsers(this.function);
    props.connectSecret.grantRead(this.function);
    props.contextKey.grantRead(this.function);

    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.httpApi = new HttpApi(this, 'HttpApi', {
      description: 'Wallcrawler API',
      defaultIntegration: new HttpLambdaIntegration('Integration', this.function, { timeout: Duration.seconds(29) }),
      createDefaultStage: false,
    });
    acknowledge(
      this.httpApi,
      'AwsSolutions-APIG4',
      'The function authenticates every request itself (API keys, looked up by their SHA-256 in DynamoDB): an authorizer would repeat it and bring its cache-key and method-ARN pitfalls.',
    );
    new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            method: '$context.httpMethod',
            path: '$context.path',
            status: '$context.status',
            latencyMs: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });
  }

  /** The API's own endpoint (`https://<id>.execute-api.<region>.amazonaws.com`). */
  get endpoint(): string {
    return this.httpApi.apiEndpoint;
  }
}
