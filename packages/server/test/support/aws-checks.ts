import type Browserbase from '@browserbasehq/sdk';
import { findProcesses } from '@wallcrawler/controller';
import { waitFor } from '@wallcrawler/test-support';
import { expect } from 'vitest';
import type { AwsTopology } from './aws-topology.js';

/**
 * What each distributed test checks after itself: the sessions still running released, every task stopped,
 * nothing of any task left (no process after a clean exit, none of its data dir at all), and the project's
 * admission counter equal to its active sessions.
 */
export async function expectNothingLeft(
  aws: AwsTopology,
  bb: Browserbase,
  { thenStop }: { thenStop?: () => Promise<void> } = {},
): Promise<void> {
  for (const s of await bb.sessions.list({ status: 'RUNNING' })) {
    await bb.sessions.update(s.id, { status: 'REQUEST_RELEASE', projectId: aws.projectId });
  }
  // What else the test must stop before every task can (idle warm-pool tasks never stop by themselves).
  await thenStop?.();
  // A release of a session that keeps something waits for its task's close path, which may take a while here.
  await waitFor(() => aws.ecs.tasks().every((t) => t.lastStatus === 'STOPPED'), {
    timeout: 30_000,
    message: 'every task to stop',
  });
  for (const task of aws.ecs.tasks()) {
    expect(task.leaked, `processes task ${task.taskArn} left after a clean exit`).toEqual([]);
    expect(findProcesses(task.dataDir), `processes of task ${task.taskArn}`).toEqual([]);
  }
  expect(await aws.activeCounter()).toBe((await aws.store.listActiveSessions()).length);
}

/** The task that ran the session. @throws when no task did */
export function taskOfSession(aws: AwsTopology, sessionId: string) {
  const task = aws.ecs.tasks().find((t) => t.environment.WALLCRAWLER_SESSION_ID === sessionId);
  if (!task) throw new Error(`no task ran session ${sessionId}`);
  return task;
}
