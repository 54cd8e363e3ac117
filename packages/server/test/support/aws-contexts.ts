import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type Browserbase from '@browserbasehq/sdk';
import { contextArchiveKey } from '@wallcrawler/contracts';
import { type PageServer, waitFor } from '@wallcrawler/test-support';
import puppeteer, { type Browser } from 'puppeteer-core';
import type { AwsTopology } from './aws-topology.js';

/** What the context tests run against; read at each call, since the topology starts in a `beforeAll`. */
export type ContextTestbed = () => { aws: AwsTopology; bb: Browserbase; pages: PageServer };

/** The distributed context tests' steps: writing a cookie in a context's session, reading it back, the archive. */
export function contextSteps(testbed: ContextTestbed) {
  const taskOf = (sessionId: string) => {
    const { aws } = testbed();
    const arn = aws.ecs.tasks().find((t) => t.environment.WALLCRAWLER_SESSION_ID === sessionId)?.taskArn;
    return aws.ecs.tasks().find((t) => t.taskArn === arn);
  };

  async function ended(sessionId: string) {
    const { aws } = testbed();
    return waitFor(
      async () => {
        const s = await aws.store.getSession(sessionId);
        return s && s.status !== 'RUNNING' && s.status !== 'PENDING' && s;
      },
      { timeout: 30_000, message: `session ${sessionId} to end` },
    );
  }

  const connect = (connectUrl: string) => puppeteer.connect({ browserWSEndpoint: connectUrl, defaultViewport: null });

  /** Sets a persistent cookie on the page server's origin. */
  async function writeCookie(browser: Browser, value: string): Promise<void> {
    const [page] = await browser.pages();
    if (!page) throw new Error('the session has no page');
    await page.goto(testbed().pages.url);
    await page.evaluate((v) => {
      // biome-ignore lint/suspicious/noDocumentCookie: the page's own cookie is what a context must keep
      document.cookie = `wc_cookie=${v}; max-age=86400; path=/`;
    }, value);
  }

  /** The cookie a new session from the context sees (it only reads: `persist: false`). */
  async function readCookie(contextId: string): Promise<string> {
    const { aws, bb, pages } = testbed();
    const session = await bb.sessions.create({
      projectId: aws.projectId,
      browserSettings: { context: { id: contextId, persist: false } },
    });
    const browser = await connect(session.connectUrl);
    try {
      const [page] = await browser.pages();
      if (!page) throw new Error('the session has no page');
      await page.goto(pages.url);
      return await page.evaluate(() => document.cookie);
    } finally {
      await browser.disconnect();
      await bb.sessions.update(session.id, { status: 'REQUEST_RELEASE', projectId: aws.projectId });
    }
  }

  async function archiveOf(contextId: string): Promise<Buffer | undefined> {
    const { aws } = testbed();
    try {
      const object = await aws.s3.client.send(
        new GetObjectCommand({ Bucket: aws.s3.bucket, Key: contextArchiveKey(contextId) }),
      );
      return Buffer.from(await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
    } catch {
      return undefined;
    }
  }

  /** A writer session on the context (a new one unless given), connected, with its cookie set. */
  async function writer(
    value: string,
    create: { timeout?: number; keepAlive?: boolean } = {},
    contextId?: string,
  ): Promise<{ contextId: string; session: Browserbase.Sessions.SessionCreateResponse; browser: Browser }> {
    const { aws, bb } = testbed();
    const id = contextId ?? (await bb.contexts.create({ projectId: aws.projectId })).id;
    const session = await bb.sessions.create({
      projectId: aws.projectId,
      ...create,
      browserSettings: { context: { id, persist: true } },
    });
    const browser = await connect(session.connectUrl);
    await writeCookie(browser, value);
    return { contextId: id, session, browser };
  }

  /** Makes Chromium commit its cookies to disk now (it does every 30 s, or after 512 changes). */
  async function flushCookies(browser: Browser, sessionId: string): Promise<void> {
    await (await browser.pages())[0]?.evaluate(() => {
      for (let i = 0; i < 600; i++) {
        // biome-ignore lint/suspicious/noDocumentCookie: cookie changes are what make Chromium commit
        document.cookie = `wc_batch=${i}; max-age=86400; path=/batch`;
      }
    });
    const task = taskOf(sessionId);
    if (!task) throw new Error(`no task serves ${sessionId}`);
    const cookies = join(task.dataDir, 'data', 'sessions', sessionId, 'profile', 'Default', 'Cookies');
    await waitFor(
      () => readdirSync(join(cookies, '..')).includes('Cookies') && readFileSync(cookies).includes('wc_cookie'),
      {
        timeout: 60_000,
        interval: 500,
        message: 'Chromium to write the cookie to disk',
      },
    );
  }

  return { taskOf, ended, connect, writeCookie, readCookie, archiveOf, writer, flushCookies };
}
