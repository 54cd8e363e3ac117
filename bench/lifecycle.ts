/**
 * Phase 1 and 2: a whole session lifecycle through Wallcrawler (create → connect → goto → release), with its warm
 * pool off and on (two servers), against the floor (the same Chromium spawned directly), alternating A B C A B C
 * in one run.
 */
import { existsSync } from 'node:fs';
import { listSessionDirs, type SessionDirs, sessionDirs } from '@wallcrawler/controller';
import puppeteer, { type Browser } from 'puppeteer-core';
import { releaseOnCleanup, type SessionsApi } from './api.js';
import { throwIfAborted } from './cleanup.js';
import { launchFloor } from './floor.js';
import { EXPECTED_TITLE } from './page-server.js';
import { findByArg } from './procfs.js';
import { progress, sleep } from './progress.js';
import { type Summary, summarize } from './stats.js';

export const STAGES = ['create', 'connect', 'goto', 'release', 'total'] as const;
export const GOTO_PARTS = ['gotoPage', 'gotoNav', 'gotoTitle'] as const;
type Key = (typeof STAGES)[number] | (typeof GOTO_PARTS)[number];
export type Times = Record<Key, number>;

export interface LifecycleResult {
  iterations: number;
  warmups: number;
  settleMs: number;
  /** Wallcrawler with its warm pool off: every session starts its own browser. */
  wallcrawler: Record<Key, Summary>;
  /** Wallcrawler with a warm pool (on a server of its own), when the run had one. */
  pooled?: Record<Key, Summary>;
  /** How the pooled server's sessions got their browsers (its `wallcrawler_pool_takes_total`), warm-ups included. */
  poolTakes?: Record<string, number>;
  /** The pooled server's WALLCRAWLER_POOL_SIZE. */
  poolSize?: number;
  floor: Record<Key, Summary>;
  raw: { wallcrawler: Times[]; floor: Times[]; pooled?: Times[] };
  errors: string[];
  /** Releases after which a process or directory of the session was still there (should be 0). */
  leftoversAfterRelease: string[];
}

const now = () => performance.now();

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** First page (or a new one), navigate until `load`, read the title: the three parts of `goto`. */
async function browse(browser: Browser, url: string, t: Partial<Times>): Promise<void> {
  let t0 = now();
  const page = (await browser.pages())[0] ?? (await browser.newPage());
  t.gotoPage = now() - t0;
  t0 = now();
  await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
  t.gotoNav = now() - t0;
  t0 = now();
  const title = await page.title();
  t.gotoTitle = now() - t0;
  if (title !== EXPECTED_TITLE) throw new Error(`page title is "${title}", expected "${EXPECTED_TITLE}"`);
  t.goto = t.gotoPage + t.gotoNav + t.gotoTitle;
}

const connect = (browserWSEndpoint: string) =>
  puppeteer.connect({ browserWSEndpoint, defaultViewport: null, protocolTimeout: 60_000 });

export async function wallcrawlerIteration(
  api: SessionsApi,
  dataDir: string,
  url: string,
  leftovers: string[],
): Promise<Times> {
  const t: Partial<Times> = {};
  let browser: Browser | undefined;
  let id: string | undefined;
  let released = false;
  let unregister = () => {};
  // A session served from the warm pool runs in one of the pool's directories (`pool-<id>`), not its own: the one
  // of those present before the create that is gone after the release.
  const poolDirsBefore = listSessionDirs(dataDir).filter((d) => d.sessionId.startsWith('pool-'));
  let dirsOf = (sessionId: string): SessionDirs | undefined => sessionDirs(dataDir, sessionId);
  try {
    let t0 = now();
    const session = await api.create();
    t.create = now() - t0;
    id = session.id;
    if (!existsSync(sessionDirs(dataDir, id).root)) {
      const present = new Set(listSessionDirs(dataDir).map((d) => d.path));
      const candidates = poolDirsBefore.filter((d) => d.path.includes('/sessions/') && present.has(d.path));
      dirsOf = () => {
        // The taken one is the candidate the release removes; the others stay idle in the pool.
        const gone = candidates.filter((d) => !existsSync(d.path));
        return gone[0] ? sessionDirs(dataDir, gone[0].sessionId) : undefined;
      };
    }
    unregister = releaseOnCleanup(api, id);

    t0 = now();
    browser = await connect(session.connectUrl);
    t.connect = now() - t0;

    await browse(browser, url, t);

    t0 = now();
    await browser.disconnect();
    await api.release(id);
    t.release = now() - t0;
    released = true;
    unregister();
  } finally {
    if (!released) {
      await browser?.disconnect().catch(() => {});
      if (id) await api.release(id).catch(() => {});
      unregister();
    }
  }
  // Release answers once the ending is recorded; the kill and the cleanup finish just after. Within a few
  // seconds the browser's whole process tree must be gone and its directories deleted (not timed).
  const left = await leftAfterRelease(() => dirsOf(id as string));
  if (left.length) leftovers.push(`session ${id}: ${left.join(', ')}`);
  return finish(t);
}

