/**
 * A small local ECS endpoint for the distributed tests. No ECS emulator exists, and no container engine runs
 * here, so this speaks the part of ECS's JSON protocol that Wallcrawler uses (`RunTask`, `StopTask`,
 * `DescribeTasks`, and the warm pool's `CreateService`, `UpdateService`, `DescribeServices`) to the real `@aws-sdk/client-ecs`, and runs each task as what a Fargate task would run: the
 * controller's real entry command, as a separate process, with exactly the environment the task definition and
 * the overrides give it. What the container itself would provide is emulated:
 *
 * - its network: each task gets its own loopback address (127.0.x.y), served by the task metadata endpoint v4
 *   (`ECS_CONTAINER_METADATA_URI_V4`), so every controller listens on the same port 9223, as in Fargate;
 * - its filesystem: each task gets a directory of its own (its data dir and TMPDIR), removed when it stops;
 * - its teardown: when the task stops, every process it left is killed, as a container's end would;
 * - the ECS agent's task scale-in protection (`ECS_AGENT_URI`), which a service's scale-in respects.
 *
 * When a task's process exits, the task becomes STOPPED and an EventBridge "ECS Task State Change" event is
 * delivered to `onTaskStateChange`, as the stack's rule delivers it to the task-state Lambda.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { findProcesses, listSessionDirs } from '@wallcrawler/controller';
import { tempDir } from './index.js';

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113.';

export interface LocalTaskDefinition {
  /** The family, or `family:revision`; RunTask may name it either way or by ARN. */
  family: string;
  networkMode: 'awsvpc';
  container: {
    name: string;
    /** The container's command: the controller's entry command. */
    command: string[];
    /** Working directory of the command. */
    workingDirectory: string;
    /** The task definition's environment (and its `secrets`, which ECS resolves into env). */
    environment: Record<string, string>;
  };
  /** ECS's `stopTimeout`: how long after SIGTERM a stopping container is killed. @default 30 s (ECS's) */
  stopTimeoutMs?: number;
}

export interface EcsEvent {
  version: '0';
  id: string;
  'detail-type': 'ECS Task State Change';
  source: 'aws.ecs';
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

export interface LocalEcsOptions {
  taskDefinitions: LocalTaskDefinition[];
  /** Delay between RunTask and the container's start (ENI attachment, image pull). @default 0 */
  startDelayMs?: number;
  /** Where task-state events go (the task-state handler). */
  onTaskStateChange?: (event: EcsEvent) => Promise<void> | void;
}

interface LocalService {
  name: string;
  cluster: string;
  definition: LocalTaskDefinition;
  desiredCount: number;
}

interface LocalTask {
  id: string;
  arn: string;
  clusterArn: string;
  definition: LocalTaskDefinition;
  ip: string;
  dir: string;
  lastStatus: 'PROVISIONING' | 'PENDING' | 'RUNNING' | 'STOPPED';
  desiredStatus: 'RUNNING' | 'STOPPED';
  overrides: { containerOverrides?: { name?: string; environment?: { name: string; value: string }[] }[] };
  startedBy?: string;
  group?: string;
  createdAt: Date;
  startedAt?: Date;
  stoppedAt?: Date;
  stopCode?: string;
  stoppedReason?: string;
  exitCode?: number | null;
  process?: ChildProcess;
  output: string;
  version: number;
  /** Processes the container's teardown had to kill after a clean exit: a controller that leaked. */
  leaked: string[];
  /** The service that started it, if one did. */
  service?: string;
  /** Scale-in protection, set by the task through the agent endpoint. */
  protectedUntil?: number;
  stopped: Promise<void>;
  markStopped: () => void;
}

export interface LocalEcs {
  /** The endpoint for `new ECSClient({ endpoint })`. */
  endpoint: string;
  /** Every task run so far. */
  tasks(): readonly LocalTaskView[];
  /** The input of every RunTask call, as the client sent it. */
  runTaskCalls(): readonly Record<string, unknown>[];
  /** The network interfaces whose public address was asked for (EC2 DescribeNetworkInterfaces). */
  eniLookups(): readonly string[];
  /** Injects failures into the next RunTask calls: capacity failures (in `failures`) or throttling errors. */
  failNextRunTasks(count: number, kind: 'capacity' | 'throttling'): void;
  /** Sends SIGKILL to a task's process, as an OOM kill or a crash would end it. */
  killTask(taskArn: string): void;
  /** The tasks that turned scale-in protection on (claimed warm-pool tasks). */
  protectedTasks(): string[];
  /** Resolves once the task is STOPPED and its event delivered. */
  waitStopped(taskArn: string): Promise<void>;
  /** Stops every task (SIGTERM, then SIGKILL after its stop timeout) and the endpoint. */
  close(): Promise<void>;
}

export interface LocalTaskView {
  taskArn: string;
  ip: string;
  lastStatus: string;
  dataDir: string;
  exitCode: number | null | undefined;
  stoppedReason: string | undefined;
  environment: Record<string, string>;
  output: string;
  leaked: readonly string[];
  service: string | undefined;
}

/**
 * Reserves a 127.x.y.0/24 block for one endpoint's tasks by listening on its `.254:9223` for the endpoint's
 * life: a block whose sentinel is taken belongs to someone else.
 */
async function claimAddressBlock(): Promise<{ prefix: string; release(): void }> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const prefix = `127.${1 + randomInt(250)}.${randomInt(250)}`;
    const sentinel = createNetServer();
    const taken = await new Promise<boolean>((resolve) => {
      sentinel.once('error', () => resolve(true));
      sentinel.listen(9223, `${prefix}.254`, () => resolve(false));
    });
    if (!taken) return { prefix, release: () => sentinel.close() };
  }
  throw new Error('No free 127.x.y.0/24 block for local ECS tasks');
}

