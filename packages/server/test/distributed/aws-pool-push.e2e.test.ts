/**
 * The warm pool's claim, pushed: the API tells the claimed task at once (and the task answers once the session
 * is RUNNING), with the polls as the fallback when the push cannot be delivered; each claim asks the pool's
 * service for a replacement at once; a burst larger than the idle tasks is served in full.
 */

import { ECSClient, StopTaskCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import Browserbase from '@browserbasehq/sdk';
import { CONTROLLER_ENV as E } from '@wallcrawler/contracts';
import type { PoolTask, TaskTable } from '@wallcrawler/controller/aws';
import { waitFor } from '@wallcrawler/test-support';
import puppeteer from 'puppeteer-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectNothingLeft } from '../support/aws-checks.js';
import { type AwsTopology, startAwsTopology } from '../support/aws-topology.js';

const POOL_SERVICE = 'wallcrawler-warm-pool';

function ecsClientOf(aws: AwsTopology): ECSClient {
  return new ECSClient({
    endpoint: aws.ecs.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

/**
 * After each test: the shared checks, once the pool's service (if any) is at zero and every idle task stopped as
 * ECS stops one (SIGTERM: it retires).
 */
function expectNothingLeftOfPool(aws: AwsTopology, bb: Browserbase, { service = false } = {}): Promise<void> {
  return expectNothingLeft(aws, bb, {
    thenStop: async () => {
      const ecs = ecsClientOf(aws);
      try {
        if (service)
          await ecs.send(new UpdateServiceCommand({ cluster: 'wallcrawler', service: POOL_SERVICE, desiredCount: 0 }));
        for (const t of aws.ecs.tasks().filter((x) => x.lastStatus !== 'STOPPED')) {
          await ecs.send(new StopTaskCommand({ cluster: 'wallcrawler', task: t.taskArn, reason: 'test cleanup' }));
        }
      } finally {
        ecs.destroy();
      }
    },
  });
}

const outputOf = (aws: AwsTopology, taskArn: string | undefined) =>
  aws.ecs.tasks().find((t) => t.taskArn === taskArn)?.output ?? '';

describe('a claim pushed to its task', () => {
  let aws: AwsTopology;
  let bb: Browserbase;
  // When set, the API is given an address for the claimed task that nothing listens on: its push cannot be
  // delivered, as when a task cannot be reached from the API (or is an older one, without the push).
  let unreachable = false;
  beforeAll(async () => {
    let table: TaskTable | undefined;
    const pool = {
      async claim(...args: Parameters<TaskTable['claim']>): Promise<PoolTask | undefined> {
        const claimed = await table?.claim(...args);
        return claimed && unreachable ? { ...claimed, connectEndpoint: 'ws://127.0.0.1:1' } : claimed;
      },
    } as unknown as TaskTable;
    // The tasks' own poll is slowed to its ceiling, so a task that says "by push" was not raced by its poll (at the
    // default 200 ms, a loaded machine let the poll see the claim before the push arrived).
    aws = await startAwsTopology({ concurrency: 5, provider: { pool }, taskEnv: { [E.claimPollMs]: '5000' } });
    table = aws.taskTable();
    bb = new Browserbase({ apiKey: aws.apiKey, baseURL: aws.url, maxRetries: 0 });
    return () => aws.close();
  });
  afterEach(async () => {
    unreachable = false;
    await expectNothingLeftOfPool(aws, bb);
  });

  it('serves the create: the task took the push, and its session works', async () => {
    await aws.prewarm(1);
    const session = await bb.sessions.create({ projectId: aws.projectId });
    expect(session.status).toBe('RUNNING');
    const serving = (await aws.poolTasks()).find((t) => t.sessionId === session.id);
    expect(serving?.status).toBe('CLAIMED');
    expect(outputOf(aws, serving?.taskArn)).toMatch(/"by":"push"[^\n]*"msg":"claimed"/);
    const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
    expect((await browser.pages()).length).toBeGreaterThan(0);
    await browser.disconnect();
  });

  it('still serves the create when the push cannot reach the task: the task polls its item, the API the store', async () => {
    await aws.prewarm(1);
    unreachable = true;
    const tasksBefore = aws.ecs.tasks().length;
    const session = await bb.sessions.create({ projectId: aws.projectId });
    expect(session.status).toBe('RUNNING');
    expect(aws.ecs.tasks()).toHaveLength(tasksBefore);
    const serving = (await aws.poolTasks()).find((t) => t.sessionId === session.id);
    expect(outputOf(aws, serving?.taskArn)).toMatch(/"by":"poll"[^\n]*"msg":"claimed"/);
    // The address clients get is the task's own, from its item: not the one the push was tried at.
    expect(session.connectUrl).not.toContain('127.0.0.1:1/');
    const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
    expect((await browser.pages()).length).toBeGreaterThan(0);
    await browser.disconnect();
  });

  it('refuses a push whose session did not claim the task (a connect token is also its client’s)', async () => {
    await aws.prewarm(2);
    const session = await bb.sessions.create({ projectId: aws.projectId });
    const [idle] = (await aws.poolTasks()).filter((t) => t.status === 'IDLE');
    expect(idle).toBeDefined();
    // The session's own token, pushed at another (idle) task: refused, and that task stays idle.
    const token = new URL(session.connectUrl).searchParams.get('signingKey');
    const ip = aws.ecs.tasks().find((t) => t.taskArn === idle?.taskArn)?.ip;
    const response = await fetch(`http://${ip}:9223/pool/claim`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ statusCode: 409, code: 'not_claimed' });
    expect((await aws.poolTasks()).find((t) => t.taskArn === idle?.taskArn)?.status).toBe('IDLE');
  });

  it('serves a burst of two more creates than idle tasks: the rest start tasks of their own', async () => {
    await aws.prewarm(2);
    const runTasksBefore = aws.ecs.runTaskCalls().length;
    const sessions = await Promise.all([1, 2, 3, 4].map(() => bb.sessions.create({ projectId: aws.projectId })));
    expect(sessions.map((s) => s.status)).toEqual(['RUNNING', 'RUNNING', 'RUNNING', 'RUNNING']);
    expect(new Set(sessions.map((s) => s.id)).size).toBe(4);
    const claimed = (await aws.poolTasks()).filter((t) => sessions.some((s) => s.id === t.sessionId));
    expect(claimed).toHaveLength(2);
    const own = aws.ecs.runTaskCalls().slice(runTasksBefore);
    expect(own.map((c) => c.startedBy).sort()).toEqual(
      sessions
        .filter((s) => !claimed.some((c) => c.sessionId === s.id))
        .map((s) => `wallcrawler:${s.id}`)
        .sort(),
    );
  });
});

describe('a claim asks for its replacement', () => {
  let aws: AwsTopology;
  let bb: Browserbase;
  beforeAll(async () => {
    // No schedule: only a claim can resize the service here.
    aws = await startAwsTopology({ concurrency: 5, warmPool: { min: 1, max: 2, targetIdle: 1 } });
    bb = new Browserbase({ apiKey: aws.apiKey, baseURL: aws.url, maxRetries: 0 });
    return () => aws.close();
  });
  afterEach(() => expectNothingLeftOfPool(aws, bb, { service: true }));

  const idleCount = async () => (await aws.poolTasks()).filter((t) => t.status === 'IDLE').length;

  it('grows the service by one at the claim, within its ceiling, and the new task joins the pool idle', async () => {
    await waitFor(async () => (await idleCount()) === 1, { timeout: 30_000, message: 'the floor of 1 idle task' });
    const updatesBefore = aws.ecs.updateServiceCalls().length;
    const first = await bb.sessions.create({ projectId: aws.projectId });
    expect(aws.ecs.updateServiceCalls().slice(updatesBefore)).toEqual([
      expect.objectContaining({ service: POOL_SERVICE, desiredCount: 2 }),
    ]);
    await waitFor(async () => (await idleCount()) === 1, { timeout: 30_000, message: 'the replacement to be idle' });
    // The ceiling (2): the next claim asks for nothing more.
    const second = await bb.sessions.create({ projectId: aws.projectId });
    expect(aws.ecs.updateServiceCalls().slice(updatesBefore)).toHaveLength(1);
    const serving = (await aws.poolTasks()).filter((t) => t.status === 'CLAIMED').map((t) => t.sessionId);
    expect(new Set(serving)).toEqual(new Set([first.id, second.id]));
    // The schedule still shrinks it once they are done.
    for (const s of [first, second]) {
      await bb.sessions.update(s.id, { status: 'REQUEST_RELEASE', projectId: aws.projectId });
    }
    await waitFor(async () => (await aws.scalePool()).desired === 1, {
      timeout: 30_000,
      message: 'the pool to shrink to its floor',
    });
  });
});
