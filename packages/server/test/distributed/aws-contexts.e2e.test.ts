/**
 * Contexts on the distributed path: the session's task fills the profile from S3 (s3rver) before Chromium starts
 * and, with `persist: true`, saves it back sealed on every ending path (release, timeout, the last client leaving,
 * Chromium's crash, SIGTERM from a scale-in) before the ending is recorded; one writer at a time; a corrupt
 * archive is a 422 and is left as it was; a deleted context leaves no object.
 */
import { join } from 'node:path';
import { ECSClient, StopTaskCommand } from '@aws-sdk/client-ecs';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import Browserbase from '@browserbasehq/sdk';
import { contextArchiveKey } from '@wallcrawler/contracts';
import { findProcesses } from '@wallcrawler/controller';
import { type PageServer, startPageServer } from '@wallcrawler/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectNothingLeft } from '../support/aws-checks.js';
import { contextSteps } from '../support/aws-contexts.js';
import { type AwsTopology, startAwsTopology } from '../support/aws-topology.js';

let pages: PageServer;
let aws: AwsTopology;
let bb: Browserbase;

beforeAll(async () => {
  pages = await startPageServer();
  aws = await startAwsTopology({ concurrency: 4, minSessionTimeoutSeconds: 1 });
  bb = new Browserbase({ apiKey: aws.apiKey, baseURL: aws.url, maxRetries: 0 });
});
afterAll(async () => {
  await aws?.close();
  await pages?.close();
});

afterEach(() => expectNothingLeft(aws, bb));

const { taskOf, ended, connect, writeCookie, readCookie, archiveOf, writer, flushCookies } = contextSteps(() => ({
  aws,
  bb,
  pages,
}));

