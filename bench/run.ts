/**
 * `npm run bench`: Wallcrawler's session lifecycle against the floor (the same Chromium spawned directly), CDP
 * round trips through the gateway against direct, and the server's memory. See bench/README.md.
 *
 *   npm run bench -- [--iterations 20] [--only lifecycle,rtt,memory]
 *
 * Writes bench/results/latest.json and bench/results/latest.md; progress goes to stderr.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { listSessionDirs } from '@wallcrawler/controller';
import { sessionsApi } from './api.js';
import { cleanupAll, installSignalHandlers, isAborted, onCleanup } from './cleanup.js';
import { runHttp } from './http.js';
import { runLifecycle } from './lifecycle.js';
import { describeMachine } from './machine.js';
import { runMemory } from './memory.js';
import { startPageServer } from './page-server.js';
import { findByArg } from './procfs.js';
import { progress } from './progress.js';
import { type BenchResult, markdown, readmeSummary, targets } from './report.js';
import { runRtt } from './rtt.js';
import { startServer } from './server-process.js';
import { ratio } from './stats.js';

const PHASES = ['memory', 'lifecycle', 'rtt', 'http'] as const;
type Phase = (typeof PHASES)[number];

const benchDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = dirname(benchDir);

function usage(message?: string): never {
  if (message) console.error(message);
  console.error(`Usage: npm run bench -- [options]
  --iterations N        measured lifecycle iterations per side (default 20), after --warmups (default 2)
  --only LIST           comma-separated phases: lifecycle,rtt,memory,http (default: all; always run in the order memory, lifecycle, rtt, http)
  --settle-ms N         pause after every lifecycle run (default 1000)
  --idle-settle-ms N    pause before each memory reading (default 5000)
  --fresh-settle-ms N   how long the fresh server idles before its main reading (default 30000; also read at
                        --idle-settle-ms)
  --idle-sessions N     idle sessions for the memory figure (default 10)
  --rtt-calls N         CDP calls per path (default 1000), in --rtt-rounds (default 10), after --rtt-warmups (default 100)
  --pool-size N         the lifecycle's pooled server keeps N idle browsers (default 2; 0 leaves the pooled side out)
  --chrome PATH         Chromium binary (default $WALLCRAWLER_CHROME_PATH or /usr/lib/chromium/chromium)
  --server source|dist  run the server from its TypeScript sources through tsx (default), or from
                        packages/server/dist (as users run it; build it first with \`npm run build\`)
  --server-log-level L  the servers' WALLCRAWLER_LOG_LEVEL (default silent); their stderr tail goes into the
                        error report of a failed phase
  --fetch               create/release sessions with plain fetch instead of @wallcrawler/sdk
  --out DIR             where latest.json / latest.md go (default bench/results)`);
  process.exit(2);
}

function intOption(value: string | undefined, name: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) usage(`--${name} must be a whole number ≥ ${min}, got "${value}"`);
  return n;
}

/** The pooled server's `wallcrawler_pool_takes_total`, by result (hit, miss_empty, miss_unfit). */
async function poolTakes(baseUrl: string, apiKey: string): Promise<Record<string, number>> {
  const response = await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${apiKey}` } });
  if (!response.ok) throw new Error(`GET /metrics answered ${response.status}`);
  const takes: Record<string, number> = {};
  for (const [, result, value] of (await response.text()).matchAll(
    /^wallcrawler_pool_takes_total\{result="([a-z_]+)"\} (\d+)/gm,
  )) {
    takes[result as string] = Number(value);
  }
  return takes;
}

/** Waits (at most 30 s) until the pooled server's pool holds `size` idle browsers again. */
async function poolRefilled(baseUrl: string, apiKey: string, size: number): Promise<void> {
  const deadline = performance.now() + 30_000;
  while (performance.now() < deadline) {
    const response = await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${apiKey}` } });
    const idle = /^wallcrawler_pool_browsers\{state="idle"\} (\d+)/m.exec(await response.text())?.[1];
    if (Number(idle) >= size) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the pool did not refill to ${size} within 30 s`);
}

async function main(): Promise<number> {
  const started = performance.now();
  let args: ReturnType<typeof parse>;
  function parse() {
    return parseArgs({
      args: process.argv.slice(2).filter((a) => a !== '--'),
      options: {
        iterations: { type: 'string' },
        warmups: { type: 'string' },
        only: { type: 'string' },
        'settle-ms': { type: 'string' },
        'idle-settle-ms': { type: 'string' },
        'fresh-settle-ms': { type: 'string' },
        'idle-sessions': { type: 'string' },
        'rtt-calls': { type: 'string' },
        'rtt-rounds': { type: 'string' },
        'rtt-warmups': { type: 'string' },
        'pool-size': { type: 'string' },
        chrome: { type: 'string' },
        fetch: { type: 'boolean', default: false },
        server: { type: 'string', default: 'source' },
        'server-log-level': { type: 'string', default: 'silent' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  }
  try {
    args = parse();
  } catch (error) {
    usage((error as Error).message);
  }
  const v = args.values;
  if (v.help) usage();
  const phases: Phase[] = v.only
    ? v.only.split(',').map((p) => {
        const name = p.trim() as Phase;
        if (!PHASES.includes(name)) usage(`unknown phase "${p}" (lifecycle, rtt, memory, http)`);
        return name;
      })
    : [...PHASES];
  const config = {
    phases: PHASES.filter((p) => phases.includes(p)),
    iterations: intOption(v.iterations, 'iterations', 20, 1),
    warmups: intOption(v.warmups, 'warmups', 2),
    settleMs: intOption(v['settle-ms'], 'settle-ms', 1000),
    idleSettleMs: intOption(v['idle-settle-ms'], 'idle-settle-ms', 5000),
    freshSettleMs: intOption(v['fresh-settle-ms'], 'fresh-settle-ms', 30000),
    idleSessions: intOption(v['idle-sessions'], 'idle-sessions', 10, 1),
    rttCalls: intOption(v['rtt-calls'], 'rtt-calls', 1000, 1),
    rttRounds: intOption(v['rtt-rounds'], 'rtt-rounds', 10, 1),
    rttWarmups: intOption(v['rtt-warmups'], 'rtt-warmups', 100),
    poolSize: intOption(v['pool-size'], 'pool-size', 2),
  };
  const chromePath = v.chrome ?? process.env.WALLCRAWLER_CHROME_PATH ?? '/usr/lib/chromium/chromium';
  if (!existsSync(chromePath)) usage(`no Chromium at ${chromePath}`);
  if (v.server !== 'source' && v.server !== 'dist') usage(`--server must be source or dist, got "${v.server}"`);
  const serverFrom = v.server;
  if (serverFrom === 'dist' && !existsSync(join(repoRoot, 'packages/server/dist/cli.js'))) {
    usage('--server dist needs packages/server/dist/cli.js: run `npm run build` first');
  }
  const outDir = v.out ?? join(benchDir, 'results');

  installSignalHandlers();
  // The floor must use the flags the server (run from source) uses: warn when this process got the built dist.
  const controllerFrom = (() => {
    try {
      return fileURLToPath(import.meta.resolve('@wallcrawler/controller'));
    } catch {
      return 'unknown';
    }
  })();
  if (!controllerFrom.endsWith('/src/index.ts')) {
    progress(
      'bench',
      `WARNING: @wallcrawler/controller resolved to ${controllerFrom}, not its sources; run through \`npm run bench\` (tsx --conditions=@wallcrawler/source)`,
    );
  }
  const machine = describeMachine(chromePath, repoRoot);
  progress('bench', `${machine.cpuModel}, ${machine.cores} cores, node ${machine.node}, ${machine.chromium}`);
  progress('bench', `phases ${config.phases.join(', ')}; ${config.iterations} iterations + ${config.warmups} warm-ups`);

  // Everything on disk lives under one scratch root; its path is also how leftover processes are recognised.
  const scratch = await mkdtemp(join(os.tmpdir(), 'wc-bench-'));
  const floorDir = join(scratch, 'floor');
  mkdirSync(floorDir);
  const leftoversAtEnd: string[] = [];
  const sweep = async () => {
    for (const p of findByArg(scratch)) {
      leftoversAtEnd.push(`process ${p.pid} (${p.argv.slice(0, 2).join(' ').slice(0, 120)})`);
      for (const target of [-p.pgid, p.pid]) {
        try {
          process.kill(target, 'SIGKILL');
        } catch {}
      }
    }
    for (const name of ['memory', 'timing', 'pooled']) {
      // Session temp dirs live under /tmp, outside the scratch root.
      for (const d of listSessionDirs(join(scratch, `data-${name}`))) {
        leftoversAtEnd.push(`session dir ${d.path}`);
        await rm(d.path, { recursive: true, force: true });
      }
    }
    await rm(scratch, { recursive: true, force: true, maxRetries: 3 });
  };
  onCleanup('sweep leftovers and delete the scratch dir', sweep); // registered first: runs last

  const page = await startPageServer();
  onCleanup('page server', () => page.close());

  const errors: string[] = [];
  const result: Partial<BenchResult> = {};
  const apiKey = `wc-bench-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  const servers: BenchResult['config']['servers'] = {};
  let apiClient = 'none';

  /** Starts a server of the bench's own, with a data dir of its own, and the API client for it. */
  const serverFor = async (name: 'memory' | 'timing' | 'pooled', inspect: boolean, poolSize = 0) => {
    progress(
      'server',
      `starting the ${name} server (child process${inspect ? ', with the inspector for forced GCs' : ''})`,
    );
    const server = await startServer({
      repoRoot,
      from: serverFrom,
      inspect,
      dataDir: join(scratch, `data-${name}`),
      apiKey,
      chromePath,
      logLevel: v['server-log-level'],
      poolSize,
    });
    servers[name] = {
      from: serverFrom,
      argv: server.argv,
      pid: server.pid,
      startupMs: Math.round(server.startupMs),
      inspector: inspect,
      poolSize,
    };
    progress('server', `${server.url}, pid ${server.pid}, up in ${Math.round(server.startupMs)} ms`);
    const api = await sessionsApi(server.url, apiKey, !v.fetch);
    apiClient = api.kind;
    return { server, api };
  };

  try {
    // Memory first, on a fresh server of its own (so "fresh" means fresh, whatever else runs).
    if (config.phases.includes('memory')) {
      try {
        const { server, api } = await serverFor('memory', true);
        try {
          result.memory = await runMemory({
            api,
            server,
            pageUrl: page.url,
            idleSessions: config.idleSessions,
            settleMs: config.idleSettleMs,
            freshSettleMs: config.freshSettleMs,
          });
        } finally {
          progress('server', 'stopping the memory server');
          await server.stop();
          (servers.memory as { stderrTail?: string }).stderrTail = server.stderrTail();
        }
      } catch (error) {
        errors.push(`memory: ${(error as Error).stack ?? error}`);
        progress('memory', `FAILED: ${(error as Error).message}`);
      }
    }
    // Timings on a server without the inspector.
    const timing = config.phases.filter((p) => p !== 'memory');
    if (timing.length && !isAborted()) {
      const { server, api } = await serverFor('timing', false);
      progress('server', `sessions through ${api.kind === 'sdk' ? '@wallcrawler/sdk' : 'fetch'}`);
      try {
        for (const phase of timing) {
          try {
            if (phase === 'lifecycle') {
              // The warm pool's side runs on a server of its own; the timing server keeps none.
              const pooled = config.poolSize > 0 ? await serverFor('pooled', false, config.poolSize) : undefined;
              try {
                const l = await runLifecycle({
                  api,
                  dataDir: server.dataDir,
                  chromePath,
                  scratchDir: floorDir,
                  pageUrl: page.url,
                  iterations: config.iterations,
                  warmups: config.warmups,
                  settleMs: config.settleMs,
                  ...(pooled
                    ? {
                        pooled: {
                          api: pooled.api,
                          dataDir: pooled.server.dataDir,
                          poolSize: config.poolSize,
                          takes: () => poolTakes(pooled.server.url, apiKey),
                          refilled: () => poolRefilled(pooled.server.url, apiKey, config.poolSize),
                        },
                      }
                    : {}),
                });
                result.lifecycle = {
                  ...l,
                  ratio: {
                    median: ratio(l.wallcrawler.total.median, l.floor.total.median),
                    p95: ratio(l.wallcrawler.total.p95, l.floor.total.p95),
                  },
                  ...(l.pooled
                    ? {
                        pooledRatio: {
                          median: ratio(l.pooled.total.median, l.floor.total.median),
                          p95: ratio(l.pooled.total.p95, l.floor.total.p95),
                        },
                      }
                    : {}),
                };
              } finally {
                if (pooled) {
                  progress('server', 'stopping the pooled server');
                  await pooled.server.stop();
                  (servers.pooled as { stderrTail?: string }).stderrTail = pooled.server.stderrTail();
                }
              }
            } else if (phase === 'http') {
              result.http = await runHttp({ api, baseUrl: server.url, apiKey });
            } else {
              result.rtt = await runRtt({
                api,
                dataDir: server.dataDir,
                calls: config.rttCalls,
                rounds: config.rttRounds,
                warmups: config.rttWarmups,
                marker: scratch,
              });
            }
          } catch (error) {
            errors.push(`${phase}: ${(error as Error).stack ?? error}`);
            progress(phase, `FAILED: ${(error as Error).message}`);
          }
        }
      } finally {
        progress('server', 'stopping the timing server');
        await server.stop();
        (servers.timing as { stderrTail?: string }).stderrTail = server.stderrTail();
      }
    }
  } catch (error) {
    errors.push(`bench: ${(error as Error).stack ?? error}`);
    progress('bench', `FAILED: ${(error as Error).message}`);
  } finally {
    await cleanupAll();
  }
  if (isAborted()) {
    progress('abort', 'cleaned up; no results written');
    return 130;
  }
  if (leftoversAtEnd.length) progress('bench', `LEFT BEHIND (now killed/deleted): ${leftoversAtEnd.join('; ')}`);
  else progress('bench', 'no process or directory of the bench is left');

  const full: BenchResult = {
    machine: { ...machine, loadAvgAtEnd: Math.round((os.loadavg()[0] ?? 0) * 100) / 100 },
    config: { ...config, server: serverFrom, apiClient, controllerFrom, servers },
    ...(result.lifecycle ? { lifecycle: result.lifecycle } : {}),
    ...(result.rtt ? { rtt: result.rtt } : {}),
    ...(result.memory ? { memory: result.memory } : {}),
    ...(result.http ? { http: result.http } : {}),
    targets: targets(result, serverFrom),
    leftoversAtEnd,
    errors,
    durationSeconds: Math.round((performance.now() - started) / 1000),
  };
  mkdirSync(outDir, { recursive: true });
  const md = markdown(full);
  writeFileSync(join(outDir, 'latest.json'), `${JSON.stringify(full, null, 2)}\n`);
  writeFileSync(join(outDir, 'latest.md'), md);
  // A complete, clean run with the standard settings into the standard place also refreshes the table in
  // bench/README.md, so the numbers there are always such a run's; trial runs (fewer iterations, --out elsewhere)
  // leave it alone.
  const readme = join(repoRoot, 'bench', 'README.md');
  const standard = v.out === undefined && config.iterations >= 20;
  // Every phase ran: lifecycle (3: cold, and with the pool its create and total), RTT (2: gateway ÷ direct, log
  // on ÷ off), memory (2), http (2).
  if (standard && full.targets.length === 9 && !errors.length && !leftoversAtEnd.length && existsSync(readme)) {
    const text = readFileSync(readme, 'utf8');
    const block = /(<!-- bench:start -->\n)[\s\S]*?(\n<!-- bench:end -->)/;
    if (block.test(text)) {
      writeFileSync(
        readme,
        text.replace(block, (_all, start: string, end: string) => `${start}${readmeSummary(full)}${end}`),
      );
      progress('bench', 'updated the table in bench/README.md');
    }
  }
  console.log(md);
  progress('bench', `wrote ${join(outDir, 'latest.json')} and latest.md`);
  return errors.length || leftoversAtEnd.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    console.error(error);
    await cleanupAll();
    process.exit(1);
  },
);
