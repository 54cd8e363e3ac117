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
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const fields = stat.slice(close + 2).split(' ');
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      rows.push({
        pid: Number(entry),
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

/** Processes whose command line contains `marker` (a session directory, say), excluding this process. */
export function findProcesses(marker: string): ProcessInfo[] {
  return listProcesses().filter((p) => p.pid !== process.pid && p.cmdline.includes(marker));
}
