/**
 * The distributed path on one machine: the official Browserbase SDK and puppeteer-core against the API over
 * DynamoDB Local and the ECS provider, each session's browser in a task of its own (the controller's real
 * entry command), reached straight at that task's address with the session's JWT: the stack's direct mode
 * (`connect: 'direct'`). The edge's own path is aws-edge*.e2e.test.ts.
 */
import Browserbase from '@browserbasehq/sdk';
import { type PageServer, startPageServer, waitFor } from '@wallcrawler/test-support';
import { startUpstreamProxy } from '@wallcrawler/test-support/http-proxy';
import puppeteer from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectNothingLeft, taskOfSession } from '../support/aws-checks.js';
import { type AwsTopology, startAwsTopology } from '../support/aws-topology.js';

let pages: PageServer;
let aws: AwsTopology;
let bb: Browserbase;

beforeAll(async () => {
  pages = await startPageServer();
  // Proxied sessions report their bytes every half second (5 s by default), so a test sees them while they run.
  // Direct mode (`connect: 'direct'`, the stack's opt-out): clients get each task's own address.
  aws = await startAwsTopology({
    concurrency: 3,
    connect: 'direct',
    taskEnv: { WALLCRAWLER_PROXY_BYTES_INTERVAL_MS: '500' },
  });
  bb = new Browserbase({ apiKey: aws.apiKey, baseURL: aws.url, maxRetries: 0 });
});
afterAll(async () => {
  await aws?.close();
  await pages?.close();
});

afterEach(() => expectNothingLeft(aws, bb));

const taskOf = (sessionId: string) => taskOfSession(aws, sessionId);

const ended = (sessionId: string) =>
  waitFor(
    async () => {
      const s = await bb.sessions.retrieve(sessionId);
      return s.status !== 'RUNNING' && s.status !== 'PENDING' && s;
    },
    { timeout: 20_000, message: `session ${sessionId} to end` },
  );

