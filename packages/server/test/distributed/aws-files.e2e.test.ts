/**
 * A session's files on the AWS topology: downloads, uploads, the CDP log and the recording are served live from
 * the session's task (the API calls its controller with the session's connect token), shipped to S3 by the
 * task's close path on every ending before the ending is recorded, and served from S3 after it. A download
 * larger than Lambda's buffered response is answered with a redirect to a presigned S3 URL, which the official
 * SDK follows.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ECSClient, StopTaskCommand } from '@aws-sdk/client-ecs';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import Browserbase from '@browserbasehq/sdk';
import { findProcesses } from '@wallcrawler/controller';
import { waitFor } from '@wallcrawler/test-support';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import { expectNothingLeft, taskOfSession } from '../support/aws-checks.js';
import { type AwsTopology, startAwsTopology } from '../support/aws-topology.js';

/** 20 MiB of bytes that are not all the same, so a mangled copy cannot pass. */
const BIG = Buffer.alloc(20 * 1024 * 1024);
for (let i = 0; i < BIG.length; i += 4) BIG.writeUInt32LE((i * 2654435761) >>> 0, i);
const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

let site: Server;
let siteUrl: string;
let aws: AwsTopology;
let bb: Browserbase;

beforeAll(async () => {
  site = createServer((request, response) => {
    if (request.url === '/big.bin') {
      response.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-disposition': 'attachment; filename="big.bin"',
        'content-length': String(BIG.length),
      });
      response.end(BIG);
    } else {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end(`<!doctype html><title>Files</title><a id="big" href="/big.bin">big</a>
<input type="file" id="file"><p id="out"></p>
<script>document.getElementById('file').addEventListener('change', async (e) => {
  const f = e.target.files[0]; document.getElementById('out').textContent = f.name + ':' + (await f.text());
});</script>`);
    }
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  aws = await startAwsTopology({ concurrency: 3 });
  bb = new Browserbase({ apiKey: aws.apiKey, baseURL: aws.url, maxRetries: 0 });
});
afterAll(async () => {
  await aws?.close();
  site?.closeAllConnections();
  await new Promise((resolve) => site?.close(resolve));
});

afterEach(() => expectNothingLeft(aws, bb));

const taskOf = (sessionId: string) => taskOfSession(aws, sessionId);

const ended = (sessionId: string) =>
  waitFor(
    async () => {
      const s = await bb.sessions.retrieve(sessionId);
      return s.status !== 'RUNNING' && s.status !== 'PENDING' && s;
    },
    { timeout: 30_000, message: `session ${sessionId} to end` },
  );

/** The keys the bucket holds under `prefix`. */
async function keysUnder(prefix: string): Promise<string[]> {
  const { Contents = [] } = await aws.s3.client.send(
    new ListObjectsV2Command({ Bucket: aws.s3.bucket, Prefix: prefix }),
  );
  return Contents.map((o) => o.Key ?? '');
}

/** A zip's entries: name → bytes. */
async function unzip(bytes: Buffer): Promise<Map<string, Buffer>> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromBuffer(bytes, { lazyEntries: true }, (error, z) => (error || !z ? reject(error) : resolve(z))),
  );
  const entries = new Map<string, Buffer>();
  await new Promise<void>((resolve, reject) => {
    zip.on('end', resolve);
    zip.on('error', reject);
    zip.on('entry', (entry: yauzl.Entry) => {
      zip.openReadStream(entry, (error, stream) => {
        if (error || !stream) return reject(error);
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          entries.set(entry.fileName, Buffer.concat(chunks));
          zip.readEntry();
        });
      });
    });
    zip.readEntry();
  });
  return entries;
}

async function downloadsOf(sessionId: string): Promise<Map<string, Buffer>> {
  const response = await bb.sessions.downloads.list(sessionId);
  return unzip(Buffer.from(await response.arrayBuffer()));
}

async function openSite(connectUrl: string): Promise<{ browser: Browser; page: Page }> {
  const browser = await puppeteer.connect({ browserWSEndpoint: connectUrl, defaultViewport: null });
  const [page] = await browser.pages();
  if (!page) throw new Error('no page');
  await page.goto(siteUrl);
  return { browser, page };
}

