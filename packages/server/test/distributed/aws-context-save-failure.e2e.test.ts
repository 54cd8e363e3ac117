/**
 * A context save that fails keeps the previous saved profile, and the session's end reason says why: the profile
 * over the size limit, or S3 unreachable from the task at its ending. A release whose task cannot confirm its
 * save in time is answered anyway, the API ending the session itself. The tasks reach the bucket through a TCP
 * link the test can cut or stall, as a network can fail.
 */
import Browserbase from '@browserbasehq/sdk';
import { CONTROLLER_ENV as E } from '@wallcrawler/contracts';
import { type PageServer, startPageServer } from '@wallcrawler/test-support';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { expectNothingLeft } from '../support/aws-checks.js';
import { contextSteps } from '../support/aws-contexts.js';
import { type AwsTopology, startAwsTopology } from '../support/aws-topology.js';
import { startTcpLink, type TcpLink } from '../support/tcp-link.js';

/** The tasks' context size limit here, in MiB: above a fresh profile (a few MiB), below what one test writes. */
const CONTEXT_MAX_MB = 16;
/** How long a release waits for its task to record the ending here (50 s on the stack). */
const RELEASE_WAIT_MS = 2_000;

let pages: PageServer;
let link: TcpLink;
let aws: AwsTopology;
let bb: Browserbase;

beforeAll(async () => {
  pages = await startPageServer();
  link = await startTcpLink();
  aws = await startAwsTopology({
    concurrency: 3,
    taskEnv: { [E.s3Endpoint]: link.url, [E.contextMaxMb]: String(CONTEXT_MAX_MB) },
    provider: { releaseWaitMs: RELEASE_WAIT_MS },
  });
  const s3 = new URL(aws.s3.endpoint);
  link.target = { host: s3.hostname, port: Number(s3.port) };
  bb = new Browserbase({ apiKey: aws.apiKey, baseURL: aws.url, maxRetries: 0 });
});
afterAll(async () => {
  await aws?.close();
  await link?.close();
  await pages?.close();
});
afterEach(() => expectNothingLeft(aws, bb));

const { writer, readCookie, archiveOf, ended } = contextSteps(() => ({ aws, bb, pages }));

/** A context saved once, by a session that set its cookie to `value`; with the archive that save wrote. */
async function savedContext(value: string): Promise<{ contextId: string; archive: Buffer }> {
  const { contextId, session, browser } = await writer(value);
  // Ended by its last client leaving (not a release, which waits only RELEASE_WAIT_MS for the save here).
  await browser.disconnect();
  expect((await ended(session.id)).endReason).not.toMatch(/not saved/);
  const archive = await archiveOf(contextId);
  if (!archive) throw new Error('the first save wrote nothing');
  return { contextId, archive };
}

it('keeps the previous profile when the profile outgrew the size limit, and the end reason says so', async () => {
  const { contextId, archive } = await savedContext('small');
  const { session, browser } = await writer('big', {}, contextId);
  // Incompressible bytes in IndexedDB, which Chromium keeps in the profile: over the limit.
  const [page] = await browser.pages();
  await page?.evaluate(async (mb) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('wc-bulk', 1);
      open.onupgradeneeded = () => open.result.createObjectStore('chunks');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    for (let i = 0; i < mb; i++) {
      const chunk = new Uint8Array(1024 * 1024);
      for (let o = 0; o < chunk.length; o += 65_536) crypto.getRandomValues(chunk.subarray(o, o + 65_536));
      await new Promise<void>((resolve, reject) => {
        const tx = db.transaction('chunks', 'readwrite');
        tx.objectStore('chunks').put(new Blob([chunk]), i);
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error);
      });
    }
    db.close();
  }, CONTEXT_MAX_MB + 8);
  // The last client leaving ends the session: its save runs in the close path.
  await browser.disconnect();
  const end = await ended(session.id);
  expect(end.status).toBe('COMPLETED');
  expect(end.endReason).toMatch(/the context was not saved: .*over the context size limit of 16/);
  expect(await archiveOf(contextId)).toEqual(archive);
  expect(await readCookie(contextId)).toBe('wc_cookie=small');
});

it('keeps the previous profile when S3 cannot be reached at the ending, and the end reason says so', async () => {
  const { contextId, archive } = await savedContext('before');
  const { session, browser } = await writer('after', {}, contextId);
  await link.cut();
  try {
    await browser.disconnect();
    const end = await ended(session.id);
    expect(end.status).toBe('COMPLETED');
    expect(end.endReason).toMatch(/the context was not saved: connect ECONNREFUSED/);
  } finally {
    await link.mend();
  }
  expect(await archiveOf(contextId)).toEqual(archive);
  expect(await readCookie(contextId)).toBe('wc_cookie=before');
});

it('answers a release whose task cannot confirm its save in time, ending the session itself', async () => {
  const { contextId } = await savedContext('first');
  const { session, browser } = await writer('second', {}, contextId);
  link.stall();
  try {
    const released = await bb.sessions.update(session.id, { status: 'REQUEST_RELEASE', projectId: aws.projectId });
    expect(released.status).toBe('COMPLETED');
    const stored = await aws.store.getSession(session.id);
    expect(stored?.endReason).toBe(
      `The session was released; its task did not confirm what it kept within ${RELEASE_WAIT_MS / 1000} s`,
    );
  } finally {
    await link.mend();
  }
  await browser.disconnect().catch(() => {});
  // The API's ending gave the context's lock back: the next writer is admitted.
  const next = await bb.sessions.create({
    projectId: aws.projectId,
    browserSettings: { context: { id: contextId, persist: true } },
  });
  expect(next.status).toBe('RUNNING');
});