describe('sessions on ECS tasks', () => {
  it('creates, connects at the task, browses and releases', async () => {
    const session = await bb.sessions
      .create({ projectId: aws.projectId, browserSettings: { viewport: { width: 1100, height: 700 } } })
      .catch((error: unknown) => {
        throw new Error(
          `${String(error)}\n${aws.ecs
            .tasks()
            .map((t) => t.output)
            .join('\n')}`,
        );
      });
    expect(session.status).toBe('RUNNING');
    const task = taskOf(session.id);
    // The connect URL points at the task's public address (which its controller looked up through ECS and
    // EC2, as the stack's public tasks do) and port 9223.
    expect(aws.ecs.eniLookups()).toHaveLength(aws.ecs.tasks().length);
    expect(session.connectUrl).toMatch(new RegExp(`^ws://${task.ip.replaceAll('.', '\\.')}:9223/\\?signingKey=`));
    // The RunTask named Fargate's awsvpc network (the original called RunTask without one, which ECS refuses),
    // with a public IP in this (dev-like) topology, and carried the session's settings as env overrides.
    const run = aws.ecs.runTaskCalls().find((c) => JSON.stringify(c).includes(session.id));
    expect(run).toMatchObject({
      launchType: 'FARGATE',
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: ['subnet-local-a', 'subnet-local-b'],
          securityGroups: ['sg-local'],
          assignPublicIp: 'ENABLED',
        },
      },
    });
    expect(task.environment).toMatchObject({
      WALLCRAWLER_SESSION_ID: session.id,
      WALLCRAWLER_PROJECT_ID: aws.projectId,
      WALLCRAWLER_SESSION_VIEWPORT: '1100x700',
      WALLCRAWLER_SESSION_KEEP_ALIVE: 'false',
    });

    const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
    const page = await browser.newPage();
    await page.goto(`${pages.url}/title/on-ecs`);
    expect(await page.title()).toBe('on-ecs');
    expect(await page.evaluate(() => [innerWidth, innerHeight])).toEqual([1100, 700]);
    const debug = await bb.sessions.debug(session.id);
    expect(debug.pages.map((p) => p.url)).toContain(`${pages.url}/title/on-ecs`);
    expect(debug.wsUrl).toContain(`ws://${task.ip}:9223/`);

    const released = await bb.sessions.update(session.id, { status: 'REQUEST_RELEASE', projectId: aws.projectId });
    expect(released.status).toBe('COMPLETED');
    await aws.ecs.waitStopped(task.taskArn);
    expect(taskOf(session.id).exitCode, taskOf(session.id).output).toBe(0);
    expect((await bb.sessions.retrieve(session.id)).status).toBe('COMPLETED');
    await browser.disconnect().catch(() => {});
  });

  it('sends a session through its own proxy, with the password sealed on its way to the task, and counts proxyBytes', async () => {
    const pagesPort = new URL(pages.url).port;
    const upstream = await startUpstreamProxy({
      username: 'crawler',
      password: 'proxy-secret-42',
      hosts: { 'site.wallcrawler.test': `127.0.0.1:${pagesPort}` },
    });
    try {
      // A wrong password is a clear 400 at create, and no task is started for it.
      const tasksBefore = aws.ecs.tasks().length;
      const refused = await fetch(`${aws.url}/v1/sessions`, {
        method: 'POST',
        headers: { 'x-bb-api-key': aws.apiKey, 'content-type': 'application/json' },
        body: JSON.stringify({
          proxies: [{ type: 'external', server: upstream.url, username: 'crawler', password: 'wrong' }],
        }),
      });
      expect(refused.status).toBe(400);
      expect(await refused.json()).toMatchObject({ code: 'proxy_auth_failed' });
      expect(aws.ecs.tasks().length).toBe(tasksBefore);

      const session = await bb.sessions.create({
        projectId: aws.projectId,
        proxies: [{ type: 'external', server: upstream.url, username: 'crawler', password: 'proxy-secret-42' }],
      });
      const task = taskOf(session.id);
      // The task got the routes sealed: its environment (what DescribeTasks shows) has no password.
      expect(task.environment.WALLCRAWLER_SESSION_PROXIES).toMatch(/^v1\./);
      expect(JSON.stringify(task.environment)).not.toContain('proxy-secret-42');
      expect(JSON.stringify(await aws.sessionItem(session.id))).not.toContain('proxy-secret-42');

      // A host only the proxy can resolve loads: the page went through it, with the credentials.
      const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
      const page = await browser.newPage();
      await page.goto('http://site.wallcrawler.test/title/Proxied');
      expect(await page.title()).toBe('Proxied');
      const viaProxy = upstream.requests.filter((r) => r.target.includes('site.wallcrawler.test'));
      expect(viaProxy.length).toBeGreaterThan(0);
      expect(viaProxy.every((r) => r.credentials === 'crawler:proxy-secret-42')).toBe(true);
      // The running session's bytes so far, as the task reports them.
      const live = await waitFor(
        async () => {
          const s = await bb.sessions.retrieve(session.id);
          return s.status === 'RUNNING' && s.proxyBytes > 0 && s;
        },
        { message: 'the running session to report its proxyBytes' },
      );
      await browser.disconnect();

      await bb.sessions.update(session.id, { status: 'REQUEST_RELEASE', projectId: aws.projectId });
      await aws.ecs.waitStopped(task.taskArn);
      expect(taskOf(session.id).exitCode, taskOf(session.id).output).toBe(0);
      // The task records the bytes as it ends, after the release the API recorded first.
      const final = await waitFor(
        async () => {
          const s = await bb.sessions.retrieve(session.id);
          return s.proxyBytes > 0 && s;
        },
        { message: 'the session to report its proxyBytes' },
      );
      expect(final.status).toBe('COMPLETED');
      expect(final.proxyBytes).toBeGreaterThanOrEqual(live.proxyBytes);
    } finally {
      await upstream.close();
    }
  });

  it('ends the session when its last client disconnects, and the task exits by itself', async () => {
    const session = await bb.sessions.create({ projectId: aws.projectId });
    const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl });
    await browser.disconnect();
    const final = await ended(session.id);
    expect(final.status).toBe('COMPLETED');
    await aws.ecs.waitStopped(taskOf(session.id).taskArn);
    expect(taskOf(session.id).exitCode).toBe(0);
  });

  it('ends the session as ERROR through the task-state handler when the controller is killed', async () => {
    const session = await bb.sessions.create({ projectId: aws.projectId });
    const task = taskOf(session.id);
    aws.ecs.killTask(task.taskArn);
    await aws.ecs.waitStopped(task.taskArn);
    const final = await ended(session.id);
    expect(final.status).toBe('ERROR');
    const stored = await aws.store.getSession(session.id);
    expect(stored?.endReason).toMatch(
      /task stopped before the session ended \(Essential container in task exited, exit code 137\)/,
    );
    expect(aws.taskStateOutcomes).toContain('ended');
  });

  it('admits exactly the concurrency under 20 parallel creates, and the counter matches after', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => bb.sessions.create({ projectId: aws.projectId })),
    );
    const created = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r) => r.status === 'rejected');
    expect(created).toHaveLength(3);
    for (const r of refused) expect((r as PromiseRejectedResult).reason).toMatchObject({ status: 429 });
    expect(await aws.activeCounter()).toBe(3);
    // Exactly the admitted sessions got a task.
    expect(aws.ecs.tasks().filter((t) => t.lastStatus !== 'STOPPED')).toHaveLength(3);
  });
});
