import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { constants } from 'node:os';
import { type Logger, silentLogger } from '@wallcrawler/contracts';
import { chromiumFlags } from './flags.js';
import { readProcessStat } from './process-table.js';
import { subreaperCommand } from './subreaper.js';

/** Chromium exited on its own before it opened its DevTools port (a crash at start, a bad flag, a broken install). */
export class ChromiumExitedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChromiumExitedError';
  }
}

/**
 * Chromium did not open its DevTools port within the launch timeout. On a host whose cores are all busy (a burst
 * of starts) a start can take that long: an overload, not a broken browser. Its process tree is gone.
 */
export class ChromiumLaunchTimeoutError extends Error {
  constructor(
    readonly timeoutMs: number,
    stderrTail: string,
  ) {
    super(`Chromium did not open its DevTools port within ${timeoutMs} ms.${stderrTail ? `\n${stderrTail}` : ''}`);
    this.name = 'ChromiumLaunchTimeoutError';
  }
}

export interface LaunchChromiumOptions {
  /** The Chromium binary (see `findChromium`). */
  executablePath: string;
  /** The profile directory (`--user-data-dir`); created if missing. */
  userDataDir: string;
  /** The browser's TMPDIR; created if missing. */
  tmpDir: string;
  /**
   * The browser's working directory, where relative paths land (Stagehand's `downloads` download path).
   * @default tmpDir
   */
  cwd?: string;
  viewport: { width: number; height: number };
  /** @default true when running as root */
  noSandbox?: boolean;
  extraArgs?: readonly string[];
  /** The session's forward proxy (`http://127.0.0.1:<port>`); see `chromiumFlags`. */
  proxyServer?: string | undefined;
  /** Unpacked extensions to load. */
  extensionDirs?: readonly string[];
  /** @default 30_000 */
  launchTimeoutMs?: number;
  logger?: Logger;
}

/** How the browser's process tree ended. */
export interface ChromiumExit {
  /** Chromium's exit code; 128 + signal number when it was killed. `null` if unknown. */
  code: number | null;
  /** The last lines Chromium wrote to stderr, for error messages. */
  stderrTail: string;
}

/** A running browser. */
export interface ChromiumProcess {
  /** Chromium's pid, which is also its process group id. */
  readonly pid: number;
  /** The DevTools HTTP/WebSocket port on 127.0.0.1. */
  readonly port: number;
  /** The browser target's path, `/devtools/browser/<id>`. */
  readonly browserPath: string;
  /** Resolves once the browser and every process it started are gone. */
  readonly exited: Promise<ChromiumExit>;
  /**
   * Resolves as soon as Chromium's own process has exited, with its exit code, while its helpers may still be
   * going (see {@link exited}): the moment the browser is gone for its clients.
   */
  readonly mainExited: Promise<ChromiumExit>;
  /**
   * Whether Chromium's own process has exited, even if this process has not heard yet ({@link mainExited} comes
   * through a pipe, and the event loop may be busy): asks the kernel (a zombie, or no such process). Where there is
   * no `/proc`, only what {@link mainExited} said.
   */
  hasExited(): boolean;
  /** Kills the whole process group at once; resolves like {@link exited}. Safe to call more than once. */
  kill(): Promise<ChromiumExit>;
}

const DEVTOOLS_LINE = /DevTools listening on (ws:\/\/[^\s]+)/;
const STDERR_TAIL_BYTES = 4096;

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** An exit code, or 128 + the signal's number for a process killed by one. */
function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number | null {
  return code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : null);
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts Chromium for one session and resolves once its DevTools endpoint is listening.
 *
 * On Linux it runs under a subreaper (see `subreaper.ts`) so that `exited` means "the whole tree is gone";
 * elsewhere Chromium is started directly in its own process group, and `exited` waits for that group to empty.
 */