describe('downloads and uploads on ECS tasks', () => {
  it('serves a 20 MB download live from the task and, after the release, from S3, through a presigned redirect', async () => {
    const session = await bb.sessions.create({ projectId: aws.projectId });
    // None yet: a valid, empty zip, small enough to come through the front door.
    expect((await downloadsOf(session.id)).size).toBe(0);
    const { browser, page } = await openSite(session.connectUrl);
    await page.click('#big');
    const live = await waitFor(
      async () => {
        const entries = await downloadsOf(session.id);
        return entries.has('big.bin') && entries;
      },
      { timeout: 30_000, message: 'the download to be served live' },
    );
    expect(sha(live.get('big.bin') ?? Buffer.alloc(0))).toBe(sha(BIG));
    // Too large for Lambda's buffered response: a 307 to a short-lived presigned URL of the bucket.
    const raw = await fetch(`${aws.url}/v1/sessions/${session.id}/downloads`, {
      headers: { 'x-bb-api-key': aws.apiKey },
      redirect: 'manual',
    });
    expect(raw.status).toBe(307);
    const location = new URL(raw.headers.get('location') ?? '');
    expect(location.origin).toBe(aws.s3.endpoint);
    expect(location.searchParams.get('X-Amz-Expires')).toBe('300');
    // The dashboard's downloads link too, signed in with the key (a cookie).
    const signIn = await fetch(`${aws.url}/dashboard/sign-in`, {
      method: 'POST',
      body: new URLSearchParams({ apiKey: aws.apiKey }),
      redirect: 'manual',
    });
    const cookie = signIn.headers.get('set-cookie')?.split(';')[0] ?? '';
    expect(cookie).toMatch(/^wallcrawler_dashboard=/);
    const viaDashboard = await fetch(`${aws.url}/dashboard/sessions/${session.id}/downloads`, {
      headers: { cookie },
      redirect: 'manual',
    });
    expect(viaDashboard.status).toBe(307);
    expect(new URL(viaDashboard.headers.get('location') ?? '').origin).toBe(aws.s3.endpoint);
    await browser.disconnect();

    await bb.sessions.update(session.id, { status: 'REQUEST_RELEASE', projectId: aws.projectId });
    // The task shipped it before its ending was recorded: it is there as soon as the release answers.
    expect(await keysUnder(`downloads/${session.id}/`)).toEqual([
      `downloads/${session.id}/f${Buffer.from('big.bin').toString('base64url')}`,
    ]);
    const kept = await downloadsOf(session.id);
    expect([...kept.keys()]).toEqual(['big.bin']);
    expect(sha(kept.get('big.bin') ?? Buffer.alloc(0))).toBe(sha(BIG));
    await aws.ecs.waitStopped(taskOf(session.id).taskArn);
    expect(taskOf(session.id).exitCode, taskOf(session.id).output).toBe(0);
  });

  it('puts an upload in the task, where a file input of the page uses it', async () => {
    const session = await bb.sessions.create({ projectId: aws.projectId });
    const { browser, page } = await openSite(session.connectUrl);
    const uploaded = await bb.sessions.uploads.create(session.id, {
      file: new File(['uploaded to a task'], 'notes.txt'),
    });
    // The path is in the task's own session directory, not on the API's machine.
    const task = taskOf(session.id);
    const { path } = uploaded as typeof uploaded & { path: string };
    expect(path.startsWith(`${task.dataDir}/`)).toBe(true);
    expect(path.endsWith(`/sessions/${session.id}/uploads/notes.txt`)).toBe(true);
    const cdp = await page.createCDPSession();
    const { root } = await cdp.send('DOM.getDocument');
    const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector: '#file' });
    await cdp.send('DOM.setFileInputFiles', { files: [path], nodeId });
    await waitFor(async () => (await page.$eval('#out', (e) => e.textContent)) === 'notes.txt:uploaded to a task');
    await browser.disconnect();
    await bb.sessions.update(session.id, { status: 'REQUEST_RELEASE', projectId: aws.projectId });
    // A released session takes no uploads.
    await expect(
      bb.sessions.uploads.create(session.id, { file: new File(['late'], 'late.txt') }),
    ).rejects.toMatchObject({ status: 409 });
  });
});

