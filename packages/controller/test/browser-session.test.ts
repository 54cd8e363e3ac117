/**
 * BrowserSession, on real Chromium: a session runs from its start until one of its endings (a release, the last
 * client leaving past the disconnect grace, no client ever coming, its timeout), and every ending goes through
 * the one close path: the ending is recorded once, each client gets a close frame with the reason, and the
 * browser's processes and directories are gone. (A crash racing with the other endings: session-endings.test.ts.)
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SessionEnding } from '@wallcrawler/contracts';
import { processesUnder, waitFor } from '@wallcrawler/test-support';
import { describe, expect, it } from 'vitest';
import { readProcessStat } from '../src/chromium/process-table.js';
import { useSessions } from './support/sessions.js';

const { dataDir, start, connect } = useSessions();

/** Whether the browser's own process is alive (not a zombie, not gone). */
const alive = (pid: number) => {
  const state = readProcessStat(pid)?.state;
  return state !== undefined && state !== 'Z';
};

describe('a release', () => {
  it('ends the session once: recorded, its client told why, its browser and directories gone', async () => {
    const endings: SessionEnding[] = [];
    const session = await start({ onEnd: (ending) => void endings.push(ending) });
    expect(session.isRunning).toBe(true);
    expect(alive(session.pid)).toBe(true);
    expect(existsSync(session.dirs.profile)).toBe(true);
    expect(processesUnder(dataDir).length).toBeGreaterThan(0);
    expect(await session.version()).toMatchObject({ Browser: expect.stringMatching(/Chrom/) });

    const client = await connect(session);
    expect(session.clientCount).toBe(1);
    // The client drives the browser through the session: a page it opens is one of the browser's targets.
    const { targetId } = await client.send('Target.createTarget', { url: 'about:blank#made-by-the-client' });
    expect((await session.targets()).map((t) => t.id)).toContain(targetId);

    const ending = await session.release('COMPLETED', 'released by the test');
    expect(ending).toMatchObject({ status: 'COMPLETED', reason: 'released by the test' });
    expect(session.isRunning).toBe(false);
    expect(await client.closed).toEqual({ code: 1000, reason: 'released by the test' });
    expect(await session.ended).toEqual(ending);
    expect(endings).toEqual([ending]);
    expect(alive(session.pid)).toBe(false);
    expect(existsSync(session.dirs.root)).toBe(false);
    expect(existsSync(session.dirs.tmp)).toBe(false);
    // Every later ending gets the first one's outcome, and records nothing more.
    expect(await session.close('TIMED_OUT', 'too late')).toEqual(ending);
    expect(await session.release('ERROR', 'later still')).toEqual(ending);
    expect(endings).toHaveLength(1);
  });

  it('answers before the kill with recordFirst, and only once everything is gone without it', async () => {
    const seen: { alive: boolean; dirs: boolean }[] = [];
    const first = await start({
      recordFirst: true,
      onEnd: () => void seen.push({ alive: alive(first.pid), dirs: existsSync(first.dirs.root) }),
    });
    await first.release();
    // Recorded while the browser still ran: the release did not wait for the kill.
    expect(seen).toEqual([{ alive: true, dirs: true }]);
    await first.ended;
    expect(alive(first.pid)).toBe(false);

    const second = await start({
      recordFirst: false,
      onEnd: () => void seen.push({ alive: alive(second.pid), dirs: existsSync(second.dirs.root) }),
    });
    await second.release();
    expect(seen[1]).toEqual({ alive: false, dirs: false });
  });

  it('keeps what the session collected after the kill and before its directories go; the note joins the reason', async () => {
    const collected: { alive: boolean; files: string[]; status: string }[] = [];
    const session = await start({
      recordFirst: false,
      prepare: async (dirs) => {
        // What a context's profile would bring: it is there when the browser starts.
        await mkdir(dirs.profile, { recursive: true });
        await writeFile(join(dirs.profile, 'from-the-context'), 'x');
        return undefined;
      },
      collect: async (dirs, ending) => {
        collected.push({ alive: alive(session.pid), files: readdirSync(dirs.profile), status: ending.status });
        return 'the profile was kept';
      },
    });
    const ending = await session.release('COMPLETED', 'released');
    expect(ending.reason).toBe('released; the profile was kept');
    expect(collected).toHaveLength(1);
    expect(collected[0]).toMatchObject({ alive: false, status: 'COMPLETED' });
    expect(collected[0]?.files).toContain('from-the-context');
  });
});

