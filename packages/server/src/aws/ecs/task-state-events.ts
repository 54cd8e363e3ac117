import { CONTROLLER_ENV, type Logger, silentLogger } from '@wallcrawler/contracts';
import type { TaskTable } from '@wallcrawler/controller/aws';
import { z } from 'zod';
import type { Store } from '../../ports/store.js';

/** The parts of EventBridge's "ECS Task State Change" event that matter here; the rest is ignored. */
const taskStateChange = z.object({
  'detail-type': z.literal('ECS Task State Change'),
  source: z.literal('aws.ecs'),
  detail: z.object({
    taskArn: z.string().min(1),
    lastStatus: z.string(),
    stopCode: z.string().optional(),
    stoppedReason: z.string().optional(),
    startedBy: z.string().optional(),
    containers: z.array(z.object({ exitCode: z.number().optional(), reason: z.string().optional() })).optional(),
    overrides: z
      .object({
        containerOverrides: z
          .array(z.object({ environment: z.array(z.object({ name: z.string(), value: z.string() })).optional() }))
          .optional(),
      })
      .optional(),
  }),
});

export type TaskStateOutcome = 'ignored' | 'not-a-session' | 'unknown-session' | 'already-ended' | 'ended';

/** The session a task served: from its env overrides, or from `startedBy` (`wallcrawler:<id>`). */
function sessionIdOf(detail: z.infer<typeof taskStateChange>['detail']): string | undefined {
  for (const override of detail.overrides?.containerOverrides ?? []) {
    const found = override.environment?.find((e) => e.name === CONTROLLER_ENV.sessionId)?.value;
    if (found) return found;
  }
  const started = /^wallcrawler:(.+)$/.exec(detail.startedBy ?? '');
  return started?.[1];
}

/**
 * Handles an "ECS Task State Change" event: when a task stops while its session is still PENDING or RUNNING (an
 * OOM kill, a crashed container, a task stopped by hand), the controller could not record the ending itself,
 * so it is recorded here as ERROR with ECS's reason. Idempotent, and safe for events that are duplicated, out of
 * order, malformed or about tasks that are not Wallcrawler's: those change nothing.
 */
export async function handleTaskStateChange(
  event: unknown,
  store: Store,
  logger: Logger = silentLogger,
  /** The warm pool: which session a pool task was claimed for (its env names none). */
  pool?: TaskTable,
): Promise<TaskStateOutcome> {
  const parsed = taskStateChange.safeParse(event);
  if (!parsed.success) {
    logger.warn(
      { problems: parsed.error.issues.map((i) => i.path.join('.')) },
      'not an ECS task state change; ignored',
    );
    return 'ignored';
  }
  const { detail } = parsed.data;
  // Only the final state says the task is gone; earlier ones (and late ones out of order) change nothing.
  if (detail.lastStatus !== 'STOPPED') return 'ignored';
  let sessionId = sessionIdOf(detail);
  if (!sessionId && pool) {
    const task = await pool.get(detail.taskArn);
    // A pool task that died idle leaves the pool; one that died serving ends its session below.
    if (task && task.status !== 'RETIRED') await pool.finish(detail.taskArn);
    sessionId = task?.sessionId;
  }
  if (!sessionId) return 'not-a-session';
  const session = await store.getSession(sessionId);
  if (!session) return 'unknown-session';
  if (session.status !== 'PENDING' && session.status !== 'RUNNING') return 'already-ended';
  // An event about another task than the one serving the session (a stale one) changes nothing.
  if (session.taskArn && session.taskArn !== detail.taskArn) return 'ignored';
  const exitCode = detail.containers?.find((c) => c.exitCode !== undefined)?.exitCode;
  const why = [
    detail.stoppedReason ?? detail.stopCode ?? 'stopped',
    exitCode === undefined ? undefined : `exit code ${exitCode}`,
  ]
    .filter(Boolean)
    .join(', ');
  const ended = await store.endSession(sessionId, {
    status: 'ERROR',
    endedAt: new Date(),
    endReason: `The browser's task stopped before the session ended (${why})`,
  });
  logger.warn({ sessionId, taskArn: detail.taskArn, reason: ended?.endReason }, 'session ended by its task stopping');
  return ended?.endReason?.startsWith("The browser's task stopped") ? 'ended' : 'already-ended';
}
