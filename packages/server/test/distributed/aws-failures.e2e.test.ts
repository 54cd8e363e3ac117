/**
 * How the distributed path fails: a controller with a bad environment, a controller that never becomes
 * healthy, and ECS without capacity. Each create answers with a clear error before the front door's limit, and
 * nothing is left running.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Browserbase from '@browserbasehq/sdk';
import { findProcesses } from '@wallcrawler/controller';
import { tempDir, waitFor } from '@wallcrawler/test-support';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AwsTopology, startAwsTopology } from '../support/aws-topology.js';

async function expectEverythingStopped(aws: AwsTopology) {
  await waitFor(() => aws.ecs.tasks().every((t) => t.lastStatus === 'STOPPED'), {
    timeout: 20_000,
    message: 'every task to stop',
  });
  for (const task of aws.ecs.tasks()) expect(findProcesses(task.dataDir)).toEqual([]);
  expect(await aws.activeCounter()).toBe(0);
  expect(await aws.store.listActiveSessions()).toEqual([]);
}

describe('a controller started with a bad environment', () => {
  let aws: AwsTopology;
  beforeAll(async () => {
    aws = await startAwsTopology({
      taskEnv: { WALLCRAWLER_CONTROLLER_PORT: 'not-a-port', WALLCRAWLER_DISCONNECT_GRACE_MS: '-5' },
    });
    return () => aws.close();
  });

  it('exits non-zero listing every problem, and the create fails with them', async () => {
    const bb = new Browserbase({ apiKey: aws.apiKey, baseURL: aws.url, maxRetries: 0 });
    const error = await bb.sessions.create({ projectId: aws.projectId }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 500 });
    const message = (error as { error: { message: string; code: string } }).error;
    expect(message.code).toBe('browser_launch_failed');
    expect(message.message).toMatch(/WALLCRAWLER_CONTROLLER_PORT/);
    expect(message.message).toMatch(/WALLCRAWLER_DISCONNECT_GRACE_MS/);
    const [task] = aws.ecs.tasks();
    await aws.ecs.waitStopped(task?.taskArn as string);
    expect(aws.ecs.tasks()[0]?.exitCode).toBe(1);
    const [session] = await bb.sessions.list();
    expect(session?.status).toBe('ERROR');
    await expectEverythingStopped(aws);
  });
});

describe('a controller that never becomes healthy', () => {
  let aws: AwsTopology;
  const dir = tempDir('wallcrawler-hang-');
  beforeAll(async () => {
    // A "browser" that never says it is listening: the controller waits for it until the create gives up.
    const hang = join(dir.path, 'hanging-chromium');
    writeFileSync(hang, '#!/bin/sh\nwhile :; do sleep 1; done\n');
    chmodSync(hang, 0o755);
    aws = await startAwsTopology({
      // The create gives up after 3 s; the controller gives up on its browser after 5 s (30 s by default).
      taskEnv: { WALLCRAWLER_CHROME_PATH: hang, WALLCRAWLER_LAUNCH_TIMEOUT_MS: '5000' },
      provider: { readyTimeoutMs: 3_000, retryAfterSeconds: 7 },
    });
    return async () => {
      await aws.close();
      dir.remove();
    };
  });

  it('answers 503 with Retry-After before the deadline, and the task ends itself, leaving nothing', async () => {
    const response = await fetch(`${aws.url}/v1/sessions`, {
      method: 'POST',
      headers: { 'x-wc-api-key': aws.apiKey, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('7');
    const body = (await response.json()) as { code: string; message: string };
    expect(body.code).toBe('browser_not_ready');
    expect(body.message).toMatch(/No browser was ready within 3 s/);
    await expectEverythingStopped(aws);
    const [session] = await aws.store.listSessions(aws.projectId);
    expect(session?.status).toBe('ERROR');
  });
});

describe('ECS without capacity', () => {
  let aws: AwsTopology;
  beforeAll(async () => {
    aws = await startAwsTopology({ provider: { runTaskAttempts: 3 } });
    return () => aws.close();
  });

  it('retries capacity failures and throttling with backoff, then runs the task', async () => {
    const bb = new Browserbase({ apiKey: aws.apiKey, baseURL: aws.url, maxRetries: 0 });
    aws.ecs.failNextRunTasks(1, 'capacity');
    aws.ecs.failNextRunTasks(1, 'throttling');
    const session = await bb.sessions.create({ projectId: aws.projectId });
    expect(session.status).toBe('RUNNING');
    await bb.sessions.update(session.id, { status: 'REQUEST_RELEASE', projectId: aws.projectId });
    await expectEverythingStopped(aws);
  });

  it('gives up with a clear 503 when capacity does not come back', async () => {
    aws.ecs.failNextRunTasks(3, 'capacity');
    const response = await fetch(`${aws.url}/v1/sessions`, {
      method: 'POST',
      headers: { 'x-wc-api-key': aws.apiKey },
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    const body = (await response.json()) as { code: string; message: string };
    expect(body).toMatchObject({ code: 'browser_not_ready' });
    expect(body.message).toMatch(/ECS has no capacity for a browser right now \(Capacity is unavailable/);
    await expectEverythingStopped(aws);
  });
});
