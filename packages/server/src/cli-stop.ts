import { readFileSync } from 'node:fs';

/**
 * How `wallcrawler start` stops: SIGINT, SIGTERM or SIGHUP, or the npm that started it going away, runs the
 * server's close path once (every session ended and recorded, its browsers and directories gone), then the
 * process exits 0.
 */

/** The signals that stop the server. SIGHUP too: its default would kill the process without the close path. */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * A second stop this soon after the first is the same request arriving twice: npm forwards to its child the
 * SIGINT or SIGTERM that its whole process group also got (Ctrl-C in a terminal, systemd stopping a unit).
 * Only a repeat after it means someone insists.
 */
const SAME_STOP_MS = 1_000;

/** How often the parent is looked at, under npm. */
const PARENT_CHECK_MS = 500;

export interface StopOptions {
  /** The server's close path. */
  close(): Promise<void>;
  /** Writes one line for the operator (stderr). */
  say(line: string): void;
}

/** Installs the stop handlers; call once the server listens. */
export function stopOnSignals({ close, say }: StopOptions): void {
  let stoppingSince: number | undefined;
  const stop = (why: string) => {
    if (stoppingSince !== undefined) {
      if (Date.now() - stoppingSince < SAME_STOP_MS) return;
      // Each browser's subreaper kills it when this process dies; the next start deletes what is left on disk.
      say(`Stopping at once (${why} again): sessions are not ended; the next start ends them.`);
      process.exit(1);
    }
    stoppingSince = Date.now();
    say(`Stopping (${why}): ending sessions...`);
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        say(`Stopping failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        process.exit(1);
      },
    );
  };
  for (const signal of STOP_SIGNALS) process.on(signal, () => stop(signal));
  if (process.env.npm_lifecycle_event) stopWhenParentGoes(() => stop('the npm that started it went away'));
}

/**
 * Started by npm (`npm start`, `npx wallcrawler start`: npm sets `npm_lifecycle_event`), the server lives as long
 * as that npm. But npm forwards only SIGINT and SIGTERM, and only to its own child: under `npx` that child is
 * `sh -c`, which a SIGTERM kills without passing it on, and a SIGHUP or SIGKILL kills npm itself. Either way
 * this process would be left orphaned, still serving, with nobody to stop it. So when an ancestor it started
 * with is gone (its parent, and, while that parent is a shell, the shell's parent: npm), it stops as if
 * signalled. Outside npm a parent going away means nothing: a server started with `&` from a shell that then
 * exits keeps running.
 */
function stopWhenParentGoes(onGone: () => void): void {
  const started = ancestry();
  const timer = setInterval(() => {
    const now = ancestry(started.length);
    if (now.length === started.length && now.every((pid, i) => pid === started[i])) return;
    clearInterval(timer);
    onGone();
  }, PARENT_CHECK_MS);
  timer.unref();
}

const SHELLS = new Set(['sh', 'dash', 'bash', 'zsh', 'ash', 'ksh']);

/**
 * This process's parent, then, as long as the last one is a shell, that shell's parent; at most `depth` of
 * them. Without /proc (not Linux) only the parent.
 */
function ancestry(depth = 4): number[] {
  const pids = [process.ppid];
  for (let pid = process.ppid; pids.length < depth && SHELLS.has(procFile(pid, 'comm') ?? ''); ) {
    const stat = procFile(pid, 'stat');
    // `pid (comm) state ppid …`: the name may hold spaces and parentheses, so count from the last ')'.
    const parent = stat ? Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) : Number.NaN;
    if (!Number.isInteger(parent) || parent <= 0) break;
    pids.push(parent);
    pid = parent;
  }
  return pids;
}

function procFile(pid: number, name: 'comm' | 'stat'): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${name}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}
