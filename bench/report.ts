/** The result file's shape, and the markdown table made from it. */
import type { HttpResult } from './http.js';
import type { LifecycleResult } from './lifecycle.js';
import type { Machine } from './machine.js';
import type { MemoryResult } from './memory.js';
import type { RttResult } from './rtt.js';
import type { Summary } from './stats.js';

export interface Target {
  name: string;
  value: number;
  unit: string;
  target: string;
  /** Informational only: nothing fails on it. */
  withinTarget: boolean;
  detail: string;
  peers: string;
}

export interface BenchResult {
  machine: Machine & { loadAvgAtEnd: number };
  config: {
    phases: string[];
    iterations: number;
    warmups: number;
    settleMs: number;
    idleSettleMs: number;
    freshSettleMs: number;
    idleSessions: number;
    rttCalls: number;
    rttRounds: number;
    rttWarmups: number;
    apiClient: string;
    /** Where the bench's own `@wallcrawler/controller` (flags, dirs) came from: should be its sources. */
    controllerFrom: string;
    /** `source` (tsx) or `dist`. */
    server: string;
    servers: Partial<
      Record<
        'memory' | 'timing' | 'pooled',
        {
          from: string;
          argv: string[];
          pid: number;
          startupMs: number;
          inspector: boolean;
          /** WALLCRAWLER_POOL_SIZE it ran with. */
          poolSize?: number;
          /** The server's stderr, last 8 KB (its banner, and its log at --server-log-level). */
          stderrTail?: string;
        }
      >
    >;
  };
  lifecycle?: LifecycleResult & {
    ratio: { median: number; p95: number };
    /** The pooled side's total ÷ the floor's (when the run had a pooled side). */
    pooledRatio?: { median: number; p95: number };
  };
  rtt?: RttResult;
  memory?: MemoryResult;
  http?: HttpResult;
  targets: Target[];
  /** Processes or directories of the bench still there at the end (killed/deleted then); should be empty. */
  leftoversAtEnd: string[];
  errors: string[];
  durationSeconds: number;
}

