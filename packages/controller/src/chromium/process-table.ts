import { readdirSync, readFileSync } from 'node:fs';

/** One row of the process table. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** Process group id. */
  pgid: number;
  /** Kernel state letter: R, S, D, Z (zombie), ... */
  state: string;
  /** The executable's short name. */
  comm: string;
  /** The full command line, arguments separated by spaces. */
  cmdline: string;
}

/**
 * The processes on this machine, read from `/proc`. Empty where there is no `/proc` (macOS): callers treat
 * that as "nothing to find", which is right for what they use it for (reaping orphans, leak checks).
 */
export function listProcesses(): ProcessInfo[] {
  return readProcesses(() => true);
}

/**
 * The processes whose command line passes `keep`. The command line is read first, and the stat only of those
 * kept: leak checks and samplers scan the table every few milliseconds while hundreds of processes run.
 */
function readProcesses(keep: (cmdline: string, pid: number) => boolean): ProcessInfo[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const rows: ProcessInfo[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const pid = Number(entry);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      if (!keep(cmdline, pid)) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const fields = stat.slice(close + 2).split(' ');
      rows.push({
        pid,
        comm: stat.slice(stat.indexOf('(') + 1, close),
        state: fields[0] ?? '?',
        ppid: Number(fields[1]),
        pgid: Number(fields[2]),
        cmdline,
      });
    } catch {
      // The process exited while we were reading it.
    }
  }
  return rows;
}

/** What the kernel says of one process: its state letter (Z for a zombie), parent, and start time (in clock ticks since boot). */
export interface ProcessStat {
  state: string;
  ppid: number;
  startTime: number;
}

/**
 * One process's `/proc/<pid>/stat`, read synchronously: undefined once the process is gone (reaped), and where
 * there is no `/proc`. A pid can be reused once its process is reaped: compare `startTime` to tell.
 */
export function readProcessStat(pid: number): ProcessStat | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (in parentheses) may hold spaces: the fields that follow are counted from its end.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '?', ppid: Number(fields[1]), startTime: Number(fields[19]) };
}

/** Processes whose command line contains `marker` (a session directory, say), excluding this process. */
export function findProcesses(marker: string): ProcessInfo[] {
  return readProcesses((cmdline, pid) => pid !== process.pid && cmdline.includes(marker));
}