describe('the clients', () => {
  it('end a session without keepAlive when the last one leaves and none comes back within the grace', async () => {
    const session = await start({ disconnectGraceMs: 200 });
    const first = await connect(session);
    const second = await connect(session);
    expect(session.clientCount).toBe(2);
    first.ws.close();
    await first.closed;
    await waitFor(() => session.clientCount === 1, { message: 'the first client to be gone' });
    // One client is left: no grace runs.
    expect(session.isRunning).toBe(true);
    second.ws.close();
    expect(await session.ended).toMatchObject({ status: 'COMPLETED', reason: 'The last client disconnected' });
  });

  it('do not end it when a client reconnects within the grace (a reloading tool)', async () => {
    const session = await start({ disconnectGraceMs: 3_000 });
    // The control: a session that nobody reconnects to, whose grace started at the same moment.
    const control = await start({ disconnectGraceMs: 3_000 });
    const [client, controlClient] = await Promise.all([connect(session), connect(control)]);
    client.ws.close();
    controlClient.ws.close();
    await Promise.all([client.closed, controlClient.closed]);
    const again = await connect(session);
    await control.ended;
    // The control's grace ran out, the reconnected session's did not: it still answers its new client.
    expect(session.isRunning).toBe(true);
    expect(await again.send('Browser.getVersion')).toMatchObject({ product: expect.any(String) });
  });

  it('leaving does not end a keepAlive session', async () => {
    const kept = await start({ keepAlive: true, disconnectGraceMs: 100 });
    const control = await start({ keepAlive: false, disconnectGraceMs: 100 });
    const [client, controlClient] = await Promise.all([connect(kept), connect(control)]);
    client.ws.close();
    controlClient.ws.close();
    await control.ended;
    expect(kept.isRunning).toBe(true);
    expect(kept.clientCount).toBe(0);
    // It serves the next client as the first.
    const next = await connect(kept);
    expect(await next.send('Target.getTargets')).toMatchObject({ targetInfos: expect.any(Array) });
  });

  it('end a session that no client connected to within its idle timeout', async () => {
    const idle = await start({ idleTimeoutMs: 1_000 });
    expect(await idle.ended).toMatchObject({
      status: 'COMPLETED',
      reason: "No client connected within 1 s of the session's start",
    });
  });

  it('can attach to a page target, and a page closing closes only its client', async () => {
    const session = await start();
    const browser = await connect(session);
    const { targetId } = await browser.send('Target.createTarget', { url: 'about:blank' });
    const page = await connect(session, `/devtools/page/${targetId}`);
    expect(await page.send('Runtime.evaluate', { expression: '6 * 7', returnByValue: true })).toMatchObject({
      result: { value: 42 },
    });
    await browser.send('Target.closeTarget', { targetId });
    expect(await page.closed).toEqual({ code: 1000, reason: 'The target closed' });
    expect(session.isRunning).toBe(true);
    expect(session.clientCount).toBe(1);
  });
});

describe('the timeout', () => {
  // No client here: on a starved host the start alone can outlast a short timeout. (Clients hear every ending's
  // reason from the same close path: see the release above.)
  it('ends the session as TIMED_OUT at expiresAt, even a keepAlive one', async () => {
    const endings: SessionEnding[] = [];
    const session = await start({
      expiresAt: new Date(Date.now() + 1_000),
      keepAlive: true,
      onEnd: (ending) => void endings.push(ending),
    });
    const timedOut = { status: 'TIMED_OUT', reason: 'The session reached its timeout' };
    expect(await session.ended).toMatchObject(timedOut);
    expect(endings).toMatchObject([timedOut]);
    expect(alive(session.pid)).toBe(false);
  });
});
