import { AWS_API_ENV, ORIGIN_SECRET_HEADER } from '@wallcrawler/contracts';
import { CfnOutput, RemovalPolicy, Stack, type StackProps, Token } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { API_STAGE, WallcrawlerApi } from './constructs/api.js';
import { wallcrawlerAssets } from './constructs/assets.js';
import { WallcrawlerBlobs } from './constructs/blobs.js';
import { type SessionLimits, WallcrawlerBrowsers } from './constructs/browsers.js';
import { WallcrawlerConnectGateway } from './constructs/connect-gateway.js';
import { WallcrawlerData } from './constructs/data.js';
import { EDGE_RESPONSE_TIMEOUT_SECONDS, WallcrawlerEdge } from './constructs/edge.js';
import { acknowledge } from './constructs/nag.js';
import { WallcrawlerNetwork } from './constructs/network.js';

export interface WallcrawlerStackProps extends StackProps {
  /**
   * `dev`: public subnets only and no NAT gateway (the cheapest at rest), no WAF, resources destroyed with the
   * stack. `prod`: private subnets with NAT for the Lambdas, WAF in front of CloudFront, resources retained.
   * @default 'dev'
   */
  mode?: 'dev' | 'prod';
  /**
   * How clients reach a session's browser. `edge`: over TLS only, `wss://<distribution>/devtools/browser?…`,
   * through CloudFront, an internal load balancer and the connect gateway service, which relays to the task over
   * the VPC; tasks have no public IP and admit 9223 only from the gateway and the API. `direct`: each task has a
   * public IP and clients connect to `ws://<task>:9223` (no TLS; cheaper for development, see the deployment
   * guide's costs).
   * @default 'edge'
   */
  connect?: 'edge' | 'direct';
  /**
   * The connect gateway service's size (edge mode): tasks at least and at most, and the CDP sockets one task
   * is sized for (the service adds a task per that many).
   * @default { min: 2, max: 10, socketsPerTask: 1000 } in prod; { min: 1, max: 2, socketsPerTask: 1000 } in dev
   */
  gateway?: { min: number; max: number; socketsPerTask?: number };
  /**
   * Direct mode: whether browser tasks get public IPs, so clients on the internet can connect to them. With
   * false (prod mode only) they run in private subnets and only clients inside the VPC can reach their
   * `connectUrl`s. Edge mode's tasks never have one.
   * @default true in direct mode
   */
  publicTasks?: boolean;
  /**
   * Direct mode: who may open CDP connections to browser tasks (port 9223; every connection also needs its JWT).
   * @default ['0.0.0.0/0']
   */
  allowedConnectCidrs?: string[];
  /** Fargate CPU units per browser (256, 512, 1024, 2048, 4096, 8192 or 16384). @default 1024 */
  browserCpu?: number;
  /** MiB of memory per browser, a valid Fargate combination with `browserCpu`. @default 2048 */
  browserMemoryMiB?: number;
  /**
   * How long a create waits for its browser before answering 503 (1–58 s; CloudFront, in front of the streaming
   * REST API, stops waiting at 60). @default 55
   */
  readyTimeoutSeconds?: number;
  /**
   * What a session create asking for a feature Wallcrawler does not have (a Browserbase-managed proxy, an
   * allow-list of domains) gets: `refuse` answers 400 naming the field; `ignore` accepts it and names it in the
   * `x-wallcrawler-ignored-fields` response header (docs/compatibility.md).
   * @default 'refuse'
   */
  unsupportedFields?: 'refuse' | 'ignore';
  /** A session no client connects to ends after this many seconds. @default 300 */
  idleTimeoutSeconds?: number;
  /**
   * WAF in front of CloudFront: 'create' (the stack must then be deployed in us-east-1, where CloudFront's web
   * ACLs live), an existing web ACL's ARN, or 'none'.
   * @default 'create' in prod, 'none' in dev
   */
  waf?: 'create' | 'none' | { webAclArn: string };
  /** NAT gateways, wherever there are private subnets (prod mode, or edge mode). @default 1 */
  natGateways?: number;
  /** Availability zones. @default 2 */
  maxAzs?: number;
  /** Retention of every log group. @default RetentionDays.ONE_MONTH */
  logRetention?: RetentionDays;
  /** What happens to tables, the bucket and logs when the stack is deleted. @default DESTROY in dev, RETAIN in prod */
  removalPolicy?: RemovalPolicy;
  /** Days session artifacts are kept in S3. @default 30 */
  sessionArtifactDays?: number;
  /**
   * The warm pool of idle browser tasks that creates claim (a create then takes about a second instead of a
   * Fargate cold start): an ECS service kept at `targetIdle` idle tasks above those serving sessions, within
   * [`min`, `max`]. Each idle task costs what a session-hour does.
   * @default { min: 1, max: 10, targetIdle: 1 } in prod; { min: 0, max: 2, targetIdle: 0 } in dev (none at rest)
   */
  warmPool?: { min: number; max: number; targetIdle: number };
  /** Minutes an idle pool task waits before it retires and the service replaces it. @default 30 */
  poolIdleMinutes?: number;
  /**
   * The most each session keeps, in MiB, as the local server's settings of the same names: a context's files
   * (`WALLCRAWLER_CONTEXT_MAX_MB`; past it the profile is not saved), its downloads, its CDP log (the oldest
   * entries go first) and its recording (past it the recording stops). Larger needs more task memory and disk.
   * @default { contextMb: 256, downloadsMb: 512, logMb: 16, recordingMb: 64 }
   */
  sessionLimits?: SessionLimits;
  /**
   * The server-wide model of `POST /v1/llm/responses`, for projects without their own (`wallcrawler projects
   * model set`): an OpenAI-compatible base URL, the model `"auto"` maps to, the API it speaks, and the ARN of a
   * Secrets Manager secret holding its key (the API function reads it on first use; never a plain env value).
   */
  model?: { baseUrl: string; name: string; api?: 'responses' | 'chat'; apiKeySecretArn?: string };
}

