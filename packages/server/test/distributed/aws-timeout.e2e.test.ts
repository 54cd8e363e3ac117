/**
 * A session's timeout on the distributed path: the task enforces it itself (the original left timed-out tasks
 * running; DynamoDB's TTL only deleted the record). Its own file: it waits a timeout out. The API's shortest is
 * 60 s (Browserbase's); this topology takes shorter ones, so the wait is seconds.
 */
import Browserbase from '@browserbasehq/sdk';
import { findProcesses } from '@wallcrawler/controller';
import { waitFor } from '@wallcrawler/test-support';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type AwsTopology, startAwsTopology } from '../support/aws-topology.js';

/** Long enough for a starved host to start the task and connect before it ends. */
const TIMEOUT_S = 30;
let aws: AwsTopology;
beforeAll(async () => {
  aws = await startAwsTopology({ minSessionTimeoutSeconds: 1 });
});
afterAll(() => aws?.close());

it('ends a keepAlive session TIMED_OUT at its timeout, closing its client, and the task exits', async () => {
  const bb = new Browserbase({ apiKey: aws.apiKey, baseURL: aws.url, maxRetries: 0 });
  // `timeout` is Browserbase's create field; this SDK version's types lack it, the API takes it.
  const session = await bb.sessions.create({ projectId: aws.projectId, keepAlive: true, timeout: TIMEOUT_S } as never);
  const ws = new WebSocket(session.connectUrl);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  // A command for the session's CDP log, which the task keeps in S3 as it times out.
  const answered = new Promise((resolve) => ws.once('message', resolve));
  ws.send(JSON.stringify({ id: 1, method: 'Browser.getVersion' }));
  await answered;
  expect(await closed).toEqual({ code: 1000, reason: 'The session reached its timeout' });
  const final = await waitFor(
    async () => {
      const s = await bb.sessions.retrieve(session.id);
      return s.status !== 'RUNNING' && s;
    },
    { message: 'the session to end' },
  );
  expect(final.status).toBe('TIMED_OUT');
  // Kept before the ending was recorded, and served from S3 now.
  expect((await bb.sessions.logs.list(session.id)).map((e) => e.method)).toContain('Browser.getVersion');
  const task = aws.ecs.tasks().find((t) => t.environment.WALLCRAWLER_SESSION_ID === session.id);
  await aws.ecs.waitStopped(task?.taskArn as string);
  expect(aws.ecs.tasks().find((t) => t.taskArn === task?.taskArn)?.exitCode).toBe(0);
  expect(findProcesses(task?.dataDir as string)).toEqual([]);
  expect(await aws.activeCounter()).toBe(0);
}, 120_000);