/** What is still there of a session's browser after at most `waitMs`. */
async function leftAfterRelease(find: () => SessionDirs | undefined, waitMs = 5_000): Promise<string[]> {
  const what = () => {
    const dirs = find();
    if (!dirs) return ['the pooled browser’s directory (none of the pool’s went away)'];
    const procs = findByArg(dirs.profile);
    return [
      ...(procs.length ? [`${procs.length} process(es)`] : []),
      ...(existsSync(dirs.root) ? [dirs.root] : []),
      ...(existsSync(dirs.tmp) ? [dirs.tmp] : []),
    ];
  };
  const deadline = now() + waitMs;
  while (what().length && now() < deadline) await sleep(50);
  return what();
}

export async function floorIteration(chromePath: string, scratchDir: string, url: string): Promise<Times> {
  const t: Partial<Times> = {};
  let t0 = now();
  const floor = await launchFloor(chromePath, scratchDir);
  t.create = now() - t0;
  let browser: Browser | undefined;
  try {
    t0 = now();
    browser = await connect(floor.wsUrl);
    t.connect = now() - t0;

    await browse(browser, url, t);

    t0 = now();
    await browser.disconnect();
    await floor.teardown();
    t.release = now() - t0;
  } finally {
    await browser?.disconnect().catch(() => {});
    await floor.teardown();
  }
  return finish(t);
}

function finish(t: Partial<Times>): Times {
  const full = t as Times;
  full.total = full.create + full.connect + full.goto + full.release;
  return full;
}

function summarizeAll(rows: Times[]): Record<Key, Summary> {
  const keys = [...STAGES, ...GOTO_PARTS];
  return Object.fromEntries(keys.map((k) => [k, summarize(rows.map((r) => r[k]))])) as Record<Key, Summary>;
}

export interface LifecycleOptions {
  api: SessionsApi;
  dataDir: string;
  chromePath: string;
  scratchDir: string;
  pageUrl: (i: number) => string;
  iterations: number;
  warmups: number;
  settleMs: number;
  /** A second server, with a warm pool: its side runs between the other two. */
  pooled?: {
    api: SessionsApi;
    dataDir: string;
    poolSize: number;
    takes(): Promise<Record<string, number>>;
    /** Resolves once the pool is full again (untimed): its refill must not land in another side's timing. */
    refilled(): Promise<void>;
  };
}

export async function runLifecycle(o: LifecycleOptions): Promise<LifecycleResult> {
  const raw: Required<LifecycleResult['raw']> = { wallcrawler: [], floor: [], pooled: [] };
  const errors: string[] = [];
  const leftovers: string[] = [];
  const n = o.warmups + o.iterations;
  const pooled = o.pooled;
  type Side = [keyof typeof raw, (i: number) => Promise<Times>];
  const sides: Side[] = [
    ['wallcrawler', (i) => wallcrawlerIteration(o.api, o.dataDir, o.pageUrl(i), leftovers)],
    ...(pooled
      ? [
          [
            'pooled',
            async (i) => {
              const t = await wallcrawlerIteration(pooled.api, pooled.dataDir, o.pageUrl(i), leftovers);
              await pooled.refilled();
              return t;
            },
          ] satisfies Side,
        ]
      : []),
    ['floor', (i) => floorIteration(o.chromePath, o.scratchDir, o.pageUrl(i))],
  ];
  for (let i = 0; i < n; i++) {
    throwIfAborted();
    const warm = i < o.warmups;
    const line: string[] = [];
    for (const [name, run] of sides) {
      try {
        const t = await withTimeout(run(i), 120_000, `${name} iteration ${i + 1}`);
        if (!warm) raw[name].push(t);
        line.push(`${name} ${t.total.toFixed(0)} ms`);
      } catch (error) {
        const message = `${name} #${i + 1}${warm ? ' (warm-up)' : ''}: ${(error as Error).message}`;
        errors.push(message);
        line.push(`${name} ERROR`);
        progress('lifecycle', message);
      }
      await sleep(o.settleMs);
    }
    const label = warm ? `warm-up ${i + 1}/${o.warmups}` : `${i + 1 - o.warmups}/${o.iterations}`;
    progress('lifecycle', `${label}: ${line.join(' | ')}`);
  }
  return {
    iterations: o.iterations,
    warmups: o.warmups,
    settleMs: o.settleMs,
    wallcrawler: summarizeAll(raw.wallcrawler),
    floor: summarizeAll(raw.floor),
    ...(pooled ? { pooled: summarizeAll(raw.pooled), poolTakes: await pooled.takes(), poolSize: pooled.poolSize } : {}),
    raw: {
      wallcrawler: raw.wallcrawler.map(roundTimes),
      floor: raw.floor.map(roundTimes),
      ...(pooled ? { pooled: raw.pooled.map(roundTimes) } : {}),
    },
    errors,
    leftoversAfterRelease: leftovers,
  };
}

function roundTimes(t: Times): Times {
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Math.round(v * 100) / 100])) as Times;
}