export async function launchChromium(options: LaunchChromiumOptions): Promise<ChromiumProcess> {
  const {
    executablePath,
    userDataDir,
    tmpDir,
    cwd = tmpDir,
    viewport,
    extraArgs,
    extensionDirs,
    proxyServer,
    launchTimeoutMs = 30_000,
    logger = silentLogger,
  } = options;
  const noSandbox = options.noSandbox ?? process.getuid?.() === 0;
  await Promise.all([
    mkdir(userDataDir, { recursive: true }),
    mkdir(tmpDir, { recursive: true }),
    mkdir(cwd, { recursive: true }),
  ]);

  const args = chromiumFlags({
    userDataDir,
    viewport,
    noSandbox,
    ...(extraArgs ? { extraArgs } : {}),
    ...(extensionDirs ? { extensionDirs } : {}),
    ...(proxyServer ? { proxyServer } : {}),
  });
  const reaped = subreaperCommand(executablePath, args);
  // Chromium's temporary files (shared memory files with --disable-dev-shm-usage, sockets, downloads in progress)
  // land in the session's own temp dir, which is deleted with the session.
  const env = { ...process.env, TMPDIR: tmpDir };
  const child: ChildProcess = reaped
    ? spawn(reaped.file, reaped.args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env, cwd })
    : spawn(executablePath, args, { detached: true, stdio: ['ignore', 'ignore', 'pipe'], env, cwd });

  let stderrTail = '';
  const tail = () => stderrTail.split('\n').slice(-12).join('\n').trim();

  // Chromium's pid, once known: the reaper prints it right after forking.
  let pid = reaped ? 0 : (child.pid ?? 0);
  // Chromium's own exit, once known: the reaper prints it as soon as it reaps Chromium; without the reaper, the
  // child's exit is Chromium's. If the reaper ends without saying (killed), its own exit stands for it.
  let mainExit: ChromiumExit | undefined;
  let resolveMainExited!: (exit: ChromiumExit) => void;
  const mainExited = new Promise<ChromiumExit>((resolve) => {
    resolveMainExited = resolve;
  });
  const reportMainExit = (code: number | null) => {
    if (mainExit) return;
    mainExit = { code, stderrTail: tail() };
    resolveMainExited(mainExit);
  };
  const started = new Promise<{ pid: number; port: number; browserPath: string }>((resolve, reject) => {
    let endpoint: URL | undefined;
    const settle = () => {
      if (pid && endpoint) resolve({ pid, port: Number(endpoint.port), browserPath: endpoint.pathname });
    };
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      stderrTail = (stderrTail + text).slice(-STDERR_TAIL_BYTES);
      if (!endpoint) {
        const match = DEVTOOLS_LINE.exec(stderrTail);
        if (match?.[1]) {
          endpoint = new URL(match[1]);
          settle();
        }
      }
    });
    if (reaped) {
      child.stdout?.setEncoding('utf8');
      let out = '';
      child.stdout?.on('data', (text: string) => {
        out += text;
        const lines = out.split('\n');
        out = lines.pop() ?? '';
        for (const line of lines) {
          if (!pid && /^\d+$/.test(line)) {
            pid = Number(line);
            settle();
          }
          const exit = /^exit (\d+)$/.exec(line);
          if (exit?.[1]) reportMainExit(Number(exit[1]));
        }
      });
    }
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      reject(new ChromiumExitedError(`Chromium exited before it was ready (${signal ?? `code ${code}`}).\n${tail()}`));
    });
  });

  const exitedRaw = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: null, signal: null }));
  });
  void exitedRaw.then(({ code, signal }) => reportMainExit(exitCodeOf(code, signal)));

  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ChromiumLaunchTimeoutError(launchTimeoutMs, tail())), launchTimeoutMs);
  });

  let info: { pid: number; port: number; browserPath: string };
  try {
    info = await Promise.race([started, timeout]);
  } catch (error) {
    if (pid) killGroup(pid);
    // The reaper is asked, not killed: on SIGTERM it kills Chromium (whether or not it has said its pid yet) and
    // exits once it has reaped every process of it. Killed, it would leave them to whoever reaps orphans (zombies,
    // in a container without an init). A direct launch's child is Chromium's group.
    if (reaped && child.pid) child.kill('SIGTERM');
    else if (child.pid) killGroup(child.pid);
    await exitedRaw;
    throw error;
  } finally {
    clearTimeout(timer);
  }

  const exited: Promise<ChromiumExit> = exitedRaw.then(async ({ code, signal }) => {
    if (reaped) {
      // The reaper only exits by itself once every descendant is reaped. Killed by a signal, it may have left
      // the browser running: take the group down too.
      if (signal) killGroup(info.pid);
    } else {
      killGroup(info.pid);
      for (let i = 0; i < 100 && groupAlive(info.pid); i++) await new Promise((r) => setTimeout(r, 20));
    }
    return { code: exitCodeOf(code, signal), stderrTail: tail() };
  });
  // Once the whole tree is gone, its process group id is free for the kernel to give to another process (pids wrap
  // quickly where pid_max is 32768): from then on, killing "the group" could kill some other session's browser.
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  logger.debug({ pid: info.pid, port: info.port, subreaper: Boolean(reaped) }, 'chromium started');

  // Read now, to tell Chromium's process from a later one that got its pid.
  const startTime = readProcessStat(info.pid)?.startTime;
  return {
    pid: info.pid,
    port: info.port,
    browserPath: info.browserPath,
    exited,
    mainExited,
    hasExited() {
      if (mainExit) return true;
      if (startTime === undefined) return false;
      const stat = readProcessStat(info.pid);
      return !stat || stat.startTime !== startTime || stat.state === 'Z' || stat.state === 'X';
    },
    kill() {
      if (!gone) killGroup(info.pid);
      return exited;
    },
  };
}
