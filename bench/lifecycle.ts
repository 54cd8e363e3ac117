/**
 * Phase 1 and 2: a whole session lifecycle through Wallcrawler (create → connect → goto → release) against the
 * floor (the same Chromium spawned directly), alternating A B A B in one run.
 */
import { existsSync } from 'node:fs';
import { sessionDirs } from '@wallcrawler/controller';
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
  wallcrawler: Record<Key, Summary>;
  floor: Record<Key, Summary>;
  raw: { wallcrawler: Times[]; floor: Times[] };
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
  try {
    let t0 = now();
    const session = await api.create();
    t.create = now() - t0;
    id = session.id;
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
  // The contract: release returns once the browser's whole process tree is gone and its directories deleted.
  const dirs = sessionDirs(dataDir, id as string);
  const procs = findByArg(dirs.profile);
  const left = [
    ...(procs.length ? [`${procs.length} process(es)`] : []),
    ...(existsSync(dirs.root) ? [dirs.root] : []),
    ...(existsSync(dirs.tmp) ? [dirs.tmp] : []),
  ];
  if (left.length) leftovers.push(`session ${id}: ${left.join(', ')}`);
  return finish(t);
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
}

export async function runLifecycle(o: LifecycleOptions): Promise<LifecycleResult> {
  const raw: LifecycleResult['raw'] = { wallcrawler: [], floor: [] };
  const errors: string[] = [];
  const leftovers: string[] = [];
  const n = o.warmups + o.iterations;
  const sides = [
    ['wallcrawler', (i: number) => wallcrawlerIteration(o.api, o.dataDir, o.pageUrl(i), leftovers)],
    ['floor', (i: number) => floorIteration(o.chromePath, o.scratchDir, o.pageUrl(i))],
  ] as const;
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
    raw: {
      wallcrawler: raw.wallcrawler.map(roundTimes),
      floor: raw.floor.map(roundTimes),
    },
    errors,
    leftoversAfterRelease: leftovers,
  };
}

function roundTimes(t: Times): Times {
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Math.round(v * 100) / 100])) as Times;
}
