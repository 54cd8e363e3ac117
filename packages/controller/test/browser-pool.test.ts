/**
 * BrowserPool, on real Chromium: it keeps `size` idle browsers started ahead of sessions, never more than the
 * host's room, hands each out once (the session that takes one owns it and its directories), refills behind
 * the takes, replaces an idle browser that dies, gives idle browsers back when a cold start needs their room,
 * and turns itself off when browsers cannot start.
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { DEFAULT_VIEWPORT } from '@wallcrawler/contracts';
import { liveBrowsers, onlyPoolBrowsersLeft, processesUnder, waitFor } from '@wallcrawler/test-support';
import { expect, it } from 'vitest';
import { BrowserPool, type BrowserPoolOptions } from '../src/chromium/browser-pool.js';
import { findChromium } from '../src/chromium/find-chromium.js';
import { listSessionDirs } from '../src/session-dirs.js';
import { useSessions } from './support/sessions.js';

const { dataDir, start, connect, defer } = useSessions();

function pool(options: Partial<BrowserPoolOptions> = {}): BrowserPool {
  const created = new BrowserPool({
    size: 2,
    dataDir,
    executablePath: findChromium(),
    viewport: DEFAULT_VIEWPORT,
    refillDelayMs: 0,
    retryDelayMs: 10,
    ...options,
  });
  defer(() => created.close());
  return created;
}

const idleFilled = (p: BrowserPool, idle: number) =>
  waitFor(() => p.stats.idle === idle && p.stats.starting === 0 && onlyPoolBrowsersLeft(dataDir, idle), {
    timeout: 60_000,
    message: `${idle} idle pooled browsers`,
  });

it('fills to its size, hands a browser out once, refills, and the taking session owns what it took', async () => {
  const p = pool();
  expect(p.stats).toMatchObject({ idle: 0, enabled: true });
  p.start();
  await idleFilled(p, 2);
  const before = new Set(p.idleRoots());

  const taken = await p.take({ viewport: DEFAULT_VIEWPORT });
  if (!taken) throw new Error('the pool had idle browsers but handed none out');
  expect(before.has(taken.dirs.root)).toBe(true);
  expect(basename(taken.dirs.root)).toMatch(/^pool-/);
  expect(p.idleRoots()).not.toContain(taken.dirs.root);
  expect(p.stats).toMatchObject({ idle: 1, hits: 1, misses: { empty: 0, unfit: 0, viewport: 0 } });

  // A session runs on it, with the pooled browser's directories as its own.
  const session = await start({ prelaunched: taken });
  expect(session.pid).toBe(taken.chromium.pid);
  expect(session.dirs.root).toBe(taken.dirs.root);
  const client = await connect(session);
  expect(await client.send('Target.getTargets')).toMatchObject({ targetInfos: expect.any(Array) });

  // The pool refills behind the take; the taken browser is no longer the pool's.
  await waitFor(() => p.stats.idle === 2 && p.stats.starting === 0, { timeout: 60_000, message: 'the refill' });
  expect(p.idleRoots()).not.toContain(taken.dirs.root);
  expect(liveBrowsers(dataDir).size).toBe(3);

  // Its ending kills the browser and deletes the directories it came with; the pool's own are untouched.
  await session.release();
  await session.ended;
  expect(existsSync(taken.dirs.root)).toBe(false);
  await idleFilled(p, 2);

  // Closed, the pool leaves nothing.
  await p.close();
  expect(p.stats.idle).toBe(0);
  expect(await p.take({ viewport: DEFAULT_VIEWPORT })).toBeUndefined();
});

it('never holds more than the room the host has, and gives an idle browser back for a cold start', async () => {
  let room = 1;
  const p = pool({ size: 3, room: () => room });
  p.start();
  await idleFilled(p, 1);
  p.refill();
  // Room for one: no second browser starts, however often the pool is asked to refill.
  expect(p.stats).toMatchObject({ idle: 1, starting: 0 });

  // A session that cannot use a pooled browser (it loads a profile first) now takes the host's last slot: the
  // idle browser makes way for the one the session starts itself.
  room = 0;
  expect(await p.take({ viewport: DEFAULT_VIEWPORT, fits: false })).toBeUndefined();
  expect(p.stats).toMatchObject({ idle: 0, misses: { unfit: 1 } });
  expect(liveBrowsers(dataDir).size).toBe(0);
  expect(listSessionDirs(dataDir)).toEqual([]);

  // The room comes back (the session ended): the pool fills again, up to the room.
  room = 2;
  p.refill();
  await idleFilled(p, 2);
});

it('serves a viewport from browsers started with it, and follows the viewport sessions ask for', async () => {
  const p = pool({ size: 1 });
  p.start();
  await idleFilled(p, 1);
  const wide = { width: 1920, height: 1080 };
  // None of this viewport: a miss, and the idle one makes way for one of the asked viewport.
  expect(await p.take({ viewport: wide })).toBeUndefined();
  expect(p.stats.misses).toEqual({ empty: 0, unfit: 0, viewport: 1 });
  await idleFilled(p, 1);
  const taken = await p.take({ viewport: wide });
  expect(taken?.viewport).toEqual(wide);
  expect(p.stats.hits).toBe(1);
  if (!taken) throw new Error('no browser of the asked viewport');
  // The screen it started with is the viewport's.
  const session = await start({ prelaunched: taken, viewport: wide });
  const client = await connect(session);
  const { targetInfos } = (await client.send('Target.getTargets')) as {
    targetInfos: { targetId: string; type: string }[];
  };
  const page = targetInfos.find((t) => t.type === 'page');
  if (!page) throw new Error('no page');
  const { sessionId } = await client.send('Target.attachToTarget', { targetId: page.targetId, flatten: true });
  const { result } = await client.send(
    'Runtime.evaluate',
    { expression: '[screen.width, screen.height]', returnByValue: true },
    String(sessionId),
  );
  expect((result as { value: number[] }).value).toEqual([wide.width, wide.height]);
});

it('replaces an idle browser that dies, and never hands out a dead one', async () => {
  const p = pool();
  p.start();
  await idleFilled(p, 2);
  const [victim, survivor] = p.idleRoots();
  if (!victim || !survivor) throw new Error('two idle browsers expected');
  // Kill one idle browser, as the OOM killer would: Chromium's own process, the leader of its group.
  const chromium = processesUnder(dataDir).find(
    (proc) => proc.pid === proc.pgid && proc.comm !== 'perl' && proc.cmdline.includes(`${victim}/profile`),
  );
  if (!chromium) throw new Error(`no browser process runs in ${victim}`);
  process.kill(chromium.pid, 'SIGKILL');
  // It leaves the pool with its directories, and a new browser takes its place.
  await waitFor(() => !existsSync(victim) && p.stats.idle === 2 && p.stats.starting === 0, {
    timeout: 60_000,
    message: 'the dead browser to be replaced',
  });
  expect(p.idleRoots()).toContain(survivor);
  expect(p.idleRoots()).not.toContain(victim);
  await idleFilled(p, 2);
  // Every browser handed out runs.
  for (let i = 0; i < 2; i++) {
    const taken = await p.take({ viewport: DEFAULT_VIEWPORT });
    if (!taken) throw new Error('no idle browser');
    expect(taken.chromium.hasExited()).toBe(false);
    const session = await start({ prelaunched: taken });
    expect(await (await connect(session)).send('Browser.getVersion')).toMatchObject({ product: expect.any(String) });
  }
});

it('turns itself off after browsers fail to start, and every take is then a miss', async () => {
  const p = pool({ executablePath: '/bin/false', maxFailures: 2 });
  p.start();
  await waitFor(() => !p.stats.enabled, { message: 'the pool to turn itself off' });
  expect(p.size).toBe(0);
  expect(await p.take({ viewport: DEFAULT_VIEWPORT })).toBeUndefined();
  expect(p.stats).toMatchObject({ idle: 0, starting: 0, hits: 0 });
  expect(listSessionDirs(dataDir)).toEqual([]);
});
