/**
 * The warm pool on the distributed path: creates claim idle tasks (no RunTask on the create's path), each task
 * serves one session and leaves the pool, tasks idle too long retire themselves, a task started for a create
 * that gave up joins the pool, and a claimed task that dies ends its session through the task-state handler.
 */

import { randomBytes } from 'node:crypto';
import Browserbase from '@browserbasehq/sdk';
import { findProcesses, sealProxyRoutes } from '@wallcrawler/controller';
import { type PageServer, startPageServer, waitFor } from '@wallcrawler/test-support';
import { startUpstreamProxy } from '@wallcrawler/test-support/http-proxy';
import puppeteer from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AwsTopology, startAwsTopology } from '../support/aws-topology.js';
import { sessionRecord } from '../support/records.js';

let pages: PageServer;
beforeAll(async () => {
  pages = await startPageServer();
});
afterAll(() => pages?.close());

async function expectCleanAfter(aws: AwsTopology) {
  // Every stopped task left no process and no directory behind.
  for (const task of aws.ecs.tasks().filter((t) => t.lastStatus === 'STOPPED')) {
    expect(task.leaked, `processes task ${task.taskArn} left after a clean exit`).toEqual([]);
    expect(findProcesses(task.dataDir)).toEqual([]);
  }
  for (const s of await aws.store.listActiveSessions()) {
    await aws.store.endSession(s.id, { status: 'COMPLETED', endedAt: new Date(), endReason: 'test cleanup' });
  }
  const active = (await aws.store.listActiveSessions()).length;
  expect(await aws.activeCounter()).toBe(active);
}