describe('a context persisted by session 1 is there in session 2, whichever way session 1 ended', () => {
  it('released: the release answers once the task saved the profile and recorded the ending', async () => {
    const { contextId, session, browser } = await writer('released');
    const released = await bb.sessions.update(session.id, { status: 'REQUEST_RELEASE', projectId: aws.projectId });
    expect(released.status).toBe('COMPLETED');
    // Answered after the task's own ending: its reason is the release's, and the archive is already there.
    const stored = await aws.store.getSession(session.id);
    expect(stored?.endReason).toBe('The session was released');
    expect(await archiveOf(contextId)).toBeDefined();
    await browser.disconnect().catch(() => {});
    expect(await readCookie(contextId)).toBe('wc_cookie=released');
  });

  it('timed out', async () => {
    const { contextId, session, browser } = await writer('timed-out', { timeout: 8, keepAlive: true });
    const end = await ended(session.id);
    expect(end.status).toBe('TIMED_OUT');
    expect(end.endReason).not.toMatch(/not saved/);
    await browser.disconnect().catch(() => {});
    expect(await readCookie(contextId)).toBe('wc_cookie=timed-out');
  });

  it('the last client left', async () => {
    const { contextId, session, browser } = await writer('disconnected');
    await browser.disconnect();
    const end = await ended(session.id);
    expect(end.status).toBe('COMPLETED');
    expect(end.endReason).not.toMatch(/not saved/);
    expect(await readCookie(contextId)).toBe('wc_cookie=disconnected');
  });

  it('Chromium crashed (SIGKILL): what it had written to disk is kept', { timeout: 120_000 }, async () => {
    const { contextId, session, browser } = await writer('crashed');
    await flushCookies(browser, session.id);
    const task = taskOf(session.id);
    const marker = `--user-data-dir=${join(task?.dataDir ?? '', 'data', 'sessions', session.id, 'profile')}`;
    const main = findProcesses(task?.dataDir ?? '').find((p) => p.cmdline.includes(marker) && p.pid === p.pgid);
    if (!main) throw new Error('no Chromium process for the session');
    process.kill(main.pid, 'SIGKILL');
    const end = await ended(session.id);
    expect(end.status).toBe('ERROR');
    expect(end.endReason).not.toMatch(/not saved/);
    await browser.disconnect().catch(() => {});
    expect(await readCookie(contextId)).toBe('wc_cookie=crashed');
  });

  it('the task was stopped (SIGTERM: a scale-in, a Spot stop)', async () => {
    const { contextId, session, browser } = await writer('sigterm');
    const task = taskOf(session.id);
    const ecs = new ECSClient({
      endpoint: aws.ecs.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      await ecs.send(new StopTaskCommand({ cluster: 'wallcrawler', task: task?.taskArn, reason: 'Scale-in' }));
    } finally {
      ecs.destroy();
    }
    const end = await ended(session.id);
    expect(end.endReason).toMatch(/SIGTERM/);
    expect(end.endReason).not.toMatch(/not saved/);
    await browser.disconnect().catch(() => {});
    expect(await readCookie(contextId)).toBe('wc_cookie=sigterm');
  });
});

describe('bad input and one writer', () => {
  it('refuses a second writer with 409 context_in_use while the first runs, and admits one after', async () => {
    const { contextId, session, browser } = await writer('first');
    const before = await aws.activeCounter();
    const refused = await bb.sessions
      .create({ projectId: aws.projectId, browserSettings: { context: { id: contextId, persist: true } } })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 409, error: { code: 'context_in_use' } });
    // Nothing was admitted or started for it.
    expect(await aws.activeCounter()).toBe(before);
    await browser.disconnect().catch(() => {});
    await bb.sessions.update(session.id, { status: 'REQUEST_RELEASE', projectId: aws.projectId });
    const next = await bb.sessions.create({
      projectId: aws.projectId,
      browserSettings: { context: { id: contextId, persist: true } },
    });
    expect(next.status).toBe('RUNNING');
    await bb.sessions.update(next.id, { status: 'REQUEST_RELEASE', projectId: aws.projectId });
  });

  it("releases the lock of a task killed outright (the task-state function's ending); the context keeps its state", async () => {
    const { contextId, session, browser } = await writer('saved-before');
    await browser.disconnect().catch(() => {});
    await bb.sessions.update(session.id, { status: 'REQUEST_RELEASE', projectId: aws.projectId });
    const saved = await archiveOf(contextId);
    const second = await bb.sessions.create({
      projectId: aws.projectId,
      browserSettings: { context: { id: contextId, persist: true } },
    });
    const task = taskOf(second.id);
    if (!task) throw new Error(`no task serves ${second.id}`);
    // An OOM kill: no close path, no save, no ending of its own.
    aws.ecs.killTask(task.taskArn);
    await aws.ecs.waitStopped(task.taskArn);
    expect(await ended(second.id)).toMatchObject({ status: 'ERROR' });
    expect(await archiveOf(contextId)).toEqual(saved);
    // The lock went with the ending: the next writer is admitted.
    const third = await bb.sessions.create({
      projectId: aws.projectId,
      browserSettings: { context: { id: contextId, persist: true } },
    });
    expect(third.status).toBe('RUNNING');
    await bb.sessions.update(third.id, { status: 'REQUEST_RELEASE', projectId: aws.projectId });
  });

  it('answers 422 context_unusable for a corrupt archive or one sealed under another key, and overwrites nothing', async () => {
    const { contextId, session, browser } = await writer('sealed');
    await browser.disconnect().catch(() => {});
    await bb.sessions.update(session.id, { status: 'REQUEST_RELEASE', projectId: aws.projectId });
    const real = await archiveOf(contextId);
    if (!real) throw new Error('the context was not saved');
    // Sealed for another context (the id is authenticated with it), and garbage.
    const other = await bb.contexts.create({ projectId: aws.projectId });
    for (const [id, body] of [
      [other.id, real],
      [contextId, Buffer.from('not an archive at all, just bytes in the bucket')],
    ] as const) {
      await aws.s3.client.send(new PutObjectCommand({ Bucket: aws.s3.bucket, Key: contextArchiveKey(id), Body: body }));
      const refused = await bb.sessions
        .create({ projectId: aws.projectId, browserSettings: { context: { id, persist: true } } })
        .catch((e: unknown) => e);
      expect(refused).toMatchObject({ status: 422, error: { code: 'context_unusable' } });
      expect(String((refused as { error: { message: string } }).error.message)).toMatch(/cannot be used/);
      // The session did not start, and its ending released the lock: what is in the bucket is what was there.
      expect(await archiveOf(id)).toEqual(body);
    }
    const sessions = await aws.store.listSessions(aws.projectId, {});
    expect(sessions.filter((s) => s.status === 'ERROR' && s.startFailure === 'context_unusable')).toHaveLength(2);
  });

  it('deletes the context with its archive: no S3 object is left', async () => {
    const { contextId, session, browser } = await writer('deleted');
    await browser.disconnect().catch(() => {});
    await bb.sessions.update(session.id, { status: 'REQUEST_RELEASE', projectId: aws.projectId });
    const list = () =>
      aws.s3.client.send(new ListObjectsV2Command({ Bucket: aws.s3.bucket, Prefix: `contexts/${contextId}/` }));
    expect((await list()).Contents ?? []).toHaveLength(1);
    await bb.contexts.delete(contextId);
    expect((await list()).Contents ?? []).toEqual([]);
  });
});

describe('a warm-pool task serves a context session', () => {
  it('hydrates before it starts the browser, without a RunTask of its own', async () => {
    const { contextId, session, browser } = await writer('pooled');
    await browser.disconnect().catch(() => {});
    await bb.sessions.update(session.id, { status: 'REQUEST_RELEASE', projectId: aws.projectId });
    await aws.prewarm(1);
    const tasksBefore = aws.ecs.tasks().length;
    const pooled = await bb.sessions.create({
      projectId: aws.projectId,
      browserSettings: { context: { id: contextId, persist: true } },
    });
    // No RunTask: the idle task took it, closed the browser it had started, and started one on the profile.
    expect(aws.ecs.tasks()).toHaveLength(tasksBefore);
    const claimed = (await aws.poolTasks()).find((t) => t.sessionId === pooled.id);
    expect(claimed?.status).toBe('CLAIMED');
    const pooledBrowser = await connect(pooled.connectUrl);
    const [page] = await pooledBrowser.pages();
    await page?.goto(pages.url);
    expect(await page?.evaluate(() => document.cookie)).toBe('wc_cookie=pooled');
    await writeCookie(pooledBrowser, 'pooled-again');
    await pooledBrowser.disconnect();
    await ended(pooled.id);
    expect(await readCookie(contextId)).toBe('wc_cookie=pooled-again');
  });
});