describe('logs and recordings on ECS tasks, live and after each ending', () => {
  /** Browses a page, and waits until the session's log and recording show it live (from the task). */
  async function browseAndSeeLive(sessionId: string, connectUrl: string) {
    const browser = await puppeteer.connect({ browserWSEndpoint: connectUrl, defaultViewport: null });
    const [page] = await browser.pages();
    await page?.goto(`${siteUrl}/?recorded`);
    await page?.evaluate(() => document.body.insertAdjacentHTML('beforeend', '<p id="later">added</p>'));
    const logs = await waitFor(async () => {
      const l = await bb.sessions.logs.list(sessionId);
      return l.some((e) => e.method === 'Page.navigate') && l;
    });
    const recording = await waitFor(async () => {
      const r = await bb.sessions.recording.retrieve(sessionId);
      return r.some((e) => e.type === 2) && r.some((e) => e.type === 3) && r;
    });
    return { browser, logs, recording };
  }

  /** After the end: the same (or more) log and recording, from S3, where the task put them. */
  async function expectKept(sessionId: string, live: { logs: unknown[]; recording: unknown[] }) {
    expect(await keysUnder(`logs/${sessionId}`)).toEqual([`logs/${sessionId}.json`]);
    expect(await keysUnder(`recordings/${sessionId}`)).toEqual([`recordings/${sessionId}.json`]);
    const logs = await bb.sessions.logs.list(sessionId);
    expect(logs.length).toBeGreaterThanOrEqual(live.logs.length);
    expect(logs.some((e) => e.method === 'Page.navigate')).toBe(true);
    const recording = await bb.sessions.recording.retrieve(sessionId);
    expect(recording.length).toBeGreaterThanOrEqual(live.recording.length);
    expect(recording.every((e) => e.sessionId === sessionId)).toBe(true);
  }

  it('release (StopTask, the reason on the item): kept before the release answers', async () => {
    const session = await bb.sessions.create({ projectId: aws.projectId });
    const { browser, ...live } = await browseAndSeeLive(session.id, session.connectUrl);
    const released = await bb.sessions.update(session.id, { status: 'REQUEST_RELEASE', projectId: aws.projectId });
    expect(released.status).toBe('COMPLETED');
    expect((await aws.store.getSession(session.id))?.endReason).toBe('The session was released');
    await expectKept(session.id, live);
    await browser.disconnect().catch(() => {});
  });

  it('Chromium killed: the task ends the session as ERROR, and keeps what it had', async () => {
    const session = await bb.sessions.create({ projectId: aws.projectId });
    const { browser, ...live } = await browseAndSeeLive(session.id, session.connectUrl);
    const task = taskOf(session.id);
    const main = findProcesses(task.dataDir).find((p) => p.cmdline.includes('--user-data-dir=') && p.pid === p.pgid);
    if (!main) throw new Error('no Chromium process in the task');
    process.kill(main.pid, 'SIGKILL');
    expect((await ended(session.id)).status).toBe('ERROR');
    await expectKept(session.id, live);
    await browser.disconnect().catch(() => {});
    await aws.ecs.waitStopped(task.taskArn);
  });

  it('SIGTERM from ECS (a scale-in or Spot stop): kept before the ending is recorded', async () => {
    const session = await bb.sessions.create({ projectId: aws.projectId });
    const { browser, ...live } = await browseAndSeeLive(session.id, session.connectUrl);
    const task = taskOf(session.id);
    const ecs = new ECSClient({
      endpoint: aws.ecs.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      await ecs.send(new StopTaskCommand({ cluster: 'wallcrawler', task: task.taskArn, reason: 'Scale-in' }));
    } finally {
      ecs.destroy();
    }
    const final = await ended(session.id);
    expect(final.status).toBe('COMPLETED');
    // Recorded by the task itself (the API never saw this ending), after it kept its files.
    expect((await aws.store.getSession(session.id))?.endReason).toMatch(/SIGTERM/);
    await expectKept(session.id, live);
    await browser.disconnect().catch(() => {});
    await aws.ecs.waitStopped(task.taskArn);
    expect(taskOf(session.id).exitCode, taskOf(session.id).output).toBe(0);
  });

  it('the last client leaving: the task ends the session by itself, and keeps what it had', async () => {
    const session = await bb.sessions.create({ projectId: aws.projectId });
    const { browser, ...live } = await browseAndSeeLive(session.id, session.connectUrl);
    await browser.disconnect();
    expect((await ended(session.id)).status).toBe('COMPLETED');
    await expectKept(session.id, live);
    await aws.ecs.waitStopped(taskOf(session.id).taskArn);
  });

  it('a warm-pool task keeps the files of the session that claimed it, as its item says', async () => {
    await aws.prewarm(1);
    const session = await bb.sessions.create({ projectId: aws.projectId });
    const claimed = (await aws.poolTasks()).find((t) => t.sessionId === session.id);
    expect(claimed, 'the create claimed the idle task').toBeDefined();
    const { browser, ...live } = await browseAndSeeLive(session.id, session.connectUrl);
    await bb.sessions.update(session.id, { status: 'REQUEST_RELEASE', projectId: aws.projectId });
    expect((await aws.store.getSession(session.id))?.endReason).toBe('The session was released');
    await expectKept(session.id, live);
    await browser.disconnect().catch(() => {});
  });

  it('a session created with logSession and recordSession false keeps neither (its item says so)', async () => {
    const session = await bb.sessions.create({
      projectId: aws.projectId,
      browserSettings: { logSession: false, recordSession: false },
    });
    expect(await aws.sessionItem(session.id)).toMatchObject({
      logSession: { BOOL: false },
      recordSession: { BOOL: false },
    });
    const browser = await puppeteer.connect({ browserWSEndpoint: session.connectUrl, defaultViewport: null });
    const [page] = await browser.pages();
    await page?.goto(siteUrl);
    expect(await bb.sessions.logs.list(session.id)).toEqual([]);
    expect(await bb.sessions.recording.retrieve(session.id)).toEqual([]);
    await bb.sessions.update(session.id, { status: 'REQUEST_RELEASE', projectId: aws.projectId });
    expect(await keysUnder(`logs/${session.id}`)).toEqual([]);
    expect(await keysUnder(`recordings/${session.id}`)).toEqual([]);
    await browser.disconnect().catch(() => {});
  });
});
