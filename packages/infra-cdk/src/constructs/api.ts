import { AWS_API_ENV, FRONT_DOOR_FAILURE } from '@wallcrawler/contracts';
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  ResponseTransferMode,
  ResponseType,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
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
  /** The value CloudFront's origin-secret header carries: the function reads it by ARN on first use. */
  originSecret: ISecret;
  /** The connect edge's public base (`https://<distribution domain>`); without it, direct mode. */
  connectBaseUrl?: string;
  /**
   * The server-wide model of `POST /v1/llm/responses` (Stagehand 4 with no model in the client). Its key is a
   * secret the function reads by ARN on first use, never a plain environment value.
   */
  model?: { baseUrl: string; name: string; api?: 'responses' | 'chat'; apiKey?: ISecret };
  /** The API function's bundle directory. */
  code: string;
  /** Run the function in the VPC's private subnets (prod mode, and wherever tasks are private). */
  vpc?: IVpc;
  /** How long a create waits for its browser. Below CloudFront's 60 s origin response timeout. @default 55 */
  readyTimeoutSeconds?: number;
  /** What a create asking for an unsupported feature gets: a 400, or the field ignored. @default 'refuse' */
  unsupportedFields?: 'refuse' | 'ignore';
  /** @default 1024 */
  memoryMiB?: number;
  logRetention: RetentionDays;
  removalPolicy: RemovalPolicy;
}

/** The REST API's one stage, which CloudFront's origin path names. */
export const API_STAGE = 'prod';

/** How long API Gateway streams a response, at most (its limit for the `STREAM` transfer mode). */
const STREAM_LIMIT = Duration.minutes(15);

/**
 * The API: one Lambda function (the Hono app; it authenticates API keys itself, so there is no authorizer and
 * none of its cache pitfalls) behind API Gateway's REST API, whose Lambda proxy integration streams the
 * function's answer (response transfer mode `STREAM`, `InvokeWithResponseStream`): Stagehand's events reach the
 * client as they happen, and an answer may take longer than 29 s. Regional, since CloudFront is in front.
 */
export class WallcrawlerApi extends Construct {
  readonly function: LambdaFn;
  readonly restApi: RestApi;
  /** The function's security group, in the VPC: the browser tasks admit it to 9223 (Stagehand, files, claims). */
  readonly securityGroup?: SecurityGroup;

  constructor(scope: Construct, id: string, props: WallcrawlerApiProps) {
    super(scope, id);
    const A = AWS_API_ENV;
    if (props.vpc) {
      this.securityGroup = new SecurityGroup(this, 'FunctionSecurityGroup', {
        vpc: props.vpc,
        description: 'Wallcrawler API function: outbound only',
        allowAllOutbound: true,
      });
    }
    const ready = props.readyTimeoutSeconds ?? 55;
    this.function = bundledFunction(this, 'Function', {
      description: 'Wallcrawler API (Browserbase-compatible)',
      code: props.code,
      memorySize: props.memoryMiB ?? 1024,
      // As long as API Gateway streams an answer: a Stagehand call may run that long.
      timeoutSeconds: STREAM_LIMIT.toSeconds(),
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
        [A.originSecretArn]: props.originSecret.secretArn,
        ...(props.connectBaseUrl ? { [A.connectBaseUrl]: props.connectBaseUrl } : {}),
        ...(props.model
          ? {
              [A.modelBaseUrl]: props.model.baseUrl,
              [A.modelName]: props.model.name,
              [A.modelApi]: props.model.api ?? 'responses',
              ...(props.model.apiKey ? { [A.modelApiKeySecretArn]: props.model.apiKey.secretArn } : {}),
            }
          : {}),
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
              securityGroups: this.securityGroup ? [this.securityGroup] : [],
            },
          }
        : {}),
    });
    props.data.grantApi(this.function);
    props.blobs.grantReadWrite(this.function);
    props.browsers.grantRunBrowsers(this.function);
    props.connectSecret.grantRead(this.function);
    props.contextKey.grantRead(this.function);
    props.originSecret.grantRead(this.function);
    props.model?.apiKey?.grantRead(this.function);

    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.restApi = new RestApi(this, 'RestApi', {
      description: 'Wallcrawler API',
      endpointConfiguration: { types: [EndpointType.REGIONAL] },
      // Every request body reaches the function base64-encoded, as it was sent (uploads are zips).
      binaryMediaTypes: ['*/*'],
      // API Gateway writes its logs with the account's CloudWatch role (one per account and region): this sets it.
      cloudWatchRole: true,
      deployOptions: {
        stageName: API_STAGE,
        loggingLevel: MethodLoggingLevel.ERROR,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.custom(
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
    const integration = new LambdaIntegration(this.function, {
      proxy: true,
      responseTransferMode: ResponseTransferMode.STREAM,
      timeout: STREAM_LIMIT,
    });
    this.restApi.root.addMethod('ANY', integration);
    this.restApi.root.addProxy({ defaultIntegration: integration, anyMethod: true });
    // What API Gateway answers itself (the function failed, or gave no answer in time; an account's throttle; a
    // body over 10 MB) is the one error body too, never its bare `{"message": ...}`.
    const failure = (statusCode: number, error: string, code: string, retryAfter?: number) => ({
      statusCode: String(statusCode),
      ...(retryAfter ? { responseHeaders: { 'Retry-After': `'${retryAfter}'` } } : {}),
      templates: {
        'application/json': `{"statusCode":${statusCode},"error":"${error}","code":"${code}","message":$context.error.messageString,"requestId":"$context.requestId"}`,
      },
    });
    const F = FRONT_DOOR_FAILURE;
    this.restApi.addGatewayResponse('Default5xx', {
      type: ResponseType.DEFAULT_5XX,
      ...failure(F.statusCode, F.error, F.code, F.retryAfterSeconds),
    });
    this.restApi.addGatewayResponse('Throttled', {
      type: ResponseType.THROTTLED,
      ...failure(429, 'Too Many Requests', 'rate_limited', F.retryAfterSeconds),
    });
    this.restApi.addGatewayResponse('RequestTooLarge', {
      type: ResponseType.REQUEST_TOO_LARGE,
      ...failure(413, 'Payload Too Large', 'payload_too_large'),
    });
    acknowledge(
      this.restApi,
      'AwsSolutions-APIG4',
      'The function authenticates every request itself (API keys, looked up by their SHA-256 in DynamoDB): an authorizer would repeat it and bring its cache-key and method-ARN pitfalls.',
    );
    acknowledge(this.restApi, 'AwsSolutions-COG4', 'API keys, not Cognito users, authenticate requests (see APIG4).');
    acknowledge(
      this.restApi,
      'AwsSolutions-APIG2',
      "The function validates every request against the API's OpenAPI schemas and answers in its own error body; API Gateway's validation would answer in another.",
    );
    acknowledge(
      this.restApi,
      'AwsSolutions-APIG3',
      "The WAF (prod) is CloudFront's, in front of this stage: a regional web ACL here would filter the same requests again.",
    );
    acknowledge(
      this.restApi,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      "AWS's managed policy for API Gateway's account role that writes its logs, as CDK attaches it.",
    );
  }

  /** The stage's URL (`https://<id>.execute-api.<region>.amazonaws.com/prod/`). */
  get endpoint(): string {
    return this.restApi.url;
  }
}