const f = (x: number | undefined, digits = 0) =>
  x === undefined || !Number.isFinite(x)
    ? '—'
    : x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export function targets(r: Pick<BenchResult, 'lifecycle' | 'rtt' | 'memory' | 'http'>, serverFrom: string): Target[] {
  const out: Target[] = [];
  if (r.http) {
    const { health, session } = r.http;
    out.push({
      name: `Authenticated GET /v1/sessions/{id} ÷ /health (requests/s, ${r.http.connections} connections)`,
      value: r.http.rpsRatio,
      unit: '×',
      target: '≥ 0.70',
      withinTarget: r.http.rpsRatio >= 0.7,
      detail: `${session.rps} vs ${health.rps} req/s; failures ${session.failures + health.failures}`,
      peers: '—',
    });
    out.push({
      name: 'Authenticated GET /v1/sessions/{id} p99 ÷ /health p99',
      value: r.http.p99Ratio,
      unit: '×',
      target: '≤ 2',
      withinTarget: r.http.p99Ratio <= 2,
      detail: `${f(session.p99)} ms vs ${f(health.p99)} ms (p50s ${f(session.p50)} / ${f(health.p50)} ms)`,
      peers: '—',
    });
  }
  if (r.lifecycle) {
    const w = r.lifecycle.wallcrawler.total;
    out.push({
      name: 'Lifecycle total ÷ floor total (medians)',
      value: r.lifecycle.ratio.median,
      unit: '×',
      target: '≤ 1.15',
      withinTarget: r.lifecycle.ratio.median <= 1.15,
      detail: `${f(w.median)} ms vs ${f(r.lifecycle.floor.total.median)} ms; p95s: ×${f(r.lifecycle.ratio.p95, 2)}`,
      peers: 'browserless whole lifecycle 370 ms median (p95 409); steel 1576 ms',
    });
    const p = r.lifecycle.pooled;
    const pr = r.lifecycle.pooledRatio;
    if (p && pr) {
      const takes = Object.entries(r.lifecycle.poolTakes ?? {})
        .map(([k, n]) => `${k} ${n}`)
        .join(', ');
      out.push({
        name: `Create with the warm pool on (p50; pool of ${r.lifecycle.poolSize})`,
        value: p.create.median,
        unit: 'ms',
        target: '< 30 ms',
        withinTarget: p.create.median < 30,
        detail: `p95 ${f(p.create.p95)} ms; pool off ${f(r.lifecycle.wallcrawler.create.median)} ms; takes: ${takes || '—'}`,
        peers: 'hosted providers with pre-booted pools: about 30 ms',
      });
      out.push({
        name: 'Lifecycle total with the warm pool ÷ cold floor total (medians)',
        value: pr.median,
        unit: '×',
        target: '≤ 0.40',
        withinTarget: pr.median <= 0.4,
        detail: `${f(p.total.median)} ms vs ${f(r.lifecycle.floor.total.median)} ms; p95s: ×${f(pr.p95, 2)}`,
        peers: 'browserless whole lifecycle 370 ms median (p95 409)',
      });
    }
  }
  if (r.rtt) {
    out.push({
      name: 'CDP RTT through gateway ÷ direct (medians)',
      value: r.rtt.ratioMedian,
      unit: '×',
      target: '≤ 1.3',
      withinTarget: r.rtt.ratioMedian <= 1.3,
      detail: `${f(r.rtt.gateway.median)} µs vs ${f(r.rtt.direct.median)} µs (+${f(r.rtt.addedMedianUs)} µs)`,
      peers: 'browserless ×1.8–2.2, steel ×1.9–2.1 (+42–76 µs)',
    });
    if (r.rtt.gatewayUnlogged) {
      out.push({
        name: 'CDP RTT with the CDP log on ÷ off (gateway, medians)',
        value: r.rtt.ratioLoggingMedian,
        unit: '×',
        target: '≤ 1.10',
        withinTarget: r.rtt.ratioLoggingMedian <= 1.1,
        detail: `${f(r.rtt.gateway.median)} µs vs ${f(r.rtt.gatewayUnlogged.median)} µs; p95s ×${f(r.rtt.ratioLoggingP95, 2)}`,
        peers: '—',
      });
    }
  }
  if (r.memory) {
    out.push({
      name: `Server RSS at idle (fresh, 0 sessions, ${r.memory.freshSettleMs / 1000} s after start)`,
      value: r.memory.fresh.asIs.rss,
      unit: 'MB',
      // Issue 16's target. What the rest is made of: bench/README.md, "Memory at rest".
      target: '< 64 MB',
      withinTarget: r.memory.fresh.asIs.rss < 64,
      detail: `${r.memory.fresh.early ? `${f(r.memory.fresh.early.rss, 1)} MB ${r.memory.settleMs / 1000} s after start; ` : ''}after a forced GC ${f(r.memory.fresh.afterGc.rss, 1)} MB (PSS ${f(r.memory.fresh.afterGc.pss, 1)}); after one session came and went ${f(r.memory.warmIdle.asIs.rss, 1)} / ${f(r.memory.warmIdle.afterGc.rss, 1)} MB; server from ${serverFrom}`,
      peers: 'browserless 357 MB, steel 341 MB (+ an always-on Chromium)',
    });
    out.push({
      name: 'Server memory per idle session',
      value: r.memory.perIdleSession.rss,
      unit: 'MB',
      target: '< 5 MB',
      withinTarget: r.memory.perIdleSession.rss < 5,
      detail: `(RSS with ${r.memory.idleSessions} − RSS after one session) ÷ ${r.memory.idleSessions}, after forced GCs; PSS ${f(r.memory.perIdleSession.pss, 2)} MB`,
      peers: '—',
    });
  }
  return out;
}

