import { DescribeServicesCommand, type ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { type Logger, silentLogger } from '@wallcrawler/contracts';
import type { TaskTable } from '@wallcrawler/controller/aws';

/** The warm pool's size: a floor and a ceiling of tasks, and how many to keep idle between them. */
export interface WarmPoolSize {
  min: number;
  max: number;
  /** Idle tasks to keep ready for the next creates. */
  targetIdle: number;
}

export interface WarmPoolScaling {
  ecs: ECSClient;
  cluster: string;
  /** The ECS service whose tasks are the pool. */
  service: string;
  tasks: TaskTable;
  size: WarmPoolSize;
  logger?: Logger;
}

export interface WarmPoolDecision {
  idle: number;
  busy: number;
  previous: number;
  desired: number;
}

/**
 * Sizes the pool's service on the number of idle tasks: as many tasks as serve sessions now, plus `targetIdle`
 * ready ones (less the idle tasks that joined the pool from a create that gave up), within [min, max]. Run on a
 * schedule. Shrinking stops only idle tasks: a claimed task protects itself from scale-in.
 */
export async function scaleWarmPool({
  ecs,
  cluster,
  service,
  tasks,
  size,
  logger = silentLogger,
}: WarmPoolScaling): Promise<WarmPoolDecision> {
  const census = await tasks.census();
  const busy = census.filter((t) => t.status === 'CLAIMED' && t.service === service).length;
  const idleElsewhere = census.filter((t) => t.status === 'IDLE' && t.service !== service).length;
  const idle = census.filter((t) => t.status === 'IDLE').length;
  const wanted = busy + Math.max(0, size.targetIdle - idleElsewhere);
  const desired = Math.min(size.max, Math.max(size.min, wanted));
  const { services = [] } = await ecs.send(new DescribeServicesCommand({ cluster, services: [service] }));
  const previous = services[0]?.desiredCount ?? 0;
  if (desired !== previous) {
    await ecs.send(new UpdateServiceCommand({ cluster, service, desiredCount: desired }));
    logger.info({ service, previous, desired, idle, busy }, 'resized the warm pool');
  }
  return { idle, busy, previous, desired };
}
