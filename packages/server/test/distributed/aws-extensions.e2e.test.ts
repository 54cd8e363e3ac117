/**
 * Extensions on the distributed path: uploaded through the API into S3 (s3rver), unpacked by the session's task
 * before Chromium starts (a warm-pool task starts a browser with it instead of its idle one), an extension that
 * cannot be unpacked in the task fails the create with a clear error and leaves no task running, and Stagehand
 * 4's own `browserbase.launch` flow (upload, create, release, delete) works against the stack.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buffer } from 'node:stream/consumers';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import Browserbase, { toFile } from '@browserbasehq/sdk';
import { extensionZipKey } from '@wallcrawler/contracts';
import puppeteer from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import yazl from 'yazl';
import { expectNothingLeft } from '../support/aws-checks.js';
import { type AwsTopology, startAwsTopology } from '../support/aws-topology.js';
import { ORDER_PAGE, runStagehandV4Flow } from '../support/stagehand-v4.js';

let aws: AwsTopology;
let bb: Browserbase;
let pages: Server;
let pageUrl: string;

beforeAll(async () => {
  pages = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' }).end(ORDER_PAGE);
  });
  await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
  pageUrl = `http://127.0.0.1:${(pages.address() as AddressInfo).port}/order`;
  // Direct mode: Stagehand 4's extension opens the session's connectUrl from inside the session's own Chromium,
  // which does not trust the local edge's throwaway CA (on AWS it trusts CloudFront's certificate).
  aws = await startAwsTopology({ concurrency: 3, connect: 'direct' });
  bb = new Browserbase({ apiKey: aws.apiKey, baseURL: aws.url, maxRetries: 0 });
});
afterAll(async () => {
  await aws?.close();
  pages?.close();
});

afterEach(() => expectNothingLeft(aws, bb));

async function extensionZip(): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  zip.addBuffer(
    Buffer.from(
      JSON.stringify({
        manifest_version: 3,
        name: 'Wallcrawler test extension',
        version: '1.0',
        content_scripts: [{ matches: ['<all_urls>'], js: ['content.js'], run_at: 'document_start' }],
      }),
    ),
    'manifest.json',
  );
  zip.addBuffer(Buffer.from('document.documentElement.dataset.wcExtension = "loaded";'), 'content.js');
  zip.end();
  return buffer(zip.outputStream);
}

const upload = async () => bb.extensions.create({ file: await toFile(await extensionZip(), 'wc-extension.zip') });

/** Connects to the session, opens the page, and says whether the extension's content script ran there. */
async function contentScriptRan(connectUrl: string): Promise<{ ran: string | undefined; names: string[] }> {
  const browser = await puppeteer.connect({ browserWSEndpoint: connectUrl, defaultViewport: null });
  try {
    const cdp = await browser.target().createCDPSession();
    const { extensions } = (await cdp.send('Extensions.getExtensions' as never)) as { extensions: { name: string }[] };
    const page = await browser.newPage();
    await page.goto(pageUrl);
    const ran = await page.evaluate(() => document.documentElement.dataset.wcExtension);
    return { ran, names: extensions.map((e) => e.name) };
  } finally {
    await browser.disconnect();
  }
}

describe('extensions on ECS tasks', () => {
  it("loads an uploaded extension into the session's task: its content script runs", async () => {
    const extension = await upload();
    const session = await bb.sessions.create({ projectId: aws.projectId, extensionId: extension.id });
    expect(session.status).toBe('RUNNING');
    expect(await contentScriptRan(session.connectUrl)).toEqual({
      ran: 'loaded',
      names: ['Wallcrawler test extension'],
    });
    await bb.sessions.update(session.id, { status: 'REQUEST_RELEASE', projectId: aws.projectId });
  });

  it('a warm-pool task starts a browser with the extension instead of its idle one, without a RunTask', async () => {
    const extension = await upload();
    await aws.prewarm(1);
    const tasksBefore = aws.ecs.tasks().length;
    const session = await bb.sessions.create({
      projectId: aws.projectId,
      browserSettings: { extensionId: extension.id },
    });
    expect(aws.ecs.tasks()).toHaveLength(tasksBefore);
    expect((await aws.poolTasks()).find((t) => t.sessionId === session.id)?.status).toBe('CLAIMED');
    expect((await contentScriptRan(session.connectUrl)).ran).toBe('loaded');
    await bb.sessions.update(session.id, { status: 'REQUEST_RELEASE', projectId: aws.projectId });
  });

  it('fails the create with a clear 400 when the task cannot unpack the extension, and no task is left', async () => {
    const extension = await upload();
    // The API checked the zip on upload; what the task finds in the bucket is another matter.
    await aws.s3.client.send(
      new PutObjectCommand({
        Bucket: aws.s3.bucket,
        Key: extensionZipKey(extension.id),
        Body: Buffer.from('PK but not a zip'),
      }),
    );
    const refused = await bb.sessions
      .create({ projectId: aws.projectId, extensionId: extension.id })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({
      status: 400,
      error: { code: 'invalid_upload', message: expect.stringMatching(/cannot be loaded: .*zip/) },
    });
    const [failed] = (await aws.store.listSessions(aws.projectId, {})).filter((s) => s.extensionId === extension.id);
    expect(failed).toMatchObject({ status: 'ERROR', startFailure: 'extension_unusable' });
    // Its task ended itself, non-zero, with nothing left behind.
    const task = aws.ecs.tasks().find((t) => t.environment.WALLCRAWLER_SESSION_ID === failed?.id);
    if (!task) throw new Error('no task ran the session');
    await aws.ecs.waitStopped(task.taskArn);
    expect(aws.ecs.tasks().find((t) => t.taskArn === task.taskArn)?.exitCode).toBe(1);
  });
});

describe('Stagehand 4 against the stack', () => {
  it('launches (uploading its extension), drives a page, releases and deletes its extension', {
    timeout: 180_000,
  }, async () => {
    const report = await runStagehandV4Flow({ url: aws.url, apiKey: aws.apiKey, pageUrl });
    expect(report).toMatchObject({ title: 'Order', price: 'Price: 42 EUR', clickedTitle: 'Saved' });
    const session = await aws.store.getSession(report.sessionId);
    expect(session).toMatchObject({ status: 'COMPLETED', endReason: 'The session was released' });
    expect(session?.extensionId).toMatch(/.+/);
    // close() deleted the extension: its record and its zip in the bucket.
    await expect(bb.extensions.retrieve(session?.extensionId as string)).rejects.toMatchObject({ status: 404 });
    const head = await aws.s3.client
      .send(new HeadObjectCommand({ Bucket: aws.s3.bucket, Key: extensionZipKey(session?.extensionId as string) }))
      .catch((e: unknown) => e);
    expect(head).toMatchObject({ $metadata: { httpStatusCode: 404 } });
  });
});