function lifecycleTable(l: NonNullable<BenchResult['lifecycle']>): string[] {
  const rows: [string, keyof LifecycleResult['wallcrawler']][] = [
    ['create', 'create'],
    ['connect', 'connect'],
    ['goto', 'goto'],
    ['  · page (`pages()[0]` / `newPage`)', 'gotoPage'],
    ['  · navigate to `load`', 'gotoNav'],
    ['  · `title()`', 'gotoTitle'],
    ['release', 'release'],
    ['**total** (per-iteration sums)', 'total'],
  ];
  const cell = (s: Summary) => `${f(s.median, 1)} | ${f(s.p95, 1)}`;
  const pooled = l.pooled;
  const out = [
    `| stage | Wallcrawler median | p95 |${pooled ? ' with the pool: median | p95 |' : ''} floor median | p95 | Δ median | ÷ floor (median) |${pooled ? ' with the pool ÷ floor |' : ''}`,
    `|---|---:|---:|${pooled ? '---:|---:|' : ''}---:|---:|---:|---:|${pooled ? '---:|' : ''}`,
  ];
  for (const [label, key] of rows) {
    const w = l.wallcrawler[key];
    const fl = l.floor[key];
    const over = (x: Summary) => (fl.median > 0 ? f(x.median / fl.median, 2) : '—');
    const p = pooled?.[key];
    out.push(
      `| ${label} | ${cell(w)} |${p ? ` ${cell(p)} |` : ''} ${cell(fl)} | ${f(w.median - fl.median, 1)} | ${over(w)} |${p ? ` ${over(p)} |` : ''}`,
    );
  }
  return out;
}

/**
 * The short form for bench/README.md: the targets table with the figures, and where they came from (links are
 * relative to `bench/`).
 */
export function readmeSummary(r: BenchResult): string {
  const m = r.machine;
  return [
    `Measured ${m.date.slice(0, 10)} on ${m.cores} cores (${m.cpuModel}), Node ${m.node}, ${m.chromium}, server from \`${r.config.server}\`,`,
    `medians over ${r.lifecycle?.wallcrawler.total.n ?? 0} iterations (full tables: [results/latest.md](results/latest.md)):`,
    '',
    '| measure | Wallcrawler | target | detail | peers on the same machine |',
    '|---|---:|---|---|---|',
    ...r.targets.map(
      (t) =>
        `| ${t.name} | ${t.unit === '×' ? `×${f(t.value, 2)}` : `${f(t.value, t.unit === 'MB' ? 1 : 0)} ${t.unit}`}${t.withinTarget ? '' : ' (missed)'} | ${t.target} | ${t.detail} | ${t.peers} |`,
    ),
  ].join('\n');
}

