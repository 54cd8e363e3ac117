/**
 * Phase 4, on a server of its own (started with the inspector so that a full GC can be forced before each
 * reading): the server process's memory with no session (fresh, and again after one session has come and
 * gone), with N idle keepAlive sessions, and after releasing them; plus each idle session's Chromium tree (PSS).
 */
import { sessionDirs } from '@wallcrawler/controller';
import puppeteer from 'puppeteer-core';
import { releaseOnCleanup, type SessionsApi } from './api.js';
import { wallcrawlerIteration } from './lifecycle.js';
import { cpuTicks, findByArg, type Mem, memOf, memOfAll, processTable, tree } from './procfs.js';
import { progress, sleep } from './progress.js';
import type { ServerProcess } from './server-process.js';
import { summarize } from './stats.js';

export interface Snapshot {
  /**
   * Fresh server only: as the OS sees it `earlyMs` after start, as the peer bench read its peers (4 s). V8's memory
   * reducer has not run yet then; it shrinks the heap by itself some seconds later.
   */
  early?: Mem;
  /** As the OS sees it after the settle (median of 3 readings 500 ms apart): depends on when V8 last collected. */
  asIs: Mem;
  /** Right after a forced full GC (`HeapProfiler.collectGarbage`) and 1 s: the stable figure. */
  afterGc: Mem;
  /** The server's CPU use over the settle, % of one core. */
  cpuPercent: number;
  /** The other processes of the server's tree that are not sessions (tsx's esbuild service), for information. */
  helpers: Mem & { procs: number };
}

export interface MemoryResult {
  settleMs: number;
  freshSettleMs: number;
  idleSessions: number;
  /** How the idle sessions were made. */
  idleSessionsHow: string;
  /** Right after start, before any session. */
  fresh: Snapshot;
  /** After one full session lifecycle (warms the code paths), no session running. */
  warmIdle: Snapshot;
  withSessions: Snapshot;
  afterRelease: Snapshot;
  /** (withSessions − warmIdle) ÷ N, after forced GCs, MB. */
  perIdleSession: Mem;
  /** (withSessions − fresh) ÷ N, after forced GCs, MB: includes the one-time growth of the first session. */
  perIdleSessionFromFresh: Mem;
  /** Each idle session's process tree (subreaper + Chromium and its helpers), MB. */
  chromium: {
    perSession: SessionTree[];
    pssMedian: number;
    pssMean: number;
    procsMedian: number;
  };
}

async function readings(pid: number): Promise<Mem> {
  const rs: Mem[] = [];
  for (let i = 0; i < 3; i++) {
    if (i) await sleep(500);
    rs.push(memOf(pid));
  }
  const med = (k: keyof Mem) =>
    summarize(
      rs.map((r) => r[k]),
      1,
    ).median;
  return { rss: med('rss'), pss: med('pss'), uss: med('uss') };
}

async function snapshot(
  server: ServerProcess,
  settleMs: number,
  exclude: Set<number>,
  earlyMs?: number,
): Promise<Snapshot> {
  const c0 = cpuTicks(server.pid);
  const t0 = performance.now();
  let early: Mem | undefined;
  if (earlyMs !== undefined && earlyMs < settleMs) {
    await sleep(earlyMs);
    early = await readings(server.pid);
  }
  await sleep(Math.max(0, settleMs - (performance.now() - t0)));
  const seconds = (performance.now() - t0) / 1000;
  const cpuPercent = Math.round(((cpuTicks(server.pid) - c0) / 100 / seconds) * 100 * 100) / 100;
  const asIs = await readings(server.pid);
  await server.collectGarbage();
  await sleep(1000);
  const afterGc = await readings(server.pid);
  const helpers = tree(server.pid)
    .filter((p) => p.pid !== server.pid && !exclude.has(p.pid))
    .map((p) => p.pid);
  return { ...(early ? { early } : {}), asIs, afterGc, cpuPercent, helpers: memOfAll(helpers) };
}

/** One idle session's processes and their memory. */
export interface SessionTree extends Mem {
  id: string;
  /** The session's status from the API at the reading (RUNNING unless its browser died). */
  status: string;
  procs: number;
  /** Each process: its executable's name (`perl` is the subreaper, `chromium` the browser), or Chromium's `--type=` (zygote, renderer, ...). */
  kinds: string[];
}

/** The session's process tree: the subreaper above its Chromium, and everything below. */
function sessionTree(dataDir: string, id: string): number[] {
  const table = processTable();
  const marker = `--user-data-dir=${sessionDirs(dataDir, id).profile}`;
  // The subreaper's argv holds Chromium's too: pick Chromium's browser process itself.
  const main = findByArg(marker, table).find(
    (p) => !/perl/.test(p.argv[0] ?? '') && !p.argv.some((a) => a.startsWith('--type=')),
  );
  if (!main) return [];
  const parent = table.find((p) => p.pid === main.ppid);
  const root = parent && /perl/.test(parent.argv[0] ?? parent.comm) ? parent.pid : main.pid;
  return tree(root, table).map((p) => p.pid);
}

