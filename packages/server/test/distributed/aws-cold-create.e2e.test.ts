/**
 * A create that finds no idle task waits for a cold one (Fargate's ENI attachment and image pull, played by the
 * local ECS endpoint's start delay) for longer than API Gateway's 29 s: the streaming front door lets it wait up
 * to its own limit (CloudFront's 60 s origin response timeout), and the stack's default `readyTimeoutSeconds`
 * (55) is below that.
 */
import Browserbase from '@browserbasehq/sdk';
import { findProcesses } from '@wallcrawler/controller';
import { waitFor } from '@wallcrawler/test-support';
import puppeteer from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsTopology, startAwsTopology } from '../support/aws-topology.js';

let aws: AwsTopology;
let bb: Browserbase;

beforeAll(async () => {
  aws = await startAwsTopology({ startDelayMs: 30_000, readyTimeoutMs: 55_000 });
  bb = new Browserbase({ apiKey: aws.apiKey, baseURL: aws.url, maxRetries: 0, timeout: 90_000 });
});
afterAll(async () => {
  await aws?.close();
});

describe('a create that waits for a cold task', () => {
  it('gets its session after more than 29 s, and the session works', async () => {
    const session = await bb.sessions.create({ projectId: aws.projectId });
    expect(session.status).toBe('RUNNING');
    const task = aws.ecs.tasks().find((t) => t.environment.WALLCRAWLER_SESSION_ID === session.id);
    expect(task, 'the session runs in the task its create started').toBeDefined();
    expect(aws.ecs.runTaskCalls(), 'one RunTask, no retry').toHaveLength(1);

    const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl });
    const [page] = await browser.pages();
    expect(await page?.evaluate(() => 6 * 7)).toBe(42);
    await browser.disconnect();

    await bb.sessions.update(session.id, { status: 'REQUEST_RELEASE', projectId: aws.projectId });
    await waitFor(() => aws.ecs.tasks().every((t) => t.lastStatus === 'STOPPED'), {
      timeout: 20_000,
      message: 'the task to stop',
    });
    expect(task?.leaked).toEqual([]);
    expect(findProcesses(task?.dataDir ?? '')).toEqual([]);
    expect(await aws.activeCounter()).toBe(0);
  }, 120_000);
});