class EcsError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export async function startLocalEcs({
  taskDefinitions,
  startDelayMs = 0,
  onTaskStateChange,
}: LocalEcsOptions): Promise<LocalEcs> {
  const root = tempDir('wc-ecs-');
  const tasks = new Map<string, LocalTask>();
  let nextIp = 1;
  // Tasks get addresses of a 127.x.y.0/24 block of their own: another endpoint (a parallel test file in
  // another process) holds another block, so two tasks never share an address and its port 9223.
  const block = await claimAddressBlock();
  const injected: ('capacity' | 'throttling')[] = [];
  const runTaskCalls: Record<string, unknown>[] = [];
  const services = new Map<string, LocalService>();
  const eniLookups: string[] = [];
  const eniOf = (task: LocalTask) => `eni-${task.id.slice(0, 17)}`;
  const deliveries = new Set<Promise<void>>();
  let port = 0;

  const definitionFor = (name: string): LocalTaskDefinition => {
    const family = name.replace(/^arn:aws:ecs:[^:]+:\d+:task-definition\//, '').replace(/:\d+$/, '');
    const definition = taskDefinitions.find((d) => d.family === family);
    if (!definition) throw new EcsError('ClientException', `TaskDefinition not found: ${name}`);
    return definition;
  };

  const environmentOf = (task: LocalTask): Record<string, string> => {
    const env: Record<string, string> = { ...task.definition.container.environment };
    for (const override of task.overrides.containerOverrides ?? []) {
      if (override.name !== task.definition.container.name) continue;
      for (const { name, value } of override.environment ?? []) env[name] = value;
    }
    return env;
  };

  const describe = (task: LocalTask) => ({
    taskArn: task.arn,
    clusterArn: task.clusterArn,
    taskDefinitionArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${task.definition.family}:1`,
    lastStatus: task.lastStatus,
    desiredStatus: task.desiredStatus,
    launchType: 'FARGATE',
    createdAt: task.createdAt.getTime() / 1000,
    ...(task.startedAt ? { startedAt: task.startedAt.getTime() / 1000 } : {}),
    ...(task.stoppedAt ? { stoppedAt: task.stoppedAt.getTime() / 1000 } : {}),
    ...(task.stopCode ? { stopCode: task.stopCode } : {}),
    ...(task.stoppedReason ? { stoppedReason: task.stoppedReason } : {}),
    ...(task.startedBy ? { startedBy: task.startedBy } : {}),
    ...(task.group ? { group: task.group } : {}),
    overrides: task.overrides,
    version: task.version,
    attachments: [
      {
        type: 'ElasticNetworkInterface',
        status: 'ATTACHED',
        details: [
          { name: 'networkInterfaceId', value: eniOf(task) },
          { name: 'privateIPv4Address', value: task.ip },
        ],
      },
    ],
    containers: [
      {
        name: task.definition.container.name,
        lastStatus: task.lastStatus,
        ...(task.exitCode !== undefined && task.exitCode !== null ? { exitCode: task.exitCode } : {}),
        networkInterfaces: [{ privateIpv4Address: task.ip }],
      },
    ],
  });

  const emit = (task: LocalTask) => {
    task.version++;
    if (!onTaskStateChange) return;
    const event: EcsEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'ECS Task State Change',
      source: 'aws.ecs',
      account: ACCOUNT,
      time: new Date().toISOString(),
      region: REGION,
      resources: [task.arn],
      detail: describe(task),
    };
    const delivery = Promise.resolve()
      .then(() => onTaskStateChange(event))
      .catch((error: unknown) => {
        task.output += `\n[local-ecs] the task-state handler failed: ${String(error)}\n`;
      });
    deliveries.add(delivery);
    void delivery.finally(() => deliveries.delete(delivery));
    return delivery;
  };

  /** The container's end: kill what its process left, remove its filesystem. */
  const teardown = async (task: LocalTask, clean: boolean) => {
    const alive = () => findProcesses(task.dir).filter((p) => p.state !== 'Z');
    const left = alive();
    if (clean) task.leaked.push(...left.map((p) => `${p.pid} ${p.comm}`));
    for (const p of left) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {}
    }
    // A killed browser may still be writing its profile for a moment: wait for its processes to be gone.
    for (let i = 0; i < 100 && alive().length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    try {
      for (const d of listSessionDirs(task.dir)) await rm(d.path, { recursive: true, force: true, maxRetries: 10 });
      await rm(task.dir, { recursive: true, force: true, maxRetries: 10 });
    } catch (error) {
      task.output += `\n[local-ecs] could not remove the task's directory: ${String(error)}\n`;
    }
  };

  const stopTask = (task: LocalTask, code: string, reason: string) => {
    if (task.desiredStatus === 'STOPPED') return;
    task.desiredStatus = 'STOPPED';
    task.stopCode = code;
    task.stoppedReason = reason;
    const child = task.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      if (!child) {
        // Stopped before its container started.
        task.lastStatus = 'STOPPED';
        task.stoppedAt = new Date();
        void teardown(task, false)
          .then(() => emit(task))
          .finally(task.markStopped);
      }
      return;
    }
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), task.definition.stopTimeoutMs ?? 30_000);
    child.once('exit', () => clearTimeout(timer));
  };

  const startContainer = (task: LocalTask) => {
    if (task.desiredStatus === 'STOPPED') return;
    const { container } = task.definition;
    const [command, ...args] = container.command as [string, ...string[]];
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: task.dir,
      TMPDIR: join(task.dir, 'tmp'),
      // The container's own filesystem: its session directories live under it.
      WALLCRAWLER_DATA_DIR: join(task.dir, 'data'),
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: REGION,
      // This endpoint answers the ECS and EC2 calls a task makes about itself.
      AWS_ENDPOINT_URL_ECS: `http://127.0.0.1:${port}`,
      AWS_ENDPOINT_URL_EC2: `http://127.0.0.1:${port}`,
      ECS_CONTAINER_METADATA_URI_V4: `http://127.0.0.1:${port}/v4/${task.id}`,
      ECS_AGENT_URI: `http://127.0.0.1:${port}/agent/${task.id}`,
      ...environmentOf(task),
    };
    mkdirSync(env.TMPDIR, { recursive: true });
    const child = spawn(command, args, { cwd: container.workingDirectory, env, stdio: ['ignore', 'pipe', 'pipe'] });
    task.process = child;
    task.lastStatus = 'RUNNING';
    task.startedAt = new Date();
    child.stdout?.on('data', (d: Buffer) => (task.output += d));
    child.stderr?.on('data', (d: Buffer) => (task.output += d));
    void emit(task);
    child.once('exit', (code, signal) => {
      task.exitCode = code ?? (signal ? 128 + (signal === 'SIGKILL' ? 9 : 15) : null);
      if (!task.stopCode) {
        task.stopCode = 'EssentialContainerExited';
        task.stoppedReason = 'Essential container in task exited';
      }
      task.desiredStatus = 'STOPPED';
      task.lastStatus = 'STOPPED';
      task.stoppedAt = new Date();
      void teardown(task, code === 0 || code === 1)
        .then(() => emit(task))
        .finally(task.markStopped);
    });
  };

  /** Creates a task and schedules its container's start. */
  const launch = (
    definition: LocalTaskDefinition,
    cluster: string,
    extra: { overrides: LocalTask['overrides']; startedBy?: string; group?: string; service?: string },
  ): LocalTask => {
    const id = randomBytes(16).toString('hex');
    const n = nextIp++;
    let markStopped!: () => void;
    const stopped = new Promise<void>((resolve) => {
      markStopped = resolve;
    });
    const task: LocalTask = {
      id,
      arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task/${cluster}/${id}`,
      clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${cluster}`,
      definition,
      ip: `${block.prefix}.${1 + (n % 250)}`,
      dir: join(root.path, id.slice(0, 8)),
      lastStatus: 'PROVISIONING',
      desiredStatus: 'RUNNING',
      createdAt: new Date(),
      output: '',
      version: 1,
      leaked: [],
      stopped,
      markStopped,
      ...extra,
    };
    mkdirSync(task.dir, { recursive: true });
    tasks.set(task.arn, task);
    setTimeout(() => startContainer(task), startDelayMs);
    return task;
  };

  /**
   * Keeps each service at its desired count, as ECS's scheduler does: starts tasks while too few run, and stops
   * unprotected ones (idle first: those that never asked for protection) while too many do.
   */
  const reconcile = () => {
    for (const service of services.values()) {
      const live = [...tasks.values()].filter((t) => t.service === service.name && t.desiredStatus === 'RUNNING');
      for (let i = live.length; i < service.desiredCount; i++) {
        launch(service.definition, service.cluster, {
          overrides: {},
          group: `service:${service.name}`,
          startedBy: `ecs-svc/${service.name}`,
          service: service.name,
        });
      }
      const excess = live.length - service.desiredCount;
      if (excess > 0) {
        const stoppable = live.filter((t) => !t.protectedUntil || t.protectedUntil < Date.now()).slice(0, excess);
        for (const t of stoppable)
          stopTask(t, 'ServiceSchedulerInitiated', 'Scaling activity initiated by (deployment)');
      }
    }
  };
  const reconciler = setInterval(reconcile, 250);

  const actions: Record<string, (input: Record<string, unknown>) => unknown> = {
    RunTask(input) {
      runTaskCalls.push(input);
      const definition = definitionFor(String(input.taskDefinition ?? ''));
      const awsvpc = (input.networkConfiguration as { awsvpcConfiguration?: { subnets?: string[] } } | undefined)
        ?.awsvpcConfiguration;
      if (!awsvpc?.subnets?.length) {
        // ECS's own answer to the original's bug: Fargate's awsvpc mode needs a network configuration.
        throw new EcsError(
          'InvalidParameterException',
          "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
        );
      }
      const failure = injected.shift();
      if (failure === 'throttling') throw new EcsError('ThrottlingException', 'Rate exceeded');
      if (failure === 'capacity') {
        return {
          tasks: [],
          failures: [
            {
              reason:
                'Capacity is unavailable at this time. Please try again later or in a different availability zone',
            },
          ],
        };
      }
      const task = launch(definition, String(input.cluster ?? 'default'), {
        overrides: (input.overrides as LocalTask['overrides']) ?? {},
        ...(typeof input.startedBy === 'string' ? { startedBy: input.startedBy } : {}),
        ...(typeof input.group === 'string' ? { group: input.group } : {}),
      });
      return { tasks: [describe(task)], failures: [] };
    },
    StopTask(input) {
      const task = tasks.get(String(input.task ?? ''));
      if (!task) throw new EcsError('InvalidParameterException', 'The referenced task was not found.');
      stopTask(task, 'UserInitiated', typeof input.reason === 'string' ? input.reason : 'Task stopped by user');
      return { task: describe(task) };
    },
    CreateService(input) {
      const name = String(input.serviceName ?? '');
      if (!name) throw new EcsError('InvalidParameterException', 'serviceName is required');
      services.set(name, {
        name,
        cluster: String(input.cluster ?? 'default'),
        definition: definitionFor(String(input.taskDefinition ?? '')),
        desiredCount: Number(input.desiredCount ?? 0),
      });
      reconcile();
      return { service: describeService(services.get(name) as LocalService) };
    },
    UpdateService(input) {
      const service = services.get(String(input.service ?? ''));
      if (!service) throw new EcsError('ServiceNotFoundException', 'Service not found.');
      if (input.desiredCount !== undefined) service.desiredCount = Number(input.desiredCount);
      reconcile();
      return { service: describeService(service) };
    },
    DescribeServices(input) {
      const names = (input.services as string[] | undefined) ?? [];
      return {
        services: names.flatMap((n) => (services.has(n) ? [describeService(services.get(n) as LocalService)] : [])),
        failures: names.filter((n) => !services.has(n)).map((arn) => ({ arn, reason: 'MISSING' })),
      };
    },
    DescribeTasks(input) {
      const arns = (input.tasks as string[] | undefined) ?? [];
      const found = arns.map((arn) => tasks.get(arn));
      return {
        tasks: found.filter((t): t is LocalTask => t !== undefined).map(describe),
        failures: arns.filter((_, i) => !found[i]).map((arn) => ({ arn, reason: 'MISSING' })),
      };
    },
  };

  const describeService = (service: LocalService) => {
    const live = [...tasks.values()].filter((t) => t.service === service.name && t.desiredStatus === 'RUNNING');
    return {
      serviceName: service.name,
      serviceArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${service.cluster}/${service.name}`,
      status: 'ACTIVE',
      desiredCount: service.desiredCount,
      runningCount: live.filter((t) => t.lastStatus === 'RUNNING').length,
      pendingCount: live.filter((t) => t.lastStatus !== 'RUNNING').length,
    };
  };

  /** The ECS agent's endpoint in a task: only task scale-in protection. */
  const handleAgent = (request: IncomingMessage, response: ServerResponse, body: string): boolean => {
    const match = /^\/agent\/([0-9a-f]+)\/task-protection\/v1\/state$/.exec(request.url ?? '');
    if (!match) return false;
    const task = [...tasks.values()].find((t) => t.id === match[1]);
    if (!task || request.method !== 'PUT') {
      response.writeHead(task ? 405 : 404).end();
      return true;
    }
    const { ProtectionEnabled, ExpiresInMinutes = 120 } = JSON.parse(body || '{}') as {
      ProtectionEnabled?: boolean;
      ExpiresInMinutes?: number;
    };
    if (ProtectionEnabled) task.protectedUntil = Date.now() + ExpiresInMinutes * 60_000;
    else delete task.protectedUntil;
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        protection: {
          ProtectionEnabled: Boolean(ProtectionEnabled),
          TaskArn: task.arn,
          ...(task.protectedUntil ? { ExpirationDate: new Date(task.protectedUntil).toISOString() } : {}),
        },
      }),
    );
    return true;
  };

  const handleMetadata = (request: IncomingMessage, response: ServerResponse): boolean => {
    const match = /^\/v4\/([0-9a-f]+)(\/task)?$/.exec(request.url ?? '');
    if (!match) return false;
    const task = [...tasks.values()].find((t) => t.id === match[1]);
    if (!task) {
      response.writeHead(404).end();
      return true;
    }
    const container = {
      Name: task.definition.container.name,
      Networks: [{ NetworkMode: 'awsvpc', IPv4Addresses: [task.ip] }],
    };
    const body = match[2]
      ? {
          TaskARN: task.arn,
          Cluster: task.clusterArn,
          LaunchType: 'FARGATE',
          ...(task.service ? { ServiceName: task.service } : {}),
          Containers: [container],
        }
      : container;
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    return true;
  };

  /** EC2's query protocol, for the one call a controller makes: its network interface's public address. */
  const handleEc2 = (body: string, response: ServerResponse) => {
    const form = new URLSearchParams(body);
    const requestId = randomUUID();
    if (form.get('Action') !== 'DescribeNetworkInterfaces') {
      response.writeHead(400, { 'content-type': 'text/xml' });
      response.end(
        `<Response><Errors><Error><Code>InvalidAction</Code><Message>Unsupported</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`,
      );
      return;
    }
    const ids = [...form.entries()].filter(([k]) => k.startsWith('NetworkInterfaceId.')).map(([, v]) => v);
    const items = [...tasks.values()]
      .filter((t) => ids.includes(eniOf(t)))
      .map((t) => {
        eniLookups.push(eniOf(t));
        return `<item><networkInterfaceId>${eniOf(t)}</networkInterfaceId><privateIpAddress>${t.ip}</privateIpAddress><association><publicIp>${t.ip}</publicIp></association></item>`;
      });
    response.writeHead(200, { 'content-type': 'text/xml;charset=UTF-8' });
    response.end(
      `<?xml version="1.0" encoding="UTF-8"?><DescribeNetworkInterfacesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>${requestId}</requestId><networkInterfaceSet>${items.join('')}</networkInterfaceSet></DescribeNetworkInterfacesResponse>`,
    );
  };

  const server = createServer((request, response) => {
    if (handleMetadata(request, response)) return;
    let body = '';
    request.on('data', (d: Buffer) => (body += d));
    request.on('end', () => {
      if (handleAgent(request, response, body)) return;
      if (!request.headers['x-amz-target'] && body.includes('Action=')) return handleEc2(body, response);
      const target = String(request.headers['x-amz-target'] ?? '');
      const action = actions[target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : ''];
      const reply = (status: number, payload: unknown, type?: string) => {
        response.writeHead(status, {
          'content-type': 'application/x-amz-json-1.1',
          'x-amzn-requestid': randomUUID(),
          ...(type ? { 'x-amzn-errortype': type } : {}),
        });
        response.end(JSON.stringify(payload));
      };
      try {
        if (!action) throw new EcsError('UnknownOperationException', `Unsupported operation ${target}`);
        reply(200, action(body ? (JSON.parse(body) as Record<string, unknown>) : {}));
      } catch (error) {
        const type = error instanceof EcsError ? error.type : 'ServerException';
        reply(type === 'ServerException' ? 500 : 400, { __type: type, message: (error as Error).message }, type);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;

  const view = (t: LocalTask): LocalTaskView => ({
    taskArn: t.arn,
    ip: t.ip,
    lastStatus: t.lastStatus,
    dataDir: t.dir,
    exitCode: t.exitCode,
    stoppedReason: t.stoppedReason,
    environment: environmentOf(t),
    output: t.output,
    leaked: t.leaked,
    service: t.service,
  });

  return {
    endpoint: `http://127.0.0.1:${port}`,
    tasks: () => [...tasks.values()].map(view),
    eniLookups: () => [...eniLookups],
    runTaskCalls: () => [...runTaskCalls],
    failNextRunTasks(count, kind) {
      for (let i = 0; i < count; i++) injected.push(kind);
    },
    killTask(taskArn) {
      tasks.get(taskArn)?.process?.kill('SIGKILL');
    },
    async waitStopped(taskArn) {
      await tasks.get(taskArn)?.stopped;
    },
    protectedTasks: () => [...tasks.values()].filter((t) => (t.protectedUntil ?? 0) > Date.now()).map((t) => t.arn),
    async close() {
      clearInterval(reconciler);
      block.release();
      services.clear();
      for (const task of tasks.values()) stopTask(task, 'ServiceSchedulerInitiated', 'The endpoint is closing');
      await Promise.all([...tasks.values()].map((t) => t.stopped));
      await Promise.all([...deliveries]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      root.remove();
    },
  };
}