/** The stack's model setting, its key secret imported by ARN. */
function modelOf(scope: Construct, model: NonNullable<WallcrawlerStackProps['model']>) {
  const { apiKeySecretArn, ...rest } = model;
  return {
    ...rest,
    ...(apiKeySecretArn ? { apiKey: Secret.fromSecretCompleteArn(scope, 'ModelApiKey', apiKeySecretArn) } : {}),
  };
}

/** The largest each of `sessionLimits` may be, as the controller's configuration accepts it. */
const SESSION_LIMITS_MAX: Required<SessionLimits> = {
  contextMb: 16_384,
  downloadsMb: 16_384,
  logMb: 1024,
  recordingMb: 4096,
};

/** Fargate's CPU units and the memory (MiB) each allows. */
const FARGATE_MEMORY: Record<number, { min: number; max: number; step: number }> = {
  256: { min: 512, max: 2048, step: 512 },
  512: { min: 1024, max: 4096, step: 1024 },
  1024: { min: 2048, max: 8192, step: 1024 },
  2048: { min: 4096, max: 16384, step: 1024 },
  4096: { min: 8192, max: 30720, step: 1024 },
  8192: { min: 16384, max: 61440, step: 4096 },
  16384: { min: 32768, max: 122880, step: 8192 },
};

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d|[12]\d|3[0-2])$/;

/** Problems of the gateway service's size: in prod at least 2 tasks, so that the loss of one zone keeps one. */
function gatewayProblems(size: NonNullable<WallcrawlerStackProps['gateway']>, mode: string): string[] {
  const problems: string[] = [];
  const { min, max, socketsPerTask } = size;
  for (const [name, value] of Object.entries({ min, max })) {
    if (!Number.isInteger(value) || value < 1 || value > 50)
      problems.push(`gateway.${name} must be a whole number from 1 to 50, not ${value}`);
  }
  if (mode === 'prod' && min < 2)
    problems.push(`gateway.min must be at least 2 in prod (one task per zone survives a zone's loss), not ${min}`);
  if (min > max) problems.push(`gateway.min (${min}) must not exceed gateway.max (${max})`);
  if (socketsPerTask !== undefined && (!Number.isInteger(socketsPerTask) || socketsPerTask < 1))
    problems.push(`gateway.socketsPerTask must be a whole number ≥ 1, not ${socketsPerTask}`);
  return problems;
}