describe('creates from the warm pool', () => {
  let aws: AwsTopology;
  let bb: Browserbase;
  beforeAll(async () => {
    aws = await startAwsTopology({ concurrency: 4 });
    bb = new Browserbase({ apiKey: aws.apiKey, baseURL: aws.url, maxRetries: 0 });
    return () => aws.close();
  });
  afterEach(() => expectCleanAfter(aws));

  it('claims an idle task instead of starting one, and the task leaves the pool after its session', async () => {
    await aws.prewarm(2);
    const tasksBefore = aws.ecs.tasks().length;
    const session = await bb.sessions.create({
      projectId: aws.projectId,
      browserSettings: { viewport: { width: 900, height: 600 } },
    });
    expect(session.status).toBe('RUNNING');
    // No RunTask on the create's path: the session runs in one of the pool's tasks.
    expect(aws.ecs.tasks()).toHaveLength(tasksBefore);
    const pool = await aws.poolTasks();
    const serving = pool.find((t) => t.sessionId === session.id);
    expect(serving?.status).toBe('CLAIMED');
    expect(pool.filter((t) => t.status === 'IDLE')).toHaveLength(1);
    const task = aws.ecs.tasks().find((t) => t.taskArn === serving?.taskArn);
    // The task's address is on the session's item, where the connect edge finds it; clients get the edge's URL.
    expect((await aws.sessionItem(session.id))?.connectEndpoint).toEqual({ S: `ws://${task?.ip}:9223` });
    expect(session.connectUrl).toMatch(/^wss:\/\//);
    // Not the default viewport: the browser started while idle was discarded for a fresh one.
    expect(task?.output).toMatch(/starting a browser for the session/);

    // The session's settings reached the task at claim time.
    const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
    const page = await browser.newPage();
    await page.goto(`${pages.url}/title/pooled`);
    expect(await page.title()).toBe('pooled');
    expect(await page.evaluate(() => [innerWidth, innerHeight])).toEqual([900, 600]);
    await browser.disconnect();

    await waitFor(async () => (await bb.sessions.retrieve(session.id)).status === 'COMPLETED', {
      message: 'the session to end when its client left',
    });
    await aws.ecs.waitStopped(task?.taskArn as string);
    expect(aws.ecs.tasks().find((t) => t.taskArn === task?.taskArn)?.exitCode).toBe(0);
    expect((await aws.poolTasks()).find((t) => t.taskArn === task?.taskArn)?.status).toBe('RETIRED');
    expect(findProcesses(task?.dataDir as string)).toEqual([]);
  });

  it('serves a default-viewport session with the browser the task started while idle', async () => {
    await aws.prewarm(1);
    const session = await bb.sessions.create({ projectId: aws.projectId });
    const serving = (await aws.poolTasks()).find((t) => t.sessionId === session.id);
    const task = () => aws.ecs.tasks().find((t) => t.taskArn === serving?.taskArn);
    expect(task()?.output).toMatch(/serving with the browser started while idle/);
    const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
    const page = await browser.newPage();
    await page.goto(`${pages.url}/title/prelaunched`);
    expect(await page.title()).toBe('prelaunched');
    expect(await page.evaluate(() => [innerWidth, innerHeight])).toEqual([1024, 768]);
    await browser.disconnect();
    await aws.ecs.waitStopped(serving?.taskArn as string);
    expect(task()?.exitCode).toBe(0);
    expect(task()?.leaked).toEqual([]);
  });

  it('hands a session with a proxy to an idle task, sealed on its item, and the task starts a browser for it', async () => {
    const upstream = await startUpstreamProxy({
      username: 'pooled',
      password: 'pool-proxy-secret',
      hosts: { 'site.wallcrawler.test': `127.0.0.1:${new URL(pages.url).port}` },
    });
    try {
      await aws.prewarm(1);
      const tasksBefore = aws.ecs.tasks().length;
      const session = await bb.sessions.create({
        projectId: aws.projectId,
        proxies: [{ type: 'external', server: upstream.url, username: 'pooled', password: 'pool-proxy-secret' }],
      });
      expect(aws.ecs.tasks()).toHaveLength(tasksBefore);
      const serving = (await aws.poolTasks()).find((t) => t.sessionId === session.id);
      const task = () => aws.ecs.tasks().find((t) => t.taskArn === serving?.taskArn);
      // The claim wrote the routes sealed on the session's item; the browser started while idle had no proxy.
      const item = await aws.sessionItem(session.id);
      expect((item?.proxies as { S?: string } | undefined)?.S).toMatch(/^v1\./);
      expect(JSON.stringify(item)).not.toContain('pool-proxy-secret');
      expect(task()?.output).toMatch(/starting a browser for the session/);

      const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
      const page = await browser.newPage();
      await page.goto('http://site.wallcrawler.test/title/PooledProxy');
      expect(await page.title()).toBe('PooledProxy');
      const viaProxy = upstream.requests.filter((r) => r.target.includes('site.wallcrawler.test'));
      expect(viaProxy.length).toBeGreaterThan(0);
      expect(viaProxy.every((r) => r.credentials === 'pooled:pool-proxy-secret')).toBe(true);
      await browser.disconnect();
      await bb.sessions.update(session.id, { status: 'REQUEST_RELEASE', projectId: aws.projectId });
      await aws.ecs.waitStopped(serving?.taskArn as string);
      expect(task()?.exitCode, task()?.output).toBe(0);
      const final = await waitFor(
        async () => {
          const s = await bb.sessions.retrieve(session.id);
          return s.proxyBytes > 0 && s;
        },
        { message: 'the session to report its proxyBytes' },
      );
      expect(final.proxyBytes).toBeGreaterThan(0);
    } finally {
      await upstream.close();
    }
  });

  it('ends a claimed session as ERROR at once when its sealed proxy routes do not open', async () => {
    await aws.prewarm(1);
    // A PENDING session and a claim as the API makes them, but with routes sealed for another session.
    const session = sessionRecord(aws.projectId, { status: 'PENDING' });
    await aws.store.insertSessionWithinLimit(session, 4);
    const forged = sealProxyRoutes(randomBytes(32), 'another-session', [
      { kind: 'external', server: new URL('http://127.0.0.1:9') },
    ]);
    const claimed = await aws.taskTable().claim(session.id, { proxies: forged });
    expect(claimed).toBeDefined();
    const ended = await waitFor(
      async () => {
        const s = await aws.store.getSession(session.id);
        return s?.status === 'ERROR' && s;
      },
      { message: 'the session to end ERROR' },
    );
    expect(ended.endReason).toMatch(/settings could not be read: The sealed proxy routes do not open/);
    await aws.ecs.waitStopped(claimed?.taskArn as string);
    expect(aws.ecs.tasks().find((t) => t.taskArn === claimed?.taskArn)?.leaked).toEqual([]);
  });

  it('hands each of several parallel creates a different idle task', async () => {
    await aws.prewarm(3 - (await aws.poolTasks()).filter((t) => t.status === 'IDLE').length);
    const tasksBefore = aws.ecs.tasks().length;
    const sessions = await Promise.all([1, 2, 3].map(() => bb.sessions.create({ projectId: aws.projectId })));
    expect(aws.ecs.tasks()).toHaveLength(tasksBefore);
    const claimed = (await aws.poolTasks()).filter((t) => t.status === 'CLAIMED');
    expect(new Set(claimed.map((t) => t.sessionId))).toEqual(new Set(sessions.map((s) => s.id)));
    for (const s of sessions) await bb.sessions.update(s.id, { status: 'REQUEST_RELEASE', projectId: aws.projectId });
    await waitFor(
      () => aws.ecs.tasks().every((t) => t.lastStatus === 'STOPPED' || !claimed.some((c) => c.taskArn === t.taskArn)),
      {
        timeout: 20_000,
        message: 'the three tasks to stop',
      },
    );
  });

  it('falls back to a task of its own when the pool is empty', async () => {
    for (const t of (await aws.poolTasks()).filter((x) => x.status === 'IDLE')) aws.ecs.killTask(t.taskArn);
    await waitFor(async () => (await aws.poolTasks()).every((t) => t.status !== 'IDLE'), {
      message: 'the killed idle tasks to leave the pool',
    });
    const tasksBefore = aws.ecs.tasks().length;
    const session = await bb.sessions.create({ projectId: aws.projectId });
    expect(session.status).toBe('RUNNING');
    expect(aws.ecs.tasks()).toHaveLength(tasksBefore + 1);
    await bb.sessions.update(session.id, { status: 'REQUEST_RELEASE', projectId: aws.projectId });
  });

  it('ends a claimed session as ERROR when its pool task is killed', async () => {
    await aws.prewarm(1);
    const session = await bb.sessions.create({ projectId: aws.projectId });
    const serving = (await aws.poolTasks()).find((t) => t.sessionId === session.id);
    expect(serving).toBeDefined();
    aws.ecs.killTask(serving?.taskArn as string);
    await aws.ecs.waitStopped(serving?.taskArn as string);
    const final = await waitFor(
      async () => {
        const s = await bb.sessions.retrieve(session.id);
        return s.status !== 'RUNNING' && s;
      },
      { message: 'the session to end' },
    );
    expect(final.status).toBe('ERROR');
    expect((await aws.store.getSession(session.id))?.endReason).toMatch(/exit code 137/);
  });
});

describe('a pool that costs no more than asked', () => {
  let aws: AwsTopology;
  beforeAll(async () => {
    aws = await startAwsTopology({ taskEnv: { WALLCRAWLER_POOL_IDLE_TIMEOUT_MS: '1500' } });
    return () => aws.close();
  });

  it('retires an idle task after its idle time, and it exits', async () => {
    await aws.prewarm(1);
    const [task] = await aws.poolTasks();
    await aws.ecs.waitStopped(task?.taskArn as string);
    const ecsTask = aws.ecs.tasks().find((t) => t.taskArn === task?.taskArn);
    expect(ecsTask?.exitCode).toBe(0);
    expect(ecsTask?.output).toMatch(/left the warm pool/);
    // The browser it had started for the next session went with it.
    expect(ecsTask?.leaked).toEqual([]);
    expect(findProcesses(ecsTask?.dataDir as string)).toEqual([]);
    expect((await aws.poolTasks())[0]?.status).toBe('RETIRED');
  });
});

describe('a task started for a create that gave up', () => {
  let aws: AwsTopology;
  beforeAll(async () => {
    // The task takes longer to start than the create waits (Fargate's ENI and image pull, compressed).
    aws = await startAwsTopology({ startDelayMs: 2_500, readyTimeoutMs: 1_000 });
    return () => aws.close();
  });

  it('joins the pool, and the next create claims it', async () => {
    const response = await fetch(`${aws.url}/v1/sessions`, {
      method: 'POST',
      headers: { 'x-wc-api-key': aws.apiKey },
    });
    expect(response.status).toBe(503);
    // Not stopped: it comes up, finds its session ended, and waits in the pool.
    await waitFor(async () => (await aws.poolTasks()).some((t) => t.status === 'IDLE'), {
      timeout: 20_000,
      message: 'the late task to join the pool',
    });
    const tasksBefore = aws.ecs.tasks().length;
    const bb = new Browserbase({ apiKey: aws.apiKey, baseURL: aws.url, maxRetries: 0 });
    const session = await bb.sessions.create({ projectId: aws.projectId });
    expect(session.status).toBe('RUNNING');
    expect(aws.ecs.tasks()).toHaveLength(tasksBefore);
    await bb.sessions.update(session.id, { status: 'REQUEST_RELEASE', projectId: aws.projectId });
    await expectCleanAfter(aws);
  });
});

describe("the pool's ECS service, sized on its idle tasks", () => {
  let aws: AwsTopology;
  beforeAll(async () => {
    aws = await startAwsTopology({ concurrency: 5, warmPool: { min: 1, max: 3, targetIdle: 1 } });
    return () => aws.close();
  });

  const idleCount = async () => (await aws.poolTasks()).filter((t) => t.status === 'IDLE').length;

  it('keeps its floor idle, grows with claimed tasks up to its ceiling, and scales in only idle tasks', async () => {
    await waitFor(async () => (await idleCount()) === 1, { timeout: 30_000, message: 'the floor of 1 idle task' });
    const bb = new Browserbase({ apiKey: aws.apiKey, baseURL: aws.url, maxRetries: 0 });
    const first = await bb.sessions.create({ projectId: aws.projectId });
    // One task busy: its claim asked for one more at once, to keep one ready (the scaler finds it done).
    expect(await aws.scalePool()).toMatchObject({ busy: 1, previous: 2, desired: 2 });
    await waitFor(async () => (await idleCount()) === 1, { timeout: 30_000, message: 'a new idle task' });
    const second = await bb.sessions.create({ projectId: aws.projectId });
    const third = await bb.sessions.create({ projectId: aws.projectId });
    // The third create claimed the second's replacement if it was idle in time, else started a task of its own;
    // either way the service stops at its ceiling.
    expect((await aws.scalePool()).desired).toBe(3);
    // The claimed tasks protected themselves from scale-in.
    const claimed = (await aws.poolTasks()).filter((t) => t.status === 'CLAIMED');
    expect(new Set(aws.ecs.protectedTasks())).toEqual(new Set(claimed.map((t) => t.taskArn)));

    // Everything released: the service shrinks back to its floor, and no session was cut short by it.
    for (const s of [first, second, third]) {
      expect((await bb.sessions.retrieve(s.id)).status).toBe('RUNNING');
      await bb.sessions.update(s.id, { status: 'REQUEST_RELEASE', projectId: aws.projectId });
    }
    await waitFor(async () => (await aws.scalePool()).desired === 1 && (await idleCount()) >= 1, {
      timeout: 30_000,
      message: 'the pool to shrink to its floor',
    });
    for (const s of [first, second, third]) {
      expect((await aws.store.getSession(s.id))?.endReason).toBe('The session was released');
    }
    await waitFor(() => aws.ecs.tasks().filter((t) => t.service && t.lastStatus !== 'STOPPED').length === 1, {
      timeout: 30_000,
      message: 'one service task left running',
    });
    await expectCleanAfter(aws);
  });
});
