import { DescribeServicesCommand, type ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { type Logger, silentLogger } from '@wallcrawler/contracts';
import type { PoolTask, TaskTable } from '@wallcrawler/controller/aws';

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
 * schedule (each claim also grows it at once: `replenishWarmPool`). Shrinking stops only idle tasks: a claimed task protects itself from scale-in.
 */
export async function scaleWarmPool({
  ecs,
  cluster,
  service,
  tasks,
  size,
  logger = silentLogger,
}: WarmPoolScaling): Promise<WarmPoolDecision> {
  return resize({ ecs, cluster, service, tasks, size, logger }, await tasks.census(), false);
}

/**
 * Asks for a replacement of the pool task a create just claimed, at once rather than at the next scheduled run:
 * the same sizing as `scaleWarmPool`, counting the claimed task as busy even where the index (eventually
 * consistent) does not show the claim yet, and only ever growing the service (a claim never shrinks it: the
 * schedule does, and a census older than another create's claim must not undo that one's replacement).
 */
export async function replenishWarmPool(scaling: WarmPoolScaling, claimed: PoolTask): Promise<WarmPoolDecision> {
  const census = (await scaling.tasks.census()).filter((t) => t.taskArn !== claimed.taskArn);
  census.push({ ...claimed, status: 'CLAIMED' });
  return resize(scaling, census, true);
}

async function resize(
  { ecs, cluster, service, size, logger = silentLogger }: WarmPoolScaling,
  census: PoolTask[],
  growOnly: boolean,
): Promise<WarmPoolDecision> {
  const busy = census.filter((t) => t.status === 'CLAIMED' && t.service === service).length;
  const idleElsewhere = census.filter((t) => t.status === 'IDLE' && t.service !== service).length;
  const idle = census.filter((t) => t.status === 'IDLE').length;
  const wanted = busy + Math.max(0, size.targetIdle - idleElsewhere);
  const sized = Math.min(size.max, Math.max(size.min, wanted));
  const { services = [] } = await ecs.send(new DescribeServicesCommand({ cluster, services: [service] }));
  const previous = services[0]?.desiredCount ?? 0;
  const desired = growOnly ? Math.max(previous, sized) : sized;
  if (desired !== previous) {
    await ecs.send(new UpdateServiceCommand({ cluster, service, desiredCount: desired }));
    logger.info({ service, previous, desired, idle, busy, growOnly }, 'resized the warm pool');
  }
  return { idle, busy, previous, desired };
}
