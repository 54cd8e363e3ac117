/**
 * A browser that dies ends its session as ERROR with the crash as its reason, whatever races with the crash: a
 * release, the disconnect grace of a client that left, or the client that the dying browser dropped. Each race
 * is made certain, not left to timing: either the ending is asked for in the same tick in which the kernel first
 * shows the browser dead (the event loop ran nothing in between, so no exit can have been heard), or the
 * browser's reaper is stopped (SIGSTOP), so that its exit cannot be heard until the test lets it go on.
 */
import { waitFor } from '@wallcrawler/test-support';
import { expect, it } from 'vitest';
import type { BrowserSession } from '../src/browser-session.js';
import { readProcessStat } from '../src/chromium/process-table.js';
import { useSessions } from './support/sessions.js';

const { start, connect, defer } = useSessions();

const CRASH = { status: 'ERROR', reason: 'The browser exited unexpectedly (exit code 137)' };

/** Blocks this thread, without a turn of the event loop, until the kernel shows `pid` dead (a zombie, or gone). */
function waitDeadSync(pid: number): void {
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + 10_000;
  for (;;) {
    const stat = readProcessStat(pid);
    if (!stat || stat.state === 'Z') return;
    if (Date.now() > deadline) throw new Error(`process ${pid} did not die`);
    Atomics.wait(nap, 0, 0, 2);
  }
}

/** Stops the browser's reaper, so that nothing of its exit reaches this process until the returned `resume`. */
function stopReaper(session: BrowserSession): () => void {
  const reaper = readProcessStat(session.pid)?.ppid;
  if (!reaper || reaper === process.pid) throw new Error('the browser runs without its reaper');
  process.kill(reaper, 'SIGSTOP');
  let resumed = false;
  const resume = () => {
    if (resumed) return;
    resumed = true;
    process.kill(reaper, 'SIGCONT');
  };
  defer(resume);
  return resume;
}

it('ends as ERROR when a release comes after the crash, before the exit was heard', async () => {
  const session = await start();
  process.kill(session.pid, 'SIGKILL');
  waitDeadSync(session.pid);
  // Nothing has run since the kernel showed the browser dead: the session cannot know yet.
  expect(session.isRunning).toBe(true);
  const recorded = await session.release();
  expect(recorded).toMatchObject(CRASH);
  expect(await session.ended).toMatchObject(CRASH);
});

it('ends as ERROR when the disconnect grace runs out after the crash, before the exit was heard', async () => {
  const session = await start();
  const client = await connect(session);
  client.ws.close();
  await client.closed;
  // The last client left: the grace runs. The browser dies within it, and its exit cannot be heard yet.
  const resume = stopReaper(session);
  process.kill(session.pid, 'SIGKILL');
  await waitFor(() => !session.isRunning, { message: 'the grace to run out' });
  resume();
  expect(await session.ended).toMatchObject(CRASH);
});

it('ends as ERROR, and tells its client so, when the crash dropped the client before the exit was heard', async () => {
  const session = await start();
  const client = await connect(session);
  const resume = stopReaper(session);
  process.kill(session.pid, 'SIGKILL');
  // Chromium's end of the client's connection is gone with it; the session sees the drop, not the exit.
  await waitFor(() => !session.isRunning, { message: 'the dropped client to end the session' });
  resume();
  expect(await session.ended).toMatchObject(CRASH);
  expect(await client.closed).toEqual({ code: 1011, reason: CRASH.reason });
});

it('ends as a client closing the browser when a release comes after a clean exit, before it was heard', async () => {
  // The browser drops its client as it closes; a loaded machine may take longer than the usual 100 ms grace to
  // reach its exit, and the grace must not end the session first: this race is between the exit and the release.
  const session = await start({ disconnectGraceMs: 60_000 });
  const client = await connect(session);
  const resume = stopReaper(session);
  client.ws.send(JSON.stringify({ id: 2, method: 'Browser.close' }));
  await waitFor(() => readProcessStat(session.pid)?.state === 'Z', { message: 'the browser to exit' });
  const released = session.release();
  resume();
  const closedByClient = { status: 'COMPLETED', reason: 'The browser was closed by a client' };
  expect(await released).toMatchObject(closedByClient);
  expect(await session.ended).toMatchObject(closedByClient);
});
