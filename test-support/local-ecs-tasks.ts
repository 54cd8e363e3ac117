/**
 * The local ECS endpoint's task runner: what ECS's scheduler and a Fargate container do. It runs each task as the
 * controller's real entry command in a process of its own, with a loopback address, a directory and the environment
 * its task definition and overrides give it; tears the container down when the process ends (killing what it left,
 * removing its directory); keeps each service at its desired count; and delivers an EventBridge "ECS Task State
 * Change" event on each change. The wire protocol that drives it is in `local-ecs-protocol.ts`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { findProcesses, listSessionDirs } from '@wallcrawler/controller';
import type { EcsEvent, LocalTaskDefinition, LocalTaskView } from './local-ecs.js';

export const ACCOUNT = '000000000000';
export const REGION = 'us-east-1';

export interface LocalService {
  name: string;
  cluster: string;
  definition: LocalTaskDefinition;
  desiredCount: number;
}

export interface LocalTask {
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

export interface TaskRunnerOptions {
  /** Where the tasks' directories go. */
  root: string;
  /** The `a.b.c` of the 127.a.b.c/24 block the tasks' addresses come from. */
  addressPrefix: string;
  startDelayMs: number;
  onTaskStateChange: ((event: EcsEvent) => Promise<void> | void) | undefined;
  /** Where each task's output goes besides its `output` (a container's log driver). */
  onOutput?: ((taskArn: string, chunk: string) => void) | undefined;
}

export type TaskRunner = ReturnType<typeof createTaskRunner>;

export function createTaskRunner({
  root,
  addressPrefix,
  startDelayMs,
  onTaskStateChange,
  onOutput,
}: TaskRunnerOptions) {
  const tasks = new Map<string, LocalTask>();
  const services = new Map<string, LocalService>();
  const deliveries = new Set<Promise<void>>();
  let nextIp = 1;
  // The endpoint's address, which a task's environment points its ECS, EC2, metadata and agent calls at. Known
  // once the endpoint listens, which is before any task can be launched.
  let endpoint = '';
  const eniOf = (task: LocalTask) => `eni-${task.id.slice(0, 17)}`;

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
      AWS_ENDPOINT_URL_ECS: endpoint,
      AWS_ENDPOINT_URL_EC2: endpoint,
      ECS_CONTAINER_METADATA_URI_V4: `${endpoint}/v4/${task.id}`,
      ECS_AGENT_URI: `${endpoint}/agent/${task.id}`,
      ...environmentOf(task),
    };
    mkdirSync(env.TMPDIR, { recursive: true });
    const child = spawn(command, args, { cwd: container.workingDirectory, env, stdio: ['ignore', 'pipe', 'pipe'] });
    task.process = child;
    task.lastStatus = 'RUNNING';
    task.startedAt = new Date();
    const collect = (d: Buffer) => {
      task.output += d;
      onOutput?.(task.arn, d.toString());
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
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
      ip: `${addressPrefix}.${1 + (n % 250)}`,
      dir: join(root, id.slice(0, 8)),
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
    tasks,
    services,
    eniOf,
    describe,
    describeService,
    view,
    launch,
    stopTask,
    reconcile,
    setEndpoint(url: string) {
      endpoint = url;
    },
    /** Stops the scheduler and every task (SIGTERM, then SIGKILL after its stop timeout); waits for their events. */
    async close() {
      clearInterval(reconciler);
      services.clear();
      for (const task of tasks.values()) stopTask(task, 'ServiceSchedulerInitiated', 'The endpoint is closing');
      await Promise.all([...tasks.values()].map((t) => t.stopped));
      await Promise.all([...deliveries]);
    },
  };
}
