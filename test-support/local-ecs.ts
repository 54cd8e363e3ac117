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
 *
 * This file is the endpoint's API and assembly. Its parts: `local-ecs-tasks.ts` (the task runner: processes,
 * containers' teardown, services, events), `local-ecs-protocol.ts` (the HTTP wire protocols) and
 * `local-ecs-address-block.ts` (each endpoint's block of loopback addresses).
 */
import type { AddressInfo } from 'node:net';
import { tempDir } from './index.js';
import { claimAddressBlock } from './local-ecs-address-block.js';
import { createEcsProtocol } from './local-ecs-protocol.js';
import { createTaskRunner } from './local-ecs-tasks.js';

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
  /** Where each task's output goes as it comes, besides `LocalTaskView.output` (a container's log driver). */
  onOutput?: (taskArn: string, chunk: string) => void;
}

export interface LocalEcs {
  /** The endpoint for `new ECSClient({ endpoint })`. */
  endpoint: string;
  /** Every task run so far. */
  tasks(): readonly LocalTaskView[];
  /** The input of every RunTask call, as the client sent it. */
  runTaskCalls(): readonly Record<string, unknown>[];
  /** The input of every UpdateService call (a service resized), as the client sent it. */
  updateServiceCalls(): readonly Record<string, unknown>[];
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

export async function startLocalEcs({
  taskDefinitions,
  startDelayMs = 0,
  onTaskStateChange,
  onOutput,
}: LocalEcsOptions): Promise<LocalEcs> {
  const root = tempDir('wc-ecs-');
  // Tasks get addresses of a 127.x.y.0/24 block of their own: another endpoint (a parallel test file in
  // another process) holds another block, so two tasks never share an address and its port 9223.
  const block = await claimAddressBlock();
  const runner = createTaskRunner({
    root: root.path,
    addressPrefix: block.prefix,
    startDelayMs,
    onTaskStateChange,
    onOutput,
  });
  const { tasks } = runner;
  const { server, runTaskCalls, updateServiceCalls, eniLookups, injected } = createEcsProtocol(runner, taskDefinitions);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  runner.setEndpoint(endpoint);

  return {
    endpoint,
    tasks: () => [...tasks.values()].map(runner.view),
    eniLookups: () => [...eniLookups],
    runTaskCalls: () => [...runTaskCalls],
    updateServiceCalls: () => [...updateServiceCalls],
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
      block.release();
      await runner.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      root.remove();
    },
  };
}