/**
 * Checks the props together.
 * @returns every problem, empty when there is none
 */
export function validateWallcrawlerProps(props: WallcrawlerStackProps, region: string | undefined): string[] {
  const problems: string[] = [];
  const mode = props.mode ?? 'dev';
  if (mode !== 'dev' && mode !== 'prod') problems.push(`mode must be 'dev' or 'prod', not ${JSON.stringify(mode)}`);
  const connect = props.connect ?? 'edge';
  if (connect !== 'edge' && connect !== 'direct')
    problems.push(`connect must be 'edge' or 'direct', not ${JSON.stringify(connect)}`);
  const privateSubnets = mode === 'prod' || connect === 'edge';
  if (connect === 'edge') {
    if (props.publicTasks === true)
      problems.push("publicTasks: true needs connect: 'direct' (edge mode's tasks have no public IP)");
    if (props.allowedConnectCidrs !== undefined)
      problems.push(
        "allowedConnectCidrs needs connect: 'direct' (edge mode's tasks admit only the gateway and the API; clients reach them through CloudFront)",
      );
    if (props.gateway) problems.push(...gatewayProblems(props.gateway, mode));
  } else {
    if (props.publicTasks === false && mode !== 'prod') {
      problems.push(
        "publicTasks: false needs mode: 'prod' or connect: 'edge' (dev's direct mode has no private subnets)",
      );
    }
    if (props.gateway) problems.push("gateway needs connect: 'edge' (direct mode has no gateway)");
  }
  const cpu = props.browserCpu ?? 1024;
  const memory = props.browserMemoryMiB ?? 2048;
  const allowed = FARGATE_MEMORY[cpu];
  if (!allowed) {
    problems.push(`browserCpu must be one of ${Object.keys(FARGATE_MEMORY).join(', ')}, not ${cpu}`);
  } else if (memory < allowed.min || memory > allowed.max || (memory - allowed.min) % allowed.step !== 0) {
    problems.push(
      `browserMemoryMiB ${memory} does not fit browserCpu ${cpu}: use ${allowed.min}–${allowed.max} in steps of ${allowed.step}`,
    );
  }
  const ready = props.readyTimeoutSeconds ?? 55;
  const readyMax = EDGE_RESPONSE_TIMEOUT_SECONDS - 2;
  if (!Number.isInteger(ready) || ready < 1 || ready > readyMax) {
    problems.push(
      `readyTimeoutSeconds must be a whole number from 1 to ${readyMax} (CloudFront stops waiting at ${EDGE_RESPONSE_TIMEOUT_SECONDS}), not ${ready}`,
    );
  }
  const idle = props.idleTimeoutSeconds ?? 300;
  if (!Number.isInteger(idle) || idle < 10)
    problems.push(`idleTimeoutSeconds must be a whole number of at least 10, not ${idle}`);
  for (const cidr of props.allowedConnectCidrs ?? []) {
    const m = CIDR.exec(cidr);
    if (!m || m.slice(1, 5).some((octet) => Number(octet) > 255))
      problems.push(`allowedConnectCidrs: ${cidr} is not an IPv4 CIDR`);
  }
  if (props.allowedConnectCidrs?.length === 0) problems.push('allowedConnectCidrs is empty: no client could connect');
  const waf = props.waf ?? (mode === 'prod' ? 'create' : 'none');
  if (waf === 'create' && region && !Token.isUnresolved(region) && region !== 'us-east-1') {
    problems.push(
      `waf: 'create' makes a CloudFront web ACL, which must live in us-east-1, but the stack is in ${region}; deploy it in us-east-1, or pass { webAclArn } of an existing one, or 'none'`,
    );
  }
  if (typeof waf === 'object' && !/^arn:aws[\w-]*:wafv2:us-east-1:\d{12}:global\/webacl\//.test(waf.webAclArn)) {
    problems.push(`waf.webAclArn must be a CloudFront (global) WAFv2 web ACL ARN, not ${waf.webAclArn}`);
  }
  if (props.natGateways !== undefined) {
    if (!privateSubnets)
      problems.push("natGateways needs private subnets: mode 'prod' or connect 'edge' (dev's direct mode has none)");
    else if (!Number.isInteger(props.natGateways) || props.natGateways < 1)
      problems.push('natGateways must be at least 1');
  }
  if (props.maxAzs !== undefined && (!Number.isInteger(props.maxAzs) || props.maxAzs < 2)) {
    problems.push('maxAzs must be at least 2 (Fargate and the VPC need two zones to survive the loss of one)');
  }
  if (props.warmPool) {
    const { min, max, targetIdle } = props.warmPool;
    for (const [name, value] of Object.entries({ min, max, targetIdle })) {
      if (!Number.isInteger(value) || value < 0)
        problems.push(`warmPool.${name} must be a whole number ≥ 0, not ${value}`);
    }
    if (min > max) problems.push(`warmPool.min (${min}) must not exceed warmPool.max (${max})`);
    if (targetIdle > max) problems.push(`warmPool.targetIdle (${targetIdle}) must not exceed warmPool.max (${max})`);
  }
  if (props.poolIdleMinutes !== undefined && (!Number.isInteger(props.poolIdleMinutes) || props.poolIdleMinutes < 1)) {
    problems.push(`poolIdleMinutes must be at least 1, not ${props.poolIdleMinutes}`);
  }
  for (const [name, value] of Object.entries(props.sessionLimits ?? {})) {
    const most = SESSION_LIMITS_MAX[name as keyof SessionLimits];
    if (most === undefined) problems.push(`sessionLimits has no setting ${name}`);
    else if (!Number.isInteger(value) || value < 1 || value > most)
      problems.push(`sessionLimits.${name} must be a whole number of MiB from 1 to ${most}, not ${value}`);
  }
  const days = props.sessionArtifactDays ?? 30;
  if (!Number.isInteger(days) || days < 1) problems.push(`sessionArtifactDays must be at least 1, not ${days}`);
  return problems;
}