export function markdown(r: BenchResult): string {
  const m = r.machine;
  const lines: string[] = [
    `# Wallcrawler bench — ${m.date}`,
    '',
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memTotalGiB} GiB, ${m.kernel}. Node ${m.node}, ${m.chromium} ` +
      `(\`${m.chromiumPath}\`), puppeteer-core ${m.puppeteerCore}, ws ${m.ws}. Commit ${m.gitCommit}. ` +
      `Load average (1 min) ${m.loadAvgAtStart} at start, ${m.loadAvgAtEnd} at end. Took ${f(r.durationSeconds)} s.`,
    '',
    ...Object.entries(r.config.servers).map(
      ([name, sv]) =>
        `${name === 'memory' ? 'Memory' : name === 'pooled' ? 'Lifecycle server with the warm pool' : 'Lifecycle/RTT/HTTP'} server: \`node ${sv.argv.slice(1).join(' ')}\` (child process, pid ${sv.pid}, listening after ${f(sv.startupMs)} ms, pool of ${sv.poolSize ?? 0}).`,
    ),
    `Sessions created through ${r.config.apiClient === 'sdk' ? '`@wallcrawler/sdk`' : 'plain `fetch`'}.`,
    '',
  ];
  if (r.targets.length) {
    lines.push(
      '## Targets (informational; nothing asserts them)',
      '',
      '| measure | result | target | within | detail | peers (peer bench, same machine) |',
      '|---|---:|---|---|---|---|',
      ...r.targets.map(
        (t) =>
          `| ${t.name} | ${t.unit === '×' ? `×${f(t.value, 2)}` : `${f(t.value, t.unit === 'MB' ? 1 : 0)} ${t.unit}`} | ${t.target} | ${t.withinTarget ? 'yes' : '**no**'} | ${t.detail} | ${t.peers} |`,
      ),
      '',
    );
  }
  if (r.lifecycle) {
    const l = r.lifecycle;
    lines.push(
      `## Lifecycle vs floor (ms; ${l.wallcrawler.total.n} Wallcrawler${l.pooled ? ` / ${l.pooled.total.n} with the pool` : ''} / ${l.floor.total.n} floor iterations after ${l.warmups} warm-ups, ${l.pooled ? 'A B C A B C' : 'A B A B'}, ${l.settleMs} ms settle after each)`,
      '',
      ...lifecycleTable(l),
      '',
      `Total ÷ floor total: **×${f(l.ratio.median, 3)}** (medians), ×${f(l.ratio.p95, 3)} (p95s)${l.pooledRatio ? `; with the warm pool **×${f(l.pooledRatio.median, 3)}** (medians), ×${f(l.pooledRatio.p95, 3)} (p95s)` : ''}. ` +
        'Total is the median (p95) of each iteration’s create + connect + goto + release, not a sum of the stage medians.',
      '',
    );
    if (l.pooled) {
      lines.push(
        `“Wallcrawler” is a server with its warm pool off (\`WALLCRAWLER_POOL_SIZE=0\`): every session starts its own browser. ` +
          `“With the pool” is a second server keeping ${l.poolSize} idle browsers; its sessions got theirs as follows: ${Object.entries(
            l.poolTakes ?? {},
          )
            .map(([k, n]) => `${k} ${n}`)
            .join(', ')} (warm-ups included). Its release answers once the ending is recorded; the bench then waits ` +
          '(untimed) for the browser’s processes and directories to be gone before the next step.',
        '',
      );
    }
    if (l.errors.length) lines.push(`Errors (${l.errors.length}):`, '', ...l.errors.map((e) => `- ${e}`), '');
    if (l.leftoversAfterRelease.length)
      lines.push('Left behind after a release returned:', '', ...l.leftoversAfterRelease.map((e) => `- ${e}`), '');
  }
  if (r.rtt) {
    const t = r.rtt;
    lines.push(
      `## CDP round trip, \`Browser.getVersion\` (µs; ${t.callsPerPath} sequential calls per path in ${t.rounds} alternating rounds, after ${t.warmups} warm-ups)`,
      '',
      '| path | median | p95 | p99 | min | max | mean |',
      '|---|---:|---:|---:|---:|---:|---:|',
      ...(
        [
          ['through the gateway (`connectUrl`), CDP log on (the default)', t.gateway],
          ['through the gateway to a session with `logSession: false`', t.gatewayUnlogged],
          ['direct to the same Chromium', t.direct],
          ['reference: minimal TCP relay in another node process', t.relay],
        ] as const
      ).map(
        ([n, s]) => `| ${n} | ${f(s.median)} | ${f(s.p95)} | ${f(s.p99)} | ${f(s.min)} | ${f(s.max)} | ${f(s.mean)} |`,
      ),
      `| **gateway ÷ direct** | **×${f(t.ratioMedian, 2)}** | ×${f(t.ratioP95, 2)} | ×${f(t.ratioP99, 2)} | | | |`,
      `| **log on ÷ log off** | **×${f(t.ratioLoggingMedian, 2)}** | ×${f(t.ratioLoggingP95, 2)} | | | | |`,
      '',
      `Reference relay ÷ direct: ×${f(t.ratioRelayMedian, 2)}; gateway ÷ relay: ×${f(t.ratioGatewayOverRelayMedian, 2)} (medians). The relay is a bare \`net\` pipe with no HTTP server, auth or frame tracking: the cost of a hop through a second process's event loop.`,
      '',
      `Round medians (µs), gateway: ${t.roundMedians.gateway.map((x) => f(x)).join(', ')}; log off: ${t.roundMedians.gatewayUnlogged.map((x) => f(x)).join(', ')}; direct: ${t.roundMedians.direct.map((x) => f(x)).join(', ')}; relay: ${t.roundMedians.relay.map((x) => f(x)).join(', ')}.`,
      '',
    );
  }
  if (r.memory) {
    const mem = r.memory;
    const row = (label: string, s: MemoryResult['fresh']) =>
      `| ${label} | ${f(s.asIs.rss, 1)} | ${f(s.afterGc.rss, 1)} | ${f(s.afterGc.pss, 1)} | ${f(s.afterGc.uss, 1)} | ${f(s.cpuPercent, 2)} | ${s.helpers.procs ? `${s.helpers.procs} / ${f(s.helpers.rss, 1)}` : '—'} |`;
    lines.push(
      `## Server memory (MB; the node process that listens; ${mem.settleMs} ms settle (fresh: ${mem.freshSettleMs} ms), then median of 3 readings; again after a forced full GC)`,
      '',
      '| server state | RSS as is | RSS after GC | PSS after GC | USS after GC | server CPU % during the settle | other processes in the server tree: count / RSS |',
      '|---|---:|---:|---:|---:|---:|---:|',
      ...(mem.fresh.early
        ? [
            `| fresh, 0 sessions, ${mem.settleMs / 1000} s after start | ${f(mem.fresh.early.rss, 1)} | | ${f(mem.fresh.early.pss, 1)} (as is) | ${f(mem.fresh.early.uss, 1)} (as is) | | |`,
          ]
        : []),
      row(`fresh, 0 sessions, ${mem.freshSettleMs / 1000} s after start`, mem.fresh),
      row('after one session came and went, 0 sessions', mem.warmIdle),
      row(`${mem.idleSessions} idle sessions`, mem.withSessions),
      row(`after releasing the ${mem.idleSessions}`, mem.afterRelease),
      '',
      `Per idle session, server only (after GC): **${f(mem.perIdleSession.rss, 2)} MB RSS** (PSS ${f(mem.perIdleSession.pss, 2)}, USS ${f(mem.perIdleSession.uss, 2)}) = (${mem.idleSessions} sessions − after one session) ÷ ${mem.idleSessions}; ` +
        `against the fresh figure instead: ${f(mem.perIdleSessionFromFresh.rss, 2)} MB RSS.`,
      '',
      `Idle sessions: ${mem.idleSessionsHow}.`,
      '',
      'This server ran with the inspector listening (for the forced GCs), which adds about 3 MB RSS to each row; it cancels out in the per-session figure.',
      '',
      `Chromium per idle session (subreaper + browser tree, ${f(mem.chromium.procsMedian)} processes): PSS median **${f(mem.chromium.pssMedian, 1)} MB**, mean ${f(mem.chromium.pssMean, 1)} MB, ` +
        `with ${mem.idleSessions} browsers sharing the binary's pages (a lone browser's PSS is higher).`,
      '',
      ...mem.chromium.perSession
        .filter((t) => t.status !== 'RUNNING' || t.procs !== mem.chromium.procsMedian)
        .map(
          (t) =>
            `- Session ${t.id} looked different at the reading: status ${t.status}, ${t.procs} processes [${t.kinds.join(', ')}], PSS ${f(t.pss, 1)} MB.`,
        ),
      '',
      ...(r.config.server === 'source'
        ? [
            'The server ran from its TypeScript sources through tsx, so its figures include the tsx loader (about 20–25 MB); tsx’s esbuild service, while it runs, is a separate process in its tree and not counted. `--server dist` measures the built package as users run it.',
            '',
          ]
        : []),
    );
  }
  if (r.errors.length) lines.push('## Errors', '', ...r.errors.map((e) => `- ${e}`), '');
  lines.push(
    r.leftoversAtEnd.length
      ? `**Left behind at the end (then killed/deleted):** ${r.leftoversAtEnd.join('; ')}`
      : 'Nothing the bench started was left at the end (no process, no directory).',
    '',
  );
  return lines.join('\n');
}