const perN = (a: Mem, b: Mem, n: number): Mem => ({
  rss: Math.round(((a.rss - b.rss) / n) * 100) / 100,
  pss: Math.round(((a.pss - b.pss) / n) * 100) / 100,
  uss: Math.round(((a.uss - b.uss) / n) * 100) / 100,
});

export interface MemoryOptions {
  api: SessionsApi;
  /** Started with `inspect: true`. */
  server: ServerProcess;
  pageUrl: (i: number) => string;
  idleSessions: number;
  settleMs: number;
  /** How long the fresh server idles before its main reading (it is also read after `settleMs`). */
  freshSettleMs: number;
}

const show = (s: Snapshot) =>
  `${s.early ? `RSS ${s.early.rss} MB early, ` : ''}RSS ${s.asIs.rss} MB as is, ${s.afterGc.rss} MB after GC (PSS ${s.afterGc.pss} MB), CPU ${s.cpuPercent} %`;

export async function runMemory(o: MemoryOptions): Promise<MemoryResult> {
  const { api, server, idleSessions: n, settleMs } = o;
  const { dataDir } = server;
  // Everything under the server that belongs to a session is excluded from "helpers".
  const sessionPids = () => {
    const all = new Set<number>();
    for (const p of findByArg(`--user-data-dir=${dataDir}`)) for (const q of tree(p.pid)) all.add(q.pid);
    return all;
  };

  progress('memory', `fresh server: reading after ${settleMs} ms, and after ${o.freshSettleMs} ms`);
  const fresh = await snapshot(server, o.freshSettleMs, new Set(), settleMs);
  progress('memory', `fresh: ${show(fresh)}`);

  progress('memory', 'one session lifecycle to warm the code paths');
  await wallcrawlerIteration(api, dataDir, o.pageUrl(0), []);
  const warmIdle = await snapshot(server, settleMs, new Set());
  progress('memory', `warm idle: ${show(warmIdle)}`);

  const ids: string[] = [];
  const unregisters: (() => void)[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = await api.create({ keepAlive: true });
      ids.push(s.id);
      unregisters.push(releaseOnCleanup(api, s.id));
      const browser = await puppeteer.connect({ browserWSEndpoint: s.connectUrl, defaultViewport: null });
      await browser.pages();
      await browser.disconnect();
      progress('memory', `idle session ${i + 1}/${n} created, connected once, disconnected`);
    }
    const withSessions = await snapshot(server, settleMs, sessionPids());
    const table = processTable();
    const trees: SessionTree[] = [];
    for (const id of ids) {
      const pids = sessionTree(dataDir, id);
      const kinds = pids.map((pid) => {
        const p = table.find((q) => q.pid === pid);
        if (!p) return '?';
        const type = p.argv.find((a) => a.startsWith('--type='));
        return type ? type.slice('--type='.length) : (p.argv[0]?.split('/').at(-1) ?? p.comm);
      });
      trees.push({
        id,
        status: await api.status(id).catch((e: Error) => `unknown (${e.message})`),
        kinds,
        ...memOfAll(pids),
      });
    }
    const odd = trees.filter((t) => t.status !== 'RUNNING' || t.procs !== trees[0]?.procs);
    if (odd.length)
      progress(
        'memory',
        `sessions that look different: ${odd.map((t) => `${t.id} ${t.status} [${t.kinds.join(',')}]`).join('; ')}`,
      );
    progress('memory', `with ${n} idle sessions: ${show(withSessions)}`);

    progress('memory', `releasing the ${n} sessions`);
    for (const [i, id] of ids.entries()) {
      await api.release(id);
      unregisters[i]?.();
    }
    ids.length = 0;
    const afterRelease = await snapshot(server, settleMs, new Set());
    progress('memory', `after release: ${show(afterRelease)}`);

    const pss = summarize(
      trees.map((t) => t.pss),
      1,
    );
    return {
      settleMs,
      freshSettleMs: o.freshSettleMs,
      idleSessions: n,
      idleSessionsHow:
        'keepAlive: true; each connected once (puppeteer.connect, browser.pages(), browser.disconnect()), then left idle',
      fresh,
      warmIdle,
      withSessions,
      afterRelease,
      perIdleSession: perN(withSessions.afterGc, warmIdle.afterGc, n),
      perIdleSessionFromFresh: perN(withSessions.afterGc, fresh.afterGc, n),
      chromium: {
        perSession: trees,
        pssMedian: pss.median,
        pssMean: pss.mean,
        procsMedian: summarize(
          trees.map((t) => t.procs),
          1,
        ).median,
      },
    };
  } finally {
    for (const [i, id] of ids.entries()) {
      await api.release(id).catch(() => {});
      unregisters[i]?.();
    }
  }
}