/**
 * Wallcrawler in one stack: the API (a streaming Lambda behind API Gateway's REST API and CloudFront, WAF in
 * prod, reachable only through CloudFront), DynamoDB tables, an S3 bucket, and browsers as ECS Fargate tasks of
 * the controller image. In edge mode (the default) clients reach a session over `wss://` through the same
 * distribution, its internal load balancer and the connect gateway; in direct mode, at its task's port 9223.
 *
 * Build the packages first (`npm run build`): the stack deploys their built Lambda bundles and image context.
 */
export class WallcrawlerStack extends Stack {
  readonly network: WallcrawlerNetwork;
  readonly data: WallcrawlerData;
  readonly blobs: WallcrawlerBlobs;
  readonly browsers: WallcrawlerBrowsers;
  readonly api: WallcrawlerApi;
  readonly edge: WallcrawlerEdge;
  /** The connect gateway and its internal load balancer (edge mode). */
  readonly gateway?: WallcrawlerConnectGateway;
  readonly connectSecret: Secret;
  /** The value CloudFront's origin-secret header carries to the API, which refuses requests without it. */
  readonly originSecret: Secret;
  /** Contexts' key, read by the API function (by ARN) and given to the tasks through ECS `secrets`. */
  readonly contextKey: Secret;

  constructor(scope: Construct, id: string, props: WallcrawlerStackProps = {}) {
    super(scope, id, props);
    const problems = validateWallcrawlerProps(props, props.env?.region ?? this.region);
    if (problems.length > 0) {
      throw new Error(`Invalid WallcrawlerStack props:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    }
    const mode = props.mode ?? 'dev';
    const edgeMode = (props.connect ?? 'edge') === 'edge';
    const publicTasks = !edgeMode && (props.publicTasks ?? true);
    const removalPolicy = props.removalPolicy ?? (mode === 'prod' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY);
    const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;
    const assets = wallcrawlerAssets();

    this.network = new WallcrawlerNetwork(this, 'Network', {
      mode,
      privateSubnets: mode === 'prod' || edgeMode,
      logRetention,
      removalPolicy,
      ...(props.maxAzs !== undefined ? { maxAzs: props.maxAzs } : {}),
      ...(props.natGateways !== undefined ? { natGateways: props.natGateways } : {}),
    });
    this.data = new WallcrawlerData(this, 'Data', { removalPolicy });
    this.blobs = new WallcrawlerBlobs(this, 'Blobs', {
      removalPolicy,
      ...(props.sessionArtifactDays !== undefined ? { sessionArtifactDays: props.sessionArtifactDays } : {}),
    });
    // The HS256 secret of connect tokens: 64 alphanumeric characters, read as base64url (48 bytes).
    this.connectSecret = new Secret(this, 'ConnectSecret', {
      description: 'Wallcrawler connect-token signing secret (base64url)',
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      removalPolicy,
    });
    acknowledge(
      this.connectSecret,
      'AwsSolutions-SMG4',
      "Rotating the HS256 secret invalidates every live session's connect token; rotate it by hand between sessions (see the deployment guide).",
    );
    // Contexts' AES-256-GCM key: 64 hex digits (32 bytes). Losing it makes every saved context unreadable.
    this.contextKey = new Secret(this, 'ContextKey', {
      description: 'Wallcrawler contexts encryption key (64 hex digits)',
      generateSecretString: {
        passwordLength: 64,
        excludePunctuation: true,
        excludeUppercase: true,
        includeSpace: false,
        excludeCharacters: 'ghijklmnopqrstuvwxyz',
      },
      removalPolicy,
    });
    acknowledge(
      this.contextKey,
      'AwsSolutions-SMG4',
      'Saved contexts are sealed under this key: rotating it makes every saved context unreadable (a 422 on its next use).',
    );
    this.browsers = new WallcrawlerBrowsers(this, 'Browsers', {
      vpc: this.network.vpc,
      publicTasks,
      data: this.data,
      blobs: this.blobs,
      connectSecret: this.connectSecret,
      contextKey: this.contextKey,
      imageDirectory: assets.controllerImage,
      taskStateCode: assets.taskStateFunction,
      warmPoolCode: assets.warmPoolFunction,
      warmPool:
        props.warmPool ?? (mode === 'prod' ? { min: 1, max: 10, targetIdle: 1 } : { min: 0, max: 2, targetIdle: 0 }),
      ...(props.poolIdleMinutes !== undefined ? { poolIdleMinutes: props.poolIdleMinutes } : {}),
      ...(props.sessionLimits ? { sessionLimits: props.sessionLimits } : {}),
      logRetention,
      removalPolicy,
      ...(props.browserCpu !== undefined ? { cpu: props.browserCpu } : {}),
      ...(props.browserMemoryMiB !== undefined ? { memoryMiB: props.browserMemoryMiB } : {}),
      // Edge mode: no address at all; the gateway and the API are admitted by security group, below.
      ...(edgeMode ? { allowedConnectCidrs: [] } : {}),
      ...(props.allowedConnectCidrs ? { allowedConnectCidrs: props.allowedConnectCidrs } : {}),
      ...(props.idleTimeoutSeconds !== undefined ? { idleTimeoutSeconds: props.idleTimeoutSeconds } : {}),
    });
    // What CloudFront adds to every request to the API, and the API checks: its execute-api endpoint answers
    // nothing else. 64 alphanumerics, as the other secrets.
    this.originSecret = new Secret(this, 'OriginSecret', {
      description: "Wallcrawler: the header value CloudFront adds to the API's requests (origin secret)",
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      removalPolicy,
    });
    acknowledge(
      this.originSecret,
      'AwsSolutions-SMG4',
      "CloudFront's custom header takes the value at deploy time: a rotation would refuse every request until the stack is deployed again; change it with a deployment instead (see docs/security.md).",
    );
    this.api = new WallcrawlerApi(this, 'Api', {
      data: this.data,
      blobs: this.blobs,
      browsers: this.browsers,
      connectSecret: this.connectSecret,
      contextKey: this.contextKey,
      originSecret: this.originSecret,
      code: assets.apiFunction,
      logRetention,
      removalPolicy,
      // The function reaches private tasks (Stagehand, files, claims) over the VPC.
      ...(mode === 'prod' || !publicTasks ? { vpc: this.network.vpc } : {}),
      ...(props.readyTimeoutSeconds !== undefined ? { readyTimeoutSeconds: props.readyTimeoutSeconds } : {}),
      ...(props.unsupportedFields ? { unsupportedFields: props.unsupportedFields } : {}),
      ...(props.model ? { model: modelOf(this, props.model) } : {}),
    });
    if (!publicTasks && this.api.securityGroup) {
      this.browsers.admitConnectionsFrom(this.api.securityGroup, 'The API function (Stagehand, files, claims)');
    }
    if (edgeMode) {
      this.gateway = new WallcrawlerConnectGateway(this, 'Gateway', {
        vpc: this.network.vpc,
        cluster: this.browsers.cluster,
        image: this.browsers.image,
        data: this.data,
        connectSecret: this.connectSecret,
        size: props.gateway ?? (mode === 'prod' ? { min: 2, max: 10 } : { min: 1, max: 2 }),
        logRetention,
        removalPolicy,
      });
      this.browsers.admitConnectionsFrom(this.gateway.securityGroup, 'The connect gateway (relays CDP)');
    }
    const waf = props.waf ?? (mode === 'prod' ? 'create' : 'none');
    this.edge = new WallcrawlerEdge(this, 'Edge', {
      restApi: this.api.restApi,
      stageName: API_STAGE,
      originSecret: this.originSecret,
      originSecretHeader: ORIGIN_SECRET_HEADER,
      ...(this.gateway ? { connectLoadBalancer: this.gateway.loadBalancer } : {}),
      ...(waf !== 'none' ? { waf } : {}),
    });
    if (this.gateway) {
      this.gateway.admitCloudFront(this.edge.distribution);
      // Sessions are handed out on the distribution: `wss://<domain>/devtools/browser?signingKey=…`.
      this.api.function.addEnvironment(AWS_API_ENV.connectBaseUrl, this.edge.url);
      this.gateway.setPublicUrl(this.edge.url);
    }

    new CfnOutput(this, 'ApiUrl', { value: this.edge.url, description: 'Base URL for clients (BROWSERBASE_BASE_URL)' });
    new CfnOutput(this, 'ApiEndpoint', {
      value: this.api.endpoint,
      description: "The API's own endpoint, behind CloudFront (it refuses requests without CloudFront's origin secret)",
    });
    new CfnOutput(this, 'SessionsTable', { value: this.data.sessions.tableName });
    new CfnOutput(this, 'ProjectsTable', { value: this.data.projects.tableName });
    new CfnOutput(this, 'ApiKeysTable', { value: this.data.apiKeys.tableName });
    new CfnOutput(this, 'BlobBucket', { value: this.blobs.bucket.bucketName });
    new CfnOutput(this, 'Cluster', { value: this.browsers.cluster.clusterName });
    // What `wallcrawler projects model set --api-key-stdin` seals a project's model key under (its ARN, not its value).
    new CfnOutput(this, 'ContextKeySecretArn', { value: this.contextKey.secretArn });
  }
}
