/** Reading the process table and memory figures from /proc (Linux only; the bench needs it). */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { listProcesses, type ProcessInfo } from '@wallcrawler/controller';

export interface Proc extends ProcessInfo {
  /** The command line split into arguments (Chromium's helpers rewrite theirs into one space-separated title). */
  argv: string[];
}

export function processTable(): Proc[] {
  return listProcesses().map((p) => ({ ...p, argv: p.cmdline.split(' ').filter(Boolean) }));
}

/** `root` and every process below it (by ppid), from one snapshot of the table. */
export function tree(root: number, table: Proc[] = processTable()): Proc[] {
  const byParent = new Map<number, Proc[]>();
  for (const p of table) byParent.set(p.ppid, [...(byParent.get(p.ppid) ?? []), p]);
  const self = table.find((p) => p.pid === root);
  const out: Proc[] = self ? [self] : [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift() as number;
    for (const child of byParent.get(pid) ?? []) {
      out.push(child);
      queue.push(child.pid);
    }
  }
  return out;
}

/** Live (non-zombie) processes whose command line contains `marker`, other than this one. */
export function findByArg(marker: string, table: Proc[] = processTable()): Proc[] {
  return table.filter((p) => p.pid !== process.pid && p.state !== 'Z' && p.argv.some((a) => a.includes(marker)));
}

function field(file: string, key: string): number {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(readFileSync(file, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export interface Mem {
  /** MB */
  rss: number;
  /** MB (proportional set size: shared pages divided among the processes mapping them) */
  pss: number;
  /** MB (unique set size: Private_Clean + Private_Dirty) */
  uss: number;
}

const mb = (kb: number) => Math.round((kb / 1024) * 10) / 10;

export function memOf(pid: number): Mem {
  const rollup = `/proc/${pid}/smaps_rollup`;
  return {
    rss: mb(field(`/proc/${pid}/status`, 'VmRSS')),
    pss: mb(field(rollup, 'Pss')),
    uss: mb(field(rollup, 'Private_Clean') + field(rollup, 'Private_Dirty')),
  };
}

export function memOfAll(pids: readonly number[]): Mem & { procs: number } {
  const sum = { rss: 0, pss: 0, uss: 0 };
  for (const pid of pids) {
    const m = memOf(pid);
    sum.rss += m.rss;
    sum.pss += m.pss;
    sum.uss += m.uss;
  }
  const r = (x: number) => Math.round(x * 10) / 10;
  return { procs: pids.length, rss: r(sum.rss), pss: r(sum.pss), uss: r(sum.uss) };
}

/** utime + stime of a process, in clock ticks (100 per second on Linux). */
export function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}

/** The pid holding the IPv4 or IPv6 LISTEN socket on `port`, if any. */
export function listeningPid(port: number): number | undefined {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[1]?.endsWith(hex) && f[3] === '0A' && f[9]) inodes.add(f[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const link = readlinkSync(`/proc/${entry}/fd/${fd}`);
        const m = /^socket:\[(\d+)\]$/.exec(link);
        if (m?.[1] && inodes.has(m[1])) return Number(entry);
      } catch {}
    }
  }
  return undefined;
}

/** True while any non-zombie process is in process group `pgid`. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  // kill(0) also succeeds for zombies waiting to be reaped by whoever adopted them: look closer (stat only).
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid && f[0] !== 'Z') return true;
    } catch {}
  }
  return false;
}
